import type { EntityManager } from 'typeorm';
import { DelegationEvent } from '../../entities/index.js';
import { representationAad } from '../proofing/identityMatchKey.js';
import { type Kek, openRecord, parseSealed } from '../proofing/vault.js';
import { findRepresentation, type RepresentationSummary } from './listRepresentations.js';
import type { SealedRepresentation } from './recordRepresentation.js';

/**
 * One legal authority in full, for the operator who checks it: the sealed record (both people's
 * names and birth dates, the evidence reference) opened, and its history.
 */
export async function showRepresentation(opts: { db: EntityManager; kek: Kek; id: string }): Promise<{ summary: RepresentationSummary; record: SealedRepresentation; events: Array<{ at: Date; type: string; clientId: string | null }> } | undefined> {
  const found = await findRepresentation(opts);
  if (!found) return undefined;
  const record = openRecord({ kek: opts.kek, sealed: parseSealed(found.representation.sealed), aad: representationAad(found.representation.delegationId) }) as SealedRepresentation;
  const events = await opts.db.getRepository(DelegationEvent).find({ where: { delegationId: found.delegation.id }, order: { at: 'ASC' }, take: 200 });
  return { summary: found.summary, record, events: events.map((e) => ({ at: e.at, type: e.type, clientId: e.clientId })) };
}
