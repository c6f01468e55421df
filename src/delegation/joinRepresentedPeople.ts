import type { EntityManager } from 'typeorm';
import { Account, Delegation, PairwiseSubject, RepresentedPerson } from '../../entities/index.js';
import { identityMatchKey } from '../proofing/identityMatchKey.js';
import { recordDelegationEvent } from './recordDelegationEvent.js';

/** A sector → subject map, as `accounts.subject_aliases` holds it. */
export function parseAliases(json: string | null | undefined): Record<string, string> {
  if (!json) return {};
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, s]) => typeof s === 'string')) as Record<string, string> : {};
  } catch {
    return {};
  }
}

/**
 * A person just verified to IAL2: a represented profile with the same name and birth date (not
 * yet joined to an account) joins their account. Every authority over that profile now names the
 * account, so the person sees it on /helpers and, where its kind allows, can end it. No subject an
 * agency already holds changes: where an agency knew only the represented profile, the account
 * takes over that subject (`subject_aliases`, and the `pairwise_subjects` row now points to the
 * account); where it knew the account too, the account's own subject stays. Call it in the
 * transaction that completes proofing. Returns the profiles joined.
 */
export async function joinRepresentedPeople(opts: { db: EntityManager; pepper: string; accountId: string; identity: { givenName: string; familyName: string; birthdate: string } }): Promise<string[]> {
  const matchKey = identityMatchKey({ pepper: opts.pepper, ...opts.identity });
  const people = (await opts.db.getRepository(RepresentedPerson).findBy({ matchKey })).filter((p) => p.accountId === null);
  if (!people.length) return [];
  const account = await opts.db.getRepository(Account).findOneByOrFail({ id: opts.accountId });
  const aliases = parseAliases(account.subjectAliases);
  const subjects = opts.db.getRepository(PairwiseSubject);
  const known = new Set((await subjects.findBy({ accountId: opts.accountId })).map((s) => s.sector));
  const joined: string[] = [];
  for (const person of people) {
    const delegations = await opts.db.getRepository(Delegation).findBy({ representedPersonId: person.id });
    // Nobody represents themself: a profile one of whose authorities this account holds stays apart.
    if (delegations.some((d) => d.helperId === opts.accountId)) continue;
    const res = await opts.db.getRepository(RepresentedPerson).createQueryBuilder().update().set({ accountId: opts.accountId })
      .where('id = :id AND account_id IS NULL', { id: person.id }).execute();
    if (!res.affected) continue;
    for (const row of await subjects.findBy({ accountId: person.id })) {
      if (known.has(row.sector) || aliases[row.sector]) continue;
      aliases[row.sector] = row.subject;
      await subjects.update({ sector: row.sector, subject: row.subject }, { accountId: opts.accountId });
    }
    for (const d of delegations) {
      if (d.principalId) continue;
      await opts.db.getRepository(Delegation).update({ id: d.id }, { principalId: opts.accountId });
      await recordDelegationEvent({ db: opts.db, delegationId: d.id, actorId: opts.accountId, type: 'joined' });
    }
    joined.push(person.id);
  }
  if (joined.length) await opts.db.getRepository(Account).update({ id: opts.accountId }, { subjectAliases: Object.keys(aliases).length ? JSON.stringify(aliases) : null });
  return joined;
}
