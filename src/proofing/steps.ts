/**
 * The identity-proofing flow as a table: each step, what must be done before it, and when it
 * applies. Pages and services ask this table what comes next; no step order lives in code.
 */
export type StepId = 'consent' | 'document' | 'facial_match' | 'ssn' | 'records' | 'possession' | 'reauth';

export interface StepDef {
  id: StepId;
  after: readonly StepId[];
  /** Only some flows need the step (facial match: when an agency asks for it). */
  appliesWhen?: 'facialMatchRequired';
}

export const PROOFING_STEPS: readonly StepDef[] = [
  { id: 'consent', after: [] },
  { id: 'document', after: ['consent'] },
  { id: 'facial_match', after: ['document'], appliesWhen: 'facialMatchRequired' },
  { id: 'ssn', after: ['document'] },
  { id: 'records', after: ['ssn'] },
  { id: 'possession', after: ['records'] },
  { id: 'reauth', after: ['possession', 'facial_match'] },
];

export interface FlowFlags { facialMatchRequired: boolean }

function applies(step: StepDef, flags: FlowFlags): boolean {
  return step.appliesWhen !== 'facialMatchRequired' || flags.facialMatchRequired;
}

/** Can `step` be done now? Its preconditions (those that apply to this flow) must be done. */
export function canDo(step: StepId, done: readonly StepId[], flags: FlowFlags): boolean {
  const def = PROOFING_STEPS.find((s) => s.id === step);
  if (!def || !applies(def, flags)) return false;
  return def.after.every((a) => done.includes(a) || !applies(PROOFING_STEPS.find((s) => s.id === a)!, flags));
}

/** The first step not yet done whose preconditions are met, or 'complete'. */
export function nextStep(done: readonly StepId[], flags: FlowFlags): StepId | 'complete' {
  for (const step of PROOFING_STEPS) {
    if (!applies(step, flags) || done.includes(step.id)) continue;
    if (canDo(step.id, done, flags)) return step.id;
  }
  return 'complete';
}

/** The steps that build on `step`, directly or through others, in table order: they are redone when it is. */
export function dependentsOf(step: StepId): StepId[] {
  const found = new Set<StepId>([step]);
  // The table lists each step after those it builds on, so one pass sees every chain.
  for (const s of PROOFING_STEPS) if (s.after.some((a) => found.has(a))) found.add(s.id);
  found.delete(step);
  return [...found];
}

export function isStepId(value: unknown): value is StepId {
  return typeof value === 'string' && PROOFING_STEPS.some((s) => s.id === value);
}
