import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Context } from 'koa';
import { csrf } from '../../../src/http/middleware/csrf.js';
import { Forbidden } from '../../../src/shared/errors.js';
import { defineTarget } from './target.js';

const SECRET = 'fuzz-csrf-secret';
const middleware = csrf({ secret: SECRET, secure: false, uploadPaths: new Set() });
const seed = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'), minLength: 20, maxLength: 64 });

/** Just what the middleware reads of a Koa context: the seed cookie, a method, a header or a parsed body. */
function fakeContext(opts: { seed: string | undefined; method: string; header?: string | undefined; body?: unknown }): Context {
  const cookies = new Map<string, string>(opts.seed === undefined ? [] : [['od_csrf', opts.seed]]);
  return {
    method: opts.method, path: '/account', state: {},
    cookies: { get: (name: string) => cookies.get(name), set: (name: string, value: string) => { cookies.set(name, value); } },
    get: (name: string) => (name === 'x-csrf-token' ? opts.header ?? '' : ''),
    is: () => false,
    request: { body: opts.body },
  } as unknown as Context;
}

/** The token a page rendered for this seed carries. */
async function tokenFor(s: string): Promise<string> {
  const ctx = fakeContext({ seed: s, method: 'GET' });
  await middleware(ctx, async () => {});
  return ctx.state.csrf as string;
}

export const csrfTokens = defineTarget({
  name: 'csrf-tokens',
  property: 'when an unsafe request sends any token, then it passes only with the token minted for its own seed cookie, in a header or a form field, and is otherwise refused as Forbidden',
  arbitrary: fc.record({
    seed: fc.option(seed, { nil: undefined }), otherSeed: seed, method: fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH'),
    how: fc.constantFrom('header', 'field', 'json-number', 'array'),
    sent: fc.oneof(fc.constant('own'), fc.constant('other'), fc.string({ maxLength: 60 })),
  }),
  testRuns: 300,
  async check({ seed: s, otherSeed, method, how, sent }) {
    const own = s === undefined ? undefined : await tokenFor(s);
    const token = sent === 'own' ? own : sent === 'other' ? await tokenFor(otherSeed) : sent;
    const ctx = fakeContext({
      seed: s, method,
      header: how === 'header' ? token : undefined,
      body: how === 'field' ? { _csrf: token } : how === 'json-number' ? { _csrf: 12345 } : how === 'array' ? { _csrf: [token] } : undefined,
    });
    let passed = false;
    try {
      await middleware(ctx, async () => { passed = true; });
    } catch (err) {
      assert.ok(err instanceof Forbidden, `not Forbidden: ${String(err)}`);
    }
    const shouldPass = own !== undefined && token === own && (how === 'header' || how === 'field') && token.length > 0;
    assert.equal(passed, shouldPass);
  },
});
