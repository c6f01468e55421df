import type { Context } from 'koa';
import { BadInput } from '../shared/errors.js';

/** The parsed request body (form or JSON); empty when there is none. */
export function body(ctx: Context): Record<string, unknown> {
  return ((ctx.request as unknown as { body?: Record<string, unknown> }).body) ?? {};
}

/** One string field of the body, '' when absent; anything else or too long is a bad request. */
export function field(ctx: Context, name: string, max = 1024): string {
  const v = body(ctx)[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string' || v.length > max) throw new BadInput('bad_request', name);
  return v;
}
