import type { Context, Next } from 'koa';
import { randomId } from '../../shared/ids.js';
import { logger } from '../../shared/logger.js';

/** A request id on every response and log line; one access log line per request, no query string. */
export function requestContext() {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    ctx.state.requestId = /^[A-Za-z0-9_-]{8,64}$/.test(incoming) ? incoming : randomId(12);
    ctx.set('x-request-id', ctx.state.requestId);
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.info({ requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 }, 'request');
    }
  };
}
