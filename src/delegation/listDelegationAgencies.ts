import type { EntityManager } from 'typeorm';
import { OidcClient } from '../../entities/index.js';

/** Agencies (clients) that enabled delegation: the only ones a delegation can name. */
export async function listDelegationAgencies(opts: { db: EntityManager }): Promise<Array<{ clientId: string; name: string; maxIal: number }>> {
  const rows = await opts.db.getRepository(OidcClient).find();
  return rows.flatMap((r) => {
    const m = JSON.parse(r.metadata) as { delegation_enabled?: boolean; client_name?: string; max_ial?: number };
    return m.delegation_enabled === true ? [{ clientId: r.clientId, name: m.client_name ?? r.clientId, maxIal: m.max_ial ?? 1 }] : [];
  }).sort((a, b) => a.name.localeCompare(b.name));
}
