import type { Context, Next } from 'koa';
import { AppError, TooManyRequests } from '../../shared/errors.js';
import { DEFAULT_LOCALE, translator } from '../../shared/i18n.js';
import { isStoreDown } from '../../shared/isStoreDown.js';
import { logger } from '../../shared/logger.js';
import type { Metrics } from '../../shared/metrics.js';
import { RedirectDone } from '../RedirectDone.js';
import { render } from '../render.js';
import { routeLabel } from '../routeLabel.js';

function wantsJson(ctx: Context): boolean {
  return ctx.get('accept').includes('application/json') && !ctx.get('accept').includes('text/html');
}

/**
 * One place that turns errors into responses: a readable page (or JSON for fetch calls) in the
 * person's language, never a stack trace, never the input that caused it.
 */
export function errorHandler(opts: { metrics: Metrics }) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('not_found', { status: 404 });
    } catch (raw) {
      if (raw instanceof RedirectDone) return;
      let err: AppError;
      if (raw instanceof AppError) err = raw;
      else if ((raw as Error)?.name === 'SessionNotFound') err = new AppError('session_expired', { status: 400 });
      else if (isStoreDown(raw)) err = new AppError('service_unavailable', { status: 503, expose: true });
      else if ((raw as { status?: number; expose?: boolean })?.expose && (raw as { status: number }).status < 500) err = new AppError('bad_request', { status: (raw as { status: number }).status });
      else err = new AppError('generic', { status: 500, expose: false });
      if (err.status >= 500) logger.error({ err: { name: (raw as Error)?.name, code: (raw as { code?: string })?.code, message: err.code }, route: routeLabel(ctx) }, 'request failed');
      opts.metrics.errors.inc({ source: 'pages', code: err.code });
      if (err instanceof TooManyRequests) {
        ctx.set('retry-after', String(err.retryAfterSeconds));
        opts.metrics.rateLimited.inc({ route: routeLabel(ctx) });
      }
      if (err.status === 503) ctx.set('retry-after', '5');
      const t = ctx.state.t ?? translator(DEFAULT_LOCALE);
      ctx.state.t = t;
      ctx.state.locale ??= DEFAULT_LOCALE;
      const message = t(`errors.${err.expose ? err.code : 'generic'}`, { ...err.params, defaultValue: t('errors.generic') });
      if (wantsJson(ctx)) {
        ctx.status = err.status;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: err.code, error_description: message };
        return;
      }
      render(ctx, 'error', { title: t('errors.title'), heading: t('errors.title'), message, code: err.code }, err.status);
    }
  };
}
