import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';
import { REDIRECT_URI } from './BenchTarget.js';

export const CLIENT_ID = 'bench-agency';
export const AUDIENCE = 'bench-api';

/** The agency's key pair and client file, the same for both servers. */
export async function agencyClients(): Promise<{ key: KeyObject; kid: string; clients: Array<Record<string, unknown>> }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'bench-agency-1';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const base = {
    redirect_uris: [REDIRECT_URI], response_types: ['code'], token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [jwk] }, subject_type: 'pairwise', id_token_signed_response_alg: 'RS256',
  };
  return {
    key: privateKey, kid,
    clients: [
      { ...base, client_id: CLIENT_ID, client_name: 'Bench agency', grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] },
      { ...base, client_id: AUDIENCE, client_name: 'Bench API', redirect_uris: ['https://api.bench.example/callback'], grant_types: ['authorization_code'] },
    ],
  };
}

