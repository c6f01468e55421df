import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type OutboundAllow, parseOutboundAllow } from './parseOutboundAllow.js';

/**
 * The only reader of `process.env`. Validates everything once at start-up and fails fast with
 * a message naming the variable; warns loudly when an insecure default is in use.
 */
const durationSeconds = (name: string, def: number) =>
  z.coerce.number({ message: `${name} must be a number of seconds` }).int(`${name} must be a whole number of seconds`).positive(`${name} must be positive`).default(def);

const EnvSchema = z.object({
  PORT: z.coerce.number({ message: 'PORT must be a port number' }).int().min(0, 'PORT must be 0-65535').max(65535, 'PORT must be 0-65535').default(3000),
  ISSUER: z.url({ message: 'ISSUER must be an absolute http(s) URL' }).optional(),
  DATABASE_URL: z.string().default('sqlite:data/onedoor.sqlite'),
  REDIS_URL: z.string().optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'REDIS_KEY_PREFIX must be 1-64 letters, digits or : _ . -').default('onedoor:'),
  KEYS_CHECK_SECONDS: durationSeconds('KEYS_CHECK_SECONDS', 10),
  KEYS_DIR: z.string().min(1).default('keys'),
  SMTP_URL: z.string().optional(),
  MAIL_FROM: z.string().default('OneDoor <no-reply@onedoor.localhost>'),
  OUTBOX_DIR: z.string().min(1).default('data/outbox'),
  OUTBOX_RETENTION_HOURS: z.coerce.number({ message: 'OUTBOX_RETENTION_HOURS must be a number of hours' }).int('OUTBOX_RETENTION_HOURS must be a whole number of hours').min(1, 'OUTBOX_RETENTION_HOURS must be 1-8760').max(8760, 'OUTBOX_RETENTION_HOURS must be 1-8760').default(24),
  PROOFING_VENDOR: z.enum(['sandbox'], { message: 'PROOFING_VENDOR must be one of: sandbox' }).optional(),
  SESSION_MAX_SECONDS: durationSeconds('SESSION_MAX_SECONDS', 24 * 3600),
  SESSION_IDLE_SECONDS: durationSeconds('SESSION_IDLE_SECONDS', 3600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').regex(/^[\x21-\x7e]+$/, 'METRICS_TOKEN must be printable ASCII without spaces').optional(),
  DRAIN_SECONDS: z.coerce.number({ message: 'DRAIN_SECONDS must be a number of seconds' }).int('DRAIN_SECONDS must be a whole number of seconds').min(0, 'DRAIN_SECONDS must be 0 or more').max(300, 'DRAIN_SECONDS must be at most 300').default(0),
  ATTESTATION_TRUST_STORE: z.string().optional(),
  RATE_LIMIT_MULTIPLIER: z.coerce.number({ message: 'RATE_LIMIT_MULTIPLIER must be a number' }).positive('RATE_LIMIT_MULTIPLIER must be positive').max(10000).default(1),
  OUTBOUND_ALLOW: z.string().optional(),
});

export type DatabaseConfig =
  | { type: 'sqlite'; file: string }
  | { type: 'mysql'; url: string };

export interface Config {
  port: number;
  issuer: string;
  /** WebAuthn relying-party id: the issuer's host name. */
  rpId: string;
  /** WebAuthn expected origin: the issuer's origin. */
  origin: string;
  database: DatabaseConfig;
  redisUrl: string | undefined;
  /** Prefix of every Redis key, so deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  keysDir: string;
  /** How often a running node looks for rotated signing keys in KEYS_DIR. */
  keysCheckSeconds: number;
  smtpUrl: string | undefined;
  mailFrom: string;
  outboxDir: string;
  /** Messages in the outbox older than this are deleted (they hold personal data in clear). */
  outboxRetentionHours: number;
  proofingVendor: 'sandbox';
  session: { maxSeconds: number; idleSeconds: number };
  logLevel: string;
  trustProxy: boolean;
  /** Scales every per-IP rate limit (for many people behind one address, or for load tests). */
  rateLimitMultiplier: number;
  /** Bearer token for /metrics; without it /metrics answers loopback clients only. */
  metricsToken: string | undefined;
  /** After SIGTERM, how long /readyz answers 503 while requests are still served, before the listener closes. */
  drainSeconds: number;
  /** True when cookies may be sent over plain http (issuer on localhost). */
  insecureTransport: boolean;
  /**
   * Files of the attestation trust store (FIDO metadata BLOBs, JSON, PEM roots), read once when
   * the app starts (src/passkeys/loadAttestationTrustStore.ts); empty: no passkey meets AAL3.
   */
  attestationTrustStore: string[];
  /** Hosts and address ranges outgoing requests may reach although they are private or special-use (OUTBOUND_ALLOW). */
  outboundAllow: OutboundAllow;
}

export class ConfigError extends Error {}

