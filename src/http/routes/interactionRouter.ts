import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { confirmEmailCode, confirmedEmailFor } from '../../accounts/confirmEmailCode.js';
import { createAccount } from '../../accounts/createAccount.js';
import { normalizeEmail } from '../../accounts/normalizeEmail.js';
import { redeemRecoveryCode } from '../../accounts/recoveryCodes.js';
import { startEmailConfirmation } from '../../accounts/startEmailConfirmation.js';
import { recordEvent } from '../../audit/recordEvent.js';
import { type AchievedAssurance, chooseAcr } from '../../oidc/acr.js';
import { scopeDescriptionKey } from '../../oidc/claims.js';
import { Account, DelegatedGrant, Delegation, type Passkey } from '../../../entities/index.js';
import { delegationsForHelperAt } from '../../delegation/manageDelegations.js';
import { intersectScopes, parseList } from '../../delegation/policy.js';
import { recordDelegationEvent } from '../../delegation/recordDelegationEvent.js';
import { isLocale, translator } from '../../shared/i18n.js';
import { finishAuthentication } from '../../passkeys/finishAuthentication.js';
import { finishRegistration } from '../../passkeys/finishRegistration.js';
import { addPasskey } from '../../passkeys/managePasskeys.js';
import { deactivateForRecovery } from '../../proofing/verifiedProfiles.js';
import { startAuthentication } from '../../passkeys/startAuthentication.js';
import { startRegistration } from '../../passkeys/startRegistration.js';
import { AppError, NotFound } from '../../shared/errors.js';
import { clock } from '../../shared/clock.js';
import type { HttpDeps } from '../deps.js';
import { field } from '../formFields.js';
import { applyUiLocales } from '../middleware/locale.js';
import { createLimiter } from '../middleware/rateLimit.js';
import { parseAuthenticationResponse, parseRegistrationResponse } from '../parseWebAuthnResponse.js';
import { RedirectDone } from '../RedirectDone.js';
import { render, WEBAUTHN_SCRIPTS } from '../render.js';

type Details = Awaited<ReturnType<HttpDeps['provider']['interactionDetails']>>;

/** Assurance reached by a passkey with user verification: synced ones count at most AAL2. */
export function passkeyAssurance(passkey: Pick<Passkey, 'backupEligible'>): AchievedAssurance {
  return { ial: 1, aal: passkey.backupEligible ? 2 : 3, phishingResistant: true };
}

export function passkeyAmr(passkey: Pick<Passkey, 'backupEligible'>): string[] {
  return ['pop', passkey.backupEligible ? 'swk' : 'hwk', 'user'];
}


/**
 * Sign-in, sign-up, recovery and consent inside an authorization request (one oidc-provider
 * interaction). Every step checks that the interaction named in the URL is the one bound to
 * this browser's interaction cookie.
 */
