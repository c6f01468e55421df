import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What every log line written while serving one request carries (its request id), without
 * passing a logger through every call: the request middleware runs the rest of the request
 * inside this scope, and the logger's mixin reads it.
 */
export interface RequestScope {
  requestId: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
