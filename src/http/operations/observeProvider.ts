import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { isStoreDown } from '../../shared/isStoreDown.js';
import type { Metrics } from '../../shared/metrics.js';
import { render } from '../render.js';

/** oidc-provider's error events (each endpoint's `<name>.error`, and `server_error`). */
const ERROR_EVENTS = [
  'server_error', 'authorization.error', 'backchannel.error', 'check_session_origin.error', 'discovery.error',
  'end_session.error', 'grant.error', 'introspection.error', 'jwks.error', 'pushed_authorization_request.error',
  'registration_create.error', 'registration_read.error', 'registration_update.error', 'registration_delete.error',
  'revocation.error', 'userinfo.error',
] as const;

const OAUTH_CODE = /^[a-z_]{1,40}$/;
const RETRY_AFTER_SECONDS = 5;

/**
 * Counts the provider's errors by OAuth error code, and turns "database unreachable" inside a
 * provider endpoint into a fast 503 instead of the provider's generic 500 (or a redirect
 * carrying `server_error` to the agency): `temporarily_unavailable` as JSON for API calls
 * (token, userinfo, introspection…), a readable page in the browser. oidc-provider catches
 * its own errors, so the listener marks the request and the middleware (placed around the
 * mounted provider) rewrites the answer once the provider is done with it.
 */
export function observeProvider(opts: { provider: Provider; metrics: Metrics }) {
  const outage = new WeakSet<object>();
  const on = opts.provider.on.bind(opts.provider) as (event: string, fn: (ctx: object, err: Error & { error?: string }) => void) => void;
  for (const event of ERROR_EVENTS) {
    on(event, (ctx, err) => {
      const down = event === 'server_error' && isStoreDown(err);
      if (down) outage.add(ctx);
      const code = down ? 'temporarily_unavailable' : (err.error ?? (event === 'server_error' ? 'server_error' : 'other'));
      opts.metrics.errors.inc({ source: 'oidc', code: OAUTH_CODE.test(code) ? code : 'other' });
    });
  }
  return async (ctx: Context, next: Next) => {
    await next();
    if (!outage.has(ctx)) return;
    ctx.remove('location');
    ctx.set('retry-after', String(RETRY_AFTER_SECONDS));
    ctx.set('cache-control', 'no-store');
    const t = ctx.state.t;
    if (ctx.accepts('json', 'html') === 'html' && t) {
      render(ctx, 'error', { title: t('errors.title'), heading: t('errors.title'), message: t('errors.service_unavailable'), code: 'service_unavailable' }, 503);
      return;
    }
    ctx.status = 503;
    ctx.body = { error: 'temporarily_unavailable', error_description: 'OneDoor is temporarily unavailable; try again shortly' };
  };
}
