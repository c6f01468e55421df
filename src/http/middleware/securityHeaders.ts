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

/** How oidc-provider's self-submitting form page (response_modes/form_post.js) begins. */
const PROVIDER_FORM_POST = '<!DOCTYPE html>\n<html>';

export function securityHeaders(opts: { https: boolean }) {
  return async (ctx: Context, next: Next) => {
    // Set before the response is made: the one page oidc-provider renders with an inline script
    // (the self-submitting form that ends a session when a person switches accounts) adds its
    // script's hash to the policy it finds, so it runs and nothing else inline does.
    ctx.set('content-security-policy', CSP);
    await next();
    if (!ctx.response.get('content-security-policy')) ctx.set('content-security-policy', CSP);
    if (typeof ctx.body === 'string' && ctx.body.startsWith(PROVIDER_FORM_POST)) {
      // That page has no language; it is never read (it submits itself), but every page has one.
      ctx.body = ctx.body.replace(PROVIDER_FORM_POST, `<!DOCTYPE html>\n<html lang="${String(ctx.state.locale ?? 'en')}">`);
    }
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('x-frame-options', 'DENY');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('cross-origin-opener-policy', 'same-origin');
    ctx.set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    if (opts.https) ctx.set('strict-transport-security', 'max-age=63072000; includeSubDomains');
  };
}
