import Router from '@koa/router';
import type { Context } from 'koa';
import { recordEvent } from '../../audit/recordEvent.js';
import { approvePhoneRequest } from '../../oidc/approvePhoneRequest.js';
import { type PhoneRefusal, refusePhoneRequest } from '../../oidc/refusePhoneRequest.js';
import { type PhoneRequestView, reviewPhoneRequest } from '../../oidc/reviewPhoneRequest.js';
import { scopeDescriptionKey } from '../../oidc/claims.js';
import { finishAuthentication } from '../../passkeys/finishAuthentication.js';
import { startAuthentication } from '../../passkeys/startAuthentication.js';
import { NotFound } from '../../shared/errors.js';
import { delegationDeps, type HttpDeps } from '../deps.js';
import { field } from '../formFields.js';
import { createLimits } from '../limits.js';
import { parseAuthenticationResponse } from '../parseWebAuthnResponse.js';
import { render, WEBAUTHN_SCRIPTS } from '../render.js';
import { requireSignedIn } from '../requireSignedIn.js';

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The refusals, by the path their button posts to. */
const REFUSALS: Record<string, PhoneRefusal> = { deny: 'denied', 'not-me': 'not_me', unmet: 'unmet' };

/** What the approval page says when an approval cannot go through (the request stays open). */
const APPROVAL_PROBLEMS = { not_delegable: 'phone.actor_invalid', ial2: 'phone.ial2_unmet', aal3: 'phone.aal3_failed' } as const;

const paths = (id: string) => ({
  self: `/phone/${id}`, options: `/phone/${id}/options`, approve: `/phone/${id}/approve`,
  deny: `/phone/${id}/deny`, notMe: `/phone/${id}/not-me`, unmet: `/phone/${id}/unmet`,
});

/**
 * The person's side of an agency's phone request (CIBA): the approval page, reached from the
 * link in the mail or text message, or from the top of the account page. Signed in with their
 * passkey, the person sees the agency, the binding message the agent read, what will be shared
 * and a warning; they approve with their passkey (as themself or, at an agency that allows it, for
 * a person they help), decline, say they did not call, or — when the agency asks for more than
 * their account has — tell it they cannot.
 */
export function phoneRouter(deps: HttpDeps): Router {
  const { provider, ds, rp, attestationTrust: trust, metrics } = deps;
  const router = new Router({ prefix: '/phone' });
  const limits = createLimits(deps);

  function requestId(ctx: Context): string {
    const id = String(ctx.params['id']);
    if (!REQUEST_ID.test(id)) throw new NotFound();
    return id;
  }

  const when = (ctx: Context, d: Date) => `${new Intl.DateTimeFormat(ctx.state.locale, { timeStyle: 'short', timeZone: 'UTC' }).format(d)} UTC`;

  function renderRequest(ctx: Context, view: PhoneRequestView, error?: string) {
    const t = ctx.state.t;
    const name = view.clientName;
    render(ctx, 'phone-request', {
      title: t('phone.title', { client: name }), clientName: name, bindingMessage: view.bindingMessage,
      shared: [...view.scopes.map((s) => { const k = scopeDescriptionKey(s); return k ? t(k) : s; }), ...view.claims.map((c) => (c === 'verified_claims' ? t('consent.claim_verified_claims') : t('consent.claim', { claim: c })))],
      expires: when(ctx, view.expiresAt), blocker: view.assessment.blocker, facialMatch: !!view.assessment.requirement.facialMatch,
      people: view.people.map((p) => ({ id: p.delegationId, email: p.email, meets: p.meets, until: new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'long', timeZone: 'UTC' }).format(p.until) })),
      actions: paths(view.id), scripts: view.assessment.blocker ? [] : WEBAUTHN_SCRIPTS, error, langPath: paths(view.id).self,
    }, error ? 400 : 200);
  }

  /** The page after an answer, or for a request that can no longer be answered. */
  function renderOutcome(ctx: Context, outcome: string, clientName: string) {
    const t = ctx.state.t;
    render(ctx, 'phone-done', { title: t(`phone.outcome.${outcome}.title`, { client: clientName }), outcome, lead: t(`phone.outcome.${outcome}.lead`, { client: clientName }) });
  }

  /** The request as the approval page shows it, with `error` when something the person sent did not go through. */
  async function show(ctx: Context, accountId: string, id: string, error?: string) {
    const reviewed = await reviewPhoneRequest({ provider, ds, trust, accountId, requestId: id });
    if (!reviewed.ok && reviewed.reason === 'not_found') throw new NotFound();
    if (!reviewed.ok) return renderOutcome(ctx, reviewed.status, reviewed.clientName);
    return renderRequest(ctx, reviewed.view, error);
  }

  router.get('/:id', async (ctx) => {
    const id = requestId(ctx);
    const { session } = await requireSignedIn(deps, ctx);
    await show(ctx, session.accountId, id);
  });

  // Passkey options for the approval: only this person's passkeys, and only those meeting AAL3 when the agency asks for it.
  router.post('/:id/options', async (ctx) => {
    const id = requestId(ctx);
    const { session } = await requireSignedIn(deps, ctx);
    const reviewed = await reviewPhoneRequest({ provider, ds, trust, accountId: session.accountId, requestId: id });
    if (!reviewed.ok) throw new NotFound();
    const aal3 = (reviewed.view.assessment.requirement.aal ?? 1) >= 3;
    ctx.body = await startAuthentication({ db: ds.manager, rp, bindingId: `phone:${id}`, accountId: session.accountId, aal3Under: aal3 ? trust : undefined });
  });

  router.post('/:id/approve', async (ctx) => {
    const id = requestId(ctx);
    const { session } = await requireSignedIn(deps, ctx);
    const t = ctx.state.t;
    const actor = field(ctx, 'actor', 64) || 'self';
    const response = parseAuthenticationResponse(field(ctx, 'response', 65536));
    const result = response ? await finishAuthentication({ db: ds.manager, rp, bindingId: `phone:${id}`, response }) : undefined;
    if (!result?.ok || result.accountId !== session.accountId) {
      // A failed assertion counts against its source, never the account (src/http/limits.ts).
      if (result && !result.ok && result.reason !== 'disabled') await limits.passkeyFailureSource.consume(ctx.ip);
      if (result && !result.ok && result.accountId) await recordEvent({ db: ds.manager, accountId: result.accountId, type: 'sign_in_failed' });
      metrics.signIns.inc({ method: 'passkey', outcome: 'failure' });
      return show(ctx, session.accountId, id, t(response ? 'phone.passkey_failed' : 'login.needs_passkey'));
    }
    const approved = await approvePhoneRequest({ provider, ds, trust, delegationDeps: delegationDeps(deps), accountId: session.accountId, requestId: id, actor, passkey: result.passkey });
    if (approved.ok) return renderOutcome(ctx, 'approved', approved.clientName);
    if (approved.reason === 'not_found' || approved.reason === 'closed') return show(ctx, session.accountId, id);
    return show(ctx, session.accountId, id, t(APPROVAL_PROBLEMS[approved.reason]));
  });

  for (const [action, answer] of Object.entries(REFUSALS)) {
    router.post(`/:id/${action}`, async (ctx) => {
      const id = requestId(ctx);
      const { session } = await requireSignedIn(deps, ctx);
      const refused = await refusePhoneRequest({ provider, ds, accountId: session.accountId, requestId: id, answer });
      if (refused.ok) return renderOutcome(ctx, answer, refused.clientName);
      return show(ctx, session.accountId, id);
    });
  }

  return router;
}
