import { createLocalJWKSet, createRemoteJWKSet, customFetch, decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type Provider from 'oidc-provider';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ALGORITHMS = ['ES256', 'RS256', 'PS256'];
/** An assertion is made for one call: it must be at most this old. */
const MAX_AGE_SECONDS = 300;

export type ClientAssertionResult = { ok: true; clientId: string; metadata: Record<string, unknown> } | { ok: false };

/** Remote key sets, per jwks_uri (jose caches and refreshes them). */
const remoteSets = new Map<string, JWTVerifyGetKey>();

/**
 * Authenticates an agency calling a OneDoor API as oidc-provider authenticates it at the token
 * endpoint (private_key_jwt, RFC 7523 §3): a JWT signed with one of the client's registered keys
 * (`jwks`, or `jwks_uri` fetched through OneDoor's outgoing-request helper), `iss` = `sub` = its
 * client id, `aud` the issuer or the endpoint, `exp`, `iat` at most 5 minutes old, and a `jti`
 * claimed once in the provider's replay store (the same atomic claim as the token endpoint's,
 * createProvider.ts `claimReplayIds`). Any failure is the same answer: no detail to probe with.
 */
export async function authenticateClientAssertion(opts: {
  provider: Provider; fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>; clockTolerance: number;
  assertionType: unknown; assertion: unknown; audience: string[];
}): Promise<ClientAssertionResult> {
  if (opts.assertionType !== JWT_BEARER || typeof opts.assertion !== 'string' || opts.assertion.length > 8192) return { ok: false };
  let iss: unknown;
  try { iss = decodeJwt(opts.assertion).iss; } catch { return { ok: false }; }
  if (typeof iss !== 'string' || !iss || iss.length > 191) return { ok: false };
  const client = await opts.provider.Client.find(iss);
  if (!client || client.clientAuthMethod !== 'private_key_jwt') return { ok: false };
  const metadata = client.metadata() as Record<string, unknown>;
  let keys: JWTVerifyGetKey;
  if (metadata['jwks']) keys = createLocalJWKSet(metadata['jwks'] as Parameters<typeof createLocalJWKSet>[0]);
  else if (typeof metadata['jwks_uri'] === 'string') {
    const uri = metadata['jwks_uri'];
    keys = remoteSets.get(uri) ?? createRemoteJWKSet(new URL(uri), { [customFetch]: opts.fetch as never });
    remoteSets.set(uri, keys);
  } else return { ok: false };
  let payload;
  try {
    ({ payload } = await jwtVerify(opts.assertion, keys, {
      issuer: iss, subject: iss, audience: opts.audience, algorithms: ALGORITHMS, clockTolerance: opts.clockTolerance,
      requiredClaims: ['exp', 'iat', 'jti'], maxTokenAge: MAX_AGE_SECONDS,
    }));
  } catch {
    return { ok: false };
  }
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) return { ok: false };
  const replay = (opts.provider as unknown as { ReplayDetection: { unique(iss: string, jti: string, exp: number): Promise<boolean> } }).ReplayDetection;
  if (!(await replay.unique(iss, payload.jti, payload.exp! + opts.clockTolerance))) return { ok: false };
  return { ok: true, clientId: iss, metadata };
}
