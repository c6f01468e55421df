import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { recordEvent } from '../../../audit/recordEvent.js';
import { type AchievedAssurance, chooseAcr } from '../../../oidc/acr.js';
import { withAccountChosen } from '../../../oidc/selectAccountPrompt.js';
import { AppError } from '../../../shared/errors.js';
import { clock } from '../../../shared/clock.js';
import type { HttpDeps } from '../../deps.js';
import { createLimits, type Limits } from '../../limits.js';
import { applyUiLocales } from '../../middleware/locale.js';
import { createLimiter, type Limiter } from '../../middleware/rateLimit.js';
import { render, WEBAUTHN_SCRIPTS } from '../../render.js';

export type Details = Awaited<ReturnType<HttpDeps['provider']['interactionDetails']>>;

/** The URLs of one interaction's pages and form actions. */
export function interactionPaths(uid: string) {
  return {
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
  };
}

export interface InteractionKit {
  deps: HttpDeps;
  /** The interaction bound to this browser, which must be the one named in the URL (and at `expectPrompt`). */
  details(ctx: Context, expectPrompt?: string): Promise<Details>;
  clientName(d: Details): Promise<string>;
  /** Ends this step; results of one authorization's steps add up unless `merge` is false. */
  finishWith(ctx: Context, result: InteractionResults, merge?: boolean): Promise<void>;
  /** Records a successful sign-in and hands it to the provider. */
  completeLogin(ctx: Context, d: Details, accountId: string, amr: string[], achieved: AchievedAssurance): Promise<void>;
  renderLogin(ctx: Context, d: Details, name: string, extra?: Record<string, unknown>, status?: number): void;
  /** The name a person gave a new passkey, or a dated default. */
  passkeyName(ctx: Context, raw: string): string;
  /** Per-IP limit on sign-in attempts (generous: offices and carriers share addresses). */
  signInLimiter: Limiter;
  /** Limits on guessing and sending (src/http/limits.ts). */
  limits: Limits;
}

/**
 * What every step of an interaction (sign-in, sign-up, recovery, whom one acts for, step-up,
 * consent) shares. Every step checks that the interaction named in the URL is the one bound to
 * this browser's interaction cookie.
 */
export function interactionKit(deps: HttpDeps): InteractionKit {
  const { provider, ds, config, metrics } = deps;

  async function details(ctx: Context, expectPrompt?: string): Promise<Details> {
    const d = await provider.interactionDetails(ctx.req, ctx.res);
    if (d.uid !== ctx.params['uid']) throw new AppError('session_expired', { status: 400 });
    if (expectPrompt && d.prompt.name !== expectPrompt) throw new AppError('session_expired', { status: 400 });
    // ui_locales (OIDC Core §3.1.2.1), or Login.gov's own `locale` parameter.
    applyUiLocales(ctx, d.params['ui_locales'] ?? d.params['locale']);
    return d;
  }

  async function clientName(d: Details): Promise<string> {
    const client = await provider.Client.find(String(d.params['client_id']));
    return client?.clientName ?? String(d.params['client_id']);
  }

  async function finishWith(ctx: Context, result: InteractionResults, merge = true): Promise<void> {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(to);
  }

  async function completeLogin(ctx: Context, d: Details, accountId: string, amr: string[], achieved: AchievedAssurance): Promise<void> {
    const clientId = String(d.params['client_id']);
    const method = amr.includes('otp') ? 'recovery_code' : 'passkey';
    // Redis (the interaction) first, the database second: a Redis failure leaves no "signed in"
    // event for a sign-in that did not happen.
    await finishWith(ctx, withAccountChosen(d.params['prompt'], {
      login: { accountId, amr, acr: chooseAcr(d.params['acr_values'] as string | undefined, achieved), remember: false, ts: clock.epoch() },
    }));
    await recordEvent({ db: ds.manager, accountId, type: 'signed_in', clientId, details: { method } });
    metrics.signIns.inc({ method, outcome: 'success' });
  }

  function renderLogin(ctx: Context, d: Details, name: string, extra: Record<string, unknown> = {}, status = 200): void {
    const p = interactionPaths(d.uid);
    render(ctx, 'login', {
      title: ctx.state.t('login.title'), clientName: name, scripts: WEBAUTHN_SCRIPTS,
      actions: { options: p.options, passkey: p.passkey, signup: p.signup, recovery: p.recovery, abort: p.abort }, langPath: p.self, ...extra,
    }, status);
  }

  function passkeyName(ctx: Context, raw: string): string {
    const name = raw.trim().slice(0, 64);
    return name || ctx.state.t('passkey.default_name', { date: clock.now().toISOString().slice(0, 10) });
  }

  const signInLimiter = createLimiter({ store: deps.limitStore, keyPrefix: 'sign-in', points: Math.ceil(300 * config.rateLimitMultiplier), durationSeconds: 300 });
  return { deps, details, clientName, finishWith, completeLogin, renderLogin, passkeyName, signInLimiter, limits: createLimits(deps) };
}
