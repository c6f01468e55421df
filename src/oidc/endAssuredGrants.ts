import { deleteGrants } from '../accounts/deleteGrants.js';
import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { queueSecurityEvent } from '../audit/queueSecurityEvent.js';
import { sqlDialect } from '../shared/sqlValues.js';
import { ACR_TABLE } from './acr.js';
import { acrOfToken } from './tokenAssurance.js';
import { logOutGrantSessions } from './logOutGrantSessions.js';

/** CAEP assurance-level-change (OpenID CAEP 1.0 §3.4) for an identity that is no longer verified. */
const IAL_DOWN = { namespace: 'NIST-IAL', current_level: 'nist-ial1', previous_level: 'nist-ial2', change_direction: 'decrease' } as const;

const TOKEN_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode'];

interface Ended { clientId: string; sessionAccountId: string; subjectAccountId: string }

/**
 * A person's verified identity is gone (deleted, or set aside after an account recovery): every
 * grant under which an IAL2 token was issued ends now, as a revocation does. That is the
 * person's own grants, the delegated grants where they acted as a helper, and those where a
 * helper acted for them (IAL2 there needs both people verified). Each grant goes with its codes
 * and tokens; agencies holding a session under it get a back-channel logout; agencies that know
 * the person get a CAEP assurance-level-change event. IAL1 grants are untouched. Tokens are also
 * checked at every use (tokenAssurance.ts), so nothing depends on this running first.
 */
export async function endAssuredGrants(opts: { provider: Provider; ds: DataSource; accountId: string }): Promise<{ grants: number }> {
  const { ds, accountId } = opts;
  const { q } = sqlDialect(ds);
  const models = TOKEN_MODELS.map(() => '?').join(', ');
  type Row = { grant_id: string | null; account_id: string | null; payload: string };
  const cols = `${q('grant_id')}, ${q('account_id')}, ${q('payload')}`;
  const issuedToThem = (await ds.query(`SELECT ${cols} FROM ${q('oidc_payloads')} WHERE ${q('account_id')} = ? AND ${q('model')} IN (${models})`, [accountId, ...TOKEN_MODELS])) as Row[];
  const helpedGrants = (await ds.query(
    `SELECT ${q('dg')}.${q('grant_id')} AS ${q('grantId')} FROM ${q('delegated_grants')} ${q('dg')} JOIN ${q('delegations')} ${q('d')} ON ${q('d')}.${q('id')} = ${q('dg')}.${q('delegation_id')} WHERE ${q('d')}.${q('principal_id')} = ?`,
    [accountId],
  )) as Array<{ grantId: string }>;
  const issuedForThem: Row[] = [];
  for (const { grantId } of helpedGrants) {
    issuedForThem.push(...(await ds.query(`SELECT ${cols} FROM ${q('oidc_payloads')} WHERE ${q('grant_id')} = ? AND ${q('model')} IN (${models})`, [grantId, ...TOKEN_MODELS])) as Row[]);
  }

  // Which of those grants carried IAL2, and whom the agency knows each session by.
  const assured = new Map<string, { clientId: string; sessionAccountId: string }>();
  for (const row of [...issuedToThem, ...issuedForThem]) {
    const token = JSON.parse(row.payload) as { clientId?: string; acr?: string; extra?: { acr?: string } };
    if (!row.grant_id || !row.account_id || !token.clientId || (ACR_TABLE[acrOfToken(token) ?? '']?.ial ?? 1) < 2) continue;
    assured.set(row.grant_id, { clientId: token.clientId, sessionAccountId: row.account_id });
  }
  if (!assured.size) return { grants: 0 };
  const ids = [...assured.keys()];
  const principals = (await ds.query(
    `SELECT ${q('dg')}.${q('grant_id')} AS ${q('grantId')}, ${q('d')}.${q('principal_id')} AS ${q('principalId')} FROM ${q('delegated_grants')} ${q('dg')} JOIN ${q('delegations')} ${q('d')} ON ${q('d')}.${q('id')} = ${q('dg')}.${q('delegation_id')} WHERE ${q('dg')}.${q('grant_id')} IN (${ids.map(() => '?').join(', ')})`,
    ids,
  )) as Array<{ grantId: string; principalId: string | null }>;
  const subjectOf = new Map(principals.map((p) => [p.grantId, p.principalId ?? accountId]));
  const ended: Array<Ended & { grantId: string }> = ids.map((grantId) => ({ grantId, ...assured.get(grantId)!, subjectAccountId: subjectOf.get(grantId) ?? assured.get(grantId)!.sessionAccountId }));

  await ds.transaction(async (db) => {
    await deleteGrants({ db, grantIds: ended.map((e) => e.grantId), withArtifacts: true });
    // Agencies that know this person (their own grants, or a helper's sessions for them) hear of it.
    const told = [...new Set(ended.filter((e) => e.subjectAccountId === accountId).map((e) => e.clientId))];
    if (told.length) await queueSecurityEvent({ db, accountId, event: 'assurance_level_change', clientIds: told, details: IAL_DOWN });
  });

  const bySessions = new Map<string, Map<string, string>>();
  for (const e of ended) {
    const key = `${e.sessionAccountId}\n${e.subjectAccountId}`;
    const grants = bySessions.get(key) ?? new Map<string, string>();
    grants.set(e.grantId, e.clientId);
    bySessions.set(key, grants);
  }
  for (const [key, grants] of bySessions) {
    const [sessionAccountId, subjectAccountId] = key.split('\n') as [string, string];
    await logOutGrantSessions({ provider: opts.provider, ds, sessionAccountId, subjectAccountId, grants });
  }
  return { grants: ended.length };
}
