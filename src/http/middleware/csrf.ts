import type { Context, Next } from 'koa';
import { Forbidden } from '../../shared/errors.js';
import { hmac, randomId, safeEqual } from '../../shared/ids.js';

const CSRF_COOKIE = 'od_csrf';

/**
 * Synchronizer tokens for every form and fetch on OneDoor's own pages: a random cookie
 * (HttpOnly, SameSite=Lax) and, in the page, an HMAC of it. Unsafe requests must send the HMAC
 * as `_csrf` (form) or `x-csrf-token` (fetch). The provider's own endpoints are not covered:
 * they are OAuth endpoints with their own protections.
 */
export function csrf(opts: { secret: string; secure: boolean }) {
  return async (ctx: Context, next: Next) => {
    let seed = ctx.cookies.get(CSRF_COOKIE);
    if (!seed || !/^[A-Za-z0-9_-]{20,64}$/.test(seed)) {
      seed = randomId(24);
      ctx.cookies.set(CSRF_COOKIE, seed, { httpOnly: true, sameSite: 'lax', secure: opts.secure, signed: false });
    }
    const token = hmac(opts.secret, `csrf:${seed}`);
    ctx.state.csrf = token;
    // Multipart forms (document uploads) are parsed by their route, which calls assertCsrf.
    if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method) && !ctx.is('multipart/form-data')) {
      const body = (ctx.request as unknown as { body?: Record<string, unknown> }).body;
      const sent = (typeof body?.['_csrf'] === 'string' ? body['_csrf'] : undefined) ?? ctx.get('x-csrf-token');
      if (!sent || !safeEqual(sent, token)) throw new Forbidden('csrf');
    }
    await next();
  };
}

/** For routes that parse their own body (multipart): the token must match the page's. */
export function assertCsrf(ctx: Context, sent: string | undefined): void {
  const expected = ctx.state.csrf as string | undefined;
  if (!sent || !expected || !safeEqual(sent, expected)) throw new Forbidden('csrf');
}
