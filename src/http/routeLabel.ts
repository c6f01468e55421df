import type { Context } from 'koa';

/**
 * The name a request is counted and logged under: the provider's endpoint name (token,
 * userinfo, authorization…), else the route pattern that matched (/interaction/:uid/signup),
 * never the raw path, which can carry interaction ids and codes. A bounded set of values.
 */
export function routeLabel(ctx: Context): string {
  const c = ctx as Context & { _matchedRoute?: string | RegExp; _matchedRouteName?: string };
  if (c._matchedRouteName) return `oidc:${c._matchedRouteName}`;
  if (typeof c._matchedRoute === 'string') return c._matchedRoute;
  if (ctx.path.startsWith('/assets/')) return 'static';
  return 'unmatched';
}
