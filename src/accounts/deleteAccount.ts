import { In, Not, type EntityManager } from 'typeorm';
import {
  Account, AuditEvent, DelegatedGrant, Delegation, DelegationEvent, EmailConfirmation, OidcPayload, PairwiseSubject, Passkey, PhoneRequest,
  ProofingImage, ProofingSession, RecoveryCode, SecurityEventDelivery, VerifiedProfile, WebAuthnChallenge,
} from '../../entities/index.js';
import { connectedClientIds, queueSecurityEvent, SECURITY_EVENT_TYPES } from '../audit/queueSecurityEvent.js';
import { recordEvent } from '../audit/recordEvent.js';
import { proofingRecipients } from '../proofing/proofingRecipients.js';
import type { Kek } from '../proofing/vault.js';
import { clock } from '../shared/clock.js';
import { deleteOutboxMessagesTo, type OutboxRecipients } from '../shared/outbox.js';
import { revokeAllGrants } from './revokeAllGrants.js';

export interface DeleteAccountResult {
  /** Agencies that will receive a RISC account-purged event. */
  notified: string[];
  /** Messages to the person deleted from the outbox (mail, SMS, letters). */
  outboxDeleted: number;
}

export interface DeleteAccountOptions {
  db: EntityManager;
  accountId: string;
  endAccess: () => Promise<void>;
  /** Opens the verified profile and proofing draft, to find the person's phone numbers and address. */
  kek: Kek;
  /** OUTBOX_DIR: the person's messages in it are deleted too. */
  outboxDir: string;
}

/**
 * Deletes an account and everything OneDoor holds about the person, in three steps:
 * 1. the account stops working (disabled) and every agency that knew the person (connected, or
 *    told of a disabling) gets an account-purged event queued, while connections still exist;
 * 2. `endAccess` ends sessions and delegations the way the person and their helpers would
 *    (back-channel logouts, mail to the other person, history on both sides);
 * 3. all rows go: passkeys, recovery codes, verified identity, proofing in progress (and its photos), consents
 *    and protocol artifacts, delegations both ways with their history, the person's own history,
 *    their phone requests and the pairwise subjects agencies were given for them.
 * 4. the person's messages in the outbox go too: mail to their address, SMS to the phone numbers
 *    they gave and letters to them during identity proofing (read from the sealed profile and
 *    draft before step 3 deletes them).
 * What stays is an anonymised record that an account with this random id was deleted and when
 * (no address, no details), and the security events still to be delivered (they carry only the
 * agency's pairwise subject, computed from the id when sent).
 */
export async function deleteAccount(opts: DeleteAccountOptions): Promise<DeleteAccountResult> {
  const { accountId } = opts;
  const person = await opts.db.getRepository(Account).findOneByOrFail({ id: accountId });
  const { phones, letters } = await proofingRecipients({ db: opts.db, kek: opts.kek, accountId });
  const recipients: OutboxRecipients = { emails: [person.email], phones, letters };
  const notified = await opts.db.transaction(async (db) => {
    await db.getRepository(Account).createQueryBuilder().update().set({ status: 'disabled', disabledAt: clock.now() })
      .where('id = :id AND status = :s', { id: accountId, s: 'active' }).execute();
    const told = await db.getRepository(SecurityEventDelivery).find({ where: { accountId, eventType: SECURITY_EVENT_TYPES.account_disabled }, select: { id: true, clientId: true } });
    const clientIds = [...await connectedClientIds({ db, accountId }), ...told.map((t) => t.clientId)];
    return clientIds.length ? queueSecurityEvent({ db, accountId, event: 'account_purged', clientIds }) : [];
  });
  await opts.endAccess();
  await opts.db.transaction(async (db) => {
    const account = await db.getRepository(Account).findOneByOrFail({ id: accountId });
    await revokeAllGrants({ db, accountId });
    await db.getRepository(OidcPayload).delete({ accountId });
    for (const entity of [Passkey, RecoveryCode, VerifiedProfile, ProofingSession, ProofingImage, WebAuthnChallenge, AuditEvent, PhoneRequest, PairwiseSubject] as const) {
      await db.getRepository(entity).delete({ accountId });
    }
    await db.getRepository(EmailConfirmation).delete({ email: account.email });
    const delegations = await db.getRepository(Delegation).find({ where: [{ principalId: accountId }, { helperId: accountId }], select: { id: true } });
    const ids = delegations.map((d) => d.id);
    if (ids.length) {
      await db.getRepository(DelegationEvent).delete({ delegationId: In(ids) });
      await db.getRepository(DelegatedGrant).delete({ delegationId: In(ids) });
      await db.getRepository(Delegation).delete({ id: In(ids) });
    }
    // Events already delivered (or given up on) are history about the person; pending ones still have to go out.
    await db.getRepository(SecurityEventDelivery).delete({ accountId, status: Not('pending') });
    await db.getRepository(Account).delete({ id: accountId });
    await recordEvent({ db, accountId, type: 'account_deleted' });
  });
  // Last, so that the mail step 2 sent (to the person, if any) goes as well.
  const outboxDeleted = await deleteOutboxMessagesTo({ outboxDir: opts.outboxDir, to: recipients });
  return { notified, outboxDeleted };
}
