import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

const { Check, Prompt } = interactionPolicy;

/** What the person answered on the "continue as …?" page in this authorization, if anything. */
export function accountSelection(ctx: KoaContextWithOIDC): { continue?: boolean; switch?: boolean; signedIn?: boolean } | undefined {
  return (ctx.oidc.result as { select_account?: { continue?: boolean; switch?: boolean; signedIn?: boolean } } | undefined)?.select_account;
}

/**
 * `prompt=select_account` (OIDC Core §3.1.2.1), which Login.gov's integrations send on every
 * sign-in. It comes after `login` in the policy: without a session the person signs in (and that
 * is their choice of account: see `withAccountChosen`); with one they see which account they are
 * about to continue with and can switch. oidc-provider itself requests a requestable prompt the
 * request names until the interaction's result answers it.
 */
export function selectAccountPrompt() {
  return new Prompt({ name: 'select_account', requestable: true });
}

/** Added to the login prompt: the person chose "use another account", so they sign in afresh. */
export const switchAccountCheck = () => new Check('switch_account', 'the End-User chose to use another account', (ctx) => (
  accountSelection(ctx)?.switch && !ctx.oidc.result?.login ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT
));

/** A sign-in in this very authorization is the person's choice of account: it answers select_account too. */
export function withAccountChosen<T extends object>(prompt: unknown, result: T): T & { select_account?: { signedIn: true } } {
  return String(prompt ?? '').split(' ').includes('select_account') ? { ...result, select_account: { signedIn: true } } : result;
}
