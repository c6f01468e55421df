import type { Context, Next } from 'koa';

/**
 * Secure headers on every response. The CSP allows only same-origin scripts and styles: no
 * inline script anywhere. `form-action` is left out on purpose: browsers apply it to the
 * redirect that returns a person to the agency after a form post.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(opts: { https: boolean }) {
  return async (ctx: Context, next: Next) => {
    await next();
    // oidc-provider sets its own CSP (with script hashes) on the few pages it renders itself.
    if (!ctx.response.get('content-security-policy')) ctx.set('content-security-policy', CSP);
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('x-frame-options', 'DENY');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('cross-origin-opener-policy', 'same-origin');
    ctx.set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    if (opts.https) ctx.set('strict-transport-security', 'max-age=63072000; includeSubDomains');
  };
}
