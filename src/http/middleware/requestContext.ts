import type { Context, Next } from 'koa';
import { requestId as newRequestId } from '../../shared/ids.js';
import { logger } from '../../shared/logger.js';
import type { Metrics } from '../../shared/metrics.js';
import { requestScope } from '../../shared/requestScope.js';
import { routeLabel } from '../routeLabel.js';

/** An incoming id is kept only when it cannot smuggle anything into logs or headers. */
const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Probes are polled every few seconds; their access lines go to debug. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * A request id on every response and on every log line written while serving the request; one
 * access log line and the HTTP metrics per request. The line names the route pattern, not the
 * path, and never the query string (codes, state) or anything from the body or headers.
 */
export function requestContext(opts: { metrics: Metrics }) {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : newRequestId();
    ctx.state.requestId = requestId;
    ctx.set('x-request-id', requestId);
    const start = process.hrtime.bigint();
    await requestScope.run({ requestId }, async () => {
      try {
        await next();
      } finally {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const route = routeLabel(ctx);
        const method = METHODS.has(ctx.method) ? ctx.method : 'OTHER';
        opts.metrics.httpRequests.inc({ route, method, status_class: `${Math.floor(ctx.status / 100)}xx` });
        opts.metrics.httpDuration.observe({ route, method }, seconds);
        const line = { method, route, status: ctx.status, ms: Math.round(seconds * 10_000) / 10 };
        if (PROBES.has(ctx.path)) logger.debug(line, 'request');
        else logger.info(line, 'request');
      }
    });
  };
}
