import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';

const b64url = z.string().regex(/^[A-Za-z0-9_-]*$/).max(16384);

const Base = z.object({
  id: b64url.min(1).max(1024),
  rawId: b64url.min(1).max(1024),
  type: z.literal('public-key'),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
});

const Registration = Base.extend({
  response: z.object({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: z.array(z.string().max(32)).max(10).optional(),
  }).loose(),
});

const Authentication = Base.extend({
  response: z.object({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional(),
  }).loose(),
});

function parseJson(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 65536) return undefined;
  try { return JSON.parse(raw); } catch { return undefined; }
}

/** The browser's answer to a registration ceremony, or undefined when it is not one. */
export function parseRegistrationResponse(raw: unknown): RegistrationResponseJSON | undefined {
  const r = Registration.safeParse(parseJson(raw));
  return r.success ? (r.data as unknown as RegistrationResponseJSON) : undefined;
}

/** The browser's answer to an authentication ceremony, or undefined when it is not one. */
export function parseAuthenticationResponse(raw: unknown): AuthenticationResponseJSON | undefined {
  const r = Authentication.safeParse(parseJson(raw));
  return r.success ? (r.data as unknown as AuthenticationResponseJSON) : undefined;
}
