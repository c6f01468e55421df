import type { EntityManager } from 'typeorm';
import { Passkey } from '../../entities/index.js';
import { queueSecurityEvent } from '../audit/queueSecurityEvent.js';
import { recordEvent } from '../audit/recordEvent.js';

export const PASSKEY_NAME_MAX = 64;

/** Whether any account holds this passkey (to tell someone else's passkey from an unknown one). */
export async function passkeyExists(opts: { db: EntityManager; passkeyId: string }): Promise<boolean> {
  return opts.db.getRepository(Passkey).existsBy({ id: opts.passkeyId });
}

export async function listPasskeys(opts: { db: EntityManager; accountId: string }): Promise<Passkey[]> {
  return opts.db.getRepository(Passkey).find({ where: { accountId: opts.accountId }, order: { createdAt: 'ASC' } });
}

/** CAEP credential-change `credential_type`: a passkey on this device's platform, or a roaming authenticator. */
function credentialType(passkey: Pick<Passkey, 'transports'>): 'fido2-platform' | 'fido2-roaming' {
  const transports = JSON.parse(passkey.transports) as string[];
  return transports.some((t) => t === 'internal' || t === 'hybrid') || transports.length === 0 ? 'fido2-platform' : 'fido2-roaming';
}

/** Saves a newly verified passkey to an existing account; agencies that opted in hear of it. */
export async function addPasskey(opts: { db: EntityManager; passkey: Passkey }): Promise<void> {
  await opts.db.getRepository(Passkey).insert(opts.passkey);
  await recordEvent({ db: opts.db, accountId: opts.passkey.accountId, type: 'passkey_added', details: { name: opts.passkey.name, attestation: opts.passkey.attestation } });
  await queueSecurityEvent({ db: opts.db, accountId: opts.passkey.accountId, event: 'credential_change', details: { change_type: 'create', credential_type: credentialType(opts.passkey) } });
}

export type RenameResult = { ok: true } | { ok: false; reason: 'not_found' | 'invalid_name' };

export async function renamePasskey(opts: { db: EntityManager; accountId: string; passkeyId: string; name: string }): Promise<RenameResult> {
  const name = opts.name.trim();
  if (!name || name.length > PASSKEY_NAME_MAX) return { ok: false, reason: 'invalid_name' };
  const res = await opts.db.getRepository(Passkey).update({ id: opts.passkeyId, accountId: opts.accountId }, { name });
  if (!res.affected) return { ok: false, reason: 'not_found' };
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'passkey_renamed', details: { name } });
  return { ok: true };
}

export type RemoveResult = { ok: true } | { ok: false; reason: 'not_found' | 'last_passkey' };

/** Removes a passkey; never the last one (the account would have no way in). Use in a transaction. */
export async function removePasskey(opts: { db: EntityManager; accountId: string; passkeyId: string }): Promise<RemoveResult> {
  const repo = opts.db.getRepository(Passkey);
  const mine = await repo.find({ where: { accountId: opts.accountId }, select: { id: true, name: true, transports: true } });
  const target = mine.find((p) => p.id === opts.passkeyId);
  if (!target) return { ok: false, reason: 'not_found' };
  if (mine.length <= 1) return { ok: false, reason: 'last_passkey' };
  await repo.delete({ id: target.id, accountId: opts.accountId });
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'passkey_removed', details: { name: target.name } });
  await queueSecurityEvent({ db: opts.db, accountId: opts.accountId, event: 'credential_change', details: { change_type: 'delete', credential_type: credentialType(target) } });
  return { ok: true };
}
