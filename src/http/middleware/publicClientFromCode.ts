import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { isTokenFormPost, tokenRequestBody, tooLarge } from './tokenRequestBody.js';

/**
 * Login.gov's documented PKCE token request (`code`, `code_verifier`, `grant_type`) names no
 * client: Login.gov finds it from the code. For a public client — whose only protection is PKCE,
 * and whose client_id anyone may send — OneDoor does the same, so the request works unchanged.
 * A confidential client must still authenticate (its request carries `client_assertion`).
 *
 * The body is read whole first (tokenRequestBody) and handed to oidc-provider parsed: putting it
 * back on the stream after the lookup lost it whenever the stream ended during a real database
 * round trip (MariaDB).
 */
export function publicClientFromCode(opts: { provider: Provider }) {
  return async (ctx: Context, next: Next) => {
    if (!isTokenFormPost(ctx) || ctx.get('authorization')) return next();
    const body = await tokenRequestBody(ctx);
    if (!body) return tooLarge(ctx);
    const code = body['code'];
    if (body['grant_type'] === 'authorization_code' && body['client_id'] === undefined && body['client_assertion'] === undefined && typeof code === 'string') {
      const found = await opts.provider.AuthorizationCode.find(code);
      const client = found?.clientId ? await opts.provider.Client.find(found.clientId) : undefined;
      if (client && client.tokenEndpointAuthMethod === 'none') body['client_id'] = client.clientId;
    }
    await next();
  };
}
