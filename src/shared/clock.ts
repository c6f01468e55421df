/**
 * The one clock the domain reads. Tests move it (`clock.set`, `clock.advance`) to exercise
 * expiry of codes, sessions and, later, delegations without waiting.
 */
let offsetMs = 0;

export const clock = {
  now(): Date { return new Date(Date.now() + offsetMs); },
  nowMs(): number { return Date.now() + offsetMs; },
  /** Seconds since the epoch, as JWT and oidc-provider count. */
  epoch(): number { return Math.floor((Date.now() + offsetMs) / 1000); },
  advance(ms: number): void { offsetMs += ms; },
  set(date: Date): void { offsetMs = date.getTime() - Date.now(); },
  reset(): void { offsetMs = 0; },
};
