import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import mount from 'koa-mount';
import type { DataSource } from 'typeorm';
import type { Config } from './config/loadConfig.js';
import type { HttpDeps } from './http/deps.js';
import { csrf } from './http/middleware/csrf.js';
import { errorHandler } from './http/middleware/errorHandler.js';
import { locale } from './http/middleware/locale.js';
import { createLimiter, limitPerIp, limitProtocolEndpoints } from './http/middleware/rateLimit.js';
import { representationsApi } from './http/routes/representationsApi.js';
import { requestContext } from './http/middleware/requestContext.js';
import { securityHeaders } from './http/middleware/securityHeaders.js';
import { providerPages } from './http/providerPages.js';
import { publicClientFromCode } from './http/middleware/publicClientFromCode.js';
import { phonePollInterval } from './http/middleware/phonePollInterval.js';
import { phoneChannelDeps } from './http/phoneChannelDeps.js';
import { createLimits } from './http/limits.js';
import { phoneRouter } from './http/routes/phoneRouter.js';
import { accountRouter } from './http/routes/accountRouter.js';
import { delegationRouter } from './http/routes/delegationRouter.js';
import { homeRouter } from './http/routes/homeRouter.js';
import { interactionRouter } from './http/routes/interactionRouter.js';
import { proofingRouter, UPLOADS } from './http/routes/proofingRouter.js';
import { createDecodePool, type DecodePoolOptions } from './proofing/documents/createDecodePool.js';
import { createVendors } from './proofing/vendors/createVendors.js';
import type { ProofingVendors } from './proofing/vendors/ports.js';
import { staticAssets } from './http/staticAssets.js';
import { createProvider } from './oidc/createProvider.js';
import { loadAttestationTrustStore } from './passkeys/loadAttestationTrustStore.js';
import { clock } from './shared/clock.js';
import type { KeyMaterial } from './oidc/keys.js';
import { hmac } from './shared/ids.js';
import type { Redis } from 'ioredis';
import { connectRedis } from './shared/connectRedis.js';
import { redisGrantCache, useGrantCache } from './shared/grantCache.js';
import { cachePublicKeyImports } from './passkeys/cachePublicKeyImports.js';
import { redisChallengeStore } from './passkeys/redisChallengeStore.js';
import { logger } from './shared/logger.js';
import { createMailer, type Mailer } from './shared/mailer.js';
import { createMetrics, type Metrics } from './shared/metrics.js';
import { countDomainEvents } from './http/operations/countDomainEvents.js';
import { observeProvider } from './http/operations/observeProvider.js';
import { operationsRouter } from './http/operations/operationsRouter.js';
import { coreReadinessChecks, createReadiness, type Readiness, type ReadinessCheck } from './http/operations/readiness.js';

export interface AppDeps {
  config: Config;
  ds: DataSource;
  keys: KeyMaterial;
  mailer?: Mailer;
  vendors?: ProofingVendors;
  /** Size, queue and time limit of the photo decode pool (defaults in createDecodePool.ts). */
  decodePool?: Omit<DecodePoolOptions, 'observer'>;
  /** More named checks for /readyz (e.g. Redis), next to the database and keys. */
  readinessChecks?: ReadinessCheck[];
}

export interface OneDoorApp {
  app: Koa;
  deps: HttpDeps;
  /** main.ts starts draining on SIGTERM: /readyz answers 503 from then on. */
  readiness: Readiness;
  metrics: Metrics;
  /** The node's Redis connection when REDIS_URL is set (tests count the commands sent on it). */
  redis?: Redis | undefined;
  /** Releases what the app holds open (the Redis connection, the decode workers). */
  close(): Promise<void>;
}

/**
 * Composes OneDoor: OneDoor's own pages (sign-in, sign-up, consent, account) in front, the
 * oidc-provider mounted behind them at the issuer's root. Never listens: main.ts and the
 * tests do that.
 */
