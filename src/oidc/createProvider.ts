import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import Provider, { type AdapterPayload, type Configuration, type KoaContextWithOIDC, interactionPolicy, errors } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/loadConfig.js';
import { pairwiseSubject, sectorOf } from './pairwise.js';
import { logger } from '../shared/logger.js';
import { ACR_VALUES_SUPPORTED } from './acr.js';
import { assurancePrompt } from './assurancePolicy.js';
import { type AttestationTrustStore, NO_ATTESTATION_TRUST } from '../passkeys/loadAttestationTrustStore.js';
import { actorChoice, actorPrompt } from './actorPolicy.js';
import { selectAccountPrompt, switchAccountCheck } from './selectAccountPrompt.js';
import { unsupportedRequestPrompt } from './unsupportedRequestPrompt.js';
import { type AuthorityCheck, delegationClaims, delegationOfGrant } from './delegatedAuthorization.js';
import { basesAcceptedBy, CONSENT } from '../delegation/representationKinds.js';
import { EXCHANGED_TOKEN_TTL_SECONDS, registerTokenExchange, TOKEN_EXCHANGE, presetExtra } from './tokenExchange.js';
import { accountClaims, representedClaims } from './accountClaims.js';
import { verifiedClaimsDiscovery } from './verifiedClaims.js';
import { LOCALES } from '../shared/i18n.js';
import { parseVerifiedWithin } from '../proofing/levels.js';
import { SCOPE_CLAIMS, SUPPORTED_SCOPES } from './claims.js';
import { validateOneDoorMetadata } from './clientMetadata.js';
import type { InsertNew } from './createAdapter.js';
import { listOwnGrants } from '../accounts/listOwnGrants.js';
import { createProtocolAdapter } from './createProtocolAdapter.js';
import { memoFor } from './requestMemo.js';
import { providerFetch } from './providerFetch.js';
import { outgoingFailureOf } from '../shared/outgoingRequest.js';
import { accountOf, delegationLinkIn, profileOf } from './assurancePolicy.js';
import type { KeyMaterial } from './keys.js';
import { tokenAssuranceHolds } from './tokenAssurance.js';
import { advertisePhoneChannel, type PhoneChannelDeps, phoneChannelFeature, phoneRequestAccount, phoneRequestTtl } from './phoneChannel.js';
import { pairwiseSubjectRecorder } from './pairwiseSubjectRecorder.js';
import { subjectAt } from './subjectAt.js';

/** OneDoor's own account pages sign in through the provider like any client (first party). */
export const ACCOUNT_CLIENT_ID = 'onedoor-account';

/** oidc-provider's session cookie (signed with the app's cookie keys); OneDoor's CSRF tokens are bound to it. */
export const SESSION_COOKIE = 'od_session';

export interface ProviderPages {
  renderError(ctx: KoaContextWithOIDC, out: Record<string, string>, error: Error): Promise<void>;
  logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void>;
}

export interface CreateProviderOptions {
  config: Config;
  ds: DataSource;
  keys: KeyMaterial;
  pages: ProviderPages;
  /** Short-lived protocol state goes here when set (see createRedisAdapter.ts). */
  redis?: Redis | undefined;
  /**
   * The operator's attestation trust store, for the assurance prompt. Without it no passkey meets
   * AAL3: the CLI's providers, which never run an authorization, do without.
   */
  attestationTrust?: AttestationTrustStore | undefined;
  /** The phone channel's limits, notifications and metrics (the app's); without them the provider serves no phone request. */
  phone?: PhoneChannelDeps | undefined;
}

export { pairwiseSubject };

export const CLOCK_TOLERANCE_SECONDS = 15;

/**
 * A client assertion (or DPoP proof) may be used once: oidc-provider remembers each one's
 * `jti` until it expires (ReplayDetection.unique). Its own check looks the id up, then saves
 * it, so two requests carrying the same assertion at the same moment can both pass, and it
 * costs two round trips. Here the id is stored in one statement that only one caller can win
 * (a primary-key insert, or a Redis script), under the same id oidc-provider would use.
 */
