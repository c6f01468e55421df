import Router from '@koa/router';
import { normalizeEmail } from '../../accounts/normalizeEmail.js';
import { recordEvent } from '../../audit/recordEvent.js';
import { scopeDescriptionKey } from '../../oidc/claims.js';
import { delegationLinkOf } from '../../oidc/delegatedAuthorization.js';
import type { InteractionResults } from 'oidc-provider';
import { getAccount } from '../../accounts/getAccount.js';
import { AppError, BadInput, NotFound } from '../../shared/errors.js';
import { field } from '../formFields.js';
import type { HttpDeps } from '../deps.js';
import { render } from '../render.js';
import { actorRoutes } from './interaction/actorRoutes.js';
import { assuranceRoutes } from './interaction/assuranceRoutes.js';
import { interactionKit, interactionPaths as paths } from './interaction/interactionKit.js';
import { signInRoutes } from './interaction/signInRoutes.js';
import { signUpRoutes } from './interaction/signUpRoutes.js';

/**
 * One oidc-provider interaction: the page for whatever the provider asks next (sign in, whom to
 * act for, a stronger assurance, consent), and one router per flow under /interaction/:uid.
 */
export function interactionRouter(deps: HttpDeps): Router {
  const { provider, ds } = deps;
  const kit = interactionKit(deps);
  const actor = actorRoutes(kit);
  const assurance = assuranceRoutes(kit);
  const router = new Router({ prefix: '/interaction/:uid' });

  router.get('/', async (ctx) => {
    const d = await kit.details(ctx);
    const name = await kit.clientName(d);
    if (d.prompt.name === 'login') {
      const hint = typeof d.params['login_hint'] === 'string' ? normalizeEmail(d.params['login_hint']) : undefined;
      return kit.renderLogin(ctx, d, name, { email: hint });
    }
    if (d.prompt.name === 'consent') {
      const det = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      const t = ctx.state.t;
      const items = [
        ...(det.missingOIDCScope ?? []).map((s) => { const k = scopeDescriptionKey(s); return k ? t(k) : s; }),
        ...(det.missingOIDCClaims ?? []).map((c) => (c === 'verified_claims' ? t('consent.claim_verified_claims') : t('consent.claim', { claim: c }))),
      ];
      const p = paths(d.uid);
      // A native app (RFC 8252): the person is told it is the app on their device they sign in to.
      const nativeApp = (await provider.Client.find(String(d.params['client_id'])))?.applicationType === 'native';
      return render(ctx, 'consent', { title: t('consent.title', { client: name }), clientName: name, nativeApp, items, actions: { confirm: p.consent, abort: p.abort } });
    }
    if (d.prompt.name === 'select_account') {
      const account = await getAccount({ db: ds.manager, accountId: d.session!.accountId });
      const p = paths(d.uid);
      return render(ctx, 'select-account', { title: ctx.state.t('select_account.title', { client: name }), clientName: name, email: account.email, actions: { submit: `${p.self}/select-account`, abort: p.abort }, langPath: p.self });
    }
    if (d.prompt.name === 'assurance') return assurance.renderAssurance(ctx, d, name);
    if (d.prompt.name === 'actor') return actor.renderActor(ctx, d, name);
    throw new NotFound();
  });

  router.post('/consent', async (ctx) => {
    const d = await kit.details(ctx, 'consent');
    const accountId = d.session?.accountId;
    if (!accountId) throw new AppError('session_expired', { status: 400 });
    const clientId = String(d.params['client_id']);
    const det = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    // Consent is the person's own: a helper acting for someone never sees this page (the
    // delegation is the principal's consent, and its grant's scopes are the delegation's, fixed).
    if ((d.result as { actor?: { delegationId?: string } } | undefined)?.actor?.delegationId) throw new AppError('session_expired', { status: 400 });
    const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ accountId, clientId });
    if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) throw new AppError('session_expired', { status: 400 });
    if (d.grantId && await delegationLinkOf(ds, d.grantId)) throw new AppError('session_expired', { status: 400 });
    if (det.missingOIDCScope) grant.addOIDCScope(det.missingOIDCScope.join(' '));
    if (det.missingOIDCClaims) grant.addOIDCClaims(det.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(det.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await recordEvent({ db: ds.manager, accountId, type: 'consent_granted', clientId, details: { scopes: (det.missingOIDCScope ?? []).join(' ') } });
    await kit.finishWith(ctx, { consent: d.grantId ? {} : { grantId } }, true);
  });

  // prompt=select_account: continue with the signed-in account, or sign in with another one.
  router.post('/select-account', async (ctx) => {
    await kit.details(ctx, 'select_account');
    const choice = field(ctx, 'choice', 16);
    if (choice !== 'continue' && choice !== 'switch') throw new BadInput('bad_request', 'choice');
    await kit.finishWith(ctx, { select_account: choice === 'continue' ? { continue: true } : { switch: true } } as InteractionResults, true);
  });

  router.post('/abort', async (ctx) => {
    await kit.details(ctx);
    await kit.finishWith(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  const all = new Router();
  all.use(router.routes(), signInRoutes(kit).routes(), signUpRoutes(kit).routes(), actor.routes(), assurance.routes());
  return all;
}
