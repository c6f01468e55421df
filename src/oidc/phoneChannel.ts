import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { admitPhoneRequest } from '../phone/admitPhoneRequest.js';
import { PHONE_RULES } from '../phone/phoneRules.js';
import { parseVerifiedWithin } from '../proofing/levels.js';
import { requirementOf, UNSUPPORTED_ACR } from './acr.js';
import { UNSUPPORTED_SCOPES } from './claims.js';
import { requestedClaimNames } from './grantForDelegation.js';
import { type PhoneHint, resolveLoginHint, resolveSubject } from './resolvePhoneHint.js';
import { carryVerifiedWithin } from './tokenAssurance.js';

const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

/** A limiter from src/http/limits.ts, as the hooks need it. */
export interface Throttle {
  take(key: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }>;
}

/** What the phone channel counts (`onedoor_phone_requests_total{event}`). */
export type PhoneEvent = 'requested' | 'limited' | 'blocked' | 'approved' | 'denied' | 'not_me' | 'unmet' | 'slow_down';

/** What the app gives the phone channel: its limits, how a person is told, and its metrics. */
export interface PhoneChannelDeps {
  limits: { client: Throttle; personAgency: Throttle };
  /** Tells the person (history, mail, text message), in the background: never rejects (it logs what failed). */
  notify(opts: { requestId: string; accountId: string; clientId: string; clientName: string; expiresAt: Date }): Promise<void>;
  count(event: PhoneEvent): void;
}

type CibaFeature = NonNullable<NonNullable<Configuration['features']>['ciba']>;

/** Whom this request names, once its hint is resolved (and, for an address without account, the id it stands under). */
type Named = Exclude<PhoneHint, { kind: 'unknown' | 'malformed' }> & { id: string };
/** Per request (its context object): whom its hint named, for the hooks that run after processLoginHint. */
const namedBy = new WeakMap<object, Named>();

/** CIBA Core §13: a refusal of the request itself is 403 `access_denied`. */
function denied(description: string): errors.OIDCProviderError {
  const err = new errors.AccessDenied(description);
  err.status = 403;
  err.statusCode = 403;
  return err;
}

function tooManyRequests(ctx: KoaContextWithOIDC, retryAfterSeconds: number): errors.OIDCProviderError {
  ctx.set('retry-after', String(retryAfterSeconds));
  const err = new errors.CustomOIDCProviderError('too_many_requests', `too many phone requests from this client; retry after ${retryAfterSeconds} seconds`);
  err.status = 429;
  err.statusCode = 429;
  return err;
}

/** The scope exactly as the agency sent it: oidc-provider drops offline_access for clients without refresh_token. */
function sentScopes(ctx: KoaContextWithOIDC): string[] {
  const sent = (ctx.oidc.body as { scope?: unknown } | undefined)?.scope ?? ctx.oidc.params!['scope'];
  return typeof sent === 'string' ? sent.split(' ').filter(Boolean) : [];
}

/**
 * OneDoor's rules for a backchannel authentication request, checked before anyone is looked up
 * (so that nothing here depends on whom the request names).
 */
