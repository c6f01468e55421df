import querystring from 'node:querystring';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

/** A token request body larger than this is not one (oidc-provider's own limit is similar). */
const MAX_TOKEN_BODY_BYTES = 64 * 1024;

/** The body as text; undefined when it is larger than any token request. */
async function readText(ctx: Context): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_TOKEN_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Login.gov's documented PKCE token request (`code`, `code_verifier`, `grant_type`) names no
 * client: Login.gov finds it from the code. For a public client — whose only protection is PKCE,
 * and whose client_id anyone may send — OneDoor does the same, so the request works unchanged.
 * A confidential client must still authenticate (its request carries `client_assertion`). The
 * body is read here and handed to oidc-provider already parsed (its documented fallback).
 */
export function publicClientFromCode(opts: { provider: Provider }) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/token' || !ctx.is('application/x-www-form-urlencoded') || ctx.get('authorization')) return next();
    const text = await readText(ctx);
    if (text === undefined) {
      ctx.status = 413;
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
      return;
    }
    const body = querystring.parse(text);
    const code = body['code'];
    if (body['grant_type'] === 'authorization_code' && body['client_id'] === undefined && body['client_assertion'] === undefined && typeof code === 'string') {
      const found = await opts.provider.AuthorizationCode.find(code);
      const client = found?.clientId ? await opts.provider.Client.find(found.clientId) : undefined;
      if (client && client.tokenEndpointAuthMethod === 'none') body['client_id'] = client.clientId;
    }
    (ctx.request as unknown as { body: unknown }).body = body;
    await next();
  };
}
