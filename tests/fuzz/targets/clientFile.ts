import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createDataSource } from '../../../ormconfig.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { loadOrCreateKeys } from '../../../src/oidc/keys.js';
import { validateClientFile } from '../../../src/oidc/validateClientFile.js';
import { defineTarget } from './target.js';

/** Keys, configuration and an unopened data source, made once (validation does not query). */
let setup: Promise<{ deps: Omit<Parameters<typeof validateClientFile>[0], 'input'>; jwk: JWK }> | undefined;
function deps() {
  setup ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-fuzz-client-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const config = loadConfig({ KEYS_DIR: path.join(dir, 'keys'), DATABASE_URL: 'sqlite::memory:' }, { warn: () => {} });
    const keys = await loadOrCreateKeys(config.keysDir);
    const pair = await generateKeyPair('ES256', { extractable: true });
    return { deps: { config, ds: createDataSource(config.database), keys }, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' } };
  })();
  return setup;
}

// No jwks_uri or sector_identifier_uri that could pass: those are fetched (outgoing requests).
const URIS = [
  'https://agency.example.gov/cb', 'https://other.example.gov/cb', 'http://localhost:8080/cb', 'http://127.0.0.1/cb', 'http://[::1]:9000/cb',
  'http://agency.example.gov/cb', 'https://agency.example.gov/cb#x', 'https://*.example.gov/cb', 'https://user:pw@agency.example.gov/cb',
  'javascript:alert(1)', 'data:text/html,x', 'gov.example.app:/cb', 'myapp:/cb', 'https://native-app:8080/cb', 'https://NATIVE-APP/cb',
  'http://localhost/cb', '/relative', '', 'https://127.0.0.1/cb', 'file:///etc/passwd',
];
const mutation = fc.oneof(
  fc.record({ client_id: fc.oneof(fc.constantFrom('agency.gov', 'onedoor-account', 'has space', '8080', 'a'.repeat(192), ''), fc.string({ maxLength: 12 })) }, { requiredKeys: [] }),
  fc.record({ redirect_uris: fc.oneof(fc.array(fc.constantFrom(...URIS), { maxLength: 3 }), fc.constant('https://x.gov/cb'), fc.constant(null)) }),
  fc.record({ post_logout_redirect_uris: fc.array(fc.constantFrom(...URIS), { maxLength: 2 }) }),
  fc.record({ application_type: fc.constantFrom('web', 'native', 'other', 1) }),
  fc.record({ token_endpoint_auth_method: fc.constantFrom('private_key_jwt', 'none', 'client_secret_basic', 'client_secret_post', undefined) }),
  fc.record({ grant_types: fc.subarray(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'implicit', 'password']) }),
  fc.record({ sector_identifier_uri: fc.constantFrom('https://native-app:8080/s.json', 'http://agency.example.gov/s.json', 'not a url') }),
  fc.record({ jwks_uri: fc.constantFrom('https://native-app/jwks', 'http://agency.example.gov/jwks', 'ftp://x/jwks') }),
  fc.record({ scope: fc.constantFrom('openid', 'openid email', 'openid social_security_number', 'openid admin') }),
  fc.record({ max_ial: fc.constantFrom(1, 2, 3, '2') }),
  fc.record({ delegation_enabled: fc.constantFrom(true, false, 'yes') }),
  fc.record({ jwks: fc.constantFrom(null, {}, { keys: [] }, { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }) }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

const ALLOWED_AUTH = new Set(['private_key_jwt', 'none']);
const LOOPBACK = new Set(['127.0.0.1', '[::1]']);
/** The documented client-file rules (docs/agencies.md, DESIGN.md), written apart from the validator. */
function documentedRulesAllow(m: Record<string, unknown>): boolean {
  const id = m['client_id'];
  if (typeof id !== 'string' || !/^[A-Za-z0-9._~:-]{1,191}$/.test(id) || id === 'onedoor-account') return false;
  const native = m['application_type'] === 'native';
  const auth = m['token_endpoint_auth_method'] ?? (native ? 'none' : 'private_key_jwt');
  if (!ALLOWED_AUTH.has(auth as string) || (native && auth === 'private_key_jwt')) return false;
  if (auth === 'private_key_jwt' && !m['jwks'] === !m['jwks_uri']) return false;
  const grants = (m['grant_types'] as string[] | undefined) ?? ['authorization_code'];
  const redirects = (m['redirect_uris'] as string[] | undefined) ?? [];
  if (grants.includes('authorization_code') && redirects.length === 0) return false;
  const hosts = new Set<string>();
  for (const uri of [...redirects, ...((m['post_logout_redirect_uris'] as string[] | undefined) ?? [])]) {
    if (uri.includes('#') || uri.includes('*')) return false;
    let u: URL;
    try { u = new URL(uri); } catch { return false; }
    if (u.username || u.password) return false;
    // A redirect host is a pairwise sector; `native-app` names native apps' sectors.
    if (redirects.includes(uri) && u.hostname.toLowerCase() === 'native-app') return false;
    if (native) {
      if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) return false;
      if (u.protocol === 'https:' && (LOOPBACK.has(u.hostname) || u.hostname === 'localhost')) return false;
      if (u.protocol !== 'http:' && u.protocol !== 'https:' && !u.protocol.slice(0, -1).includes('.')) return false;
    } else if (u.protocol !== 'https:' && !(u.protocol === 'http:' && (LOOPBACK.has(u.hostname) || u.hostname === 'localhost'))) return false;
    if (redirects.includes(uri)) hosts.add(u.host);
  }
  if (hosts.size > 1 && !m['sector_identifier_uri']) return false;
  return true;
}

export const clientFiles = defineTarget({
  name: 'client-files',
  property: 'when any client file is checked, then it is refused with a one-line message or accepted only if the documented rules allow it, and what was stored checks the same again',
  arbitrary: fc.oneof(
    { weight: 4, arbitrary: fc.array(mutation, { maxLength: 4 }).map((ms) => Object.assign({ client_id: 'agency.example.gov', redirect_uris: ['https://agency.example.gov/cb'], jwks: 'JWKS' }, ...ms)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  ),
  testRuns: 120,
  async check(input: unknown) {
    const { deps: d, jwk } = await deps();
    const withKeys = input && typeof input === 'object' && (input as Record<string, unknown>)['jwks'] === 'JWKS' ? { ...(input as object), jwks: { keys: [jwk] } } : input;
    const result = await validateClientFile({ input: withKeys, ...d });
    if (!result.ok) {
      assert.equal(typeof result.error, 'string');
      assert.ok(result.error.length > 0 && !result.error.includes('\n'), result.error);
      return;
    }
    assert.ok(documentedRulesAllow(withKeys as Record<string, unknown>), `accepted against the documented rules: ${JSON.stringify(withKeys)}`);
    const again = await validateClientFile({ input: result.metadata, ...d });
    assert.deepEqual(again, result);
  },
  encode: (input: unknown) => input,
  decode: (stored: unknown) => stored,
});
