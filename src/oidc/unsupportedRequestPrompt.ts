import { errors, interactionPolicy } from 'oidc-provider';
import { UNSUPPORTED_ACR } from './acr.js';
import { UNSUPPORTED_SCOPES } from './claims.js';

const { Check, Prompt } = interactionPolicy;

/**
 * First in the policy, before anyone signs in: a request for something OneDoor deliberately does
 * not offer (Login.gov's PIV/CAC values) is refused with a clear OAuth error at once, rather than
 * silently ignored as unknown values are (docs/agencies.md: Switching from Login.gov).
 */
export function unsupportedRequestPrompt() {
  return new Prompt(
    { name: 'unsupported', requestable: false },
    new Check('unsupported_acr', 'acr_values ask for something OneDoor does not offer', (ctx) => {
      const acr = String(ctx.oidc.params!['acr_values'] ?? '').split(' ').find((v) => Object.hasOwn(UNSUPPORTED_ACR, v));
      if (acr) throw new errors.InvalidRequest(UNSUPPORTED_ACR[acr]!);
      return Check.NO_NEED_TO_PROMPT;
    }),
    new Check('unsupported_scope', 'scope asks for something OneDoor does not offer', (ctx) => {
      // oidc-provider drops scopes it does not know before the policy runs; the scope as sent is
      // still in the request's query (GET) or body (POST) on the first pass.
      const sent = [ctx.oidc.params!['scope'], (ctx.oidc.body as { scope?: unknown } | undefined)?.scope, ctx.query['scope']];
      const scope = sent.flatMap((v) => (typeof v === 'string' ? v.split(' ') : [])).find((s) => Object.hasOwn(UNSUPPORTED_SCOPES, s));
      if (scope) throw new errors.InvalidScope(UNSUPPORTED_SCOPES[scope]!, scope);
      return Check.NO_NEED_TO_PROMPT;
    }),
  );
}
