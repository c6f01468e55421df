import querystring from 'node:querystring';
import type { Context } from 'koa';

/** A token request body larger than this is not one (oidc-provider's own limit is similar). */
const MAX_TOKEN_BODY_BYTES = 64 * 1024;

/** Is this a form POST to the token endpoint (what the middlewares in front of the provider look at)? */
export function isTokenFormPost(ctx: Context): boolean {
  return ctx.method === 'POST' && ctx.path === '/token' && !!ctx.is('application/x-www-form-urlencoded');
}

/**
 * The token request's form body, read once and handed on to oidc-provider already parsed (its
 * documented fallback: `ctx.request.body`); undefined when it is larger than any token request.
 * The middlewares in front of the provider (publicClientFromCode, phonePollInterval) share it.
 */
export async function tokenRequestBody(ctx: Context): Promise<querystring.ParsedUrlQuery | undefined> {
  const request = ctx.request as unknown as { body?: querystring.ParsedUrlQuery };
  if (request.body) return request.body;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_TOKEN_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  request.body = querystring.parse(Buffer.concat(chunks).toString('utf8'));
  return request.body;
}

/** The answer to a token request body too large to be one. */
export function tooLarge(ctx: Context): void {
  ctx.status = 413;
  ctx.set('cache-control', 'no-store');
  ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
}
