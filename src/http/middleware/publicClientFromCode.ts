import querystring from 'node:querystring';
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

/** A token request body larger than this is not one (oidc-provider's own limit is similar). */
const MAX_TOKEN_BODY_BYTES = 64 * 1024;

/**
 * Reads exactly `length` bytes of the body without ending the stream, so they can be put back
 * (`unshift`) for oidc-provider to read as if nobody had: undefined when the body ends short.
 */
function peekBody(req: IncomingMessage, length: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (value: Buffer | undefined) => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', reject);
      resolve(value);
    };
    function onReadable() {
      for (let chunk: Buffer | null; got < length && (chunk = req.read() as Buffer | null) !== null;) {
        chunks.push(chunk);
        got += chunk.length;
      }
      if (got >= length) done(Buffer.concat(chunks));
    }
    const onEnd = () => done(undefined);
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', reject);
    onReadable();
  });
}

/**
 * Login.gov's documented PKCE token request (`code`, `code_verifier`, `grant_type`) names no
 * client: Login.gov finds it from the code. For a public client — whose only protection is PKCE,
 * and whose client_id anyone may send — OneDoor does the same, so the request works unchanged.
 * A confidential client must still authenticate (its request carries `client_assertion`).
 *
 * The body is read and put back on the stream unchanged (or with `client_id` added, and its
 * Content-Length with it), so oidc-provider parses it as it always does.
 */
export function publicClientFromCode(opts: { provider: Provider }) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/token' || !ctx.is('application/x-www-form-urlencoded') || ctx.get('authorization')) return next();
    const length = ctx.request.length;
    // Without a length (chunked) the body is left to oidc-provider as it is.
    if (length === undefined || length > MAX_TOKEN_BODY_BYTES) return next();
    const raw = await peekBody(ctx.req, length);
    if (!raw) {
      ctx.status = 400;
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'invalid_request', error_description: 'request body shorter than its Content-Length' };
      return;
    }
    let body = raw;
    const params = querystring.parse(raw.toString('utf8'));
    const code = params['code'];
    if (params['grant_type'] === 'authorization_code' && params['client_id'] === undefined && params['client_assertion'] === undefined && typeof code === 'string') {
      const found = await opts.provider.AuthorizationCode.find(code);
      const client = found?.clientId ? await opts.provider.Client.find(found.clientId) : undefined;
      if (client && client.tokenEndpointAuthMethod === 'none') {
        body = Buffer.concat([raw, Buffer.from(`&client_id=${encodeURIComponent(client.clientId)}`)]);
        ctx.req.headers['content-length'] = String(body.length);
      }
    }
    ctx.req.unshift(body);
    await next();
  };
}
