import type { EntityManager } from 'typeorm';
import { OidcClient, OidcPayload } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';

export interface ConnectedAgency {
  grantId: string;
  clientId: string;
  clientName: string;
  scopes: string[];
}

/** Agencies the person has consented to (oidc-provider Grants), with what each may receive. */
export async function listConnectedAgencies(opts: { db: EntityManager; accountId: string; hiddenClientIds?: string[] }): Promise<ConnectedAgency[]> {
  const grants = await opts.db.getRepository(OidcPayload).findBy({ model: 'Grant', accountId: opts.accountId });
  // One entry per agency, whatever number of grants it holds.
  const byClient = new Map<string, ConnectedAgency>();
  for (const row of grants) {
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) continue;
    const payload = JSON.parse(row.payload) as { clientId: string; openid?: { scope?: string } };
    if (opts.hiddenClientIds?.includes(payload.clientId)) continue;
    const scopes = (payload.openid?.scope ?? '').split(' ').filter(Boolean);
    const known = byClient.get(payload.clientId);
    if (known) {
      known.scopes = [...new Set([...known.scopes, ...scopes])];
      continue;
    }
    const client = await opts.db.getRepository(OidcClient).findOneBy({ clientId: payload.clientId });
    const meta = client ? JSON.parse(client.metadata) as { client_name?: string } : {};
    byClient.set(payload.clientId, { grantId: row.id, clientId: payload.clientId, clientName: meta.client_name ?? payload.clientId, scopes });
  }
  return [...byClient.values()].sort((a, b) => a.clientName.localeCompare(b.clientName));
}

/**
 * Withdraws consent for one agency (named by any of its grants): every grant the person gave
 * it, and every code and token issued under them, go at once, so the agency's refresh tokens
 * stop working; the next sign-in there asks again.
 */
export async function disconnectAgency(opts: { db: EntityManager; accountId: string; grantId: string }): Promise<boolean> {
  const repo = opts.db.getRepository(OidcPayload);
  const grant = await repo.findOneBy({ model: 'Grant', id: opts.grantId, accountId: opts.accountId });
  if (!grant) return false;
  const { clientId } = JSON.parse(grant.payload) as { clientId: string };
  const all = await repo.findBy({ model: 'Grant', accountId: opts.accountId });
  for (const row of all) {
    if ((JSON.parse(row.payload) as { clientId: string }).clientId !== clientId) continue;
    await repo.delete({ grantId: row.id });
    await repo.delete({ model: 'Grant', id: row.id });
  }
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'agency_disconnected', clientId });
  return true;
}
