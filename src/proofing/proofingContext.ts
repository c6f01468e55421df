import type { EntityManager } from 'typeorm';
import type { BarcodeDecoder } from './documents/createDecodePool.js';
import type { Kek } from './vault.js';
import type { ProofingVendors } from './vendors/ports.js';

/** What proofing services need: the database, the key-encryption key, the vendors, the pepper for code hashes, the barcode decoder (worker pool). */
export interface ProofingContext {
  db: EntityManager;
  kek: Kek;
  vendors: ProofingVendors;
  pepper: string;
  decoder: BarcodeDecoder;
}
