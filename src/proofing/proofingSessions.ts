import { randomUUID } from 'node:crypto';
import { ProofingSession } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import type { IdDocument } from './documents/parseAamva.js';
import type { ProofingContext } from './proofingContext.js';
import { discardProofingImages } from './documentFront.js';
import { dependentsOf, isStepId, nextStep, type StepId } from './steps.js';
import { openRecord, parseSealed, sealRecord, serializeSealed } from './vault.js';

/** What the person has given so far; sealed at rest, bound to the account id. */
export interface ProofingDraft {
  document?: IdDocument;
  ssn?: string;
  phone?: string;
  /** Every number a code was sent to in this flow (the last ones), so their SMS go with the account. */
  phonesTried?: string[];
  possession?: 'phone' | 'letter';
  facialMatch?: boolean;
}

export interface ProofingState {
  session: ProofingSession;
  done: StepId[];
  next: StepId | 'complete';
}

/** Additional authenticated data binding a sealed draft to its account. */
export const draftAad = (accountId: string) => `proofing-draft:${accountId}`;
const aad = draftAad;

export function stateOf(session: ProofingSession): ProofingState {
  const done = (JSON.parse(session.stepsDone) as unknown[]).filter(isStepId);
  return { session, done, next: nextStep(done, { facialMatchRequired: session.facialMatchRequired }) };
}

export async function findProofing(ctx: Pick<ProofingContext, 'db'>, accountId: string): Promise<ProofingState | undefined> {
  const session = await ctx.db.getRepository(ProofingSession).findOneBy({ accountId });
  return session ? stateOf(session) : undefined;
}

/**
 * The account's proofing in progress, or a new one. Asking for a facial match upgrades a flow
 * that did not have it: the step is added and, if the document step was already done, it is
 * done again with what builds on it, because the front of the ID is only kept for the facial
 * match when the flow needs one (documentFront.ts) — a selfie is only ever compared with the
 * front of the document that was checked.
 */
export async function startProofing(ctx: Pick<ProofingContext, 'db'>, opts: { accountId: string; facialMatchRequired: boolean }): Promise<ProofingState> {
  const repo = ctx.db.getRepository(ProofingSession);
  const existing = await repo.findOneBy({ accountId: opts.accountId });
  if (existing) {
    if (opts.facialMatchRequired && !existing.facialMatchRequired) return redoStep(ctx, existing, 'document', { facialMatchRequired: true });
    return stateOf(existing);
  }
  const now = clock.now();
  const session = repo.create({
    id: randomUUID(), accountId: opts.accountId, status: 'in_progress', facialMatchRequired: opts.facialMatchRequired,
    stepsDone: '[]', draft: null, codeChannel: null, codeHash: null, codeExpiresAt: null, codeAttempts: 0, createdAt: now, updatedAt: now,
  });
  // Two tabs starting at once: the unique index lets one insert win; the other reads it.
  try {
    await repo.insert(session);
  } catch {
    const winner = await repo.findOneByOrFail({ accountId: opts.accountId });
    return stateOf(winner);
  }
  return stateOf(session);
}

export function readDraft(ctx: Pick<ProofingContext, 'kek'>, session: ProofingSession): ProofingDraft {
  if (!session.draft) return {};
  return openRecord({ kek: ctx.kek, sealed: parseSealed(session.draft), aad: aad(session.accountId) }) as ProofingDraft;
}

/**
 * Saves a step as done together with what it added to the draft, in one update. Steps that
 * relied on what this step replaces (`invalidates`) must be done again.
 */
export async function completeStep(ctx: Pick<ProofingContext, 'db' | 'kek'>, session: ProofingSession, step: StepId, changes: Partial<ProofingDraft> = {}, extra: Partial<ProofingSession> = {}, invalidates: readonly StepId[] = []): Promise<ProofingState> {
  const state = stateOf(session);
  const kept = state.done.filter((s) => !invalidates.includes(s) && s !== step);
  const done = [...kept, step];
  const draft = Object.keys(changes).length ? serializeSealed(sealRecord({ kek: ctx.kek, plaintext: { ...readDraft(ctx, session), ...changes }, aad: aad(session.accountId) })) : session.draft;
  const update = { stepsDone: JSON.stringify(done), draft, updatedAt: clock.now(), ...extra };
  await ctx.db.getRepository(ProofingSession).update({ id: session.id }, update);
  Object.assign(session, update);
  return stateOf(session);
}

/** Marks `step` and every step that builds on it as not done (what they collected stays until replaced). */
export async function redoStep(ctx: Pick<ProofingContext, 'db'>, session: ProofingSession, step: StepId, extra: Partial<ProofingSession> = {}): Promise<ProofingState> {
  const redo = [step, ...dependentsOf(step)];
  const update = { stepsDone: JSON.stringify(stateOf(session).done.filter((s) => !redo.includes(s))), updatedAt: clock.now(), ...extra };
  await ctx.db.getRepository(ProofingSession).update({ id: session.id }, update);
  Object.assign(session, update);
  return stateOf(session);
}

/** Replaces the draft without completing a step (e.g. the phone number a code was sent to). */
export async function updateDraft(ctx: Pick<ProofingContext, 'db' | 'kek'>, session: ProofingSession, changes: Partial<ProofingDraft>, extra: Partial<ProofingSession> = {}): Promise<void> {
  const draft = serializeSealed(sealRecord({ kek: ctx.kek, plaintext: { ...readDraft(ctx, session), ...changes }, aad: aad(session.accountId) }));
  const update = { draft, updatedAt: clock.now(), ...extra };
  await ctx.db.getRepository(ProofingSession).update({ id: session.id }, update);
  Object.assign(session, update);
}

/** Abandons the flow: everything collected is deleted, photos included; the person can start again. */
export async function abandonProofing(ctx: Pick<ProofingContext, 'db'>, accountId: string): Promise<void> {
  await ctx.db.getRepository(ProofingSession).delete({ accountId });
  await discardProofingImages(ctx, accountId);
}
