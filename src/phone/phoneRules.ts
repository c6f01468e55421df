/**
 * The phone channel's rules, as data (OpenID Connect CIBA Core 1.0,
 * https://openid.net/specs/openid-client-initiated-backchannel-authentication-core-1_0.html).
 * How often an agency may ask is in src/http/limits.ts (per client, per person and agency).
 */
export const PHONE_RULES = {
  /** §7.1 `requested_expiry`: what an agency may ask for at most, and what it gets without asking. */
  maxExpirySeconds: 600,
  defaultExpirySeconds: 300,
  /** §7.3 `interval`: the least time between two polls of one request; faster gets `slow_down` (§11). */
  pollIntervalSeconds: 5,
  /** Requests a person may have open at once, from all agencies together. */
  maxOpenPerPerson: 3,
  /** After "I did not call", that agency's phone requests to that person are refused this long. */
  blockSeconds: 24 * 3600,
  /**
   * §7.1 `binding_message`: what the agent reads out and the person compares — at most 20 letters,
   * digits, spaces and hyphens, at least one of them a letter or digit (e.g. `BLUE-4127`).
   */
  bindingMessage: /^(?=.*[A-Za-z0-9])[A-Za-z0-9 -]{1,20}$/,
} as const;

/** How a person answered: the request's status from then on. */
export type PhoneAnswer = 'approved' | 'denied' | 'not_me' | 'unmet';
