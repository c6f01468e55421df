import { z } from 'zod';
import { clock } from '../shared/clock.js';
import { ALL_AGENCIES } from './policy.js';
import { dayOfAge, KIND_NAMES, REPRESENTATION_KINDS, type RepresentationKind } from './representationKinds.js';

// Printable text without control characters, of a bounded length.
const text = (max: number) => z.string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
  .trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`)
  .refine((s) => !/[\p{Cc}\p{Cf}]/u.test(s), 'must not contain control characters');
const day = z.string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a date YYYY-MM-DD') })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => { const d = new Date(`${s}T00:00:00Z`); return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s); }, 'must be a real date');
const person = (account: 'required' | 'optional') => z.strictObject({
  account: account === 'required' ? text(254) : text(254).optional(),
  given_name: text(100),
  family_name: text(100),
  birthdate: day.refine((s) => s >= '1900-01-01' && new Date(`${s}T00:00:00Z`).getTime() <= clock.nowMs(), 'must be a past date'),
}, { error: 'must be an object' });

/** What records a legal authority: the operator's file (`onedoor representations add`) and an agency's `POST /representations`. */
export const representationSchema = z.strictObject({
  kind: z.enum(KIND_NAMES as [RepresentationKind, ...RepresentationKind[]], { error: `must be one of ${KIND_NAMES.join(', ')}` }),
  representative: person('required'),
  represented: person('optional'),
  agencies: z.array(text(191), { error: 'must be an array of client ids' }).min(1, 'must name at least one agency (or "*")').max(50, 'must name at most 50 agencies'),
  scopes: z.array(text(64), { error: 'must be an array of scopes' }).min(1, 'must name at least one scope').max(20, 'must name at most 20 scopes'),
  starts_at: day.optional(),
  ends_at: day.optional(),
  review_at: day.optional(),
  evidence: z.strictObject({ case_number: text(100).optional(), court: text(200).optional(), document_type: text(100) }, { error: 'must be an object' }),
  recorded_by: text(100).optional(),
  contact_email: z.email({ error: 'must be an email address' }).max(254).optional(),
}, { error: 'must be a JSON object' });

export type RepresentationInput = z.infer<typeof representationSchema>;

export interface RepresentationTerms {
  kind: RepresentationKind;
  startsAt: Date;
  endsAt: Date;
  /** The review date (a parent's: the child's 18th birthday); the authority ends then unless renewed. */
  reviewAt: Date | null;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

/**
 * Checks a record against the schema and its kind's row: the evidence it needs, the scopes it
 * may cover, its longest term. The end is the earliest of the given end, the review date and
 * (for a parent) the child's 18th birthday. Errors are one line naming the field; they never
 * repeat the value.
 */
export function parseRepresentation(input: unknown, opts: { agencies: readonly string[]; now?: Date }): { ok: true; input: RepresentationInput; terms: RepresentationTerms } | { ok: false; error: string } {
  const parsed = representationSchema.safeParse(input);
  if (!parsed.success) {
    const iss = parsed.error.issues[0]!;
    const at = formatPath(iss.path);
    if (iss.code === 'unrecognized_keys') return { ok: false, error: `${at ? `${at}.` : ''}${iss.keys[0]}: unknown field` };
    return { ok: false, error: `${at || 'record'}: ${iss.message}` };
  }
  const r = parsed.data;
  const rule = REPRESENTATION_KINDS[r.kind];
  const now = opts.now ?? clock.now();
  const missing = rule.evidence.find((f) => !r.evidence[f]);
  if (missing) return { ok: false, error: `evidence.${missing}: is required for ${r.kind}` };
  const badScope = r.scopes.findIndex((s) => !rule.scopes.includes(s));
  if (badScope >= 0) return { ok: false, error: `scopes[${badScope}]: not covered by ${r.kind}` };
  const badAgency = r.agencies.findIndex((a) => a !== ALL_AGENCIES && !opts.agencies.includes(a));
  if (badAgency >= 0) return { ok: false, error: `agencies[${badAgency}]: not an agency that accepts ${r.kind}` };
  const date = (s: string) => new Date(`${s}T00:00:00Z`);
  const startsAt = r.starts_at ? date(r.starts_at) : now;
  if (startsAt.getTime() > now.getTime() + 366 * 86400_000) return { ok: false, error: 'starts_at: must be within a year' };
  const longest = new Date(startsAt.getTime() + rule.maxTermDays * 86400_000);
  const ends = [r.ends_at ? date(r.ends_at) : longest];
  if (r.ends_at && ends[0]!.getTime() > longest.getTime()) return { ok: false, error: `ends_at: ${r.kind} lasts at most ${rule.maxTermDays} days` };
  let reviewAt: Date | null = null;
  if (rule.reviewDays !== null) {
    reviewAt = r.review_at ? date(r.review_at) : new Date(startsAt.getTime() + rule.reviewDays * 86400_000);
    if (reviewAt.getTime() > startsAt.getTime() + rule.reviewDays * 86400_000) return { ok: false, error: `review_at: ${r.kind} is reviewed within ${rule.reviewDays} days` };
    ends.push(reviewAt);
  } else if (r.review_at) return { ok: false, error: `review_at: ${r.kind} has no review date` };
  if (rule.endsAtAge !== undefined) {
    const ofAge = dayOfAge(r.represented.birthdate, rule.endsAtAge);
    if (ofAge.getTime() <= now.getTime()) return { ok: false, error: `represented.birthdate: ${r.kind} ends at ${rule.endsAtAge}` };
    // Its review date is the day the child comes of age: the parent is told a month before.
    reviewAt = ofAge;
    ends.push(ofAge);
  }
  const endsAt = new Date(Math.min(...ends.map((d) => d.getTime())));
  if (endsAt.getTime() <= Math.max(now.getTime(), startsAt.getTime()) + 3600_000) return { ok: false, error: `${r.ends_at ? 'ends_at' : 'review_at'}: must be in the future` };
  return { ok: true, input: r, terms: { kind: r.kind, startsAt, endsAt, reviewAt } };
}
