import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../../entities/index.js';

export interface HistoryEntry {
  type: string;
  at: Date;
  clientId: string | null;
  details: Record<string, string | number | boolean>;
}

/** The newest events of one account, for the history a person sees. */
export async function listEvents(opts: { db: EntityManager; accountId: string; limit?: number }): Promise<HistoryEntry[]> {
  const rows = await opts.db.getRepository(AuditEvent).find({
    where: { accountId: opts.accountId },
    order: { at: 'DESC' },
    take: opts.limit ?? 50,
  });
  return rows.map((r) => ({ type: r.type, at: r.at, clientId: r.clientId, details: JSON.parse(r.details) }));
}