export function interactionRouter(deps: HttpDeps): Router {
  const { provider, ds, config, keys, mailer, rp, metrics } = deps;
  const router = new Router({ prefix: '/interaction/:uid' });
  // Per-IP limits are generous (offices and carriers share addresses); per-account failures are
  // throttled separately (passkeys/throttle.ts) and per-address mail is strict.
  const ipMailLimiter = createLimiter({ store: deps.limitStore, keyPrefix: 'signup-mail-ip', points: Math.ceil(50 * config.rateLimitMultiplier), durationSeconds: 3600 });
  const addressMailLimiter = createLimiter({ store: deps.limitStore, keyPrefix: 'signup-mail-address', points: 5, durationSeconds: 3600 });
  const signInLimiter = createLimiter({ store: deps.limitStore, keyPrefix: 'sign-in', points: Math.ceil(300 * config.rateLimitMultiplier), durationSeconds: 300 });

  async function details(ctx: Context, expectPrompt?: string): Promise<Details> {
    const d = await provider.interactionDetails(ctx.req, ctx.res);
    if (d.uid !== ctx.params['uid']) throw new AppError('session_expired', { status: 400 });
    if (expectPrompt && d.prompt.name !== expectPrompt) throw new AppError('session_expired', { status: 400 });
    applyUiLocales(ctx, d.params['ui_locales']);
    return d;
  }

  async function clientName(d: Details): Promise<string> {
    const client = await provider.Client.find(String(d.params['client_id']));
    return client?.clientName ?? String(d.params['client_id']);
  }

  const paths = (uid: string) => ({
    self: `/interaction/${uid}`,
    options: `/interaction/${uid}/passkey/options`,
    passkey: `/interaction/${uid}/passkey`,
    signup: `/interaction/${uid}/signup`,
    signupCode: `/interaction/${uid}/signup/code`,
    signupPasskey: `/interaction/${uid}/signup/passkey`,
    recovery: `/interaction/${uid}/recovery`,
    recoveryPasskey: `/interaction/${uid}/recovery/passkey`,
    consent: `/interaction/${uid}/consent`,
    abort: `/interaction/${uid}/abort`,
  });

  // Results of one authorization's interactions add up (login, then whom one acts for, then
  // consent…): later prompts must not forget earlier answers.
  async function finishWith(ctx: Context, result: InteractionResults, merge = true): Promise<void> {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(to);
  }

  async function completeLogin(ctx: Context, d: Details, accountId: string, amr: string[], achieved: AchievedAssurance): Promise<void> {
    const clientId = String(d.params['client_id']);
    const method = amr.includes('otp') ? 'recovery_code' : 'passkey';
    await recordEvent({ db: ds.manager, accountId, type: 'signed_in', clientId, details: { method } });
    metrics.signIns.inc({ method, outcome: 'success' });
    await finishWith(ctx, {
      login: { accountId, amr, acr: chooseAcr(d.params['acr_values'] as string | undefined, achieved), remember: false, ts: clock.epoch() },
    });
  }

  function renderLogin(ctx: Context, d: Details, name: string, extra: Record<string, unknown> = {}, status = 200): void {
    const p = paths(d.uid);
    render(ctx, 'login', {
      title: ctx.state.t('login.title'), clientName: name, scripts: WEBAUTHN_SCRIPTS,
      actions: { options: p.options, passkey: p.passkey, signup: p.signup, recovery: p.recovery, abort: p.abort }, langPath: p.self, ...extra,
    }, status);
  }

  router.get('/', async (ctx) => {
    const d = await details(ctx);
    const name = await clientName(d);
    if (d.prompt.name === 'login') {
      const hint = typeof d.params['login_hint'] === 'string' ? normalizeEmail(d.params['login_hint']) : undefined;
      return renderLogin(ctx, d, name, { email: hint });
    }
    if (d.prompt.name === 'consent') {
      const det = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      const t = ctx.state.t;
      const items = [
        ...(det.missingOIDCScope ?? []).map((s) => { const k = scopeDescriptionKey(s); return k ? t(k) : s; }),
        ...(det.missingOIDCClaims ?? []).map((c) => (c === 'verified_claims' ? t('consent.claim_verified_claims') : t('consent.claim', { claim: c }))),
      ];
      const p = paths(d.uid);
      return render(ctx, 'consent', { title: t('consent.title', { client: name }), clientName: name, items, actions: { confirm: p.consent, abort: p.abort } });
    }
    if (d.prompt.name === 'assurance') return renderAssurance(ctx, d, name);
    if (d.prompt.name === 'actor') return renderActor(ctx, d, name);
    throw new NotFound();
  });

  // ---- whom the person acts for (delegation) ------------------------------------------------
  async function renderActor(ctx: Context, d: Details, name: string, error?: string) {
    const held = await delegationsForHelperAt({ db: ds.manager, helperId: d.session!.accountId, clientId: String(d.params['client_id']) });
    const t = ctx.state.t;
    render(ctx, 'actor', {
      title: t('actor.title'), clientName: name, error, langPath: paths(d.uid).self,
      people: held.map((h) => ({ id: h.delegation.id, email: h.principal.email, until: new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'long', timeZone: 'UTC' }).format(h.delegation.endsAt) })),
      actions: { submit: `${paths(d.uid).self}/actor`, abort: paths(d.uid).abort },
    }, error ? 400 : 200);
  }

  router.post('/actor', async (ctx) => {
    const d = await details(ctx, 'actor');
    const helperId = d.session!.accountId;
    const clientId = String(d.params['client_id']);
    const choice = field(ctx, 'actor', 64);
    if (choice === 'self') return finishWith(ctx, { actor: { self: true } } as InteractionResults, true);
    // Only a delegation this person holds, active now and covering this agency, can be chosen.
    const held = await delegationsForHelperAt({ db: ds.manager, helperId, clientId });
    const chosen = held.find((h) => h.delegation.id === choice);
    if (!chosen) return renderActor(ctx, d, await clientName(d), ctx.state.t('actor.invalid'));
    const client = await provider.Client.find(clientId);
    const requested = String(d.params['scope'] ?? 'openid').split(' ').filter(Boolean);
    const clientAllowed = (client?.scope ?? '').split(' ').filter(Boolean);
    const scopes = intersectScopes({ requested, clientAllowed, delegated: parseList(chosen.delegation.scopes) });
    // The delegation is the principal's consent: the grant holds exactly the intersection, and
    // everything else the agency asked for is rejected (so nobody is asked to consent to it).
    const grant = new provider.Grant({ accountId: helperId, clientId });
    grant.addOIDCScope(scopes.join(' '));
    const rejected = requested.filter((s) => !scopes.includes(s));
    if (rejected.length) grant.rejectOIDCScope(rejected.join(' '));
    const claimsParam = d.params['claims'] ? Object.keys((JSON.parse(String(d.params['claims'])) as { id_token?: object; userinfo?: object }).userinfo ?? {}).concat(Object.keys((JSON.parse(String(d.params['claims'])) as { id_token?: object }).id_token ?? {})) : [];
    if (claimsParam.length) grant.rejectOIDCClaims(claimsParam);
    const grantId = await grant.save();
    await ds.transaction(async (db) => {
      await db.getRepository(DelegatedGrant).insert({ grantId, delegationId: chosen.delegation.id, clientId, createdAt: clock.now() });
      await recordDelegationEvent({ db, delegationId: chosen.delegation.id, actorId: helperId, type: 'signed_in', clientId, details: { scopes } });
      await recordEvent({ db, accountId: chosen.principal.id, type: 'delegation_used', clientId, details: { kind: 'sign_in', scopes: scopes.join(' ') } });
    });
    await noteFirstUse(chosen.delegation.id, chosen.principal.id, helperId, clientId);
    await finishWith(ctx, { actor: { delegationId: chosen.delegation.id }, consent: { grantId } } as InteractionResults, true);
  });

  /** The principal gets a mail the first time a helper uses a delegation. */
  async function noteFirstUse(delegationId: string, principalId: string, helperId: string, clientId: string) {
    const res = await ds.getRepository(Delegation).createQueryBuilder().update().set({ firstUsedAt: clock.now() })
      .where('id = :id AND first_used_at IS NULL', { id: delegationId }).execute();
    if (!res.affected) return;
    const principal = await ds.getRepository(Account).findOneByOrFail({ id: principalId });
    const t = translator(isLocale(principal.locale) ? principal.locale : 'en');
    const client = await provider.Client.find(clientId);
    const helper = await ds.getRepository(Account).findOneByOrFail({ id: helperId });
    const params = { helper: helper.email, client: client?.clientName ?? clientId, url: `${config.issuer}/helpers` };
    await mailer.send({ to: principal.email, subject: t('mail.delegation_used.subject', params), text: t('mail.delegation_used.body', params) });
  }

  // ---- assurance step-up: identity verification (IAL2), stronger authentication (AAL) ------
  function wantedAal(d: Details): number {
    const det = d.prompt.details as { requirement?: { aal?: number; phishingResistant?: boolean } };
    return det.requirement?.aal ?? (det.requirement?.phishingResistant ? 2 : 1);
  }

  function renderAssurance(ctx: Context, d: Details, name: string, error?: string) {
    const p = paths(d.uid);
    const t = ctx.state.t;
    const det = d.prompt.details as { requirement?: { facialMatch?: boolean }; hasDeviceBoundPasskey?: boolean; helperIal?: number; principalIal?: number };
    // Acting for someone who is not verified: the helper cannot fix that here.
    if (d.prompt.reasons.includes('ial2_required') && det.principalIal === 1) {
      return render(ctx, 'stepup-unavailable', { title: t('stepup.principal_unverified_title'), heading: t('stepup.principal_unverified_title'), lead: t('stepup.principal_unverified_lead', { client: name }), clientName: name, actions: { unmet: `${p.self}/unmet` }, langPath: p.self });
    }
    if (d.prompt.reasons.includes('ial2_required')) {
      return render(ctx, 'verify-needed', {
        title: t('stepup.verify_title'), clientName: name, facialMatch: !!det.requirement?.facialMatch,
        actions: { start: `/verify?return=${encodeURIComponent(d.uid)}`, abort: p.abort }, langPath: p.self,
      });
    }
    const aal3 = wantedAal(d) >= 3;
    if (aal3 && !det.hasDeviceBoundPasskey) {
      return render(ctx, 'stepup-unavailable', { title: t('stepup.unavailable_title'), clientName: name, actions: { unmet: `${p.self}/unmet` }, langPath: p.self });
    }
    return render(ctx, 'stepup-passkey', {
      title: t('stepup.passkey_title'), clientName: name, lead: t(aal3 ? 'stepup.aal3_lead' : 'stepup.aal2_lead', { client: name }),
      scripts: WEBAUTHN_SCRIPTS, error, langPath: p.self,
      actions: { options: `${p.self}/stepup/options`, submit: `${p.self}/stepup`, abort: p.abort },
    }, error ? 400 : 200);
  }

  router.post('/stepup/options', async (ctx) => {
    const d = await details(ctx, 'assurance');
    await signInLimiter.consume(ctx.ip);
    ctx.set('cache-control', 'no-store');
    ctx.body = await startAuthentication({ db: ds.manager, rp, bindingId: d.uid, accountId: d.session!.accountId, deviceBoundOnly: wantedAal(d) >= 3 });
  });

  router.post('/stepup', async (ctx) => {
    const d = await details(ctx, 'assurance');
    await signInLimiter.consume(ctx.ip);
    const name = await clientName(d);
    const accountId = d.session!.accountId;
    const response = parseAuthenticationResponse(field(ctx, 'response', 65536));
    const result = response ? await finishAuthentication({ db: ds.manager, rp, bindingId: d.uid, response }) : undefined;
    const strongEnough = result?.ok && result.accountId === accountId && passkeyAssurance(result.passkey).aal >= wantedAal(d);
    if (!result?.ok || !strongEnough) {
      metrics.signIns.inc({ method: 'passkey', outcome: result && !result.ok && result.reason === 'locked' ? 'locked' : 'failure' });
      if (result && !result.ok && result.accountId) await recordEvent({ db: ds.manager, accountId: result.accountId, type: 'sign_in_failed', clientId: String(d.params['client_id']) });
      return renderAssurance(ctx, d, name, ctx.state.t(wantedAal(d) >= 3 ? 'stepup.aal3_failed' : 'login.failed'));
    }
    await completeLogin(ctx, d, accountId, passkeyAmr(result.passkey), passkeyAssurance(result.passkey));
  });

  // The person cannot reach what the agency asked for: the agency is told so (OIDC Core §3.1.2.6).
  router.post('/unmet', async (ctx) => {
    await details(ctx, 'assurance');
    await finishWith(ctx, { error: 'unmet_authentication_requirements', error_description: 'the End-User cannot meet the requested authentication requirements' });
  });

  // Back from identity verification: the policy runs again and finds IAL2 met.
  router.get('/continue', async (ctx) => {
    await details(ctx, 'assurance');
    await finishWith(ctx, { assurance: { checked: clock.epoch() } } as InteractionResults);
  });

  // ---- passkey sign-in -------------------------------------------------------------------
  router.post('/passkey/options', async (ctx) => {
    const d = await details(ctx, 'login');
    await signInLimiter.consume(ctx.ip);
    const email = normalizeEmail(field(ctx, 'email', 254));
    const account = email ? await ds.getRepository(Account).findOneBy({ email }) : null;
    ctx.set('cache-control', 'no-store');
    // A typed address answers alike whether or not it has an account: the same options (no
    // credential list), and a challenge only that account's passkey can answer — for an unknown
    // address an id no account has, so any passkey fails exactly as another account's would.
    ctx.body = await startAuthentication({ db: ds.manager, rp, bindingId: d.uid, accountId: account?.id ?? (email ? randomUUID() : undefined), listCredentials: false });
  });

  router.post('/passkey', async (ctx) => {
    const d = await details(ctx, 'login');
    await signInLimiter.consume(ctx.ip);
    const name = await clientName(d);
    const email = normalizeEmail(field(ctx, 'email', 254));
    const response = parseAuthenticationResponse(field(ctx, 'response', 65536));
    if (!response) return renderLogin(ctx, d, name, { email, error: ctx.state.t('login.needs_passkey') }, 400);
    const result = await finishAuthentication({ db: ds.manager, rp, bindingId: d.uid, response });
    if (!result.ok) {
      metrics.signIns.inc({ method: 'passkey', outcome: result.reason === 'locked' ? 'locked' : result.reason === 'disabled' ? 'disabled' : 'failure' });
      if (result.accountId) await recordEvent({ db: ds.manager, accountId: result.accountId, type: 'sign_in_failed', clientId: String(d.params['client_id']) });
      const key = result.reason === 'locked' ? 'login.locked' : result.reason === 'disabled' ? 'login.disabled' : 'login.failed';
      return renderLogin(ctx, d, name, { email, error: ctx.state.t(key) }, 400);
    }
    await completeLogin(ctx, d, result.accountId, passkeyAmr(result.passkey), passkeyAssurance(result.passkey));
  });

  // ---- sign-up: email → code → passkey → recovery codes ----------------------------------
  router.get('/signup', async (ctx) => {
    const d = await details(ctx, 'login');
    const p = paths(d.uid);
    render(ctx, 'signup-email', { title: ctx.state.t('signup.email_title'), actions: { submit: p.signup, back: p.self } });
  });

  router.post('/signup', async (ctx) => {
    const d = await details(ctx, 'login');
    const p = paths(d.uid);
    const raw = field(ctx, 'email', 320);
    const email = normalizeEmail(raw);
    if (!email) {
      return render(ctx, 'signup-email', { title: ctx.state.t('signup.email_title'), langPath: p.signup, actions: { submit: p.signup, back: p.self }, error: ctx.state.t('signup.invalid_email'), email: raw.slice(0, 254) }, 400);
    }
    await ipMailLimiter.consume(ctx.ip);
    await addressMailLimiter.consume(email);
    await startEmailConfirmation({ db: ds.manager, mailer, t: ctx.state.t, pepper: keys.secrets.pepper, bindingId: d.uid, email, signInUrl: `${config.issuer}/account` });
    ctx.status = 303;
    ctx.redirect(p.signupCode);
  });

  router.get('/signup/code', async (ctx) => {
    const d = await details(ctx, 'login');
    const p = paths(d.uid);
    render(ctx, 'signup-code', { title: ctx.state.t('signup.code_title'), actions: { submit: p.signupCode, restart: p.signup } });
  });

  router.post('/signup/code', async (ctx) => {
    const d = await details(ctx, 'login');
    const p = paths(d.uid);
    await signInLimiter.consume(ctx.ip);
    const result = await confirmEmailCode({ db: ds.manager, pepper: keys.secrets.pepper, bindingId: d.uid, code: field(ctx, 'code', 32) });
    if (!result.ok) {
      const key = { invalid: 'signup.code_invalid', expired: 'signup.code_expired', too_many_attempts: 'signup.code_too_many', no_pending: 'signup.code_missing' }[result.reason];
      return render(ctx, 'signup-code', { title: ctx.state.t('signup.code_title'), langPath: p.signupCode, actions: { submit: p.signupCode, restart: p.signup }, error: ctx.state.t(key) }, 400);
    }
    ctx.status = 303;
    ctx.redirect(p.signupPasskey);
  });

  async function requireConfirmedEmail(ctx: Context, d: Details): Promise<string> {
    const email = await confirmedEmailFor({ db: ds.manager, bindingId: d.uid });
    if (!email) {
      ctx.status = 303;
      ctx.redirect(paths(d.uid).signup);
      throw new RedirectDone();
    }
    return email;
  }

  function renderCreatePasskey(ctx: Context, heading: string, actions: { submit: string; options: string; cancel?: string }, extra: Record<string, unknown> = {}, status = 200) {
    render(ctx, 'passkey-create', { title: heading, heading, actions, scripts: WEBAUTHN_SCRIPTS, langPath: actions.submit, ...extra }, status);
  }

  router.get('/signup/passkey', async (ctx) => {
    const d = await details(ctx, 'login');
    await requireConfirmedEmail(ctx, d);
    const p = paths(d.uid);
    renderCreatePasskey(ctx, ctx.state.t('signup.passkey_title'), { submit: p.signupPasskey, options: `${p.signupPasskey}/options` });
  });

  router.post('/signup/passkey/options', async (ctx) => {
    const d = await details(ctx, 'login');
    const email = await requireConfirmedEmail(ctx, d);
    ctx.set('cache-control', 'no-store');
    ctx.body = await startRegistration({ db: ds.manager, rp, bindingId: d.uid, accountId: randomUUID(), userName: email, userDisplayName: email });
  });

  router.post('/signup/passkey', async (ctx) => {
    const d = await details(ctx, 'login');
    const email = await requireConfirmedEmail(ctx, d);
    const p = paths(d.uid);
    const again = (error: string) => renderCreatePasskey(ctx, ctx.state.t('signup.passkey_title'), { submit: p.signupPasskey, options: `${p.signupPasskey}/options` }, { error }, 400);
    const response = parseRegistrationResponse(field(ctx, 'response', 65536));
    if (!response) return again(ctx.state.t('passkey.failed'));
    const name = passkeyName(ctx, field(ctx, 'name', 200));
    const reg = await finishRegistration({ db: ds.manager, rp, bindingId: d.uid, response, name });
    if (!reg.ok) return again(ctx.state.t('passkey.failed'));
    const created = await ds.transaction((db) => createAccount({ db, pepper: keys.secrets.pepper, email, passkey: reg.passkey, locale: ctx.state.locale }));
    if (!created.ok) return again(ctx.state.t('signup.email_taken'));
    // The sign-in is recorded in the interaction now; "continue" resumes the authorization.
    const login = { accountId: created.account.id, amr: passkeyAmr(reg.passkey), acr: chooseAcr(d.params['acr_values'] as string | undefined, passkeyAssurance(reg.passkey)), remember: false, ts: clock.epoch() };
    const continueUrl = await provider.interactionResult(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false });
    await recordEvent({ db: ds.manager, accountId: created.account.id, type: 'signed_in', clientId: String(d.params['client_id']), details: { method: 'passkey' } });
    render(ctx, 'recovery-codes', { title: ctx.state.t('codes.title'), codes: created.recoveryCodes, continueUrl });
  });

  // ---- recovery code, then a new passkey ------------------------------------------------
  router.get('/recovery', async (ctx) => {
    const d = await details(ctx, 'login');
    const p = paths(d.uid);
    render(ctx, 'recovery', { title: ctx.state.t('recovery.title'), actions: { submit: p.recovery, back: p.self } });
  });

  router.post('/recovery', async (ctx) => {
    const d = await details(ctx, 'login');
    const p = paths(d.uid);
    await signInLimiter.consume(ctx.ip);
    const rawEmail = field(ctx, 'email', 320);
    const email = normalizeEmail(rawEmail);
    const code = field(ctx, 'code', 64);
    const result = email ? await redeemRecoveryCode({ db: ds.manager, pepper: keys.secrets.pepper, email, code }) : { ok: false as const, reason: 'invalid' as const };
    if (!result.ok) {
      metrics.signIns.inc({ method: 'recovery_code', outcome: result.reason === 'locked' ? 'locked' : result.reason === 'disabled' ? 'disabled' : 'failure' });
      // One answer for an unknown address, a wrong code and a locked account: "locked" would
      // tell a stranger that the address has an account. Only a correct code for a disabled
      // account says so (whoever holds it may know).
      return render(ctx, 'recovery', { title: ctx.state.t('recovery.title'), langPath: p.recovery, actions: { submit: p.recovery, back: p.self }, email: rawEmail.slice(0, 254), error: ctx.state.t(result.reason === 'disabled' ? 'recovery.disabled' : 'recovery.failed') }, 400);
    }
    await provider.interactionResult(ctx.req, ctx.res, { recovery: { accountId: result.accountId } } as InteractionResults, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(p.recoveryPasskey);
  });

  function recoveredAccount(d: Details): string {
    const id = (d.result as { recovery?: { accountId?: string } } | undefined)?.recovery?.accountId;
    if (!id) throw new AppError('session_expired', { status: 400 });
    return id;
  }

  router.get('/recovery/passkey', async (ctx) => {
    const d = await details(ctx, 'login');
    recoveredAccount(d);
    const p = paths(d.uid);
    renderCreatePasskey(ctx, ctx.state.t('passkey.recovery_title'), { submit: p.recoveryPasskey, options: `${p.recoveryPasskey}/options` });
  });

  router.post('/recovery/passkey/options', async (ctx) => {
    const d = await details(ctx, 'login');
    const accountId = recoveredAccount(d);
    const account = await ds.getRepository(Account).findOneByOrFail({ id: accountId });
    ctx.set('cache-control', 'no-store');
    ctx.body = await startRegistration({ db: ds.manager, rp, bindingId: d.uid, accountId, userName: account.email, userDisplayName: account.email });
  });

  router.post('/recovery/passkey', async (ctx) => {
    const d = await details(ctx, 'login');
    const accountId = recoveredAccount(d);
    const p = paths(d.uid);
    const again = () => renderCreatePasskey(ctx, ctx.state.t('passkey.recovery_title'), { submit: p.recoveryPasskey, options: `${p.recoveryPasskey}/options` }, { error: ctx.state.t('passkey.failed') }, 400);
    const response = parseRegistrationResponse(field(ctx, 'response', 65536));
    if (!response) return again();
    const reg = await finishRegistration({ db: ds.manager, rp, bindingId: d.uid, response, name: passkeyName(ctx, field(ctx, 'name', 200)) });
    if (!reg.ok || reg.accountId !== accountId) return again();
    await ds.transaction(async (db) => {
      await addPasskey({ db, passkey: reg.passkey });
      // Every passkey may be in someone else's hands: the verified identity waits for the personal key.
      await deactivateForRecovery({ db, accountId });
    });
    // A recovery code is a single-factor look-up secret: the session counts as AAL1.
    await completeLogin(ctx, d, accountId, ['otp'], { ial: 1, aal: 1, phishingResistant: false });
  });

  // ---- consent ---------------------------------------------------------------------------
  router.post('/consent', async (ctx) => {
    const d = await details(ctx, 'consent');
    const accountId = d.session?.accountId;
    if (!accountId) throw new AppError('session_expired', { status: 400 });
    const clientId = String(d.params['client_id']);
    const det = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ accountId, clientId });
    if (!grant) throw new AppError('session_expired', { status: 400 });
    if (det.missingOIDCScope) grant.addOIDCScope(det.missingOIDCScope.join(' '));
    if (det.missingOIDCClaims) grant.addOIDCClaims(det.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(det.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await recordEvent({ db: ds.manager, accountId, type: 'consent_granted', clientId, details: { scopes: (det.missingOIDCScope ?? []).join(' ') } });
    await finishWith(ctx, { consent: d.grantId ? {} : { grantId } }, true);
  });

  router.post('/abort', async (ctx) => {
    await details(ctx);
    await finishWith(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  return router;
}

function passkeyName(ctx: Context, raw: string): string {
  const name = raw.trim().slice(0, 64);
  return name || ctx.state.t('passkey.default_name', { date: clock.now().toISOString().slice(0, 10) });
}
