import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { findAccountByEmail } from '../../../accounts/findAccountByEmail.js';
import { getAccount } from '../../../accounts/getAccount.js';
import { normalizeEmail } from '../../../accounts/normalizeEmail.js';
import { recoveryAlertFor } from '../../../accounts/recoveryAlertFor.js';
import { isRecoveryCodeShape, redeemRecoveryCode } from '../../../accounts/recoveryCodes.js';
import { recordEvent } from '../../../audit/recordEvent.js';
import { finishAuthentication } from '../../../passkeys/finishAuthentication.js';
import { finishRegistration } from '../../../passkeys/finishRegistration.js';
import { addPasskey } from '../../../passkeys/managePasskeys.js';
import { passkeyAmr, passkeyAssurance } from '../../../passkeys/passkeyAssurance.js';
import { startAuthentication } from '../../../passkeys/startAuthentication.js';
import { startRegistration } from '../../../passkeys/startRegistration.js';
import { deactivateForRecovery } from '../../../proofing/verifiedProfiles.js';
import { endAssuredGrants } from '../../../oidc/endAssuredGrants.js';
import { AppError } from '../../../shared/errors.js';
import { isLocale, translator } from '../../../shared/i18n.js';
import { logger } from '../../../shared/logger.js';
import { field } from '../../formFields.js';
import { parseAuthenticationResponse, parseRegistrationResponse } from '../../parseWebAuthnResponse.js';
import { render } from '../../render.js';
import { type Details, type InteractionKit, interactionPaths as paths } from './interactionKit.js';
import { renderCreatePasskey } from './renderCreatePasskey.js';

/**
 * Signing in inside an authorization: with a passkey (discoverable, or email-first for a passkey
 * on another device), or — every passkey lost — with a recovery code, then a new passkey.
 */
