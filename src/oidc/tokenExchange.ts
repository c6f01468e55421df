import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { recordEvent } from '../audit/recordEvent.js';
import { parseList } from '../delegation/policy.js';
import { basesAcceptedBy, CONSENT } from '../delegation/representationKinds.js';
import { recordDelegationEvent } from '../delegation/recordDelegationEvent.js';
import { delegationOfGrant } from './delegatedAuthorization.js';
import type { KeyMaterial } from './keys.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** An exchanged token lives at most this long, and never longer than the token it came from. */
export const EXCHANGED_TOKEN_TTL_SECONDS = 5 * 60;
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Extra claims decided by the exchange for the token it issues (read by extraTokenClaims). */
export const presetExtra = new WeakMap<object, Record<string, unknown>>();

class InvalidTarget extends errors.CustomOIDCProviderError {
  constructor(description: string) { super('invalid_target', description); }
}

/**
 * OAuth 2.0 Token Exchange (RFC 8693) at the token endpoint: a client that holds an access token
 * OneDoor issued to it (delegated or ordinary) gets a short-lived access token for another
 * registered client (`audience`), with the same or fewer scopes, keeping `sub` and `act`, that
 * expires no later than the subject token and cannot itself be exchanged again. The
 * delegation is always read from the database: a missing, expired or revoked one is
 * `invalid_grant`; a scope beyond it `invalid_scope`; an `actor_token` (which would nest one
 * delegation in another) is refused.
 */
export function registerTokenExchange(opts: { provider: Provider; ds: DataSource; keys: KeyMaterial }): void {
  const { provider, ds } = opts;
  const handler = async (ctx: KoaContextWithOIDC) => {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const client = ctx.oidc.client!;
    if (!params['subject_token']) throw new errors.InvalidRequest('missing required parameter subject_token');
    if (params['subject_token_type'] !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('subject_token_type must be urn:ietf:params:oauth:token-type:access_token');
    if (params['actor_token'] || params['actor_token_type']) throw new errors.InvalidRequest('actor_token is not accepted: a delegated token cannot be delegated again');
    if (params['requested_token_type'] && params['requested_token_type'] !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('only access tokens can be requested');

    const subject = await provider.AccessToken.find(params['subject_token'], {});
    if (!subject || subject.isExpired) throw new errors.InvalidGrant('subject_token is invalid or expired');
    if (subject.clientId !== client.clientId) throw new errors.InvalidGrant('subject_token was not issued to this client');
    // One hop only: an exchanged token exchanged again would give the agency a fresh token each
    // time, keeping access alive without a refresh token or offline_access.
    if ((subject as { gty?: string }).gty === TOKEN_EXCHANGE) throw new errors.InvalidGrant('subject_token was itself issued by a token exchange');
    const accepts = (c: { metadata(): object }, basis: string) => basesAcceptedBy(c.metadata() as Record<string, unknown>).includes(basis);
    const delegated = await delegationOfGrant(ds, subject.grantId, undefined, { kek: opts.keys.kek, pepper: opts.keys.secrets.pepper, accepts: (basis) => accepts(client, basis) });
    if (delegated === null) throw new errors.InvalidGrant('the delegation behind subject_token is no longer active');

    const audience = params['audience'] ?? params['resource'];
    if (!audience) throw new errors.InvalidRequest('missing required parameter audience');
    const target = audience === client.clientId ? undefined : await provider.Client.find(audience);
    if (!target) throw new InvalidTarget('audience must be another registered client');
    // A legal authority reaches only agencies that accept its basis.
    if (delegated && delegated.delegation.basis !== CONSENT && !accepts(target, delegated.delegation.basis)) throw new InvalidTarget('audience does not accept this delegation basis');

    const held = (subject.scope ?? '').split(' ').filter(Boolean);
    const asked = params['scope'] ? params['scope'].split(' ').filter(Boolean) : held;
    const allowed = delegated ? held.filter((s) => s === 'openid' || parseList(delegated.delegation.scopes).includes(s)) : held;
    const beyond = asked.find((s) => !allowed.includes(s));
    if (beyond) throw new errors.InvalidScope('requested scope is not allowed', beyond);
    if (asked.length === 0) throw new errors.InvalidScope('no scope to exchange', '');

    const token = new provider.AccessToken({
      accountId: subject.accountId,
      client,
      grantId: subject.grantId,
      scope: asked.join(' '),
      gty: TOKEN_EXCHANGE,
      expiresIn: Math.min(EXCHANGED_TOKEN_TTL_SECONDS, subject.remainingTTL),
      ...(subject.sessionUid ? { sessionUid: subject.sessionUid } : {}),
    } as never);
    (token as unknown as { aud: string[] }).aud = [audience];
    // sub, act, delegation, acr and amr stay what they were in the subject token.
    const { sub, act, delegation, acr, amr } = (subject.extra ?? {}) as Record<string, unknown>;
    presetExtra.set(token, Object.fromEntries(Object.entries({ sub, act, delegation, acr, amr }).filter(([, v]) => v !== undefined)));
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();

    if (delegated) {
      await recordDelegationEvent({ db: ds.manager, delegationId: delegated.delegation.id, actorId: delegated.delegation.helperId, type: 'token_exchange', clientId: client.clientId, details: { audience, scopes: asked } });
      if (delegated.principal) await recordEvent({ db: ds.manager, accountId: delegated.principal.id, type: 'delegation_used', clientId: client.clientId, details: { kind: 'token_exchange', audience } });
    }
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope: asked.join(' '),
    };
  };
  provider.registerGrantType(TOKEN_EXCHANGE, handler as never, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'audience', 'resource', 'scope', 'requested_token_type']);
}
