import type { EntityManager } from 'typeorm';
import { OidcClient, OidcPayload } from '../../entities/index.js';
import { deleteGrants } from './deleteGrants.js';
import { recordEvent } from '../audit/recordEvent.js';
import { listOwnGrants } from './listOwnGrants.js';

export interface ConnectedAgency {
  grantId: string;
  clientId: string;
  clientName: string;
  scopes: string[];
}

/**
 * Agencies the person has consented to themself (their own grants, not those a helper received
 * for someone else: those are shown with the delegation), with what each may receive.
 */
export async function listConnectedAgencies(opts: { db: EntityManager; accountId: string; hiddenClientIds?: string[] }): Promise<ConnectedAgency[]> {
  const grants = await listOwnGrants({ db: opts.db, accountId: opts.accountId });
  // One entry per agency, whatever number of grants it holds.
  const byClient = new Map<string, ConnectedAgency>();
  for (const grant of grants) {
    if (opts.hiddenClientIds?.includes(grant.clientId)) continue;
    const known = byClient.get(grant.clientId);
    if (known) {
      known.scopes = [...new Set([...known.scopes, ...grant.scopes])];
      continue;
    }
    const client = await opts.db.getRepository(OidcClient).findOneBy({ clientId: grant.clientId });
    const meta = client ? JSON.parse(client.metadata) as { client_name?: string } : {};
    byClient.set(grant.clientId, { grantId: grant.id, clientId: grant.clientId, clientName: meta.client_name ?? grant.clientId, scopes: grant.scopes });
  }
  return [...byClient.values()].sort((a, b) => a.clientName.localeCompare(b.clientName));
}

export type DisconnectResult = { ok: true } | { ok: false; reason: 'not_theirs' | 'not_found' };

/**
 * Withdraws consent for one agency (named by any of its grants): every grant the person gave
 * it, and every code and token issued under them, go at once, so the agency's refresh tokens
 * stop working; the next sign-in there asks again. A helper's delegated grants are not theirs to
 * withdraw here (they end with the delegation). A grant that is not theirs to withdraw (someone
 * else's, or a helper's delegated one) is told apart from one that does not exist.
 */
export async function disconnectAgency(opts: { db: EntityManager; accountId: string; grantId: string }): Promise<DisconnectResult> {
  const own = await listOwnGrants({ db: opts.db, accountId: opts.accountId });
  const named = own.find((g) => g.id === opts.grantId);
  if (!named) return { ok: false, reason: (await opts.db.getRepository(OidcPayload).existsBy({ model: 'Grant', id: opts.grantId })) ? 'not_theirs' : 'not_found' };
  await deleteGrants({ db: opts.db, grantIds: own.filter((g) => g.clientId === named.clientId).map((g) => g.id), withArtifacts: true });
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'agency_disconnected', clientId: named.clientId });
  return { ok: true };
}
