import Router from '@koa/router';
import type { Context } from 'koa';
import type { Account, Delegation } from '../../../entities/index.js';
import { nameOf } from '../../delegation/delegationMail.js';
import { findDelegation } from '../../delegation/findDelegation.js';
import { listDelegationAgencies } from '../../delegation/listDelegationAgencies.js';
import {
  answerInvitation, answerRequest, checkTerms, invitationForHelper, inviteHelper, isInvitationCodeShape, listDelegations, requestAccess,
  type DelegationTerms, type DelegationView, type TermsProblem,
} from '../../delegation/manageDelegations.js';
import { ALL_AGENCIES, DELEGATION_RULES, isActive, parseList } from '../../delegation/policy.js';
import { normalizeEmail } from '../../accounts/normalizeEmail.js';
import type { SignedInSession } from '../../oidc/accountSessions.js';
import { endDelegation } from '../../oidc/endDelegation.js';
import { finishAuthentication } from '../../passkeys/finishAuthentication.js';
import { startAuthentication } from '../../passkeys/startAuthentication.js';
import { clock } from '../../shared/clock.js';
import { BadInput, Forbidden } from '../../shared/errors.js';
import type { Translate } from '../../shared/i18n.js';
import { requireSignedIn } from '../requireSignedIn.js';
import { delegationDeps, type HttpDeps } from '../deps.js';
import { body, field } from '../formFields.js';
import { createLimits, nextTryAt, takeAll } from '../limits.js';
import { parseAuthenticationResponse } from '../parseWebAuthnResponse.js';
import { RedirectDone } from '../RedirectDone.js';
import { render, WEBAUTHN_SCRIPTS } from '../render.js';
import { agencyWords, describe, fmtDate, type Perspective, scopeWords } from './delegationWords.js';
import { parseMemorableDate } from '../parseMemorableDate.js';

const NOTICES = ['invited', 'requested', 'invitation_accepted', 'invitation_declined', 'approved', 'request_declined', 'revoked'];
const ERRORS = ['request_closed'];

type Agency = { clientId: string; name: string };
/** A form problem: the message key under `helpers.error.` and the field it is about (a spent limit says when to try again, with 429). */
type Problem = { code: TermsProblem | 'end_date_invalid' | 'email_invalid' | 'self' | 'self_invitation' | 'wider' | 'reauth' | 'code_invalid' | 'code_format' | 'mail_limit'; field: string; when?: string };

const FIELD_OF: Record<TermsProblem, string> = {
  no_agencies: 'agencies', no_scopes: 'scopes', scope_not_delegable: 'scopes', ends_too_soon: 'end_date', ends_too_late: 'end_date',
};

/** Every value of a repeatable form field (checkboxes); anything that is not a short string is a bad request. */
function list(ctx: Context, name: string, maxItems = 50): string[] {
  const v = body(ctx)[name];
  if (v === undefined || v === null || v === '') return [];
  const values = Array.isArray(v) ? v : [v];
  if (values.length > maxItems || values.some((x) => typeof x !== 'string' || x.length > 200)) throw new BadInput('bad_request', name);
  return [...new Set(values as string[])];
}

/** A month/day/year (USWDS memorable date) as the end of that day, UTC; undefined when it is not a real date. */
function parseEndDate(m: string, d: string, y: string): Date | undefined {
  const date = parseMemorableDate(m, d, y);
  return date ? new Date(Date.UTC(date.year, date.month - 1, date.day, 23, 59, 59)) : undefined;
}

function dateParts(d: Date): { m: string; d: string; y: string } {
  return { m: String(d.getUTCMonth() + 1), d: String(d.getUTCDate()), y: String(d.getUTCFullYear()) };
}

/**
 * Helpers: a person lets someone they trust act for them at agencies that allow it, within
 * limits they set, and sees and ends everything that helper does; or asks someone to let them
 * help. Every page acts only for the signed-in person, as principal or as helper, on their own
 * delegations — never for the person they help (no nested delegation, no reach into the
 * principal's account). Giving access (inviting, approving) needs a fresh passkey confirmation.
 */
