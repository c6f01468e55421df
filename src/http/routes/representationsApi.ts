import bodyParser from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { recordAgencyRepresentation } from '../../delegation/recordAgencyRepresentation.js';
import { authenticateClientAssertion } from '../../oidc/authenticateClientAssertion.js';
import { CLOCK_TOLERANCE_SECONDS } from '../../oidc/createProvider.js';
import { endRepresentationBySource } from '../../oidc/endRepresentationBySource.js';
import { providerFetch } from '../../oidc/providerFetch.js';
import { delegationDeps, type HttpDeps } from '../deps.js';

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : null);

function answer(ctx: Context, status: number, body?: Record<string, unknown>): void {
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  if (body) ctx.body = body;
}
const fail = (ctx: Context, status: number, error: string, description: string) => answer(ctx, status, { error, error_description: description });

/**
 * The registration API for agencies that are the register of an authority (docs/agencies.md):
 * `POST /representations` records one, `DELETE /representations/ID` ends one the same client
 * recorded. JSON bodies only, with the client's `private_key_jwt` assertion in them
 * (`client_assertion_type`, `client_assertion`); only clients whose file lists the kind in
 * `representation_authority` may use it. Errors use OAuth's codes and never repeat a value.
 */
export function representationsApi(deps: HttpDeps): Router {
  const router = new Router({ prefix: '/representations' });
  const fetch = providerFetch({ policy: deps.config });
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', parsedMethods: ['POST', 'DELETE'] });

  /** JSON object body, then the client behind its assertion and its `representation_authority`; answers the failure itself. */
  async function authenticated(ctx: Context, next: Next): Promise<void> {
    if (!ctx.is('application/json')) return fail(ctx, 415, 'invalid_request', 'the body must be application/json');
    try {
      await parse(ctx, async () => {});
    } catch (err) {
      const status = (err as { status?: number }).status === 413 ? 413 : 400;
      return fail(ctx, status, 'invalid_request', status === 413 ? 'the body is larger than 16 KiB' : 'the body is not valid JSON');
    }
    const body = ctx.request.body as unknown;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return fail(ctx, 400, 'invalid_request', 'the body must be a JSON object');
    const { client_assertion_type: assertionType, client_assertion: assertion, ...rest } = body as Record<string, unknown>;
    const auth = await authenticateClientAssertion({
      provider: deps.provider, fetch, clockTolerance: CLOCK_TOLERANCE_SECONDS, assertionType, assertion,
      audience: [deps.config.issuer, `${deps.config.issuer}/representations`],
    });
    if (!auth.ok) return fail(ctx, 401, 'invalid_client', 'client authentication failed (private_key_jwt)');
    const authority = auth.metadata['representation_authority'];
    if (!Array.isArray(authority) || !authority.length) return fail(ctx, 403, 'unauthorized_client', 'this client may not register legal authorities');
    ctx.state['client'] = { clientId: auth.clientId, authority: authority as string[] };
    ctx.state['record'] = rest;
    await next();
  }

  router.post('/', authenticated, async (ctx) => {
    const { clientId, authority } = ctx.state['client'] as { clientId: string; authority: string[] };
    const result = await deps.ds.transaction((db) => recordAgencyRepresentation({ db, kek: deps.keys.kek, pepper: deps.keys.secrets.pepper }, { clientId, authority, input: ctx.state['record'] }));
    if (!result.ok) {
      if ('forbidden' in result) return fail(ctx, 403, 'unauthorized_client', 'this client may not register that kind of authority');
      return fail(ctx, 400, 'invalid_request', result.error);
    }
    const d = result.delegation;
    ctx.set('location', `/representations/${d.id}`);
    answer(ctx, 201, { id: d.id, kind: d.basis, status: d.status, source: clientId, starts_at: day(d.startsAt), ends_at: day(d.endsAt), review_at: day(result.representation.reviewAt) });
  });

  router.delete('/:id', authenticated, async (ctx) => {
    const { clientId } = ctx.state['client'] as { clientId: string };
    const result = await endRepresentationBySource({ provider: deps.provider, ds: deps.ds, deps: delegationDeps(deps), id: String(ctx.params['id']), source: clientId });
    if (result === 'not_found') return fail(ctx, 404, 'not_found', 'no legal authority this client registered has that id');
    answer(ctx, 204);
  });

  return router;
}
