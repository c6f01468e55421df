import { In, type EntityManager } from 'typeorm';
import { Account, Delegation, Representation, RepresentedPerson } from '../../entities/index.js';
import { representedPersonAad } from '../proofing/identityMatchKey.js';
import { type Kek, openRecord, parseSealed } from '../proofing/vault.js';
import { clock } from '../shared/clock.js';
import { covers, isActive, subjectIdOf } from './policy.js';
import type { NamedPerson } from './recordRepresentation.js';
import { CONSENT } from './representationKinds.js';
import { representativeMatches } from './representativeMatches.js';

export interface PersonToActFor {
  delegation: Delegation;
  /** The person's account; null for a represented person without one. */
  principal: Account | null;
  /** Whom the agency knows: the account id, or the represented profile's id. */
  subjectId: string;
  basis: string;
  /** May act now: always for consent; for a legal authority, when the representative is verified as the record names them. */
  eligible: boolean;
  /** How the chooser names them: the account's email, or the represented person's name (shown only once eligible). */
  label: string | null;
}

/** A delegation a helper may use now, with the person helped: their active account, or null for a represented profile. */
export interface LiveDelegation { delegation: Delegation; principal: Account | null }

/**
 * The one query behind every "whom can this person act for here": the active delegations a
 * helper holds that cover this agency, on a basis it accepts, whose person can still be acted
 * for (an active account, or — on legal authority — a represented profile).
 */
export async function liveDelegationsAt(opts: { db: EntityManager; helperId: string; clientId: string; bases: readonly string[] }): Promise<LiveDelegation[]> {
  const now = clock.now();
  const rows = (await opts.db.getRepository(Delegation).findBy({ helperId: opts.helperId, status: 'active' }))
    .filter((d) => isActive(d, now) && covers(d, opts.clientId) && opts.bases.includes(d.basis) && subjectIdOf(d));
  const ids = rows.map((d) => d.principalId).filter((x): x is string => !!x);
  const principals = ids.length ? await opts.db.getRepository(Account).findBy({ id: In(ids), status: 'active' }) : [];
  return rows.flatMap((d): LiveDelegation[] => {
    if (!d.principalId) return d.basis === CONSENT ? [] : [{ delegation: d, principal: null }];
    const principal = principals.find((p) => p.id === d.principalId);
    return principal ? [{ delegation: d, principal }] : [];
  });
}

/** Consent only, with the principal's account: what the phone channel offers (it does not carry legal authority). */
export async function delegationsForHelperAt(opts: { db: EntityManager; helperId: string; clientId: string }): Promise<Array<{ delegation: Delegation; principal: Account }>> {
  return (await liveDelegationsAt({ ...opts, bases: [CONSENT] })).flatMap(({ delegation, principal }) => (principal ? [{ delegation, principal }] : []));
}

/**
 * Whom a signed-in person may choose to act for at an agency: active delegations covering it
 * whose basis the agency accepts. A represented person without an account is named only to a
 * representative verified as the record names them.
 */
export async function peopleToActFor(opts: { db: EntityManager; kek: Kek; pepper: string; helperId: string; clientId: string; bases: readonly string[] }): Promise<PersonToActFor[]> {
  const out: PersonToActFor[] = [];
  for (const { delegation: d, principal } of await liveDelegationsAt(opts)) {
    if (d.basis === CONSENT) {
      if (principal) out.push({ delegation: d, principal, subjectId: principal.id, basis: d.basis, eligible: true, label: principal.email });
      continue;
    }
    const representation = await opts.db.getRepository(Representation).findOneBy({ delegationId: d.id });
    if (!representation) continue;
    const eligible = await representativeMatches({ db: opts.db, kek: opts.kek, pepper: opts.pepper, helperId: opts.helperId, representation });
    let label: string | null = principal?.email ?? null;
    if (!principal && eligible) {
      const person = await opts.db.getRepository(RepresentedPerson).findOneBy({ id: d.representedPersonId! });
      const named = person ? openRecord({ kek: opts.kek, sealed: parseSealed(person.sealed), aad: representedPersonAad(person.id) }) as NamedPerson : undefined;
      label = named ? `${named.given_name} ${named.family_name}` : null;
    }
    out.push({ delegation: d, principal, subjectId: subjectIdOf(d)!, basis: d.basis, eligible, label });
  }
  return out;
}
