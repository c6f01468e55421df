import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { peopleToActFor } from '../../../delegation/peopleToActFor.js';
import { basesAcceptedBy } from '../../../delegation/representationKinds.js';
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

  /** Whom this person may act for at this agency: consent and the legal authorities it accepts. */
  async function people(helperId: string, clientId: string) {
    const client = await provider.Client.find(clientId);
    return peopleToActFor({ db: ds.manager, kek: kit.deps.keys.kek, pepper: kit.deps.keys.secrets.pepper, helperId, clientId, bases: basesAcceptedBy(client?.metadata() as Record<string, unknown> | undefined) });
  }

  async function renderActor(ctx: Context, d: Details, name: string, error?: string) {
    const held = await people(d.session!.accountId, String(d.params['client_id']));
    const t = ctx.state.t;
    render(ctx, 'actor', {
      title: t('actor.title'), clientName: name, error, langPath: paths(d.uid).self, verifyUrl: '/verify', anyAuthority: held.some((h) => h.basis !== 'consent'),
      people: held.map((h) => ({
        id: h.delegation.id, label: h.label ?? t('actor.represented_unnamed'), eligible: h.eligible,
        basis: h.basis === 'consent' ? t('actor.for', { person: h.label ?? '' }) : t('actor.represents', { person: h.label ?? t('actor.represented_unnamed'), basis: t(`representation.kind.${h.basis}`) }),
        until: new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'long', timeZone: 'UTC' }).format(h.delegation.endsAt),
      })),
      actions: { submit: `${paths(d.uid).self}/actor`, abort: paths(d.uid).abort },
    }, error ? 400 : 200);
  }

  router.post('/actor', async (ctx) => {
    const d = await kit.details(ctx, 'actor');
    const helperId = d.session!.accountId;
    const clientId = String(d.params['client_id']);
    const choice = field(ctx, 'actor', 64);
    if (choice === 'self') return kit.finishWith(ctx, { actor: { self: true } } as InteractionResults, true);
    // Only a delegation this person holds, active now, covering this agency on a basis it accepts
    // (and, on legal authority, with the representative verified as the record names them), can be chosen.
    const held = await people(helperId, clientId);
    const chosen = held.find((h) => h.delegation.id === choice && h.eligible);
    if (!chosen) return renderActor(ctx, d, await kit.clientName(d), ctx.state.t('actor.invalid'));
    const { grantId } = await grantForDelegation({
      provider, ds, helperId, clientId, chosen, channel: 'browser',
      requestedScopes: String(d.params['scope'] ?? 'openid').split(' ').filter(Boolean), requestedClaims: requestedClaimNames(d.params['claims']),
    });
    const client = await provider.Client.find(clientId);
    if (chosen.principal) await noteFirstUse(delegationDeps(kit.deps), { delegationId: chosen.delegation.id, principalId: chosen.principal.id, helperId, clientName: client?.clientName ?? clientId });
    await kit.finishWith(ctx, { actor: { delegationId: chosen.delegation.id }, consent: { grantId } } as InteractionResults, true);
  });

  return Object.assign(router, { renderActor });
}
