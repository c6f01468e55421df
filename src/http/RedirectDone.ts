/** Thrown by a route helper after it has set a redirect, to end the handler early. */
export class RedirectDone extends Error {
  constructor() { super('redirect'); }
}
