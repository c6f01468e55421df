import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/loadConfig.js';
import type { KeyMaterial } from '../oidc/keys.js';
import type { RelyingParty } from '../passkeys/challenges.js';
import type { ProofingVendors } from '../proofing/vendors/ports.js';
import type { Mailer } from '../shared/mailer.js';

/** What the routes need, built once by createApp. */
export interface HttpDeps {
  config: Config;
  ds: DataSource;
  keys: KeyMaterial;
  mailer: Mailer;
  provider: Provider;
  rp: RelyingParty;
  vendors: ProofingVendors;
}
