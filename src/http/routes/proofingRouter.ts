import Router from '@koa/router';
import type { Context } from 'koa';
import { recordEvent } from '../../audit/recordEvent.js';
import { requirementOf } from '../../oidc/acr.js';
import type { SignedInSession } from '../../oidc/accountSessions.js';
import { finishAuthentication } from '../../passkeys/finishAuthentication.js';
import { startAuthentication } from '../../passkeys/startAuthentication.js';
import { checkRecords } from '../../proofing/checkRecords.js';
import { MAX_IMAGE_BYTES } from '../../proofing/documents/measureImage.js';
import { confirmPossessionCode, isPossessionCodeShape, letterDestination, normalizeUsPhone, sendLetterCode, sendPhoneCode } from '../../proofing/possession.js';
import type { ProofingContext } from '../../proofing/proofingContext.js';
import { abandonProofing, findProofing, readDraft, startProofing, completeStep, type ProofingState } from '../../proofing/proofingSessions.js';
import { maskSsn } from '../../proofing/ssn.js';
import { canDo, PROOFING_STEPS, type StepId } from '../../proofing/steps.js';
import { submitDocument } from '../../proofing/submitDocument.js';
import { submitFacialMatch } from '../../proofing/submitFacialMatch.js';
import { submitSsn } from '../../proofing/submitSsn.js';
import { completeProofing } from '../../proofing/verifiedProfiles.js';
import { requireSignedIn } from '../requireSignedIn.js';
import type { HttpDeps } from '../deps.js';
import { field } from '../formFields.js';
import { createLimits, nextTryAt, takeAll } from '../limits.js';
import { parseAuthenticationResponse } from '../parseWebAuthnResponse.js';
import { parseMultipart, type UploadSpec } from '../parseMultipart.js';
import { RedirectDone } from '../RedirectDone.js';
import { render, WEBAUTHN_SCRIPTS } from '../render.js';
import { isoDate, parseMemorableDate } from '../parseMemorableDate.js';

const RETURN_COOKIE = 'od_verify_return';
/**
 * The steps that take images, and what each may carry. Their multipart bodies are parsed here,
 * after the person and step are checked; the CSRF middleware leaves their token (the first
 * field) to parseMultipart, so these paths are handed to it (app.ts).
 */
export const UPLOADS = {
  '/verify/document': { files: ['front', 'back'], fields: [], maxFileBytes: MAX_IMAGE_BYTES },
  // Only the selfie: it is compared with the front of the ID kept from the document step;
  // a front sent with it (an older form) is read past and dropped.
  '/verify/facial-match': { files: ['selfie'], fields: [], maxFileBytes: MAX_IMAGE_BYTES },
} as const satisfies Record<string, UploadSpec>;

/** Answers that mean "not you, us: try again later" (503; `busy` also says when). */
const TRY_LATER = new Set(['document_unavailable', 'document_busy', 'facial_unavailable']);
/** A full decode pool empties within seconds: a decode takes at most its time limit. */
const BUSY_RETRY_SECONDS = 30;
const STEP_PATH: Record<StepId, string> = {
  consent: '/verify/consent', document: '/verify/document', facial_match: '/verify/facial-match', ssn: '/verify/ssn',
  records: '/verify/records', possession: '/verify/possession', reauth: '/verify/reauth',
};

/**
 * Identity verification (IAL2), one page per step of the table in src/proofing/steps.ts. The
 * flow belongs to the signed-in account, not to a browser: it can be left and resumed on
 * another device. Started from an agency's request, it returns there when done.
 */
