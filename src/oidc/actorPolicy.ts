import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { delegationsForHelperAt } from '../delegation/manageDelegations.js';

const { Check, Prompt } = interactionPolicy;

/** Did the person already say, in this authorization, whom they act for? */
export function actorChoice(ctx: KoaContextWithOIDC): { self?: boolean; delegationId?: string } | undefined {
  return (ctx.oidc.result as { actor?: { self?: boolean; delegationId?: string } } | undefined)?.actor;
}

export function delegationEnabled(ctx: KoaContextWithOIDC): boolean {
  return (ctx.oidc.client?.metadata() as { delegation_enabled?: boolean } | undefined)?.delegation_enabled === true;
}

/**
 * The `actor` prompt, after `login`: at an agency that enabled delegation, a person who holds
 * active delegations covering it chooses whom they act for — themself or one of the people they
 * help. Agencies without `delegation_enabled` never see it, so never get a delegated session.
 * With `prompt=none` nobody can be asked, and the person acts as themself.
 */
export function actorPrompt(opts: { ds: DataSource }) {
  return new Prompt(
    { name: 'actor', requestable: false },
    new Check('actor_choice', 'choose whom to act for', async (ctx) => {
      if (!delegationEnabled(ctx) || actorChoice(ctx) || ctx.oidc.prompts.has('none')) return Check.NO_NEED_TO_PROMPT;
      const helperId = ctx.oidc.session?.accountId;
      if (!helperId) return Check.NO_NEED_TO_PROMPT;
      const held = await delegationsForHelperAt({ db: opts.ds.manager, helperId, clientId: ctx.oidc.client!.clientId });
      return held.length ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
}
