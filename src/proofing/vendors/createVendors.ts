import type { ProofingVendors } from './ports.js';
import { createSandboxDocuments } from './sandboxDocuments.js';
import { createSandboxFaces } from './sandboxFaces.js';
import { createSandboxLetters } from './sandboxLetters.js';
import { createSandboxRecords } from './sandboxRecords.js';
import { createSandboxSms } from './sandboxSms.js';

type VendorName = 'sandbox';

// One row per PROOFING_VENDOR value (config/loadConfig.ts validates the name); a real vendor
// is a new row, not a new branch.
const VENDORS: Record<VendorName, (opts: { outboxDir: string }) => ProofingVendors> = {
  sandbox: ({ outboxDir }) => ({
    documents: createSandboxDocuments(),
    records: createSandboxRecords(),
    sms: createSandboxSms({ outboxDir }),
    letters: createSandboxLetters({ outboxDir }),
    faces: createSandboxFaces(),
  }),
};

export function createVendors(opts: { vendor: 'sandbox'; outboxDir: string }): ProofingVendors {
  const make = VENDORS[opts.vendor];
  if (!make) throw new TypeError(`PROOFING_VENDOR: unknown vendor "${String(opts.vendor)}"`);
  return make({ outboxDir: opts.outboxDir });
}
