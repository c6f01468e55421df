import { In, type EntityManager } from 'typeorm';
import { Delegation, OidcClient, Representation } from '../../entities/index.js';
import { parseList } from './policy.js';

export interface RepresentationSummary {
  id: string;
  kind: string;
  status: Delegation['status'];
  source: string;
  startsAt: Date;
  endsAt: Date;
  reviewAt: Date | null;
  endReason: string | null;
  recordedBy: string;
  approvedBy: string | null;
  agencies: string[];
  scopes: string[];
  representativeId: string;
  /** The represented person's account, or null (a represented profile). */
  principalId: string | null;
}

const summary = (d: Delegation, r: Representation): RepresentationSummary => ({
  id: d.id, kind: r.kind, status: d.status, source: d.source ?? 'operator', startsAt: d.startsAt, endsAt: d.endsAt, reviewAt: r.reviewAt,
  endReason: r.endReason, recordedBy: r.recordedBy, approvedBy: r.approvedBy, agencies: parseList(d.clientIds), scopes: parseList(d.scopes),
  representativeId: d.helperId!, principalId: d.principalId,
});

/** Every legal authority (newest first), without names: for the operator's list. */
export async function listRepresentations(opts: { db: EntityManager; source?: string }): Promise<RepresentationSummary[]> {
  const rows = await opts.db.getRepository(Representation).find({ order: { createdAt: 'DESC' } });
  if (!rows.length) return [];
  const ds = await opts.db.getRepository(Delegation).findBy({ id: In(rows.map((r) => r.delegationId)), ...(opts.source ? { source: opts.source } : {}) });
  return rows.flatMap((r) => { const d = ds.find((x) => x.id === r.delegationId); return d ? [summary(d, r)] : []; });
}

/** One legal authority's summary, if it exists. */
export async function findRepresentation(opts: { db: EntityManager; id: string }): Promise<{ summary: RepresentationSummary; delegation: Delegation; representation: Representation } | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(opts.id)) return undefined;
  const r = await opts.db.getRepository(Representation).findOneBy({ delegationId: opts.id.toLowerCase() });
  const d = r ? await opts.db.getRepository(Delegation).findOneBy({ id: r.delegationId }) : null;
  return r && d ? { summary: summary(d, r), delegation: d, representation: r } : undefined;
}

/** Client ids of the registered agencies (a record may name them). */
export async function registeredAgencies(db: EntityManager): Promise<string[]> {
  return (await db.getRepository(OidcClient).find({ select: { clientId: true } })).map((c) => c.clientId);
}