export function signInRoutes(kit: InteractionKit): Router {
  const { ds, keys, rp, metrics, mailer, config, attestationTrust: trust } = kit.deps;
  const router = new Router({ prefix: '/interaction/:uid' });
  const mailT = (locale: string) => translator(isLocale(locale) ? locale : 'en');

  router.post('/passkey/options', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    await kit.signInLimiter.consume(ctx.ip);
    const email = normalizeEmail(field(ctx, 'email', 254));
    const account = email ? await findAccountByEmail({ db: ds.manager, email }) : null;
    ctx.set('cache-control', 'no-store');
    // A typed address answers alike whether or not it has an account: the same options (no
    // credential list), and a challenge only that account's passkey can answer — for an unknown
    // address an id no account has, so any passkey fails exactly as another account's would.
    ctx.body = await startAuthentication({ db: ds.manager, rp, bindingId: d.uid, accountId: account?.id ?? (email ? randomUUID() : undefined), listCredentials: false });
  });

  router.post('/passkey', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    await kit.signInLimiter.consume(ctx.ip);
    const name = await kit.clientName(d);
    const email = normalizeEmail(field(ctx, 'email', 254));
    const response = parseAuthenticationResponse(field(ctx, 'response', 65536));
    if (!response) return kit.renderLogin(ctx, d, name, { email, error: ctx.state.t('login.needs_passkey') }, 400);
    const result = await finishAuthentication({ db: ds.manager, rp, bindingId: d.uid, response });
    if (!result.ok) {
      // Counted against the source, never the account, and only once verification failed: a
      // valid passkey is never refused (src/http/limits.ts). Past its count the source gets 429
      // and its failures no longer reach the person's history.
      if (result.reason !== 'disabled') await kit.limits.passkeyFailureSource.consume(ctx.ip);
      metrics.signIns.inc({ method: 'passkey', outcome: result.reason === 'disabled' ? 'disabled' : 'failure' });
      if (result.accountId) await recordEvent({ db: ds.manager, accountId: result.accountId, type: 'sign_in_failed', clientId: String(d.params['client_id']) });
      return kit.renderLogin(ctx, d, name, { email, error: ctx.state.t(result.reason === 'disabled' ? 'login.disabled' : 'login.failed') }, 400);
    }
    await kit.completeLogin(ctx, d, result.accountId, passkeyAmr({ passkey: result.passkey, trust }), passkeyAssurance({ passkey: result.passkey, trust }));
  });

  // ---- recovery code, then a new passkey ------------------------------------------------
  router.get('/recovery', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    const p = paths(d.uid);
    render(ctx, 'recovery', { title: ctx.state.t('recovery.title'), actions: { submit: p.recovery, back: p.self } });
  });

  router.post('/recovery', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    const p = paths(d.uid);
    await kit.signInLimiter.consume(ctx.ip);
    const rawEmail = field(ctx, 'email', 320);
    const email = normalizeEmail(rawEmail);
    const code = field(ctx, 'code', 64);
    const again = (error: string) => render(ctx, 'recovery', { title: ctx.state.t('recovery.title'), langPath: p.recovery, actions: { submit: p.recovery, back: p.self }, email: rawEmail.slice(0, 254), error }, 400);
    // What cannot be an address and a code is refused before anything counts (it guesses nothing).
    if (!email) return again(ctx.state.t('signup.invalid_email'));
    if (!isRecoveryCodeShape(code)) return again(ctx.state.t('recovery.code_format'));
    // Counted per source before the address is looked up, so the count says nothing about it.
    await kit.limits.recoveryCodeSource.consume(ctx.ip);
    const result = await redeemRecoveryCode({ db: ds.manager, pepper: keys.secrets.pepper, email, code });
    if (!result.ok) {
      const alert = result.triedAccountId ? await recoveryAlertFor({ db: ds.manager, t: mailT, accountId: result.triedAccountId, accountUrl: `${config.issuer}/account` }) : undefined;
      // Sent in the background: a slow mail server must not make a known address answer slower.
      if (alert) void mailer.send(alert).catch((err: Error) => logger.warn({ error: err.name }, 'recovery code alert failed'));
      metrics.signIns.inc({ method: 'recovery_code', outcome: result.reason === 'locked' ? 'locked' : result.reason === 'disabled' ? 'disabled' : 'failure' });
      // One answer for an unknown address, a wrong code and paused codes: "paused" would tell a
      // stranger that the address has an account. Only a correct code for a disabled account
      // says so (whoever holds it may know).
      return again(ctx.state.t(result.reason === 'disabled' ? 'recovery.disabled' : result.reason === 'malformed' ? 'recovery.code_format' : 'recovery.failed'));
    }
    await kit.deps.provider.interactionResult(ctx.req, ctx.res, { recovery: { accountId: result.accountId } } as InteractionResults, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(p.recoveryPasskey);
  });

  function recoveredAccount(d: Details): string {
    const id = (d.result as { recovery?: { accountId?: string } } | undefined)?.recovery?.accountId;
    if (!id) throw new AppError('session_expired', { status: 400 });
    return id;
  }

  const recoveryPasskeyActions = (uid: string) => ({ submit: paths(uid).recoveryPasskey, options: `${paths(uid).recoveryPasskey}/options` });

  router.get('/recovery/passkey', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    recoveredAccount(d);
    renderCreatePasskey(ctx, ctx.state.t('passkey.recovery_title'), recoveryPasskeyActions(d.uid));
  });

  router.post('/recovery/passkey/options', async (ctx) => {
    const d = await kit.details(ctx, 'login');
    const accountId = recoveredAccount(d);
    const account = await getAccount({ db: ds.manager, accountId });
    ctx.set('cache-control', 'no-store');
    ctx.body = await startRegistration({ db: ds.manager, rp, bindingId: d.uid, accountId, userName: account.email, userDisplayName: account.email });
  });

  router.post('/recovery/passkey', async (ctx: Context) => {
    const d = await kit.details(ctx, 'login');
    const accountId = recoveredAccount(d);
    const again = () => renderCreatePasskey(ctx, ctx.state.t('passkey.recovery_title'), recoveryPasskeyActions(d.uid), { error: ctx.state.t('passkey.failed') }, 400);
    const response = parseRegistrationResponse(field(ctx, 'response', 65536));
    if (!response) return again();
    const reg = await finishRegistration({ db: ds.manager, rp, bindingId: d.uid, response, name: kit.passkeyName(ctx, field(ctx, 'name', 200)), trust });
    if (!reg.ok || reg.accountId !== accountId) return again();
    const setAside = await ds.transaction(async (db) => {
      await addPasskey({ db, passkey: reg.passkey });
      // Every passkey may be in someone else's hands: the verified identity waits for the personal key.
      return deactivateForRecovery({ db, accountId });
    });
    if (setAside) await endAssuredGrants({ provider: kit.deps.provider, ds, accountId });
    // A recovery code is a single-factor look-up secret: the session counts as AAL1.
    await kit.completeLogin(ctx, d, accountId, ['otp'], { ial: 1, aal: 1, phishingResistant: false });
  });

  return router;
}