export function parseDatabaseUrl(url: string, field = 'DATABASE_URL'): DatabaseConfig {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) throw new ConfigError(`${field}: sqlite URL needs a file, e.g. sqlite:data/onedoor.sqlite`);
    return { type: 'sqlite', file: file === ':memory:' ? file : path.resolve(file) };
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) {
    try {
      const u = new URL(url);
      if (!u.hostname || u.pathname.length < 2) throw new Error('incomplete');
    } catch {
      throw new ConfigError(`${field}: expected mysql://user:pass@host:3306/database`);
    }
    return { type: 'mysql', url: url.replace(/^mariadb:/, 'mysql:') };
  }
  throw new ConfigError(`${field}: must start with sqlite: or mysql://`);
}

/** ATTESTATION_TRUST_STORE: a file or a comma-separated list of files, each readable now. */
function trustStoreFiles(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((entry) => {
    const file = entry.trim();
    if (!file) throw new ConfigError('ATTESTATION_TRUST_STORE: an empty entry in the list (write FILE or FILE,FILE)');
    const resolved = path.resolve(file);
    try {
      fs.accessSync(resolved, fs.constants.R_OK);
      if (!fs.statSync(resolved).isFile()) throw new Error('not a file');
    } catch {
      throw new ConfigError(`ATTESTATION_TRUST_STORE: ${file} is not a readable file`);
    }
    return resolved;
  });
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { warn?: (m: string) => void } = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.') || 'environment'}: ${issue.message}`);
  }
  const e = parsed.data;
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const issuerUrl = new URL(issuer);
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') throw new ConfigError('ISSUER: must be an http(s) URL');
  if (issuerUrl.search || issuerUrl.hash) throw new ConfigError('ISSUER: must not have a query or fragment');
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(issuerUrl.hostname);
  if (issuerUrl.protocol === 'http:' && !local) throw new ConfigError('ISSUER: must use https outside localhost');
  if (e.SESSION_IDLE_SECONDS > e.SESSION_MAX_SECONDS) throw new ConfigError('SESSION_IDLE_SECONDS: must not exceed SESSION_MAX_SECONDS');
  if (e.SMTP_URL && !/^smtps?:\/\//.test(e.SMTP_URL)) throw new ConfigError('SMTP_URL: must start with smtp:// or smtps://');
  if (e.REDIS_URL && !/^rediss?:\/\//.test(e.REDIS_URL)) throw new ConfigError('REDIS_URL: must start with redis:// or rediss://');
  const outbound = parseOutboundAllow(e.OUTBOUND_ALLOW);
  if (!outbound.ok) throw new ConfigError(`OUTBOUND_ALLOW: "${outbound.entry}" is not a host name, IP address or CIDR range`);
  // The sandbox decides every check by its input and writes SMS and letters, with names,
  // addresses and codes, to OUTBOX_DIR: never by default where people's identities are at stake.
  if (env['NODE_ENV'] === 'production' && e.PROOFING_VENDOR === undefined) {
    throw new ConfigError('PROOFING_VENDOR: must be set when NODE_ENV=production; the only vendor is "sandbox" (no real checks, SMS and letters written to OUTBOX_DIR): set PROOFING_VENDOR=sandbox to run it anyway');
  }

  const warn = opts.warn ?? ((m: string) => process.stderr.write(`WARNING: ${m}\n`));
  if (local && env['NODE_ENV'] === 'production') warn('ISSUER is localhost in production: set ISSUER to your public https URL.');
  if (!e.SMTP_URL && env['NODE_ENV'] === 'production') warn(`SMTP_URL is not set: mail is written to ${e.OUTBOX_DIR} instead of being sent.`);

  return {
    port: e.PORT,
    issuer,
    rpId: issuerUrl.hostname.replace(/^\[|\]$/g, ''),
    origin: issuerUrl.origin,
    database: parseDatabaseUrl(e.DATABASE_URL),
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    keysDir: path.resolve(e.KEYS_DIR),
    keysCheckSeconds: e.KEYS_CHECK_SECONDS,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    outboxDir: path.resolve(e.OUTBOX_DIR),
    outboxRetentionHours: e.OUTBOX_RETENTION_HOURS,
    proofingVendor: e.PROOFING_VENDOR ?? 'sandbox',
    session: { maxSeconds: e.SESSION_MAX_SECONDS, idleSeconds: e.SESSION_IDLE_SECONDS },
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY === 'true',
    rateLimitMultiplier: e.RATE_LIMIT_MULTIPLIER,
    metricsToken: e.METRICS_TOKEN,
    drainSeconds: e.DRAIN_SECONDS,
    insecureTransport: issuerUrl.protocol === 'http:',
    attestationTrustStore: trustStoreFiles(e.ATTESTATION_TRUST_STORE),
    outboundAllow: outbound.allow,
  };
}
