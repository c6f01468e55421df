import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { peopleToActFor } from '../delegation/peopleToActFor.js';
import { basesAcceptedBy } from '../delegation/representationKinds.js';
import type { Kek } from '../proofing/vault.js';

const { Check, Prompt } = interactionPolicy;

/** Did the person already say, in this authorization, whom they act for? */
export function actorChoice(ctx: KoaContextWithOIDC): { self?: boolean; delegationId?: string } | undefined {
  return (ctx.oidc.result as { actor?: { self?: boolean; delegationId?: string } } | undefined)?.actor;
}

export function delegationEnabled(ctx: KoaContextWithOIDC): boolean {
  return (ctx.oidc.client?.metadata() as { delegation_enabled?: boolean } | undefined)?.delegation_enabled === true;
}

/** The bases of delegation this agency accepts (`consent` unless its client file says otherwise). */
export function basesAcceptedAt(ctx: KoaContextWithOIDC): string[] {
  return basesAcceptedBy(ctx.oidc.client?.metadata() as Record<string, unknown> | undefined);
}

/**
 * The `actor` prompt, after `login`: at an agency that enabled delegation, a person who holds
 * active delegations covering it, on a basis it accepts, chooses whom they act for — themself or
 * one of the people they help or represent. Agencies without `delegation_enabled` never see it, so never get a delegated session.
 * With `prompt=none` nobody can be asked, and the person acts as themself.
 */
export function actorPrompt(opts: { ds: DataSource; kek: Kek; pepper: string }) {
  return new Prompt(
    { name: 'actor', requestable: false },
    new Check('actor_choice', 'choose whom to act for', async (ctx) => {
      if (!delegationEnabled(ctx) || actorChoice(ctx) || ctx.oidc.prompts.has('none')) return Check.NO_NEED_TO_PROMPT;
      const helperId = ctx.oidc.session?.accountId;
      if (!helperId) return Check.NO_NEED_TO_PROMPT;
      const held = await peopleToActFor({ db: opts.ds.manager, kek: opts.kek, pepper: opts.pepper, helperId, clientId: ctx.oidc.client!.clientId, bases: basesAcceptedAt(ctx) });
      return held.length ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
}
