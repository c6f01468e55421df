import type { EntityManager } from 'typeorm';
import { Account, AuditEvent, DelegationEvent, Passkey, RecoveryCode, SecurityEventDelivery } from '../../entities/index.js';
import { listDelegations, type DelegationView } from '../delegation/manageDelegations.js';
import { readProofingRecords } from '../proofing/readProofingRecords.js';
import type { Kek } from '../proofing/vault.js';
import { clock } from '../shared/clock.js';
import { listConnectedAgencies } from './connectedAgencies.js';

export const EXPORT_FORMAT = 'onedoor-account-export/1';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

async function delegation(db: EntityManager, v: DelegationView, side: 'given' | 'held') {
  const d = v.delegation;
  // The whole history, not the page's most recent 50 entries.
  const events = await db.getRepository(DelegationEvent).find({ where: { delegationId: d.id }, order: { at: 'ASC' } });
  return {
    id: d.id, [side === 'given' ? 'helper' : 'principal']: side === 'given' ? v.helperEmail : v.principalEmail,
    status: d.status, active_now: v.active, initiated_by: d.initiatedBy, agencies: v.clientIds, scopes: v.scopes,
    starts_at: iso(d.startsAt), ends_at: iso(d.endsAt), first_used_at: iso(d.firstUsedAt), created_at: iso(d.createdAt),
    history: events.map((e) => ({ type: e.type, at: iso(e.at), by: e.actorId === null ? 'onedoor' : e.actorId === d.principalId ? 'principal' : 'helper', agency: e.clientId, details: JSON.parse(e.details) as unknown })),
  };
}

/**
 * A person's right of access: everything OneDoor holds about them, as one JSON-ready document.
 * Secrets that protect the account are described, never copied: passkeys with their public
 * keys (no private material exists here), recovery codes as counts (never their hashes). The
 * verified identity is decrypted: the document is for the person, handed over by the operator.
 */
export async function exportAccount(opts: { db: EntityManager; kek: Kek; accountId: string }): Promise<Record<string, unknown>> {
  const { db, accountId } = opts;
  const account = await db.getRepository(Account).findOneByOrFail({ id: accountId });
  const passkeys = await db.getRepository(Passkey).find({ where: { accountId }, order: { createdAt: 'ASC' } });
  const codes = await db.getRepository(RecoveryCode).find({ where: { accountId }, select: { id: true, usedAt: true } });
  const history = await db.getRepository(AuditEvent).find({ where: { accountId }, order: { at: 'ASC' } });
  const events = await db.getRepository(SecurityEventDelivery).find({ where: { accountId }, order: { createdAt: 'ASC' } });
  const delegations = await listDelegations({ db, accountId });
  const proofing = await readProofingRecords({ db, kek: opts.kek, accountId });
  return {
    format: EXPORT_FORMAT,
    exported_at: clock.now().toISOString(),
    account: {
      id: account.id, email: account.email, status: account.status, disabled_at: iso(account.disabledAt), language: account.locale,
      email_confirmed_at: iso(account.emailConfirmedAt), created_at: iso(account.createdAt),
      failed_sign_in_attempts: account.failedAttempts, sign_in_paused_until: iso(account.lockedUntil),
    },
    passkeys: passkeys.map((p) => ({
      name: p.name, credential_id: p.id, public_key_cose: p.publicKey, aaguid: p.aaguid, transports: JSON.parse(p.transports) as string[],
      synced: p.backupEligible, backed_up: p.backedUp, attestation: p.attestation, sign_count: p.signCount, created_at: iso(p.createdAt), last_used_at: iso(p.lastUsedAt),
    })),
    recovery_codes: { unused: codes.filter((c) => !c.usedAt).length, used: codes.filter((c) => c.usedAt).length },
    connected_agencies: (await listConnectedAgencies({ db, accountId })).map((a) => ({ client_id: a.clientId, name: a.clientName, scopes: a.scopes })),
    history: history.map((h) => ({ type: h.type, at: iso(h.at), agency: h.clientId, details: JSON.parse(h.details) as unknown })),
    delegations: {
      given: await Promise.all(delegations.given.map((v) => delegation(db, v, 'given'))),
      held: await Promise.all(delegations.held.map((v) => delegation(db, v, 'held'))),
    },
    verified_identity: proofing.verifiedProfile && {
      status: proofing.verifiedProfile.status, ial: proofing.verifiedProfile.ial, verified_at: iso(proofing.verifiedProfile.verifiedAt),
      facial_match: proofing.verifiedProfile.facialMatch, identity: proofing.verifiedProfile.identity,
    },
    identity_verification_in_progress: proofing.inProgress && {
      status: proofing.inProgress.status, steps_done: proofing.inProgress.stepsDone, next_step: proofing.inProgress.nextStep,
      started_at: iso(proofing.inProgress.startedAt), updated_at: iso(proofing.inProgress.updatedAt), collected: proofing.inProgress.collected,
    },
    security_events_sent_to_agencies: events.map((e) => ({ agency: e.clientId, event: e.eventType, at: iso(e.eventAt), status: e.status, delivered_at: iso(e.deliveredAt) })),
  };
}
