import { registeredAgencies } from './listRepresentations.js';
import { type RecordRepresentationResult, recordRepresentation, type RepresentationDeps } from './recordRepresentation.js';

/**
 * An agency that is itself the register of an authority (e.g. the one that appoints
 * representative payees) records it: only kinds its client file lists in
 * `representation_authority`, in effect at once, with the agency as its source.
 */
export async function recordAgencyRepresentation(deps: RepresentationDeps, opts: { clientId: string; authority: readonly string[]; input: unknown }): Promise<RecordRepresentationResult | { ok: false; forbidden: true }> {
  const kind = typeof opts.input === 'object' && opts.input && !Array.isArray(opts.input) ? (opts.input as Record<string, unknown>)['kind'] : undefined;
  if (typeof kind === 'string' && !opts.authority.includes(kind)) return { ok: false, forbidden: true };
  if (opts.input && typeof opts.input === 'object' && 'recorded_by' in opts.input) return { ok: false, error: 'recorded_by: unknown field' };
  return recordRepresentation(deps, { input: opts.input, source: opts.clientId, recordedBy: opts.clientId, status: 'active', agencies: await registeredAgencies(deps.db), agencyRecord: true });
}
