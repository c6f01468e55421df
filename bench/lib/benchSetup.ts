import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { parseDatabaseUrl } from '../../src/config/loadConfig.js';
import { createDataSource } from '../../ormconfig.js';
import { REDIRECT_URI } from './BenchTarget.js';

/** The bench agency's client id, and the API its tokens are exchanged for. */
export const CLIENT_ID = 'bench-agency';
export const AUDIENCE = 'bench-api';

/** The agency's key pair and client file, the same for both servers. */
export async function agencyClients(opts: { clientId: string; audience: string }): Promise<{ key: KeyObject; kid: string; clients: Array<Record<string, unknown>> }> {
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
      { ...base, client_id: opts.clientId, client_name: 'Bench agency', grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] },
      { ...base, client_id: opts.audience, client_name: 'Bench API', redirect_uris: ['https://api.bench.example/callback'], grant_types: ['authorization_code'] },
    ],
  };
}

/** Signing keys for bare oidc-provider (RS256 ID tokens, ES256 available), as OneDoor has. */
export async function serverJwks(): Promise<{ keys: unknown[] }> {
  const keys = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `bare-${alg}` });
  }
  return { keys };
}

/** The database OneDoor runs on: a fresh SQLite file, or a fresh database on DATABASE_URL's MySQL/MariaDB. */
export async function benchDatabase(opts: { work: string }): Promise<{ url: string; drop: () => Promise<void> }> {
  const env = process.env['DATABASE_URL'];
  if (env && /^(mysql|mariadb):\/\//.test(env)) {
    const base = new URL(env.replace(/^mariadb:/, 'mysql:'));
    const name = `onedoor_bench_${randomBytes(4).toString('hex')}`;
    const admin = createDataSource(parseDatabaseUrl(base.toString()));
    await admin.initialize();
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.destroy();
    const u = new URL(base.toString());
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      async drop() {
        const a = createDataSource(parseDatabaseUrl(base.toString()));
        await a.initialize();
        await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await a.destroy();
      },
    };
  }
  if (env && !env.startsWith('sqlite:')) throw new Error('DATABASE_URL must be sqlite:… or mysql://…');
  return { url: `sqlite:${path.join(opts.work, 'onedoor.sqlite')}`, drop: async () => {} };
}

