import type { EntityManager } from 'typeorm';
import type { Kek } from './vault.js';
import type { ProofingVendors } from './vendors/ports.js';

/** What proofing services need: the database, the key-encryption key, the vendors, the pepper for code hashes. */
export interface ProofingContext {
  db: EntityManager;
  kek: Kek;
  vendors: ProofingVendors;
  pepper: string;
}
