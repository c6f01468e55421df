import type { BenchTarget } from './BenchTarget.js';
import type { CookieJar } from './http.js';

/**
 * The flows, defined once: `npm run bench` times them, and tests/integration/roundTrips.test.ts
 * holds each to its budget of SQL statements and Redis commands. `start` does a flow's
 * unmeasured set-up (sessions, tokens, a pool of codes) and returns one iteration; an
 * iteration returning false means its pre-made pool ran dry.
 */
export type Iteration = (worker: number) => Promise<boolean | void>;

/** Per worker: a browser with a session, an access token, a refresh token (set up unmeasured). */
export interface Worker { jar: CookieJar; accessToken: string; refreshToken: string }

export interface FlowContext {
  t: BenchTarget;
  /** Which seeded account the next sign-in uses. */
  pick(): number;
  /** How many loops run an iteration at once (one worker each). */
  concurrency: number;
  /** How many iterations the caller expects to run at most (sizes pre-made pools). */
  ops: number;
  /** The workers, made on first use and shared by the flows that follow. */
  workers?: Worker[];
}

export interface Flow {
  name: string;
  /** Only OneDoor has it (bare oidc-provider has no token exchange grant). */
  onedoorOnly?: boolean;
  /** Run again at the large account count. */
  scale?: boolean;
  start(ctx: FlowContext): Promise<Iteration>;
}

async function workers(ctx: FlowContext): Promise<Worker[]> {
  ctx.workers ??= await Promise.all(Array.from({ length: ctx.concurrency }, async () => {
    const n = ctx.pick();
    const { jar, code } = await ctx.t.signInToCode({ n });
    const { access_token } = await ctx.t.redeem(code);
    const refreshCode = await ctx.t.consentToCode({ n, jar });
    const { refresh_token } = await ctx.t.redeem(refreshCode);
    if (!refresh_token) throw new Error('no refresh token issued');
    return { jar, accessToken: access_token, refreshToken: refresh_token };
  }));
  return ctx.workers;
}

/** Codes made ahead (unmeasured) from the workers' sessions, so that redemption is measured alone. */
async function makeCodes(ctx: FlowContext, count: number): Promise<string[]> {
  const ws = await workers(ctx);
  const codes: string[] = [];
  let asked = 0;
  await Promise.all(ws.map(async (w) => {
    while (asked < count) {
      asked += 1;
      codes.push(await ctx.t.codeFromSession(w.jar));
    }
  }));
  return codes;
}

/** One full passkey sign-in as a person's browser and the agency do it. */
export async function fullSignIn(t: BenchTarget, n: number): Promise<void> {
  const { code } = await t.signInToCode({ n });
  const { access_token } = await t.redeem(code);
  await t.userinfo(access_token);
}

export const FLOWS: readonly Flow[] = [
  { name: 'discovery', start: async ({ t }) => async () => { await t.discovery(); } },
  { name: 'jwks', start: async ({ t }) => async () => { await t.jwks(); } },
  { name: 'full sign-in', scale: true, start: async (ctx) => async () => { await fullSignIn(ctx.t, ctx.pick()); } },
  {
    name: 'code redemption', scale: true,
    start: async (ctx) => {
      const pool = await makeCodes(ctx, ctx.ops);
      return async () => {
        const code = pool.pop();
        if (!code) return false;
        await ctx.t.redeem(code);
      };
    },
  },
  {
    name: 'refresh', scale: true,
    start: async (ctx) => {
      const ws = await workers(ctx);
      return async (w) => { ws[w]!.refreshToken = await ctx.t.refresh(ws[w]!.refreshToken); };
    },
  },
  {
    name: 'introspection', scale: true,
    start: async (ctx) => {
      const ws = await workers(ctx);
      return async (w) => { await ctx.t.introspect(ws[w]!.accessToken); };
    },
  },
  {
    name: 'userinfo', scale: true,
    start: async (ctx) => {
      const ws = await workers(ctx);
      return async (w) => { await ctx.t.userinfo(ws[w]!.accessToken); };
    },
  },
  { name: 'client credentials', start: async ({ t }) => async () => { await t.clientCredentials(); } },
  {
    name: 'token exchange', onedoorOnly: true,
    start: async (ctx) => {
      const ws = await workers(ctx);
      return async (w) => { await ctx.t.tokenExchange(ws[w]!.accessToken); };
    },
  },
];

export const SCALE_FLOWS = FLOWS.filter((f) => f.scale).map((f) => f.name);
