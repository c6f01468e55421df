import { z } from 'zod';

const Email = z.email().max(254);

/** Trims and lower-cases an address; undefined when it is not a plausible address. */
export function normalizeEmail(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const value = input.trim().toLowerCase();
  return Email.safeParse(value).success ? value : undefined;
}
