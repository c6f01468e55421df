import type { Context } from 'koa';
import { PHONE_RULES } from '../phone/phoneRules.js';
import { clock } from '../shared/clock.js';
import type { HttpDeps } from './deps.js';
import { createLimiter, type LimitResult, type Limiter } from './middleware/rateLimit.js';
import { routeLabel } from './routeLabel.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * How often what can be guessed may be tried, and how often what costs money or reaches someone
 * else's inbox, phone or letterbox may be sent (docs/security.md, "Limits on guessing and sending").
 *
 * - `source` counts per client IP and scales with RATE_LIMIT_MULTIPLIER (offices, libraries and
 *   carriers put many people behind one address); `account`, `address` (the address a code was
 *   mailed to) and `destination` (a phone number, a postal address, an invited email address)
 *   never scale.
 * - A guess counts once it has the shape of a code: a malformed one is refused before anything
 *   counts. Windows are fixed: tries refused during a window do not extend it.
 * - Recovery codes are also throttled per account by the consecutive-failure rule of NIST SP
 *   800-63B (src/accounts/recoveryCodeThrottle.ts).
 * - Passkeys are never throttled per account: an assertion cannot be guessed. Failed assertions
 *   count per source (`passkeyFailureSource`) only after verification has failed, so a valid
 *   assertion always gets in, whatever others did from its account or its address.
 * - The phone channel (CIBA, docs/agencies.md "Phone channel (CIBA)") counts per `client` (an agency's
 *   back end), per `person` and agency (the account, or the address asked for when it has none:
 *   the same count either way, so the limit says nothing about who has an account), and per
 *   `request` (polls of one `auth_req_id`: faster than PHONE_RULES.pollIntervalSeconds is
 *   `slow_down`). None scales.
 */
export const LIMITS = {
  recoveryCodeSource: { per: 'source', points: 20, seconds: HOUR },
  emailCodeSource: { per: 'source', points: 60, seconds: HOUR },
  emailCodeAddress: { per: 'address', points: 20, seconds: DAY },
  possessionCodeSource: { per: 'source', points: 30, seconds: HOUR },
  possessionCodeAccount: { per: 'account', points: 10, seconds: DAY },
  personalKeySource: { per: 'source', points: 20, seconds: HOUR },
  personalKeyAccount: { per: 'account', points: 10, seconds: HOUR },
  invitationCodeSource: { per: 'source', points: 30, seconds: HOUR },
  invitationCodeAccount: { per: 'account', points: 30, seconds: HOUR },
  passkeyFailureSource: { per: 'source', points: 50, seconds: HOUR },
  smsAccount: { per: 'account', points: 3, seconds: HOUR },
  smsPhone: { per: 'destination', points: 5, seconds: DAY },
  letterAccount: { per: 'account', points: 2, seconds: 30 * DAY },
  letterAddress: { per: 'destination', points: 3, seconds: 30 * DAY },
  helperMailAccount: { per: 'account', points: 10, seconds: DAY },
  helperMailAddress: { per: 'destination', points: 3, seconds: DAY },
  phoneRequestClient: { per: 'client', points: 120, seconds: 60 },
  phoneRequestPersonAgency: { per: 'person', points: 10, seconds: DAY },
  phoneRequestPoll: { per: 'request', points: 1, seconds: PHONE_RULES.pollIntervalSeconds },
} as const satisfies Record<string, { per: 'source' | 'account' | 'address' | 'destination' | 'client' | 'person' | 'request'; points: number; seconds: number }>;

export type LimitName = keyof typeof LIMITS;
export type Limits = Record<LimitName, Limiter>;

/** A limiter for every row of LIMITS, counting in the store all nodes share. */
export function createLimits(deps: Pick<HttpDeps, 'limitStore' | 'config'>): Limits {
  return Object.fromEntries(Object.entries(LIMITS).map(([name, l]) => [name, createLimiter({
    store: deps.limitStore, keyPrefix: name, durationSeconds: l.seconds,
    points: l.per === 'source' ? Math.ceil(l.points * deps.config.rateLimitMultiplier) : l.points,
  })])) as Limits;
}

/**
 * Counts one try against each limit in turn; the first that is spent refuses (the rest are not
 * counted). Put the sender's own limit first: tries refused to a sender then never use up what a
 * destination may receive, so one account cannot spend a phone's or an inbox's allowance.
 */
export async function takeAll(tries: Array<[Limiter, string]>): Promise<LimitResult> {
  for (const [limiter, key] of tries) {
    const res = await limiter.take(key);
    if (!res.ok) return res;
  }
  return { ok: true };
}

/**
 * For a page that says a limit is spent: sets Retry-After, counts the refusal, and returns when
 * the next try is allowed in the person's language (UTC, like every time OneDoor shows).
 */
export function nextTryAt(ctx: Context, deps: Pick<HttpDeps, 'metrics'>, refused: { retryAfterSeconds: number }): string {
  ctx.set('retry-after', String(refused.retryAfterSeconds));
  deps.metrics.rateLimited.inc({ route: routeLabel(ctx) });
  const at = new Date(clock.nowMs() + refused.retryAfterSeconds * 1000);
  return `${new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(at)} UTC`;
}
