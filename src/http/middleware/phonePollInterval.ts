import type { Context, Next } from 'koa';
import { PHONE_RULES } from '../../phone/phoneRules.js';
import type { Limiter } from './rateLimit.js';
import { isTokenFormPost, tokenRequestBody, tooLarge } from './tokenRequestBody.js';

const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

/**
 * CIBA Core §11 / RFC 8628 §3.5: an agency polling one `auth_req_id` more often than every
 * PHONE_RULES.pollIntervalSeconds (the `interval` it was given) gets `slow_down`, and should add
 * 5 seconds to its interval. Counted per request in the store all nodes share (src/http/limits.ts
 * `phoneRequestPoll`), so a poll answered by another node counts too. The `auth_req_id` is a
 * secret only its agency holds, so nobody else can slow an agency down.
 */
export function phonePollInterval(opts: { limiter: Limiter; onSlowDown?: () => void }) {
  return async (ctx: Context, next: Next) => {
    if (!isTokenFormPost(ctx)) return next();
    const body = await tokenRequestBody(ctx);
    if (!body) return tooLarge(ctx);
    const authReqId = body['auth_req_id'];
    if (body['grant_type'] !== CIBA_GRANT || typeof authReqId !== 'string' || !authReqId) return next();
    const polled = await opts.limiter.take(authReqId);
    if (polled.ok) return next();
    opts.onSlowDown?.();
    ctx.status = 400;
    ctx.set('cache-control', 'no-store');
    ctx.body = { error: 'slow_down', error_description: `poll at most every ${PHONE_RULES.pollIntervalSeconds} seconds; add 5 seconds to your interval` };
  };
}