async function checkRequest(ctx: KoaContextWithOIDC, requestContext: unknown, deps: PhoneChannelDeps | undefined): Promise<void> {
  const params = ctx.oidc.params as Record<string, unknown>;
  if (requestContext !== undefined) throw new errors.InvalidRequest('request_context is not supported');
  if (params['user_code'] !== undefined) throw new errors.InvalidRequest('user_code is not supported (backchannel_user_code_parameter_supported is false)');
  if (params['requested_expiry'] !== undefined && Number(params['requested_expiry']) > PHONE_RULES.maxExpirySeconds) {
    throw new errors.InvalidRequest(`requested_expiry must be at most ${PHONE_RULES.maxExpirySeconds} seconds`);
  }
  const acr = typeof params['acr_values'] === 'string' ? params['acr_values'] : '';
  const unsupportedAcr = acr.split(' ').find((v) => Object.hasOwn(UNSUPPORTED_ACR, v));
  if (unsupportedAcr) throw new errors.InvalidRequest(UNSUPPORTED_ACR[unsupportedAcr]!);
  const maxIal = Number((ctx.oidc.client!.metadata() as { max_ial?: number }).max_ial ?? 1);
  if ((requirementOf(acr).ial ?? 1) > maxIal) throw new errors.InvalidRequest('acr_values ask for an identity assurance level this client is not registered for');
  const scopes = sentScopes(ctx);
  const unsupportedScope = scopes.find((s) => Object.hasOwn(UNSUPPORTED_SCOPES, s));
  if (unsupportedScope) throw new errors.InvalidScope(UNSUPPORTED_SCOPES[unsupportedScope]!, unsupportedScope);
  // A phone confirmation is for this call: no refresh token, so no access that outlives it.
  if (scopes.includes('offline_access')) throw new errors.InvalidScope('offline_access is not offered on the phone channel', 'offline_access');
  const limited = deps ? await deps.limits.client.take(ctx.oidc.client!.clientId) : { ok: true as const };
  if (!limited.ok) {
    deps!.count('limited');
    throw tooManyRequests(ctx, limited.retryAfterSeconds);
  }
}

/** Names the person (or the address without account) the request is for; `undefined` is `unknown_user_id`. */
function named(ctx: KoaContextWithOIDC, hint: PhoneHint): string | undefined {
  if (hint.kind === 'malformed') throw new errors.InvalidRequest('login_hint must be an email address, or a subject OneDoor gave your agency');
  if (hint.kind === 'unknown') return undefined;
  const id = hint.kind === 'person' ? hint.accountId : randomUUID();
  namedBy.set(ctx, { ...hint, id });
  return id;
}

/**
 * `findAccount` at the backchannel authentication endpoint: the person the request's hint named.
 * An `id_token_hint` carries a pairwise subject, traced back like a subject in `login_hint`. An
 * address without an account gets an account of nobody under a random id: the request is made
 * and answered like any other, and simply expires.
 */
export async function phoneRequestAccount(ctx: KoaContextWithOIDC, id: string, opts: { ds: DataSource; pepper: string }) {
  const hinted = ctx.oidc.entities.IdTokenHint?.payload['sub'];
  if (!namedBy.has(ctx) && typeof hinted === 'string' && hinted === id) {
    named(ctx, await resolveSubject({ ds: opts.ds, provider: ctx.oidc.provider, client: ctx.oidc.client!, pepper: opts.pepper, subject: hinted }));
  }
  const who = namedBy.get(ctx);
  if (!who || (who.id !== id && hinted !== id)) return undefined;
  return { accountId: who.id, claims: async () => ({ sub: who.id }) };
}

