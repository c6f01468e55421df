import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { recordEvent } from '../../../audit/recordEvent.js';
import { finishAuthentication } from '../../../passkeys/finishAuthentication.js';
import { offersAal3, passkeyAmr, passkeyAssurance } from '../../../passkeys/passkeyAssurance.js';
import { startAuthentication } from '../../../passkeys/startAuthentication.js';
import { clock } from '../../../shared/clock.js';
import { field } from '../../formFields.js';
import { parseAuthenticationResponse } from '../../parseWebAuthnResponse.js';
import { render, WEBAUTHN_SCRIPTS } from '../../render.js';
import { type Details, type InteractionKit, interactionPaths as paths } from './interactionKit.js';

/** The authenticator level the agency asked for, from the assurance prompt's details. */
function wantedAal(d: Details): number {
  const det = d.prompt.details as { requirement?: { aal?: number; phishingResistant?: boolean } };
  return det.requirement?.aal ?? (det.requirement?.phishingResistant ? 2 : 1);
}

/**
 * Assurance step-up inside an authorization: identity verification (IAL2), or a stronger passkey
 * (AAL2 after a recovery code, an attested hardware security key for AAL3). When the person cannot reach what
 * the agency asked for, they see what to do and the agency gets the matching error.
 */
export function assuranceRoutes(kit: InteractionKit): Router & { renderAssurance(ctx: Context, d: Details, name: string, error?: string): void } {
  const { ds, rp, metrics, attestationTrust: trust } = kit.deps;
  const router = new Router({ prefix: '/interaction/:uid' });

  function renderAssurance(ctx: Context, d: Details, name: string, error?: string) {
    const p = paths(d.uid);
    const t = ctx.state.t;
    const det = d.prompt.details as { requirement?: { facialMatch?: boolean }; hasAal3Passkey?: boolean; helperIal?: number; principalIal?: number };
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
    if (aal3 && !det.hasAal3Passkey) {
      // Without a hardware-protected model in the operator's trust store no security key can help: no steps to follow.
      const lead = offersAal3(trust) ? undefined : t('stepup.aal3_not_offered', { client: name });
      return render(ctx, 'stepup-unavailable', { title: t('stepup.unavailable_title'), clientName: name, lead, actions: { unmet: `${p.self}/unmet` }, langPath: p.self });
    }
    return render(ctx, 'stepup-passkey', {
      title: t('stepup.passkey_title'), clientName: name, lead: t(aal3 ? 'stepup.aal3_lead' : 'stepup.aal2_lead', { client: name }),
      scripts: WEBAUTHN_SCRIPTS, error, langPath: p.self,
      actions: { options: `${p.self}/stepup/options`, submit: `${p.self}/stepup`, abort: p.abort },
    }, error ? 400 : 200);
  }

  router.post('/stepup/options', async (ctx) => {
    const d = await kit.details(ctx, 'assurance');
    await kit.signInLimiter.consume(ctx.ip);
    ctx.set('cache-control', 'no-store');
    ctx.body = await startAuthentication({ db: ds.manager, rp, bindingId: d.uid, accountId: d.session!.accountId, aal3Under: wantedAal(d) >= 3 ? trust : undefined });
  });

  router.post('/stepup', async (ctx) => {
    const d = await kit.details(ctx, 'assurance');
    await kit.signInLimiter.consume(ctx.ip);
    const name = await kit.clientName(d);
    const accountId = d.session!.accountId;
    const response = parseAuthenticationResponse(field(ctx, 'response', 65536));
    const result = response ? await finishAuthentication({ db: ds.manager, rp, bindingId: d.uid, response }) : undefined;
    const strongEnough = result?.ok && result.accountId === accountId && passkeyAssurance({ passkey: result.passkey, trust }).aal >= wantedAal(d);
    if (!result?.ok || !strongEnough) {
      // A failed assertion counts against its source, never the account (src/http/limits.ts).
      if (result && !result.ok && result.reason !== 'disabled') await kit.limits.passkeyFailureSource.consume(ctx.ip);
      metrics.signIns.inc({ method: 'passkey', outcome: 'failure' });
      if (result && !result.ok && result.accountId) await recordEvent({ db: ds.manager, accountId: result.accountId, type: 'sign_in_failed', clientId: String(d.params['client_id']) });
      return renderAssurance(ctx, d, name, ctx.state.t(wantedAal(d) >= 3 ? 'stepup.aal3_failed' : 'login.failed'));
    }
    await kit.completeLogin(ctx, d, accountId, passkeyAmr({ passkey: result.passkey, trust }), passkeyAssurance({ passkey: result.passkey, trust }));
  });

  // The person cannot reach what the agency asked for: the agency is told so (OIDC Core §3.1.2.6).
  router.post('/unmet', async (ctx) => {
    await kit.details(ctx, 'assurance');
    await kit.finishWith(ctx, { error: 'unmet_authentication_requirements', error_description: 'the End-User cannot meet the requested authentication requirements' });
  });

  // Back from identity verification: the policy runs again and finds IAL2 met.
  router.get('/continue', async (ctx) => {
    await kit.details(ctx, 'assurance');
    await kit.finishWith(ctx, { assurance: { checked: clock.epoch() } } as InteractionResults);
  });

  return Object.assign(router, { renderAssurance });
}
