import { timingSafeEqual, createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Metrics } from '../../shared/metrics.js';
import type { Readiness } from './readiness.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Who may read /metrics: with METRICS_TOKEN, whoever sends it as a bearer token; without it,
 * only a client on this machine talking to OneDoor directly (loopback socket and no
 * forwarding header, so a reverse proxy on the same host does not open it to the world).
 */
function mayReadMetrics(ctx: Context, token: string | undefined): boolean {
  if (token) {
    const m = /^Bearer ([^\s]+)$/.exec(ctx.get('authorization'));
    return !!m && sameSecret(m[1]!, token);
  }
  return LOOPBACK.has(ctx.req.socket.remoteAddress ?? '') && FORWARDING_HEADERS.every((h) => !ctx.get(h));
}

/** /readyz (load balancer) and /metrics (Prometheus). /healthz (process up) is in homeRouter. */
export function operationsRouter(opts: { metrics: Metrics; readiness: Readiness; metricsToken: string | undefined }): Router {
  const router = new Router();
  router.get('/readyz', async (ctx) => {
    const report = await opts.readiness.check();
    ctx.set('cache-control', 'no-store');
    ctx.status = report.status === 'ready' ? 200 : 503;
    ctx.body = report;
  });
  router.get('/metrics', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    if (!mayReadMetrics(ctx, opts.metricsToken)) {
      ctx.status = opts.metricsToken ? 401 : 403;
      if (opts.metricsToken) ctx.set('www-authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: opts.metricsToken ? 'unauthorized' : 'forbidden', error_description: opts.metricsToken ? 'send METRICS_TOKEN as a bearer token' : 'metrics are served to loopback clients only unless METRICS_TOKEN is set' };
      return;
    }
    ctx.type = opts.metrics.registry.contentType;
    ctx.body = await opts.metrics.registry.metrics();
  });
  return router;
}