/** oidc-provider's CIBA feature with OneDoor's hooks (CIBA Core 1.0; docs/agencies.md "Phone channel (CIBA)"). */
export function phoneChannelFeature(opts: { ds: DataSource; pepper: string; deps?: PhoneChannelDeps | undefined }): CibaFeature {
  const { ds, pepper, deps } = opts;
  return {
    enabled: true,
    deliveryModes: ['poll', 'ping'],
    async processLoginHint(ctx, loginHint) {
      const id = named(ctx, await resolveLoginHint({ ds, provider: ctx.oidc.provider, client: ctx.oidc.client!, pepper, loginHint: loginHint ?? '' }));
      if (!id) throw new errors.UnknownUserId('the subject is not a person connected to your agency');
      return id;
    },
    async processLoginHintToken() {
      throw new errors.InvalidRequest('login_hint_token is not supported: send login_hint or id_token_hint');
    },
    validateBindingMessage(_ctx, bindingMessage) {
      if (bindingMessage === undefined) throw new errors.InvalidBindingMessage('binding_message is required: a short code the agent reads to the caller, e.g. BLUE-4127');
      if (!PHONE_RULES.bindingMessage.test(bindingMessage)) throw new errors.InvalidBindingMessage('binding_message must be 1-20 letters, digits, spaces or hyphens');
    },
    // Called once per request, after the parameters are parsed and before anyone is looked up.
    validateRequestContext: (ctx, requestContext) => checkRequest(ctx, requestContext, deps),
    // The last hook before the request is stored: the per-person limit, then what is stored.
    async verifyUserCode(ctx) {
      const who = namedBy.get(ctx);
      if (!who || !deps) throw new Error('the phone channel is not served by this provider');
      const limited = await deps.limits.personAgency.take(`${ctx.oidc.client!.clientId}:${who.personKey}`);
      if (!limited.ok) {
        deps.count('limited');
        throw denied('this person has had the most phone requests your agency may send them in a day; try again later');
      }
      const params = ctx.oidc.params as Record<string, unknown>;
      // The hint has done its work: the request is stored without the address or token it named.
      params['login_hint'] = undefined;
      params['id_token_hint'] = undefined;
      // verified_within travels with the tokens, which check it again at every use.
      carryVerifiedWithin(ctx, parseVerifiedWithin(params['verified_within']));
    },
    async triggerAuthenticationDevice(ctx, request, _account, client) {
      const who = namedBy.get(ctx);
      if (!who || !deps) throw new Error('the phone channel is not served by this provider');
      const params = ctx.oidc.params as Record<string, unknown>;
      const person = who.kind === 'person' ? who.accountId : null;
      const admitted = await admitPhoneRequest({
        db: ds,
        details: {
          authReqId: request.jti, clientId: client.clientId, accountId: person, personKey: who.personKey, expiresInSeconds: request.expiration,
          shown: person ? {
            bindingMessage: String(params['binding_message']), scope: request.scope ?? 'openid',
            acrValues: typeof params['acr_values'] === 'string' ? params['acr_values'] : undefined,
            claims: requestedClaimNames(params['claims']), verifiedWithin: parseVerifiedWithin(params['verified_within']),
          } : undefined,
        },
      });
      if (!admitted.ok) {
        await request.destroy();
        deps.count(admitted.reason === 'blocked' ? 'blocked' : 'limited');
        throw denied(admitted.reason === 'blocked'
          ? 'the person said they were not on a call with your agency; its phone requests to them are refused for a day'
          : `this person already has ${PHONE_RULES.maxOpenPerPerson} phone requests open; try again when one is answered or expired`);
      }
      deps.count('requested');
      // CIBA Core §7.3: how often the agency may poll.
      (ctx.body as Record<string, unknown>)['interval'] = PHONE_RULES.pollIntervalSeconds;
      // Told after the answer has gone out: a known address answers no slower than an unknown one.
      if (person) {
        const told = { requestId: admitted.request.id, accountId: person, clientId: client.clientId, clientName: client.clientName ?? client.clientId, expiresAt: admitted.request.expiresAt };
        setImmediate(() => { void deps.notify(told); });
      }
    },
  };
}

/** CIBA Core §7.1 `requested_expiry`, within PHONE_RULES (checked above), else the default. */
export function phoneRequestTtl(ctx: KoaContextWithOIDC | undefined): number {
  const asked = Number((ctx?.oidc?.params as Record<string, unknown> | undefined)?.['requested_expiry']);
  return Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, PHONE_RULES.maxExpirySeconds) : PHONE_RULES.defaultExpirySeconds;
}

/**
 * Where oidc-provider's answers differ from CIBA Core, set right after it answers: discovery says
 * user codes are not supported (§4; oidc-provider always advertises `true`, and its `discovery`
 * option cannot override a value it sets itself), and a client not registered for the grant is
 * `unauthorized_client` (§13; oidc-provider says `invalid_request`).
 */
export function advertisePhoneChannel(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body as Record<string, unknown> : undefined;
    if (!body) return;
    if (ctx.oidc?.route === 'discovery') body['backchannel_user_code_parameter_supported'] = false;
    if (ctx.oidc?.route === 'backchannel_authentication' && body['error'] === 'invalid_request' && ctx.oidc.client && !ctx.oidc.client.grantTypeAllowed(CIBA_GRANT)) {
      body['error'] = 'unauthorized_client';
    }
  });
}
