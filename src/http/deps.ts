import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/loadConfig.js';
import type { DelegationDeps } from '../delegation/manageDelegations.js';
import { isLocale, translator } from '../shared/i18n.js';
import type { KeyMaterial } from '../oidc/keys.js';
import type { RelyingParty } from '../passkeys/challenges.js';
import type { AttestationTrustStore } from '../passkeys/loadAttestationTrustStore.js';
import type { DecodePool } from '../proofing/documents/createDecodePool.js';
import type { ProofingVendors } from '../proofing/vendors/ports.js';
import type { Mailer } from '../shared/mailer.js';
import type { Metrics } from '../shared/metrics.js';
import type { RateLimitStore } from './middleware/rateLimit.js';

/** What the routes need, built once by createApp. */
export interface HttpDeps {
  config: Config;
  ds: DataSource;
  keys: KeyMaterial;
  mailer: Mailer;
  metrics: Metrics;
  provider: Provider;
  rp: RelyingParty;
  /** The operator's attestation trust store (ATTESTATION_TRUST_STORE), read when the app started. */
  attestationTrust: AttestationTrustStore;
  vendors: ProofingVendors;
  /** Photos of IDs are decoded here, off the event loop. */
  decodePool: DecodePool;
  /** Shared by every node: Redis when configured, else the database. */
  limitStore: RateLimitStore;
}

/** What delegation services need, from the app's dependencies. */
export function delegationDeps(deps: HttpDeps, db = deps.ds.manager): DelegationDeps {
  return { db, mailer: deps.mailer, t: (l: string) => translator(isLocale(l) ? l : 'en'), pepper: deps.keys.secrets.pepper, issuer: deps.config.issuer };
}
