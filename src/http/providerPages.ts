import type { Context } from 'koa';
import type { ProviderPages } from '../oidc/createProvider.js';
import { DEFAULT_LOCALE, pickLocale, translator } from '../shared/i18n.js';
import { render } from './render.js';

function ensureLocale(ctx: Context): void {
  if (ctx.state.t) return;
  ctx.state.locale = pickLocale(ctx.get('accept-language')) ?? DEFAULT_LOCALE;
  ctx.state.t = translator(ctx.state.locale);
}

/**
 * Pages oidc-provider renders itself (errors it cannot redirect, logout confirmation and
 * success), drawn with OneDoor's templates so they look like the rest and speak the
 * person's language. Error pages show a catalog message for the OAuth error code, never the
 * request's own values.
 */
export function providerPages(): ProviderPages {
  return {
    async renderError(ctx, out) {
      const c = ctx as unknown as Context;
      ensureLocale(c);
      const t = c.state.t;
      const code = typeof out['error'] === 'string' ? out['error'] : 'server_error';
      const key = code === 'invalid_request' && /redirect_uri/.test(out['error_description'] ?? '') ? 'invalid_redirect_uri' : code;
      const status = c.status && c.status >= 400 ? c.status : 400;
      render(c, 'error', { title: t('errors.title'), heading: t('errors.title'), message: t(`errors.${key}`, { defaultValue: t('errors.invalid_request') }), code }, status);
    },
    async logoutSource(ctx, form) {
      const c = ctx as unknown as Context;
      ensureLocale(c);
      render(c, 'logout', { title: c.state.t('logout.title'), form });
    },
    async postLogoutSuccessSource(ctx) {
      const c = ctx as unknown as Context;
      ensureLocale(c);
      render(c, 'logged-out', { title: c.state.t('logout.done_title') });
    },
  };
}
