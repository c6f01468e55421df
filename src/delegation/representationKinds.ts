import { DELEGATION_RULES } from './policy.js';

/** The basis of a helper the person chose themself. */
export const CONSENT = 'consent';

export type RepresentationKind = 'guardianship' | 'power_of_attorney' | 'representative_payee' | 'parent';

export interface RepresentationKindRule {
  /** Evidence reference fields the record must give (never the document itself). */
  evidence: ReadonlyArray<'case_number' | 'court' | 'document_type'>;
  /** May the represented person end it themself (a power of attorney: yes; a court guardianship: no)? */
  principalMayEnd: boolean;
  /** The longest term from its start, in days. */
  maxTermDays: number;
  /** When it must be reviewed, in days from its start (the end of its term unless renewed); null: no review date. */
  reviewDays: number | null;
  /** Ends the day the represented person reaches this age (a parent's authority at 18). */
  endsAtAge?: number;
  /** Scopes it may cover. */
  scopes: readonly string[];
}

const ALL = DELEGATION_RULES.delegableScopes;

/**
 * The kinds of legal authority OneDoor carries, as data (issue 14). A court's guardianship and
 * an agency's payee appointment are the court's and the agency's to end; a power of attorney is
 * the grantor's to revoke; a parent's authority ends when the child comes of age.
 */
export const REPRESENTATION_KINDS: Readonly<Record<RepresentationKind, RepresentationKindRule>> = {
  guardianship: { evidence: ['case_number', 'court', 'document_type'], principalMayEnd: false, maxTermDays: 5 * 366, reviewDays: 366, scopes: ALL },
  power_of_attorney: { evidence: ['document_type'], principalMayEnd: true, maxTermDays: 5 * 366, reviewDays: 3 * 366, scopes: ALL },
  representative_payee: { evidence: ['case_number', 'document_type'], principalMayEnd: false, maxTermDays: 3 * 366, reviewDays: 366, scopes: ['email', 'profile', 'profile:name', 'profile:birthdate', 'profile:verified_at', 'address', 'phone'] },
  parent: { evidence: ['document_type'], principalMayEnd: false, maxTermDays: 18 * 366, reviewDays: null, endsAtAge: 18, scopes: ALL },
};

export const KIND_NAMES = Object.keys(REPRESENTATION_KINDS) as RepresentationKind[];

export function isRepresentationKind(value: unknown): value is RepresentationKind {
  return typeof value === 'string' && (KIND_NAMES as string[]).includes(value);
}

/** The day someone born on `birthdate` (YYYY-MM-DD) turns `age`, at 00:00 UTC (29 February → 1 March). */
export function dayOfAge(birthdate: string, age: number): Date {
  const [y, m, d] = birthdate.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y + age, m - 1, d));
}

/**
 * Why an authority (or a consent delegation) ended, as the `delegation-revoked` security event
 * says it (docs/agencies.md). `revoked` and `expired` are consent's.
 */
export const END_REASONS = ['revoked', 'expired', 'ended_by_source', 'ended_by_principal', 'stepped_down', 'review_date', 'came_of_age'] as const;
export type EndReason = typeof END_REASONS[number];

/** The status a delegation ends in for each reason: an end nobody chose is an expiry. */
export function statusForEnd(reason: EndReason): 'revoked' | 'expired' {
  return reason === 'expired' || reason === 'review_date' || reason === 'came_of_age' ? 'expired' : 'revoked';
}

/** The bases an agency accepts (client file `delegation_bases_accepted`; absent: consent only). */
export function basesAcceptedBy(metadata: Record<string, unknown> | undefined): string[] {
  const v = metadata?.['delegation_bases_accepted'];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [CONSENT];
}