export function delegationRouter(deps: HttpDeps): Router {
  const { provider, ds, keys, rp } = deps;
  const router = new Router({ prefix: '/helpers' });
  const limits = createLimits(deps);

  const requireSession = (ctx: Context) => requireSignedIn(deps, ctx);

  async function reauthenticated(ctx: Context, session: SignedInSession): Promise<boolean> {
    const response = parseAuthenticationResponse(field(ctx, 'response', 65536));
    if (!response) return false;
    const result = await finishAuthentication({ db: ds.manager, rp, bindingId: session.uid, response });
    // A failed assertion counts against its source, never the account (src/http/limits.ts).
    if (!result.ok && result.reason !== 'disabled') await limits.passkeyFailureSource.consume(ctx.ip);
    return result.ok && result.accountId === session.accountId;
  }

  const agencies = async (): Promise<Agency[]> => listDelegationAgencies({ db: ds.manager });

  // ---- the overview ------------------------------------------------------------------------
  router.get('/', async (ctx) => {
    const { me } = await requireSession(ctx);
    const t = ctx.state.t as Translate;
    const [{ given, held }, known] = await Promise.all([listDelegations({ db: ds.manager, accountId: me.id }), agencies()]);
    const names = new Map(known.map((a) => [a.clientId, a.name]));
    const notice = typeof ctx.query['notice'] === 'string' && NOTICES.includes(ctx.query['notice']) ? t(`helpers.notice.${ctx.query['notice']}`) : undefined;
    const error = typeof ctx.query['error'] === 'string' && ERRORS.includes(ctx.query['error']) ? t(`helpers.error.${ctx.query['error']}`) : undefined;
    render(ctx, 'helpers', {
      title: t('helpers.title'),
      notice, error,
      requests: given.filter((v) => v.delegation.status === 'requested').map((v) => describe(ctx, v, me, names, 'principal')),
      given: given.filter((v) => v.delegation.status !== 'requested').map((v) => describe(ctx, v, me, names, 'principal')),
      held: held.map((v) => describe(ctx, v, me, names, 'helper')),
    });
  });

  // ---- a fresh passkey confirmation, for the forms that give access -------------------------
  router.post('/reauth/options', async (ctx) => {
    const { session } = await requireSession(ctx);
    ctx.body = await startAuthentication({ db: ds.manager, rp, bindingId: session.uid, accountId: session.accountId });
  });

  // ---- the terms form (invite, request, approve) ----------------------------------------------
  interface FormValues { email?: string; agencies: string[]; scopes: string[]; end: { m: string; d: string; y: string } }

  function readForm(ctx: Context, withEmail: boolean): FormValues {
    return {
      ...(withEmail ? { email: field(ctx, 'email', 254).trim() } : {}),
      agencies: list(ctx, 'agencies'),
      scopes: list(ctx, 'scopes'),
      end: { m: field(ctx, 'end_month', 2).trim(), d: field(ctx, 'end_day', 2).trim(), y: field(ctx, 'end_year', 4).trim() },
    };
  }

  /** The terms a form asks for, or the first problem with them (nothing is written either way). */
  function termsOf(values: FormValues, enabled: readonly string[]): { terms: DelegationTerms } | { problem: Problem } {
    const endsAt = parseEndDate(values.end.m, values.end.d, values.end.y);
    // An unreadable date is reported after the other fields (in the form's order); a day ahead stands in for it.
    const terms = { clientIds: values.agencies, scopes: values.scopes, endsAt: endsAt ?? new Date(clock.nowMs() + 86400 * 1000) };
    const p = checkTerms(terms, enabled);
    if (p) return { problem: { code: p, field: FIELD_OF[p] } };
    if (!endsAt) return { problem: { code: 'end_date_invalid', field: 'end_date' } };
    return { terms };
  }

  function problemText(t: Translate, p: Problem): string {
    return t(`helpers.error.${p.code}`, { years: Math.floor(DELEGATION_RULES.maxDurationDays / 365), days: DELEGATION_RULES.maxDurationDays, when: p.when ?? '' });
  }

  type Mode = 'invite' | 'request' | 'approve';

  function formPage(ctx: Context, opts: {
    mode: Mode; values: FormValues; problem?: Problem | undefined;
    agencyChoices: Array<{ value: string; label: string }>; scopeChoices: readonly string[];
    request?: ReturnType<typeof describe> | undefined;
  }): void {
    const t = ctx.state.t as Translate;
    const { mode, values, problem } = opts;
    const perspective: Perspective = mode === 'request' ? 'helper' : 'principal';
    const action = mode === 'approve' ? `/helpers/${encodeURIComponent(opts.request!.ref)}/answer` : `/helpers/${mode}`;
    render(ctx, 'helpers-form', {
      title: t(`helpers.${mode}.title`),
      mode, action,
      lead: t(`helpers.${mode}.lead`, { email: opts.request?.other ?? '' }),
      reauth: mode !== 'request',
      scripts: mode !== 'request' ? WEBAUTHN_SCRIPTS : [],
      optionsUrl: '/helpers/reauth/options',
      email: values.email ?? '',
      request: opts.request,
      agencyChoices: opts.agencyChoices.map((a) => ({ ...a, checked: values.agencies.includes(a.value) })),
      scopeChoices: opts.scopeChoices.map((s) => ({ value: s, label: scopeWords(t, s, perspective), checked: values.scopes.includes(s) })),
      end: values.end,
      maxYears: Math.floor(DELEGATION_RULES.maxDurationDays / 365),
      error: problem ? problemText(t, problem) : undefined,
      errorField: problem?.field,
      langPath: mode === 'approve' ? action : `/helpers/${mode}`,
    }, problem ? (problem.when ? 429 : 400) : 200);
  }

  /**
   * Counts a mail to `email` against the sender and against the address (every sender together),
   * so nobody can use OneDoor to fill someone's inbox; a problem saying when to try again if spent.
   */
  async function mailAllowed(ctx: Context, me: Account, email: string): Promise<Problem | undefined> {
    const counted = await takeAll([[limits.helperMailAccount, me.id], [limits.helperMailAddress, email]]);
    return counted.ok ? undefined : { code: 'mail_limit', field: 'email', when: nextTryAt(ctx, deps, counted) };
  }

  async function allAgencyChoices(t: Translate): Promise<{ enabled: string[]; choices: Array<{ value: string; label: string }> }> {
    const known = await agencies();
    return { enabled: known.map((a) => a.clientId), choices: [{ value: ALL_AGENCIES, label: t('helpers.every_agency') }, ...known.map((a) => ({ value: a.clientId, label: a.name }))] };
  }

  const emptyForm = (): FormValues => ({ email: '', agencies: [], scopes: [], end: { m: '', d: '', y: '' } });

  // ---- principal invites a helper ------------------------------------------------------------
  router.get('/invite', async (ctx) => {
    await requireSession(ctx);
    const { choices } = await allAgencyChoices(ctx.state.t);
    formPage(ctx, { mode: 'invite', values: emptyForm(), agencyChoices: choices, scopeChoices: DELEGATION_RULES.delegableScopes });
  });

  router.post('/invite', async (ctx) => {
    const { session, me } = await requireSession(ctx);
    const values = readForm(ctx, true);
    const { enabled, choices } = await allAgencyChoices(ctx.state.t);
    const page = (problem: Problem) => formPage(ctx, { mode: 'invite', values, problem, agencyChoices: choices, scopeChoices: DELEGATION_RULES.delegableScopes });
    const email = normalizeEmail(values.email);
    if (!email) return page({ code: 'email_invalid', field: 'email' });
    if (email === me.email) return page({ code: 'self', field: 'email' });
    const checked = termsOf(values, enabled);
    if ('problem' in checked) return page(checked.problem);
    if (!(await reauthenticated(ctx, session))) return page({ code: 'reauth', field: 'reauth' });
    const limited = await mailAllowed(ctx, me, email);
    if (limited) return page(limited);
    const result = await ds.transaction((db) => inviteHelper(delegationDeps(deps, db), { principalId: me.id, helperEmail: email, terms: checked.terms }));
    if (!result.ok) return page({ code: 'self', field: 'email' });
    ctx.status = 303;
    ctx.redirect('/helpers?notice=invited');
  });

  // ---- helper asks a person for access -------------------------------------------------------
  router.get('/request', async (ctx) => {
    await requireSession(ctx);
    const { choices } = await allAgencyChoices(ctx.state.t);
    formPage(ctx, { mode: 'request', values: emptyForm(), agencyChoices: choices, scopeChoices: DELEGATION_RULES.delegableScopes });
  });

  router.post('/request', async (ctx) => {
    const { me } = await requireSession(ctx);
    const values = readForm(ctx, true);
    const { enabled, choices } = await allAgencyChoices(ctx.state.t);
    const page = (problem: Problem) => formPage(ctx, { mode: 'request', values, problem, agencyChoices: choices, scopeChoices: DELEGATION_RULES.delegableScopes });
    const email = normalizeEmail(values.email);
    if (!email) return page({ code: 'email_invalid', field: 'email' });
    if (email === me.email) return page({ code: 'self', field: 'email' });
    const checked = termsOf(values, enabled);
    if ('problem' in checked) return page(checked.problem);
    const limited = await mailAllowed(ctx, me, email);
    if (limited) return page(limited);
    const result = await ds.transaction((db) => requestAccess(delegationDeps(deps, db), { helperId: me.id, principalEmail: email, terms: checked.terms }));
    if (!result.ok) return page({ code: 'self', field: 'email' });
    ctx.status = 303;
    ctx.redirect('/helpers?notice=requested');
  });

  // ---- helper answers an invitation (the code only ever travels in form bodies) ----------
  const codePage = (ctx: Context, problem?: Problem) => render(ctx, 'helpers-accept', {
    title: ctx.state.t('helpers.accept.title'),
    error: problem ? problemText(ctx.state.t, problem) : undefined, errorField: problem?.field, langPath: '/helpers/accept',
  }, problem ? 400 : 200);

  /**
   * An invitation for another address: said plainly on its own page, the same for reading the
   * offer and for answering it, and without the inviter, the terms or the invited address.
   */
  const otherAddressPage = (ctx: Context, me: Account) => render(ctx, 'helpers-other-address', {
    title: ctx.state.t('helpers.other_address.title'), email: me.email, langPath: '/helpers/accept',
  }, 403);

  /** Renders what stops this helper using an invitation (nothing changes and the code is not spent). */
  function refuseInvitation(ctx: Context, me: Account, reason: 'invalid' | 'self' | 'other_address'): void {
    if (reason === 'other_address') return otherAddressPage(ctx, me);
    codePage(ctx, { code: reason === 'self' ? 'self_invitation' : 'code_invalid', field: 'code' });
  }

  /** The open invitation a posted code names, for this helper; renders why not when there is none. */
  async function invitationFor(ctx: Context, me: Account): Promise<Delegation | undefined> {
    const code = field(ctx, 'code', 64);
    // What cannot be a code guesses nothing: refused before it counts.
    if (!isInvitationCodeShape(code)) { codePage(ctx, { code: 'code_format', field: 'code' }); return undefined; }
    // Invitation codes carry ~60 bits, but guesses still cost: counted per source and per account.
    await limits.invitationCodeSource.consume(ctx.ip);
    await limits.invitationCodeAccount.consume(me.id);
    const open = await invitationForHelper({ db: ds.manager, pepper: keys.secrets.pepper }, { helperId: me.id, code });
    if (!open.ok) { refuseInvitation(ctx, me, open.reason); return undefined; }
    return open.delegation;
  }

  router.get('/accept', async (ctx) => {
    await requireSession(ctx);
    codePage(ctx);
  });

  router.post('/accept', async (ctx) => {
    const { me } = await requireSession(ctx);
    const d = await invitationFor(ctx, me);
    if (!d) return;
    const t = ctx.state.t as Translate;
    const principal = await nameOf(ds.manager, d.principalId);
    const names = new Map((await agencies()).map((a) => [a.clientId, a.name]));
    render(ctx, 'helpers-offer', {
      title: t('helpers.offer.title', { email: principal }),
      principal,
      agencies: agencyWords(t, names, parseList(d.clientIds)),
      scopes: parseList(d.scopes).map((s) => scopeWords(t, s, 'helper')),
      until: fmtDate(ctx, d.endsAt),
      code: field(ctx, 'code', 64),
      langPath: '/helpers/accept',
    });
  });

  router.post('/accept/answer', async (ctx) => {
    const { me } = await requireSession(ctx);
    const decision = field(ctx, 'decision', 16);
    if (decision !== 'accept' && decision !== 'decline') throw new BadInput('bad_request', 'decision');
    const d = await invitationFor(ctx, me);
    if (!d) return;
    const result = await ds.transaction((db) => answerInvitation(delegationDeps(deps, db), { helperId: me.id, code: field(ctx, 'code', 64), accept: decision === 'accept' }));
    if (!result.ok) return refuseInvitation(ctx, me, result.reason);
    ctx.status = 303;
    ctx.redirect(decision === 'accept' ? '/helpers?notice=invitation_accepted' : '/helpers?notice=invitation_declined');
  });

  // ---- principal answers a helper's request ----------------------------------------------------
  /**
   * The request behind `:id`, when the signed-in person is the one it asks (by account, or by
   * email while they had none when it was sent). Anyone else — the helper who asked included —
   * is refused: a helper never approves their own access.
   */
  async function requestFor(ctx: Context, me: Account): Promise<Delegation> {
    const id = String(ctx.params['id'] ?? '');
    const d = await findDelegation({ db: ds.manager, id });
    const asksMe = !!d && d.helperId !== me.id && (d.principalId === me.id || (d.principalId === null && d.inviteeEmail === me.email));
    if (!d || !asksMe) throw new Forbidden();
    if (d.status !== 'requested') {
      ctx.status = 303;
      ctx.redirect('/helpers?error=request_closed');
      throw new RedirectDone();
    }
    return d;
  }

  async function approvePage(ctx: Context, me: Account, d: Delegation, values: FormValues | undefined, problem?: Problem): Promise<void> {
    const t = ctx.state.t as Translate;
    const known = await agencies();
    const names = new Map(known.map((a) => [a.clientId, a.name]));
    const asked = parseList(d.clientIds);
    // Never wider than asked: only what was asked is offered (every agency when "every agency" was).
    const choices = asked.includes(ALL_AGENCIES)
      ? [{ value: ALL_AGENCIES, label: t('helpers.every_agency') }, ...known.map((a) => ({ value: a.clientId, label: a.name }))]
      : asked.map((c) => ({ value: c, label: names.get(c) ?? c }));
    const askedScopes = parseList(d.scopes);
    const helperEmail = await nameOf(ds.manager, d.helperId);
    const view: DelegationView = {
      delegation: d, principalEmail: me.email, helperEmail, clientIds: asked, scopes: askedScopes, active: isActive(d, clock.now()), events: [],
    };
    formPage(ctx, {
      mode: 'approve', problem,
      values: values ?? { agencies: asked, scopes: askedScopes, end: dateParts(d.endsAt) },
      agencyChoices: choices,
      scopeChoices: askedScopes,
      request: describe(ctx, view, me, names, 'principal'),
    });
  }

  router.get('/:id/answer', async (ctx) => {
    const { me } = await requireSession(ctx);
    const d = await requestFor(ctx, me);
    await approvePage(ctx, me, d, undefined);
  });

  router.post('/:id/answer', async (ctx) => {
    const { session, me } = await requireSession(ctx);
    const d = await requestFor(ctx, me);
    const decision = field(ctx, 'decision', 16);
    if (decision === 'decline') {
      await ds.transaction((db) => answerRequest(delegationDeps(deps, db), { principalId: me.id, delegationId: d.id, approve: false }));
      ctx.status = 303;
      ctx.redirect('/helpers?notice=request_declined');
      return;
    }
    if (decision !== 'approve') throw new BadInput('bad_request', 'decision');
    const values = readForm(ctx, false);
    const checked = termsOf(values, (await agencies()).map((a) => a.clientId));
    if ('problem' in checked) return approvePage(ctx, me, d, values, checked.problem);
    // Keeping the asked end date keeps its exact moment (the form only shows the day).
    const sameDay = dateParts(d.endsAt);
    const terms = sameDay.y === values.end.y.replace(/^0+/, '') && sameDay.m === values.end.m.replace(/^0+/, '') && sameDay.d === values.end.d.replace(/^0+/, '')
      ? { ...checked.terms, endsAt: d.endsAt }
      : checked.terms;
    if (!(await reauthenticated(ctx, session))) return approvePage(ctx, me, d, values, { code: 'reauth', field: 'reauth' });
    const result = await ds.transaction((db) => answerRequest(delegationDeps(deps, db), { principalId: me.id, delegationId: d.id, approve: true, terms }));
    if (!result.ok) {
      if (result.reason === 'wider') return approvePage(ctx, me, d, values, { code: 'wider', field: 'scopes' });
      if (result.reason in FIELD_OF) return approvePage(ctx, me, d, values, { code: result.reason as TermsProblem, field: FIELD_OF[result.reason as TermsProblem] });
      ctx.status = 303;
      ctx.redirect('/helpers?error=request_closed');
      return;
    }
    ctx.status = 303;
    ctx.redirect('/helpers?notice=approved');
  });

  // ---- either side ends it --------------------------------------------------------------------
  router.post('/:id/revoke', async (ctx) => {
    const { me } = await requireSession(ctx);
    const id = String(ctx.params['id'] ?? '');
    const d = await findDelegation({ db: ds.manager, id });
    if (!d || (d.principalId !== me.id && d.helperId !== me.id)) throw new Forbidden();
    const ok = await endDelegation({ provider, ds, deps: delegationDeps(deps), actorId: me.id, delegationId: d.id });
    if (!ok) throw new Forbidden();
    ctx.status = 303;
    ctx.redirect('/helpers?notice=revoked');
  });

  return router;
}
