import type { EntityManager } from 'typeorm';
import { sqlDialect } from '../shared/sqlValues.js';
import type { AttestationTrustStore } from './loadAttestationTrustStore.js';
import { meetsAal3, offersAal3 } from './passkeyAssurance.js';

/**
 * Whether an account has a passkey that meets AAL3 (see meetsAal3), asked on every
 * authorization. Plain SQL for the few candidate rows; without a hardware-protected model in
 * the trust store the answer is no without a query.
 */
export async function hasAal3Passkey(opts: { db: EntityManager; accountId: string; trust: AttestationTrustStore }): Promise<boolean> {
  if (!offersAal3(opts.trust)) return false;
  const { q } = sqlDialect(opts.db);
  const rows = (await opts.db.query(
    `SELECT ${q('aaguid')}, ${q('attestation_root')} FROM ${q('passkeys')} WHERE ${q('account_id')} = ? AND ${q('backup_eligible')} = 0 AND ${q('attestation')} = 'trusted'`,
    [opts.accountId],
  )) as Array<{ aaguid: string; attestation_root: string | null }>;
  return rows.some((r) => meetsAal3({ passkey: { aaguid: r.aaguid, backupEligible: false, attestation: 'trusted', attestationRoot: r.attestation_root }, trust: opts.trust }));
}