export function createApp({ config, ds, keys, mailer, vendors, decodePool: decodePoolOptions, readinessChecks = [] }: AppDeps): OneDoorApp {
  logger.level = config.logLevel;
  cachePublicKeyImports();
  // Read once, here, before anything is opened: a store that cannot be read stops the start.
  const { store: attestationTrust, warnings } = loadAttestationTrustStore({ files: config.attestationTrustStore, at: clock.now() });
  for (const w of warnings) logger.warn(w);
  const models = [...attestationTrust.authenticators.values()];
  logger.info({ authenticators: models.length, hardwareProtected: models.filter((m) => m.hardwareProtected).length },
    models.length ? 'attestation trust store loaded' : 'no attestation trust store (ATTESTATION_TRUST_STORE): no passkey can meet AAL3');
  const redis = config.redisUrl ? connectRedis({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix }) : undefined;
  // Grants stay in the database; token requests read them through a Redis copy.
  if (redis) useGrantCache(ds, redisGrantCache(redis));
  const metrics = createMetrics();
  countDomainEvents({ ds, metrics });
  const readiness = createReadiness({ checks: [...coreReadinessChecks({ ds, keys }), ...(redis ? [{ name: 'redis', run: async () => { await redis.ping(); } }] : []), ...readinessChecks] });
  const decodePool = createDecodePool({
    ...decodePoolOptions,
    observer: {
      changed: (s) => { for (const state of ['running', 'queued', 'workers'] as const) metrics.imageDecodes.set({ state }, s[state]); },
      refused: (reason) => metrics.imageDecodesRefused.inc({ reason }),
    },
  });
  const limitStore = { ...(redis ? { redis } : { ds }), keySecret: keys.secrets.pepper };
  const mail = mailer ?? createMailer({ smtpUrl: config.smtpUrl, outboxDir: config.outboxDir, from: config.mailFrom });
  const vendorPorts = vendors ?? createVendors({ vendor: config.proofingVendor, outboxDir: config.outboxDir });
  const limits = createLimits({ limitStore, config });
  const phone = phoneChannelDeps({ ds, keys, config, mailer: mail, sms: vendorPorts.sms, metrics, limits });
  const provider = createProvider({ config, ds, keys, pages: providerPages(), redis, attestationTrust, phone });
  const deps: HttpDeps = {
    config, ds, keys, provider, metrics, mailer: mail,
    rp: { rpId: config.rpId, rpName: 'OneDoor', origin: config.origin, ...(redis ? { challenges: redisChallengeStore(redis) } : {}) },
    attestationTrust, vendors: vendorPorts, decodePool, limitStore,
  };

  const app = new Koa();
  app.keys = keys.cookieKeys;
  app.proxy = config.trustProxy;
  const secure = !config.insecureTransport;

  app.use(requestContext({ metrics }));
  app.use(securityHeaders({ https: secure }));
  app.use(locale({ secure }));
  app.use(errorHandler({ metrics }));
  app.use(staticAssets());
  app.use(operationsRouter({ metrics, readiness, metricsToken: config.metricsToken }).routes());

  // OneDoor's pages: parsed bodies, CSRF tokens, per-IP limits on unsafe requests. Every
  // other path belongs to the provider, which parses and protects its own endpoints.
  const pages = new Router();
  pages.use(homeRouter().routes(), interactionRouter(deps).routes(), accountRouter(deps).routes(), proofingRouter(deps).routes(), delegationRouter(deps).routes(), phoneRouter(deps).routes());
  const pageRoutes = pages.routes();
  const pagesLimiter = limitPerIp(createLimiter({ store: deps.limitStore, keyPrefix: 'pages', points: Math.ceil(300 * config.rateLimitMultiplier), durationSeconds: 60 }));
  const parse = bodyParser({ enableTypes: ['form', 'json'], formLimit: '100kb', jsonLimit: '100kb' });
  const csrfCheck = csrf({ secret: hmac(keys.cookieKeys[0]!, 'csrf'), secure, uploadPaths: new Set(Object.keys(UPLOADS)) });
  app.use(async (ctx, next) => {
    if (!/^\/(?:$|healthz$|interaction\/|account(?:\/|$)|verify(?:\/|$)|helpers(?:\/|$)|phone\/)/.test(ctx.path)) return next();
    await pagesLimiter(ctx, () => parse(ctx, () => csrfCheck(ctx, () => pageRoutes(ctx as never, async () => {}))));
  });

  // The provider's back-channel endpoints (token, introspection, revocation, PAR, CIBA) get a per-IP
  // limit too; agencies call them from servers, so it is generous.
  app.use(limitProtocolEndpoints(createLimiter({ store: deps.limitStore, keyPrefix: 'token-ip', points: Math.ceil(1200 * config.rateLimitMultiplier), durationSeconds: 60 })));

  // Agencies that are the register of a legal authority record and end it here (private_key_jwt).
  app.use(representationsApi(deps).routes());
  app.use(publicClientFromCode({ provider }));
  app.use(phonePollInterval({ limiter: limits.phoneRequestPoll, onSlowDown: () => phone.count('slow_down') }));
  app.use(observeProvider({ provider, metrics }));
  app.use(mount(provider));
  return { app, deps, readiness, metrics, redis, close: async () => { await decodePool.close(); if (redis) { useGrantCache(ds, undefined); await redis.quit(); } } };
}
