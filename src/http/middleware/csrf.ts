import type { Context, Next } from 'koa';
import { SESSION_COOKIE } from '../../oidc/createProvider.js';
import { Forbidden } from '../../shared/errors.js';
import { hmac, randomId, safeEqual } from '../../shared/ids.js';

/**
 * Outside localhost the seed cookie is `__Host-` prefixed: browsers accept such a cookie only
 * when it is Secure, has Path=/ and no Domain, so a sibling subdomain cannot plant one
 * ("cookie tossing"), and only that name is read. Browsers refuse `__Host-` without Secure,
 * so plain-http localhost keeps the plain name.
 */
const SEED_COOKIE = { secure: '__Host-od_csrf', insecure: 'od_csrf' } as const;
const SEED = /^[A-Za-z0-9_-]{20,64}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface KeyList { index(data: string, digest: string): number }

/**
 * The provider's session cookie, if its signature (the app's cookie keys, as oidc-provider
 * signs it) is good; '' when there is none. Read without koa's signed `get`, which would
 * re-sign or clear the provider's cookie as a side effect.
 */
function providerSession(ctx: Context): string {
  const value = ctx.cookies.get(SESSION_COOKIE, { signed: false });
  const sig = ctx.cookies.get(`${SESSION_COOKIE}.sig`, { signed: false });
  const keys = (ctx.cookies as unknown as { keys?: KeyList }).keys;
  if (!value || !sig || !keys) return '';
  return keys.index(`${SESSION_COOKIE}=${value}`, sig) >= 0 ? value : '';
}

export interface CsrfOptions {
  secret: string;
  /** OneDoor is served over https: the seed cookie is Secure and `__Host-` prefixed. */
  secure: boolean;
  /** Paths whose multipart bodies are parsed by their route (parseMultipart), which checks the `_csrf` field before the first file. */
  uploadPaths: ReadonlySet<string>;
}

/**
 * Synchronizer tokens for every form and fetch on OneDoor's own pages: a random seed cookie
 * (HttpOnly, SameSite=Lax) and, in the page, an HMAC of the seed and of the person's provider
 * session cookie. A token minted in one browser (or one session) is worthless in another, even
 * if the seed cookie were planted there. Every unsafe request must send it, whatever its
 * content type: as `_csrf` in a form or JSON body, or as `x-csrf-token`; a multipart upload to
 * one of `uploadPaths` carries it as the first field, checked by parseMultipart before any file
 * byte is read. The provider's own endpoints are not covered: they are OAuth endpoints with
 * their own protections.
 *
 * oidc-provider gives the session a new id (cookie) whenever an interaction ends (sign-in,
 * consent): the next page is always rendered after that redirect, so it carries the new token;
 * a form rendered before, still open in another tab, asks to be reloaded.
 */
export function csrf(opts: CsrfOptions) {
  const seedName = opts.secure ? SEED_COOKIE.secure : SEED_COOKIE.insecure;
  return async (ctx: Context, next: Next) => {
    let seed = ctx.cookies.get(seedName, { signed: false });
    if (!seed || !SEED.test(seed)) {
      seed = randomId(24);
      ctx.cookies.set(seedName, seed, { httpOnly: true, sameSite: 'lax', secure: opts.secure, path: '/', signed: false, overwrite: true });
    }
    const token = hmac(opts.secret, `csrf:${seed}:${providerSession(ctx)}`);
    ctx.state.csrf = token;
    if (!SAFE_METHODS.has(ctx.method)) {
      const header = ctx.get('x-csrf-token');
      if (header && safeEqual(header, token)) return next();
      if (ctx.is('multipart/form-data') && opts.uploadPaths.has(ctx.path)) {
        ctx.state.csrfPending = true;
        return next();
      }
      // Only a form or JSON body was parsed (bodyParser); any other type has no `_csrf` to offer.
      const body = (ctx.request as unknown as { body?: Record<string, unknown> }).body;
      const sent = typeof body?.['_csrf'] === 'string' ? body['_csrf'] : undefined;
      if (!sent || !safeEqual(sent, token)) throw new Forbidden('csrf');
    }
    await next();
  };
}

/**
 * For an upload whose token travels in its multipart body: parseMultipart calls this with the
 * `_csrf` field as the first file part starts (or at the end when there is none).
 */
export function assertCsrf(ctx: Context, sent: string | undefined): void {
  if (!ctx.state.csrfPending) return;
  const expected = ctx.state.csrf as string | undefined;
  if (!sent || !expected || !safeEqual(sent, expected)) throw new Forbidden('csrf');
  ctx.state.csrfPending = false;
}
