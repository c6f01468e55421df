import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { delegationsForHelperAt } from '../../../delegation/manageDelegations.js';
import { noteFirstUse } from '../../../delegation/noteFirstUse.js';
import { grantForDelegation, requestedClaimNames } from '../../../oidc/grantForDelegation.js';
import { delegationDeps } from '../../deps.js';
import { field } from '../../formFields.js';
import { render } from '../../render.js';
import { type Details, type InteractionKit, interactionPaths as paths } from './interactionKit.js';

/** A helper signing in at an agency that allows it chooses whom they act for: themself or someone they help. */
export function actorRoutes(kit: InteractionKit): Router & { renderActor(ctx: Context, d: Details, name: string, error?: string): Promise<void> } {
  const { provider, ds } = kit.deps;
  const router = new Router({ prefix: '/interaction/:uid' });

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
    const d = await kit.details(ctx, 'actor');
    const helperId = d.session!.accountId;
    const clientId = String(d.params['client_id']);
    const choice = field(ctx, 'actor', 64);
    if (choice === 'self') return kit.finishWith(ctx, { actor: { self: true } } as InteractionResults, true);
    // Only a delegation this person holds, active now and covering this agency, can be chosen.
    const held = await delegationsForHelperAt({ db: ds.manager, helperId, clientId });
    const chosen = held.find((h) => h.delegation.id === choice);
    if (!chosen) return renderActor(ctx, d, await kit.clientName(d), ctx.state.t('actor.invalid'));
    const { grantId } = await grantForDelegation({
      provider, ds, helperId, clientId, chosen, channel: 'browser',
      requestedScopes: String(d.params['scope'] ?? 'openid').split(' ').filter(Boolean), requestedClaims: requestedClaimNames(d.params['claims']),
    });
    const client = await provider.Client.find(clientId);
    await noteFirstUse(delegationDeps(kit.deps), { delegationId: chosen.delegation.id, principalId: chosen.principal.id, helperId, clientName: client?.clientName ?? clientId });
    await kit.finishWith(ctx, { actor: { delegationId: chosen.delegation.id }, consent: { grantId } } as InteractionResults, true);
  });

  return Object.assign(router, { renderActor });
}
