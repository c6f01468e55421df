import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { Account } from '../../entities/index.js';
import { findAccountByEmail } from '../accounts/findAccountByEmail.js';
import { listOwnGrants } from '../accounts/listOwnGrants.js';
import { normalizeEmail } from '../accounts/normalizeEmail.js';
import { personKey } from '../phone/personKey.js';
import { accountForSubject, SUBJECT_SHAPE } from './accountForSubject.js';
import { sectorOf, type SectorSource } from './pairwise.js';

/**
 * Whom an agency's phone request names:
 * - `person`: an active account, who will be asked;
 * - `nobody`: an email address without an (active) account — answered exactly like a person
 *   (an `auth_req_id`, the same limits), and simply expires;
 * - `unknown`: a subject that is not a person connected to this agency (`unknown_user_id`, which
 *   reveals nothing: the agency can only know subjects OneDoor gave it);
 * - `malformed`: neither an email address nor a subject (`invalid_request`).
 */
export type PhoneHint =
  | { kind: 'person'; accountId: string; personKey: string }
  | { kind: 'nobody'; personKey: string }
  | { kind: 'unknown' }
  | { kind: 'malformed' };

interface HintContext {
  ds: DataSource;
  provider: Provider;
  client: SectorSource;
  pepper: string;
}

const person = (pepper: string, accountId: string): PhoneHint => ({ kind: 'person', accountId, personKey: personKey({ pepper, accountId }) });

/** Does the person have a consent of their own with an agency of this sector (not one a helper holds for someone)? */
async function connectedInSector(opts: HintContext & { accountId: string; sector: string }): Promise<boolean> {
  const clientIds = new Set((await listOwnGrants({ db: opts.ds, accountId: opts.accountId })).map((g) => g.clientId));
  for (const clientId of clientIds) {
    const client = await opts.provider.Client.find(clientId);
    if (client && sectorOf(client) === opts.sector) return true;
  }
  return false;
}

/** A pairwise subject this agency's sector was given (a `login_hint`, or the `sub` of an `id_token_hint`). */
export async function resolveSubject(opts: HintContext & { subject: string }): Promise<PhoneHint> {
  const sector = sectorOf(opts.client);
  const accountId = await accountForSubject({ ds: opts.ds, sector, subject: opts.subject });
  if (!accountId) return { kind: 'unknown' };
  const account = await opts.ds.getRepository(Account).findOne({ where: { id: accountId }, select: { id: true, status: true } });
  if (account?.status !== 'active' || !(await connectedInSector({ ...opts, accountId, sector }))) return { kind: 'unknown' };
  return person(opts.pepper, accountId);
}

/** CIBA `login_hint`: the caller's email address, or their pairwise subject at this agency. */
export async function resolveLoginHint(opts: HintContext & { loginHint: string }): Promise<PhoneHint> {
  if (opts.loginHint.includes('@')) {
    const email = normalizeEmail(opts.loginHint);
    if (!email) return { kind: 'malformed' };
    const account = await findAccountByEmail({ db: opts.ds.manager, email });
    if (account?.status === 'active') return person(opts.pepper, account.id);
    return { kind: 'nobody', personKey: personKey({ pepper: opts.pepper, email }) };
  }
  if (!SUBJECT_SHAPE.test(opts.loginHint)) return { kind: 'malformed' };
  return resolveSubject({ ...opts, subject: opts.loginHint });
}