export function proofingRouter(deps: HttpDeps): Router {
  const { provider, ds, config, keys, rp, vendors, decodePool } = deps;
  const router = new Router({ prefix: '/verify' });
  const pctx: ProofingContext = { db: ds.manager, kek: keys.kek, vendors, pepper: keys.secrets.pepper, decoder: decodePool };
  // Sending costs money and reaches a phone or a letterbox; entering a code is a guess: each is
  // limited on its own (src/http/limits.ts), so sending never uses up tries and the reverse.
  const limits = createLimits(deps);

  const requireSession = async (ctx: Context): Promise<SignedInSession> => (await requireSignedIn(deps, ctx)).session;


  function returnUid(ctx: Context): string | undefined {
    const v = ctx.cookies.get(RETURN_COOKIE);
    return v && /^[A-Za-z0-9_-]{10,64}$/.test(v) ? v : undefined;
  }

  function go(ctx: Context, path: string): never {
    ctx.status = 303;
    ctx.redirect(path);
    throw new RedirectDone();
  }

  /** The flow in progress, at a step that may be done now; otherwise back to where it stands. */
  async function at(ctx: Context, step: StepId): Promise<{ session: SignedInSession; state: ProofingState }> {
    const session = await requireSession(ctx);
    const state = await findProofing(pctx, session.accountId);
    if (!state) go(ctx, '/verify');
    const flags = { facialMatchRequired: state.session.facialMatchRequired };
    if (!canDo(step, state.done, flags)) go(ctx, '/verify');
    return { session, state };
  }

  /** A step's page: the step indicator marks the step shown; the language switch reloads it. */
  function page(ctx: Context, name: string, state: ProofingState | undefined, data: Record<string, unknown> & { title: string; step?: StepId }, status = 200) {
    const t = ctx.state.t;
    const shown = data.step ?? state?.next;
    const applicable = state ? PROOFING_STEPS.filter((s) => s.appliesWhen !== 'facialMatchRequired' || state.session.facialMatchRequired) : [];
    const steps = applicable.map((s) => ({ label: t(`verify.step.${s.id}`), done: state!.done.includes(s.id) && s.id !== shown, current: shown === s.id }));
    const index = applicable.findIndex((s) => s.id === shown);
    const stepHeader = index >= 0 ? t('verify.step_of', { n: index + 1, total: applicable.length, name: steps[index]!.label }) : undefined;
    render(ctx, name, { steps, stepHeader, abandon: '/verify/abandon', ...(shown && shown !== 'complete' ? { langPath: STEP_PATH[shown] } : {}), ...data }, status);
  }

  const errorText = (ctx: Context, reason: string) => ctx.state.t(`verify.error.${reason}`);

  // ---- entry: start or resume, then the next step -----------------------------------------
  router.get('/', async (ctx) => {
    const session = await requireSession(ctx);
    let facialMatchRequired = false;
    const ret = typeof ctx.query['return'] === 'string' ? ctx.query['return'] : undefined;
    if (ret && /^[A-Za-z0-9_-]{10,64}$/.test(ret)) {
      // Only an authorization of this same person can be returned to.
      const interaction = await provider.Interaction.find(ret);
      if (interaction?.session?.accountId === session.accountId) {
        ctx.cookies.set(RETURN_COOKIE, ret, { httpOnly: true, sameSite: 'lax', secure: !config.insecureTransport, maxAge: 3600 * 1000, signed: false });
        facialMatchRequired = !!requirementOf(interaction.params['acr_values'] as string | undefined).facialMatch;
      }
    }
    const existing = await findProofing(pctx, session.accountId);
    const state = await startProofing(pctx, { accountId: session.accountId, facialMatchRequired });
    if (!existing) await recordEvent({ db: ds.manager, accountId: session.accountId, type: 'proofing_started' });
    if (state.next === 'complete') go(ctx, '/account');
    if (state.next === 'possession' && state.session.status === 'pending_letter') go(ctx, '/verify/code');
    go(ctx, STEP_PATH[state.next]);
  });

  router.post('/abandon', async (ctx) => {
    const session = await requireSession(ctx);
    await abandonProofing(pctx, session.accountId);
    await recordEvent({ db: ds.manager, accountId: session.accountId, type: 'proofing_abandoned' });
    const uid = returnUid(ctx);
    ctx.cookies.set(RETURN_COOKIE, null);
    go(ctx, uid ? `/interaction/${uid}` : '/account');
  });

  // ---- 1. what will be checked, and consent ----------------------------------------------
  router.get('/consent', async (ctx) => {
    const { state } = await at(ctx, 'consent');
    page(ctx, 'verify-consent', state, { step: 'consent',  title: ctx.state.t('verify.consent_title') });
  });

  router.post('/consent', async (ctx) => {
    const { state } = await at(ctx, 'consent');
    if (field(ctx, 'agree', 8) !== 'yes') return page(ctx, 'verify-consent', state, { step: 'consent',  title: ctx.state.t('verify.consent_title'), error: ctx.state.t('verify.error.consent_required') }, 400);
    await completeStep(pctx, state.session, 'consent');
    go(ctx, '/verify');
  });

  // ---- 2. identity document (and 6. facial match) -----------------------------------------
  router.get('/document', async (ctx) => {
    const { state } = await at(ctx, 'document');
    page(ctx, 'verify-document', state, { step: 'document', title: ctx.state.t('verify.document_title'), facialMatch: state.session.facialMatchRequired });
  });

  router.post('/document', async (ctx) => {
    const { state } = await at(ctx, 'document');
    const form = await parseMultipart(ctx, UPLOADS['/verify/document']);
    const again = (reason: string) => {
      if (reason === 'document_busy') ctx.set('Retry-After', String(BUSY_RETRY_SECONDS));
      page(ctx, 'verify-document', state, { step: 'document', title: ctx.state.t('verify.document_title'), facialMatch: state.session.facialMatchRequired, error: errorText(ctx, reason) }, TRY_LATER.has(reason) ? 503 : 400);
    };
    if (!form.files['front']?.length || !form.files['back']?.length) return again('document_missing');
    const result = await submitDocument(pctx, { state, front: form.files['front'], back: form.files['back'] });
    if (!result.ok) return again(`document_${result.reason}`);
    go(ctx, '/verify');
  });

  router.get('/facial-match', async (ctx) => {
    const { state } = await at(ctx, 'facial_match');
    page(ctx, 'verify-facial', state, { step: 'facial_match',  title: ctx.state.t('verify.facial_title') });
  });

  router.post('/facial-match', async (ctx) => {
    const { state } = await at(ctx, 'facial_match');
    const form = await parseMultipart(ctx, UPLOADS['/verify/facial-match']);
    const again = (reason: string) => page(ctx, 'verify-facial', state, { step: 'facial_match', title: ctx.state.t('verify.facial_title'), error: errorText(ctx, reason) }, TRY_LATER.has(reason) ? 503 : 400);
    if (!form.files['selfie']?.length) return again('facial_missing');
    const result = await submitFacialMatch(pctx, { state, selfie: form.files['selfie'] });
    if (!result.ok && result.reason === 'document_needed') go(ctx, '/verify');
    if (!result.ok) return again(`facial_${result.reason}`);
    go(ctx, '/verify');
  });

  // ---- 3. SSN and date of birth ----------------------------------------------------------
  const ssnPage = (ctx: Context, state: ProofingState, extra: Record<string, unknown> = {}, status = 200) =>
    page(ctx, 'verify-ssn', state, { step: 'ssn',  title: ctx.state.t('verify.ssn_title'), ...extra }, status);

  router.get('/ssn', async (ctx) => {
    const { state } = await at(ctx, 'ssn');
    ssnPage(ctx, state);
  });

  router.post('/ssn', async (ctx) => {
    const { state } = await at(ctx, 'ssn');
    const [m, d, y] = [field(ctx, 'dob_month', 2), field(ctx, 'dob_day', 2), field(ctx, 'dob_year', 4)].map((v) => v.trim());
    // Not a real day (Feb 30) is a format problem, never "does not match your ID".
    const parsed = parseMemorableDate(m!, d!, y!);
    const dob = parsed ? isoDate(parsed) : '';
    const result = await submitSsn(pctx, { state, ssn: field(ctx, 'ssn', 20), dateOfBirth: dob });
    if (!result.ok) return ssnPage(ctx, state, { error: errorText(ctx, result.reason), dob: { m, d, y } }, 400);
    go(ctx, '/verify');
  });

  // ---- 4. records check -----------------------------------------------------------------
  function recordsPage(ctx: Context, state: ProofingState, error?: string, status = 200) {
    const draft = readDraft(pctx, state.session);
    const doc = draft.document!;
    page(ctx, 'verify-records', state, { step: 'records', 
      title: ctx.state.t('verify.records_title'), error,
      summary: {
        name: [doc.firstName, doc.middleName, doc.lastName].filter(Boolean).join(' '), dob: doc.dateOfBirth,
        address: [doc.address.street1, doc.address.street2, `${doc.address.city}, ${doc.address.state} ${doc.address.postalCode}`].filter(Boolean),
        ssn: maskSsn(draft.ssn ?? ''),
      },
    }, status);
  }

  router.get('/records', async (ctx) => {
    const { state } = await at(ctx, 'records');
    recordsPage(ctx, state);
  });

  router.post('/records', async (ctx) => {
    const { state } = await at(ctx, 'records');
    const result = await checkRecords(pctx, { state });
    if (!result.ok) return recordsPage(ctx, state, errorText(ctx, `records_${result.reason}`), result.reason.endsWith('unavailable') ? 503 : 400);
    go(ctx, '/verify');
  });

  // ---- 5. phone or address possession ---------------------------------------------------
  const possessionPage = (ctx: Context, state: ProofingState, extra: Record<string, unknown> = {}, status = 200) =>
    page(ctx, 'verify-possession', state, { step: 'possession',  title: ctx.state.t('verify.possession_title'), ...extra }, status);

  router.get('/possession', async (ctx) => {
    const { state } = await at(ctx, 'possession');
    possessionPage(ctx, state);
  });

  router.post('/phone', async (ctx) => {
    const { state } = await at(ctx, 'possession');
    const phone = field(ctx, 'phone', 32);
    const destination = normalizeUsPhone(phone);
    if (!destination) return possessionPage(ctx, state, { error: errorText(ctx, 'phone_phone_format'), phone }, 400);
    const counted = await takeAll([[limits.smsAccount, state.session.accountId], [limits.smsPhone, destination]]);
    if (!counted.ok) return possessionPage(ctx, state, { error: ctx.state.t('verify.error.sms_limit', { when: nextTryAt(ctx, deps, counted) }), phone }, 429);
    const result = await sendPhoneCode(pctx, { state, phone, t: ctx.state.t });
    if (!result.ok) return possessionPage(ctx, state, { error: errorText(ctx, `phone_${result.reason}`), phone }, result.reason.endsWith('unavailable') ? 503 : 400);
    go(ctx, '/verify/code');
  });

  router.post('/letter', async (ctx) => {
    const { state } = await at(ctx, 'possession');
    const destination = letterDestination(pctx, state);
    if (!destination) return possessionPage(ctx, state, { error: errorText(ctx, 'letter_incomplete') }, 400);
    const counted = await takeAll([[limits.letterAccount, state.session.accountId], [limits.letterAddress, destination]]);
    if (!counted.ok) return possessionPage(ctx, state, { error: ctx.state.t('verify.error.letter_limit', { when: nextTryAt(ctx, deps, counted) }) }, 429);
    const result = await sendLetterCode(pctx, { state, t: ctx.state.t, url: `${config.issuer}/verify` });
    if (!result.ok) return possessionPage(ctx, state, { error: errorText(ctx, `letter_${result.reason}`) }, result.reason.endsWith('unavailable') ? 503 : 400);
    go(ctx, '/verify/code');
  });

  const codePage = (ctx: Context, state: ProofingState, extra: Record<string, unknown> = {}, status = 200) =>
    page(ctx, 'verify-code', state, { step: 'possession',  title: ctx.state.t('verify.code_title'), channel: state.session.codeChannel, ...extra }, status);

  router.get('/code', async (ctx) => {
    const { state } = await at(ctx, 'possession');
    if (!state.session.codeChannel) go(ctx, '/verify/possession');
    codePage(ctx, state);
  });

  router.post('/code', async (ctx) => {
    const { state } = await at(ctx, 'possession');
    const code = field(ctx, 'code', 32);
    const channel = state.session.codeChannel;
    // What cannot be the code that was sent guesses nothing: refused before it counts.
    if (channel && !isPossessionCodeShape(code, channel)) return codePage(ctx, state, { error: errorText(ctx, `code_format_${channel}`) }, 400);
    const counted = await takeAll([[limits.possessionCodeSource, ctx.ip], [limits.possessionCodeAccount, state.session.accountId]]);
    if (!counted.ok) return codePage(ctx, state, { error: ctx.state.t('verify.error.code_limit', { when: nextTryAt(ctx, deps, counted) }) }, 429);
    const result = await confirmPossessionCode(pctx, { state, code });
    if (!result.ok) return codePage(ctx, state, { error: errorText(ctx, `code_${result.reason}`) }, 400);
    go(ctx, '/verify');
  });

  // ---- 7. re-authenticate, then the personal key ----------------------------------------
  const reauthPage = (ctx: Context, state: ProofingState, error?: string) => page(ctx, 'reauth', state, { step: 'reauth', 
    title: ctx.state.t('verify.reauth_title'), lead: ctx.state.t('verify.reauth_lead'), scripts: WEBAUTHN_SCRIPTS, error,
    actions: { submit: '/verify/reauth', options: '/verify/reauth/options' }, langPath: '/verify/reauth',
  }, error ? 400 : 200);

  router.get('/reauth', async (ctx) => {
    const { state } = await at(ctx, 'reauth');
    reauthPage(ctx, state);
  });

  router.post('/reauth/options', async (ctx) => {
    const { session } = await at(ctx, 'reauth');
    ctx.body = await startAuthentication({ db: ds.manager, rp, bindingId: session.uid, accountId: session.accountId });
  });

  router.post('/reauth', async (ctx) => {
    const { session, state } = await at(ctx, 'reauth');
    const response = parseAuthenticationResponse(field(ctx, 'response', 65536));
    const result = response ? await finishAuthentication({ db: ds.manager, rp, bindingId: session.uid, response }) : undefined;
    // A failed assertion counts against its source, never the account (src/http/limits.ts).
    if (result && !result.ok && result.reason !== 'disabled') await limits.passkeyFailureSource.consume(ctx.ip);
    if (!result?.ok || result.accountId !== session.accountId) return reauthPage(ctx, state, ctx.state.t('reauth.failed'));
    const done = await ds.transaction((db) => completeProofing({ ...pctx, db }, { state }));
    if (!done.ok) go(ctx, '/verify');
    const uid = returnUid(ctx);
    ctx.cookies.set(RETURN_COOKIE, null);
    render(ctx, 'verify-personal-key', {
      title: ctx.state.t('verify.personal_key_title'), personalKey: done.personalKey,
      continueUrl: uid ? `/interaction/${uid}/continue` : '/account',
    });
  });

  return router;
}