function claimReplayIds(provider: Provider): void {
  const model = (provider as unknown as { ReplayDetection: { adapter: Partial<InsertNew>; unique(iss: string, jti: string, exp: number): Promise<boolean> } }).ReplayDetection;
  const adapter = model.adapter;
  if (typeof adapter.insertNew !== 'function') throw new Error('the ReplayDetection adapter cannot claim ids atomically');
  model.unique = async (iss, jti, exp) => {
    const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
    const now = Math.floor(Date.now() / 1000);
    return adapter.insertNew!(id, { iss, jti: id, kind: 'ReplayDetection', iat: now, exp } as AdapterPayload, Math.max(1, exp - now));
  };
}

export function createProvider({ config, ds, keys, pages, redis, attestationTrust = NO_ATTESTATION_TRUST, phone }: CreateProviderOptions): Provider {

  /** A legal authority is usable only at an agency that accepts its basis now (client file `delegation_bases_accepted`). */
  const authorityCheck = (ctx: object | undefined): AuthorityCheck => ({
    kek: keys.kek, pepper: keys.secrets.pepper,
    accepts: (basis) => basesAcceptedBy((ctx as KoaContextWithOIDC | undefined)?.oidc?.client?.metadata() as Record<string, unknown> | undefined).includes(basis),
  });
  /** The delegation behind a grant, looked up once per request (see requestMemo). */
  const delegationOf = (ctx: object | undefined, grantId: string | undefined) => memoFor(ctx, `delegation:${grantId ?? ''}`, () => delegationOfGrant(ds, grantId, (id) => delegationLinkIn(ctx, ds, id), authorityCheck(ctx)));
  /** Whose identity assurance a delegated token stands on: both people's with consent; the representative's own on legal authority. */
  const assuredIds = (accountId: string, delegated: Awaited<ReturnType<typeof delegationOf>>) => (delegated && delegated.delegation.basis === CONSENT && delegated.principal ? [accountId, delegated.principal.id] : [accountId]);
  /** The grant the current request acts under (token being used, or the consent chosen). */
  const grantIdInContext = (ctx: KoaContextWithOIDC): string | undefined => {
    const e = ctx.oidc?.entities as Record<string, { grantId?: string } | undefined> | undefined;
    return e?.['AuthorizationCode']?.grantId ?? e?.['BackchannelAuthenticationRequest']?.grantId ?? e?.['RefreshToken']?.grantId ?? e?.['AccessToken']?.grantId ?? (ctx.oidc?.result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId;
  };

  const recordSubject = pairwiseSubjectRecorder(ds);

  const policy = interactionPolicy.base();
  policy.add(actorPrompt({ ds, kek: keys.kek, pepper: keys.secrets.pepper }), 1);
  policy.add(assurancePrompt({ ds, maxIalOf: (ctx) => Number((ctx.oidc.client?.metadata() as { max_ial?: number } | undefined)?.max_ial ?? 1), trust: attestationTrust }), 2);
  policy.add(selectAccountPrompt(), 1);
  policy.add(unsupportedRequestPrompt(), 0);
  policy.get('login')!.checks.add(switchAccountCheck());
  policy.get('login')!.checks.add(new interactionPolicy.Check('session_too_old', 'End-User authentication is required', (ctx) => {
    const { session } = ctx.oidc;
    if (session?.accountId && session.loginTs && session.past(config.session.maxSeconds) && !ctx.oidc.result?.login) {
      return interactionPolicy.Check.REQUEST_PROMPT;
    }
    return interactionPolicy.Check.NO_NEED_TO_PROMPT;
  }));

  const configuration: Configuration = {
    adapter: createProtocolAdapter({ ds, redis }),
    clients: [{
      client_id: ACCOUNT_CLIENT_ID,
      client_name: 'OneDoor',
      redirect_uris: [`${config.issuer}/account/callback`],
      post_logout_redirect_uris: [`${config.issuer}/`],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      subject_type: 'public',
    }],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'private_key_jwt',
      subject_type: 'pairwise',
    },
    clientAuthMethods: ['private_key_jwt', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256'],
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    subjectTypes: ['public', 'pairwise'],
    // Under a delegation oidc-provider still sees the helper's account (session, grant, tokens);
    // the subject an agency receives is the principal's (sub), the helper's goes in `act`.
    pairwiseIdentifier: async (ctx, accountId, client) => {
      const grantId = ctx ? grantIdInContext(ctx) : undefined;
      // One read answers both: the account (its subject aliases) and whether the grant is delegated.
      const account = await accountOf(ctx, ds, accountId, { grantId });
      const delegated = grantId ? await delegationOf(ctx, grantId) : undefined;
      const onBehalf = delegated && delegated.delegation.helperId === accountId ? delegated : undefined;
      const subject = onBehalf ? onBehalf.subjectId : accountId;
      const sector = sectorOf(client);
      const sub = subjectAt({ salt: keys.secrets.pairwiseSalt, sector, id: subject, account: onBehalf ? onBehalf.principal : account });
      // So that the agency can name this person by it later (a phone request's login_hint).
      await recordSubject({ sector, subject: sub, accountId: subject });
      return sub;
    },
    scopes: SUPPORTED_SCOPES,
    claims: { ...SCOPE_CLAIMS, sid: null, verified_claims: null } as unknown as Configuration['claims'],
    // Login.gov's `verified_within` (e.g. 30d): re-proof when the last verification is older.
    extraParams: {
      verified_within(_ctx, value) {
        if (value !== undefined && parseVerifiedWithin(value) === undefined) throw new errors.InvalidRequest('verified_within must be a duration like 30d, 8w, 18m or 2y');
      },
      // Login.gov's language parameter (`locale=es`): OneDoor reads it like ui_locales.
      locale: null,
    },
    acrValues: ACR_VALUES_SUPPORTED,
    // OIDC4IA metadata (from the same tables as the release) and the page languages.
    discovery: {
      claim_types_supported: ['normal'], ui_locales_supported: [...LOCALES], ...verifiedClaimsDiscovery(),
      // Every `prompt` value accepted (OIDC Initiating User Registration §4.1): none, and the policy's requestable prompts.
      prompt_values_supported: ['none', ...policy.filter((p) => p.requestable).map((p) => p.name)],
    },
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      keys: keys.cookieKeys,
      names: { session: SESSION_COOKIE, interaction: 'od_interaction', resume: 'od_resume' },
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure: !config.insecureTransport },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure: !config.insecureTransport },
    },
    ttl: {
      // Token exchange issues short-lived, audience-restricted tokens (≤ 5 minutes).
      AccessToken: (_ctx, token) => ((token as { gty?: string }).gty === TOKEN_EXCHANGE ? EXCHANGED_TOKEN_TTL_SECONDS : 15 * 60),
      AuthorizationCode: 60,
      ClientCredentials: 10 * 60,
      IdToken: 60 * 60,
      RefreshToken: 30 * 24 * 3600,
      Interaction: 60 * 60,
      Grant: 365 * 24 * 3600,
      BackchannelAuthenticationRequest: (ctx) => phoneRequestTtl(ctx),
      Session: (_ctx, session) => {
        const loginTs = (session as { loginTs?: number }).loginTs;
        const left = loginTs ? loginTs + config.session.maxSeconds - Math.floor(Date.now() / 1000) : config.session.idleSeconds;
        return Math.max(1, Math.min(config.session.idleSeconds, left));
      },
    },
    rotateRefreshToken: () => true,
    // Access tokens remember how the authorization was authenticated (acr, amr), so that userinfo
    // and introspection describe that authorization, not whatever the session does later.
    // A delegated access token also says whom it is for and who acts (RFC 8693 §4.1 `act`), so
    // introspection shows `sub` = the principal, `act.sub` = the helper, and the delegation.
    extraTokenClaims: async (ctx, token) => {
      if (token.kind !== 'AccessToken') return undefined;
      const preset = presetExtra.get(token);
      if (preset) return preset;
      const source = (ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.BackchannelAuthenticationRequest ?? ctx.oidc.entities.RefreshToken ?? ctx.oidc.entities.DeviceCode) as { acr?: string; amr?: string[] } | undefined;
      const extra: Record<string, unknown> = source?.acr ? { acr: source.acr, amr: source.amr } : {};
      const delegated = await delegationOf(ctx, (token as { grantId?: string }).grantId);
      if (delegated && ctx.oidc.client) {
        const sector = sectorOf(ctx.oidc.client);
        Object.assign(extra, { sub: subjectAt({ salt: keys.secrets.pairwiseSalt, sector, id: delegated.subjectId, account: delegated.principal }), ...delegationClaims({ salt: keys.secrets.pairwiseSalt, sectorIdentifier: sector, delegated, helper: await accountOf(ctx, ds, delegated.delegation.helperId!) }) });
      }
      return Object.keys(extra).length ? extra : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      // For an agency's back end calling its own APIs; only clients whose file lists the
      // grant may use it, and its tokens carry no person (no sub, no claims).
      clientCredentials: { enabled: true },
      // A client may only introspect or revoke tokens issued to itself (RFC 7662 §4, RFC 7009 §2.1).
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => {
          const t = token as { clientId?: string; aud?: string | string[]; grantId?: string };
          const aud = Array.isArray(t.aud) ? t.aud : t.aud ? [t.aud] : [];
          if (t.clientId !== undefined && t.clientId !== client.clientId && !aud.includes(client.clientId)) return false;
          const accountId = (token as { accountId?: string }).accountId;
          // One read answers both the grant's delegation link and the account (its subject, next).
          // A disabled or deleted account's tokens are inactive, as findAccount makes them for userinfo.
          if (accountId && (await accountOf(ctx, ds, accountId, { grantId: t.grantId }))?.status !== 'active') return false;
          const delegated = await delegationOf(ctx, t.grantId);
          if (delegated === null) return false;
          if (!accountId) return true;
          return tokenAssuranceHolds({ ctx, ds, token: token as never, accountIds: assuredIds(accountId, delegated) });
        },
      },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => ('clientId' in token ? token.clientId === client.clientId : true) },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      // The phone channel: an agency's phone agent confirms who is calling (CIBA Core 1.0).
      ciba: phoneChannelFeature({ ds, pepper: keys.secrets.pepper, deps: phone }),
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => pages.logoutSource(ctx, form),
        postLogoutSuccessSource: (ctx) => pages.postLogoutSuccessSource(ctx),
      },
    },
    extraClientMetadata: {
      properties: ['delegation_enabled', 'delegation_bases_accepted', 'representation_authority', 'max_ial', 'security_event_endpoint'],
      validator: (_ctx, key, value, metadata) => validateOneDoorMetadata(key, value, metadata as Record<string, unknown>),
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Consent belongs to the person, not to the browser: a sign-in from a new device reuses the
    // account's existing grant for this agency instead of asking again. A grant made under a
    // delegation is the delegation's: it is used only in the authorization where the helper chose
    // to act under that very delegation, and never for the helper themself (nor the reverse).
    loadExistingGrant: async (ctx) => {
      const clientId = ctx.oidc.client!.clientId;
      const accountId = ctx.oidc.session!.accountId;
      if (!accountId) return undefined;
      const whose = async (id: string | undefined) => {
        const grant = id ? await ctx.oidc.provider.Grant.find(id) : undefined;
        return grant && grant.accountId === accountId && grant.clientId === clientId ? grant : undefined;
      };
      const consented = ctx.oidc.result?.consent?.grantId;
      const chosen = actorChoice(ctx)?.delegationId;
      if (chosen) return consented && (await delegationLinkIn(ctx, ds, consented)) === chosen ? whose(consented) : undefined;
      for (const id of [consented, ctx.oidc.session!.grantIdFor(clientId)]) {
        if (id && !(await delegationLinkIn(ctx, ds, id))) {
          const grant = await whose(id);
          if (grant) return grant;
        }
      }
      const own = (await listOwnGrants({ db: ds, accountId, clientId }))[0];
      if (own) return whose(own.id);
      // First-party account pages need no consent: they only learn who signed in.
      if (clientId === ACCOUNT_CLIENT_ID) {
        const grant = new ctx.oidc.provider.Grant({ clientId: ACCOUNT_CLIENT_ID, accountId });
        grant.addOIDCScope('openid');
        await grant.save();
        return grant;
      }
      return undefined;
    },
    findAccount: async (ctx, id, token) => {
      if (ctx.oidc?.route === 'backchannel_authentication') return phoneRequestAccount(ctx, id, { ds, pepper: keys.secrets.pepper });
      // Under a delegation the claims are the principal's (sub included), plus `act` and `delegation`.
      const grantId = (token as { grantId?: string } | undefined)?.grantId ?? (ctx.oidc?.result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId;
      const account = await accountOf(ctx, ds, id, { grantId });
      if (!account || account.status !== 'active') return undefined;
      const delegated = await delegationOf(ctx, grantId);
      if (delegated === null) return undefined;
      if (delegated && delegated.delegation.helperId !== account.id) return undefined;
      // A token is worth the assurance it was issued with only while that still holds (the
      // identity deleted, set aside, or older than verified_within: the token no longer works).
      if (token && !(await tokenAssuranceHolds({ ctx, ds, token: token as never, accountIds: assuredIds(id, delegated) }))) return undefined;
      const extraClaims = delegated && ctx.oidc?.client ? delegationClaims({ salt: keys.secrets.pairwiseSalt, sectorIdentifier: sectorOf(ctx.oidc.client), delegated, helper: account }) : {};
      const principal = delegated ? delegated.principal : account;
      const subjectId = delegated ? delegated.subjectId : account.id;
      // The assurance of this authorization: from the token being used, else the session.
      const fromToken = token as { acr?: string; amr?: string[]; extra?: { acr?: string; amr?: string[] } } | undefined;
      const source = fromToken?.extra?.acr ? fromToken.extra : (fromToken?.acr ? fromToken : ctx.oidc?.session as { acr?: string; amr?: string[] } | undefined);
      return {
        accountId: id,
        // A represented person without an account has no claims of their own: their subject, and the authorization's assurance (the representative's).
        claims: async (_use: string, scope: string, claims: unknown) => ({
          ...(principal
            ? await accountClaims({ ds, kek: keys.kek, account: principal, profile: () => profileOf(ctx, ds, principal.id), acr: source?.acr, amr: source?.amr, scope, requested: claims as Record<string, unknown> | undefined })
            : representedClaims({ acr: source?.acr, amr: source?.amr })),
          sub: subjectId, ...extraClaims,
        }),
      };
    },
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((u) => new URL(u).origin === origin) ?? false,
    renderError: (ctx, out, error) => pages.renderError(ctx, out as unknown as Record<string, string>, error),
    // Agencies' clocks drift: a client assertion (or request object) whose iat/nbf is up to this
    // many seconds in the future, or exp this far in the past, is still accepted (docs/operators.md, Clock tolerance).
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    // Every outgoing call (jwks_uri, sector_identifier_uri, back-channel logout) goes through
    // OneDoor's outgoing-request helper: https to public addresses only (docs/operators.md, Outgoing requests).
    fetch: providerFetch({ policy: config }),
    // Scope claims (email…) go to userinfo; the ID token carries only what `openid` and the
    // claims parameter ask for (OIDC Core §5.4).
    conformIdTokenClaims: true,
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  claimReplayIds(provider);
  registerTokenExchange({ provider, ds, keys });
  advertisePhoneChannel(provider);

  for (const event of ['server_error', 'authorization.error', 'grant.error', 'introspection.error', 'revocation.error', 'userinfo.error', 'end_session.error', 'backchannel.error', 'backchannel_authentication.error'] as const) {
    // backchannel.error also passes the client being told; the others only (ctx, err).
    (provider as unknown as { on(e: string, fn: (ctx: unknown, err: Error & { error?: string; status?: number }, client?: { clientId?: string }) => void): void }).on(event, (ctx, err, client) => {
      // An outgoing call refused or failed (a client's jwks_uri, a back-channel logout): which
      // client, and the reason code; never its URL.
      const reason = outgoingFailureOf(err);
      const clientId = client?.clientId ?? (ctx as { oidc?: { client?: { clientId?: string } } } | undefined)?.oidc?.client?.clientId;
      const level = event === 'server_error' || (err.status ?? 500) >= 500 ? 'error' : reason || event === 'backchannel.error' ? 'warn' : 'debug';
      // Only the OAuth error code and class: descriptions can echo request input.
      logger[level]({ event, error: err.error ?? err.name, ...(clientId ? { clientId } : {}), ...(reason ? { reason } : {}) }, 'oidc error');
    });
  }
  return provider;
}

