/**
 * OneDoor pages that a sign-in started from them returns to (besides the account page, where
 * every other sign-in lands). A table of exact shapes: a sign-in link can name nothing else, so
 * it can never send the person off OneDoor (no open redirect).
 */
const RETURNABLE: readonly RegExp[] = [
  // The approval page of a phone request (the link in its mail and text message).
  /^\/phone\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
];

/** The path, when a sign-in may return to it. */
export function returnablePath(path: unknown): string | undefined {
  return typeof path === 'string' && RETURNABLE.some((r) => r.test(path)) ? path : undefined;
}

/** The `state` of the account pages' sign-in: random, and the page to return to (if any) after a dot. */
export function stateWithReturn(random: string, path: string | undefined): string {
  return path ? `${random}.${Buffer.from(path, 'utf8').toString('base64url')}` : random;
}

/** The page a sign-in's `state` says to return to, if it names one that may be returned to. */
export function returnFromState(state: unknown): string | undefined {
  if (typeof state !== 'string' || !state.includes('.')) return undefined;
  return returnablePath(Buffer.from(state.slice(state.indexOf('.') + 1), 'base64url').toString('utf8'));
}
