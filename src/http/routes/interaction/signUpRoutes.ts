import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { confirmEmailCode, confirmedEmailFor, isEmailCodeShape, pendingEmailFor } from '../../../accounts/confirmEmailCode.js';
import { createAccount } from '../../../accounts/createAccount.js';
import { normalizeEmail } from '../../../accounts/normalizeEmail.js';
import { startEmailConfirmation } from '../../../accounts/startEmailConfirmation.js';
import { recordEvent } from '../../../audit/recordEvent.js';
import { chooseAcr } from '../../../oidc/acr.js';
import { withAccountChosen } from '../../../oidc/selectAccountPrompt.js';
import { finishRegistration } from '../../../passkeys/finishRegistration.js';
import { passkeyAmr, passkeyAssurance } from '../../../passkeys/passkeyAssurance.js';
import { startRegistration } from '../../../passkeys/startRegistration.js';
import { clock } from '../../../shared/clock.js';
import { field } from '../../formFields.js';
import { nextTryAt } from '../../limits.js';
import { parseRegistrationResponse } from '../../parseWebAuthnResponse.js';
import { createLimiter } from '../../middleware/rateLimit.js';
import { RedirectDone } from '../../RedirectDone.js';
import { render } from '../../render.js';
import { type Details, type InteractionKit, interactionPaths as paths } from './interactionKit.js';
import { renderCreatePasskey } from './renderCreatePasskey.js';

/** Sign-up inside an authorization: email → code → passkey → recovery codes, then on to the agency. */
export function signUpRoutes(kit: InteractionKit): Router {
  const { provider, ds, config, keys, mailer, rp, attestationTrust: trust } = kit.deps;
  const router = new Router({ prefix: '/interaction/:uid' });
  // Per-IP limits are generous (offices and carriers share addresses); per-address mail is strict.
  const ipMailLimiter = createLimiter({ store: kit.deps.limitStore, keyPrefix: 'signup-mail-ip', points: Math.ceil(50 * config.rateLimitMultiplier), durationSeconds: 3600 });
  const addressMailLimiter = createLimiter({ store: kit.deps.limitStore, keyPrefix: 'signup-mail-address', points: 5, durationSeconds: 3600 });

  router.get('/signup', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    const p = paths(d.uid);
    render(ctx, 'signup-email', { title: ctx.state.t('signup.email_title'), actions: { submit: p.signup, back: p.self } });
  });

  router.post('/signup', async (ctx) => {
    const d = await kit.details(ctx, 'login');
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
    const d = await kit.details(ctx, 'login');
    const p = paths(d.uid);
    render(ctx, 'signup-code', { title: ctx.state.t('signup.code_title'), actions: { submit: p.signupCode, restart: p.signup } });
  });

  router.post('/signup/code', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    const p = paths(d.uid);
    await kit.signInLimiter.consume(ctx.ip);
    const code = field(ctx, 'code', 32);
    const again = (error: string, status = 400) => render(ctx, 'signup-code', { title: ctx.state.t('signup.code_title'), langPath: p.signupCode, actions: { submit: p.signupCode, restart: p.signup }, error }, status);
    // What cannot be a code guesses nothing: refused before it counts.
    if (!isEmailCodeShape(code)) return again(ctx.state.t('signup.code_format'));
    await kit.limits.emailCodeSource.consume(ctx.ip);
    // Per address too, counted alike whether or not it has an account: a new flow (and a new
    // code) per try would otherwise make the five tries per code endless.
    const address = await pendingEmailFor({ db: ds.manager, bindingId: d.uid });
    if (address) {
      const counted = await kit.limits.emailCodeAddress.take(address);
      if (!counted.ok) return again(ctx.state.t('signup.code_address_limit', { when: nextTryAt(ctx, kit.deps, counted) }), 429);
    }
    const result = await confirmEmailCode({ db: ds.manager, pepper: keys.secrets.pepper, bindingId: d.uid, code });
    if (!result.ok) {
      const key = { malformed: 'signup.code_format', invalid: 'signup.code_invalid', expired: 'signup.code_expired', too_many_attempts: 'signup.code_too_many', no_pending: 'signup.code_missing' }[result.reason];
      return again(ctx.state.t(key));
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

  const passkeyActions = (uid: string) => ({ submit: paths(uid).signupPasskey, options: `${paths(uid).signupPasskey}/options` });

  router.get('/signup/passkey', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    await requireConfirmedEmail(ctx, d);
    renderCreatePasskey(ctx, ctx.state.t('signup.passkey_title'), passkeyActions(d.uid));
  });

  router.post('/signup/passkey/options', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    const email = await requireConfirmedEmail(ctx, d);
    ctx.set('cache-control', 'no-store');
    ctx.body = await startRegistration({ db: ds.manager, rp, bindingId: d.uid, accountId: randomUUID(), userName: email, userDisplayName: email });
  });

  router.post('/signup/passkey', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    const email = await requireConfirmedEmail(ctx, d);
    const again = (error: string) => renderCreatePasskey(ctx, ctx.state.t('signup.passkey_title'), passkeyActions(d.uid), { error }, 400);
    const response = parseRegistrationResponse(field(ctx, 'response', 65536));
    if (!response) return again(ctx.state.t('passkey.failed'));
    const reg = await finishRegistration({ db: ds.manager, rp, bindingId: d.uid, response, name: kit.passkeyName(ctx, field(ctx, 'name', 200)), trust });
    if (!reg.ok) return again(ctx.state.t('passkey.failed'));
    // The sign-in is recorded in the interaction (Redis, when configured) before the account's
    // transaction commits: if Redis fails, the account is rolled back and trying again creates
    // it, instead of leaving an account whose person never saw their recovery codes.
    const outcome = await ds.transaction(async (db) => {
      const created = await createAccount({ db, pepper: keys.secrets.pepper, email, passkey: reg.passkey, locale: ctx.state.locale });
      if (!created.ok) return undefined;
      // "continue" resumes the authorization.
      const login = { accountId: created.account.id, amr: passkeyAmr({ passkey: reg.passkey, trust }), acr: chooseAcr(d.params['acr_values'] as string | undefined, passkeyAssurance({ passkey: reg.passkey, trust })), remember: false, ts: clock.epoch() };
      const continueUrl = await provider.interactionResult(ctx.req, ctx.res, withAccountChosen(d.params['prompt'], { login }), { mergeWithLastSubmission: false });
      return { created, continueUrl };
    });
    if (!outcome) return again(ctx.state.t('signup.email_taken'));
    const { created, continueUrl } = outcome;
    await recordEvent({ db: ds.manager, accountId: created.account.id, type: 'signed_in', clientId: String(d.params['client_id']), details: { method: 'passkey' } });
    render(ctx, 'recovery-codes', { title: ctx.state.t('codes.title'), codes: created.recoveryCodes, continueUrl });
  });

  return router;
}
