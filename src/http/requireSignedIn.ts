import type { Context } from 'koa';
import { Account } from '../../entities/index.js';
import { readSession, type SignedInSession } from '../oidc/accountSessions.js';
import { BadInput } from '../shared/errors.js';
import type { HttpDeps } from './deps.js';
import { RedirectDone } from './RedirectDone.js';
import { returnablePath } from './returnPath.js';

/**
 * OneDoor's own pages need the person signed in (the provider's session, idle timeout slid):
 * a GET without one goes to sign-in (and comes back, for the pages src/http/returnPath.ts
 * lists), anything else is refused. Responses are never cached.
 */
export async function requireSignedIn(deps: Pick<HttpDeps, 'provider' | 'config' | 'ds'>, ctx: Context): Promise<{ session: SignedInSession; me: Account }> {
  const session = await readSession({ provider: deps.provider, config: deps.config, req: ctx.req, res: ctx.res, touch: true });
  const me = session ? await deps.ds.getRepository(Account).findOneBy({ id: session.accountId }) : null;
  if (session && me?.status === 'active') {
    ctx.set('cache-control', 'no-store');
    return { session, me };
  }
  if (ctx.method === 'GET') {
    const back = returnablePath(ctx.path);
    ctx.status = 303;
    ctx.redirect(back ? `/account/signin?return=${encodeURIComponent(back)}` : '/account/signin');
    throw new RedirectDone();
  }
  throw new BadInput('sign_in_required');
}
