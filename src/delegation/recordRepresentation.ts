import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Account, Delegation, Representation, RepresentedPerson } from '../../entities/index.js';
import { findAccountByReference } from '../accounts/findAccountByReference.js';
import { identityMatchKey, representationAad, representedPersonAad } from '../proofing/identityMatchKey.js';
import { type Kek, sealRecord, serializeSealed } from '../proofing/vault.js';
import { clock } from '../shared/clock.js';
import { recordDelegationEvent } from './recordDelegationEvent.js';
import { verifiedMatchKey } from './representativeMatches.js';
import { parseRepresentation } from './representationInput.js';

export interface RepresentationDeps {
  db: EntityManager;
  kek: Kek;
  pepper: string;
}

/** A person as a record names them (sealed). */
export interface NamedPerson { given_name: string; family_name: string; birthdate: string }

/** What a representation's sealed record holds. */
export interface SealedRepresentation {
  representative: NamedPerson;
  represented: NamedPerson;
  evidence: { case_number?: string | undefined; court?: string | undefined; document_type: string };
}

export type RecordRepresentationResult = { ok: true; delegation: Delegation; representation: Representation } | { ok: false; error: string };

const named = (p: NamedPerson): NamedPerson => ({ given_name: p.given_name, family_name: p.family_name, birthdate: p.birthdate });

/**
 * Records a legal authority — by an operator (`source` = `operator`, pending until a second
 * operator approves it) or by the agency that is its register (`source` = its client id, in
 * effect at once). The representative is an account; the represented person is an account the
 * record names, else a represented profile: the one not yet joined to an account with the same
 * name and birth date, or a new one. A record never reaches into an account by name.
 */
export async function recordRepresentation(deps: RepresentationDeps, opts: {
  input: unknown; source: string; recordedBy: string; status: 'pending' | 'active'; agencies: readonly string[];
  /**
   * An agency's own record, in effect at once with no operator having seen the documents: an
   * account it names as the represented person must hold a verified identity with the record's
   * name and birth date, and every refusal of a named account reads the same (the API never
   * says whether an address has an account, is disabled or is verified).
   */
  agencyRecord?: boolean;
}): Promise<RecordRepresentationResult> {
  const parsed = parseRepresentation(opts.input, { agencies: opts.agencies });
  if (!parsed.ok) return parsed;
  const { input: r, terms } = parsed;
  const unusable = (field: string, detail: string) => (opts.agencyRecord ? `${field}: no OneDoor account can take this record` : `${field}: ${detail}`);
  const accountNamed = async (field: string, reference: string): Promise<Account | string> => {
    const found = await findAccountByReference({ db: deps.db, reference });
    if (found.ok) return found.account.status === 'active' ? found.account : unusable(field, 'that account is disabled');
    return found.reason === 'invalid_reference' ? `${field}: must be an email address or an account id` : unusable(field, 'no such account');
  };
  const representative = await accountNamed('representative.account', r.representative.account ?? '');
  if (typeof representative === 'string') return { ok: false, error: representative };
  let principal: Account | null = null;
  if (r.represented.account) {
    const found = await accountNamed('represented.account', r.represented.account);
    if (typeof found === 'string') return { ok: false, error: found };
    principal = found;
  }
  if (principal?.id === representative.id) return { ok: false, error: unusable('represented.account', 'must not be the representative') };
  const matchKeyOf = (p: NamedPerson) => identityMatchKey({ pepper: deps.pepper, givenName: p.given_name, familyName: p.family_name, birthdate: p.birthdate });
  if (principal && opts.agencyRecord && (await verifiedMatchKey({ ...deps, accountId: principal.id })) !== matchKeyOf(r.represented)) {
    return { ok: false, error: unusable('represented.account', 'does not match') };
  }
  const now = clock.now();
  let representedPersonId: string | null = null;
  if (!principal) {
    const matchKey = matchKeyOf(r.represented);
    if (matchKey === matchKeyOf(r.representative)) {
      return { ok: false, error: 'represented: must not be the representative' };
    }
    const people = deps.db.getRepository(RepresentedPerson);
    const existing = (await people.findBy({ matchKey })).find((p) => p.accountId === null);
    if (existing) representedPersonId = existing.id;
    else {
      representedPersonId = randomUUID();
      const sealed = sealRecord({ kek: deps.kek, plaintext: named(r.represented), aad: representedPersonAad(representedPersonId) });
      await people.insert({ id: representedPersonId, matchKey, sealed: serializeSealed(sealed), accountId: null, createdAt: now });
    }
  }
  const id = randomUUID();
  const delegation = deps.db.getRepository(Delegation).create({
    id, principalId: principal?.id ?? null, helperId: representative.id, inviteeEmail: '', initiatedBy: 'principal', status: opts.status,
    clientIds: JSON.stringify(r.agencies), scopes: JSON.stringify(r.scopes), startsAt: terms.startsAt, endsAt: terms.endsAt,
    inviteHash: null, inviteExpiresAt: null, remindedAt: null, firstUsedAt: null, createdAt: now, updatedAt: now,
    basis: terms.kind, source: opts.source, representedPersonId,
  });
  await deps.db.getRepository(Delegation).insert(delegation);
  const record: SealedRepresentation = { representative: named(r.representative), represented: named(r.represented), evidence: r.evidence };
  const representation = deps.db.getRepository(Representation).create({
    delegationId: id, kind: terms.kind, sealed: serializeSealed(sealRecord({ kek: deps.kek, plaintext: record, aad: representationAad(id) })),
    representativeMatchKey: matchKeyOf(r.representative),
    reviewAt: terms.reviewAt, endReason: null, recordedBy: opts.recordedBy, approvedBy: null, contactEmail: r.contact_email ?? null, reviewRemindedAt: null, createdAt: now,
  });
  await deps.db.getRepository(Representation).insert(representation);
  await recordDelegationEvent({ db: deps.db, delegationId: id, actorId: null, type: 'recorded', details: { kind: terms.kind, source: opts.source, scopes: r.scopes, clients: r.agencies } });
  return { ok: true, delegation, representation };
}
