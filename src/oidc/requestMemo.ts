/**
 * Answers the same question once per request. oidc-provider asks for the account, its
 * delegation and its verified-profile state several times while serving one request (each
 * prompt check, the ID token's claims, userinfo's, the access token's extra claims); the
 * answers cannot change within the request, so the first lookup's promise is reused. Keyed by
 * the request's context object, so nothing outlives the request or leaks between requests.
 */
const memos = new WeakMap<object, Map<string, Promise<unknown>>>();

function memoOf(ctx: object): Map<string, Promise<unknown>> {
  let memo = memos.get(ctx);
  if (!memo) {
    memo = new Map();
    memos.set(ctx, memo);
  }
  return memo;
}

export function memoFor<T>(ctx: object | undefined, key: string, load: () => Promise<T>): Promise<T> {
  if (!ctx) return load();
  const memo = memoOf(ctx);
  let p = memo.get(key) as Promise<T> | undefined;
  if (!p) {
    p = load();
    memo.set(key, p);
    // A failed lookup is not remembered: the next asker tries again.
    p.catch(() => memo.delete(key));
  }
  return p;
}

/**
 * Records the answer to a question another lookup happened to answer too (e.g. the account
 * read also said which delegation a grant is under), unless the request already asked it.
 */
export function seedMemo<T>(ctx: object | undefined, key: string, value: T): void {
  if (!ctx) return;
  const memo = memoOf(ctx);
  if (!memo.has(key)) memo.set(key, Promise.resolve(value));
}
