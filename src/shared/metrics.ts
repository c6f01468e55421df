import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one OneDoor app. Each app gets its own registry (tests run several apps
 * in one process; nothing is registered globally). Every label has a bounded set of values:
 * route patterns or provider endpoint names, never raw paths, ids or people's input.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status_class'>;
  httpDuration: Histogram<'route' | 'method'>;
  signIns: Counter<'method' | 'outcome'>;
  signUps: Counter;
  proofing: Counter<'step' | 'outcome'>;
  delegation: Counter<'type'>;
  auditEvents: Counter<'type'>;
  errors: Counter<'source' | 'code'>;
  rateLimited: Counter<'route'>;
  /** The photo decode pool now: `running`, `queued`, `workers`. */
  imageDecodes: Gauge<'state'>;
  /** Decodes refused (`busy`), cut off (`time_limit`) or lost with a worker (`crash`). */
  imageDecodesRefused: Counter<'reason'>;
  signingKeysReloadFailures: Counter<'reason'>;
  signingKeysReloadFailing: Gauge;
  phoneRequests: Counter<'event'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'onedoor_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({ name: 'onedoor_http_requests_total', help: 'HTTP requests answered, by route pattern or provider endpoint', labelNames: ['route', 'method', 'status_class'], registers }),
    httpDuration: new Histogram({
      name: 'onedoor_http_request_duration_seconds', help: 'Time to answer an HTTP request', labelNames: ['route', 'method'], registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    signIns: new Counter({ name: 'onedoor_sign_ins_total', help: 'Sign-in attempts on the sign-in pages, by method (passkey, recovery_code) and outcome (success, failure, locked, disabled)', labelNames: ['method', 'outcome'], registers }),
    signUps: new Counter({ name: 'onedoor_sign_ups_total', help: 'Accounts created', registers }),
    proofing: new Counter({ name: 'onedoor_proofing_events_total', help: 'Identity-proofing steps, by step and outcome', labelNames: ['step', 'outcome'], registers }),
    delegation: new Counter({ name: 'onedoor_delegation_events_total', help: 'Delegation events, by type', labelNames: ['type'], registers }),
    auditEvents: new Counter({ name: 'onedoor_audit_events_total', help: 'Audit events committed, by type', labelNames: ['type'], registers }),
    errors: new Counter({ name: 'onedoor_errors_total', help: 'Error responses, by source (pages, oidc) and error code', labelNames: ['source', 'code'], registers }),
    rateLimited: new Counter({ name: 'onedoor_rate_limited_total', help: 'Requests refused by a rate limit, by route pattern', labelNames: ['route'], registers }),
    imageDecodes: new Gauge({ name: 'onedoor_image_decodes', help: 'Photos of IDs being decoded (running), waiting for a worker (queued), and decode workers alive (workers)', labelNames: ['state'], registers }),
    imageDecodesRefused: new Counter({ name: 'onedoor_image_decodes_refused_total', help: 'Photo decodes refused because the pool was full (busy), cut off at the time limit (time_limit), or lost with a crashed worker (crash)', labelNames: ['reason'], registers }),
    signingKeysReloadFailures: new Counter({ name: 'onedoor_signing_keys_reload_failures_total', help: 'Changes of KEYS_DIR/jwks.json this node refused (it kept signing with the previous keys), by reason', labelNames: ['reason'], registers }),
    signingKeysReloadFailing: new Gauge({ name: 'onedoor_signing_keys_reload_failing', help: '1 while KEYS_DIR/jwks.json holds keys this node refused, 0 otherwise', registers }),
    phoneRequests: new Counter({ name: 'onedoor_phone_requests_total', help: 'Phone-channel (CIBA) requests and answers, by event (requested, limited, blocked, slow_down, approved, denied, not_me, unmet)', labelNames: ['event'], registers }),
  };
}
