import { In, type EntityManager } from 'typeorm';
import { OidcPayload } from '../../entities/index.js';
import { deleteGrants } from './deleteGrants.js';

/**
 * Withdraws every consent the person gave and everything issued under it: grants, codes,
 * access and refresh tokens (oidc-provider keeps them as rows of `oidc_payloads`, keyed by
 * grant and by account). Works from any process on the shared database: a token whose row is
 * gone is inactive at introspection, refused at userinfo, and a refresh is `invalid_grant`.
 * Sessions are not touched here (ending them tells agencies: see src/oidc/accountSessions.ts).
 * Returns how many grants went.
 */
export async function revokeAllGrants(opts: { db: EntityManager; accountId: string }): Promise<number> {
  const repo = opts.db.getRepository(OidcPayload);
  const grants = await repo.find({ where: { model: 'Grant', accountId: opts.accountId }, select: { model: true, id: true } });
  const ids = grants.map((g) => g.id);
  await deleteGrants({ db: opts.db, grantIds: ids, withArtifacts: true });
  await repo.delete({ model: In(['Grant', 'AccessToken', 'RefreshToken', 'AuthorizationCode', 'ClientCredentials', 'DeviceCode', 'BackchannelAuthenticationRequest']), accountId: opts.accountId });
  return ids.length;
}
