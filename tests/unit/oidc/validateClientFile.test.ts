import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../../ormconfig.js';
import { type Config, loadConfig } from '../../../src/config/loadConfig.js';
import { type KeyMaterial, loadOrCreateKeys } from '../../../src/oidc/keys.js';
import { validateClientFile } from '../../../src/oidc/validateClientFile.js';

let dir: string;
let config: Config;
let ds: DataSource;
let keys: KeyMaterial;
let publicJwk: JWK;
let privateJwk: JWK;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-vcf-'));
  config = loadConfig({ KEYS_DIR: path.join(dir, 'keys'), DATABASE_URL: 'sqlite::memory:' }, { warn: () => {} });
  ds = createDataSource(config.database); // never initialized: validation does not query
  keys = await loadOrCreateKeys(config.keysDir);
  const pair = await generateKeyPair('ES256', { extractable: true });
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'agency-key-1', alg: 'ES256', use: 'sig' };
  privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'agency-key-1', alg: 'ES256', use: 'sig' };
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const jwtClient = () => ({
  client_id: 'benefits.agency.gov',
  client_name: 'Benefits Agency',
  redirect_uris: ['https://benefits.agency.gov/auth/callback'],
  post_logout_redirect_uris: ['https://benefits.agency.gov/'],
  token_endpoint_auth_method: 'private_key_jwt',
  token_endpoint_auth_signing_alg: 'ES256',
  id_token_signed_response_alg: 'ES256',
  jwks: { keys: [publicJwk] },
  backchannel_logout_uri: 'https://benefits.agency.gov/auth/backchannel-logout',
  backchannel_logout_session_required: true,
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid email',
  contacts: ['identity-team@agency.gov'],
  delegation_enabled: true,
  max_ial: 2,
});

const publicClient = () => ({
  client_id: 'permits-spa',
  redirect_uris: ['http://localhost:8080/callback'],
  token_endpoint_auth_method: 'none',
});

async function check(input: unknown) {
  return validateClientFile({ input, config, ds, keys });
}

async function errorFor(input: unknown): Promise<string> {
  const result = await check(input);
  if (result.ok) throw new Error('expected the client file to be rejected');
  expect(result.error).not.toContain('\n');
  return result.error;
}

describe('validateClientFile', () => {
  test('when a private_key_jwt client has an inline ES256 public JWKS, then it is accepted as given', async () => {
    const result = await check(jwtClient());
    if (!result.ok) throw new Error(result.error);
    if (!result.ok) return;
    expect(result.metadata).toMatchObject({ ...jwtClient(), response_types: ['code'], subject_type: 'pairwise' });
  });

  test('when a none client gives only the required fields, then the defaults are filled in', async () => {
    const result = await check(publicClient());
    expect(result).toEqual({
      ok: true,
      metadata: {
        ...publicClient(),
        grant_types: ['authorization_code'],
        response_types: ['code'],
        subject_type: 'pairwise',
        delegation_enabled: false,
        max_ial: 1,
      },
    });
  });

  test('when a private_key_jwt client points at an https jwks_uri, then it is accepted', async () => {
    const { jwks: _jwks, ...rest } = jwtClient();
    expect((await check({ ...rest, jwks_uri: 'https://benefits.agency.gov/.well-known/jwks.json' })).ok).toBe(true);
  });

  test('when the JWKS holds a private key, then it is rejected naming the key and the private member', async () => {
    expect(await errorFor({ ...jwtClient(), jwks: { keys: [privateJwk] } })).toBe('jwks.keys[0]: must be a public key: remove the private member "d"');
  });

  test('when a symmetric key is in the JWKS, then it is rejected', async () => {
    expect(await errorFor({ ...jwtClient(), jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })).toMatch(/^jwks\.keys\[0\]\.kty: /);
  });

  test('when a JWK is not a valid point on its curve, then it is rejected', async () => {
    expect(await errorFor({ ...jwtClient(), jwks: { keys: [{ ...publicJwk, x: 'AAAA' }] } })).toBe('jwks.keys[0]: is not a valid EC public key');
  });

  const bad: Array<[string, (c: Record<string, unknown>) => unknown, RegExp]> = [
    ['client_id is missing', ({ client_id: _id, ...c }) => c, /^client_id: is required/],
    ['client_id has a space', (c) => ({ ...c, client_id: 'benefits agency' }), /^client_id: must be 1-191 characters/],
    ['client_id is too long', (c) => ({ ...c, client_id: 'a'.repeat(192) }), /^client_id: must be 1-191 characters/],
    ['client_id is the reserved onedoor-account', (c) => ({ ...c, client_id: 'onedoor-account' }), /^client_id: is reserved/],
    ['redirect_uris is empty', (c) => ({ ...c, redirect_uris: [] }), /^redirect_uris: must list at least one/],
    ['redirect_uris is missing', ({ redirect_uris: _r, ...c }) => c, /^redirect_uris: /],
    ['a redirect URI is plain http off localhost', (c) => ({ ...c, redirect_uris: ['https://benefits.agency.gov/cb', 'http://benefits.agency.gov/cb'] }), /^redirect_uris\[1\]: must be an absolute https URL \(http only for localhost\)$/],
    ['a redirect URI is relative', (c) => ({ ...c, redirect_uris: ['/callback'] }), /^redirect_uris\[0\]: must be an absolute https URL/],
    ['a redirect URI has a fragment', (c) => ({ ...c, redirect_uris: ['https://benefits.agency.gov/cb#top'] }), /^redirect_uris\[0\]: must not contain a fragment/],
    ['a redirect URI has a wildcard', (c) => ({ ...c, redirect_uris: ['https://*.agency.gov/cb'] }), /^redirect_uris\[0\]: /],
    ['a post-logout redirect URI is plain http', (c) => ({ ...c, post_logout_redirect_uris: ['http://benefits.agency.gov/'] }), /^post_logout_redirect_uris\[0\]: must be an absolute https URL/],
    // The sector of https://native-app:8080/ would be `native-app:8080`: the sector of a native app whose client_id is 8080.
    ['a redirect URI is on the host native-app (native apps\' sectors)', (c) => ({ ...c, redirect_uris: ['https://native-app:8080/cb'] }), /^redirect_uris\[0\]: must not use the host "native-app"/],
    ['a redirect URI is on the host NATIVE-APP in capitals', (c) => ({ ...c, redirect_uris: ['https://NATIVE-APP:8080/cb'] }), /^redirect_uris\[0\]: must not use the host "native-app"/],
    ['the sector_identifier_uri is on the host native-app', (c) => ({ ...c, sector_identifier_uri: 'https://native-app:8080/sector.json' }), /^sector_identifier_uri: must not use the host "native-app"/],
    ['redirect URIs span hosts without a sector_identifier_uri', (c) => ({ ...c, redirect_uris: ['https://a.agency.gov/cb', 'https://b.agency.gov/cb'] }), /^sector_identifier_uri: is required/],
    ['the auth method is client_secret_basic', (c) => ({ ...c, token_endpoint_auth_method: 'client_secret_basic' }), /^token_endpoint_auth_method: must be private_key_jwt or none/],
    ['a client_secret is given', (c) => ({ ...c, client_secret: 's3cret' }), /^client_secret: not accepted/],
    ['private_key_jwt has neither jwks nor jwks_uri', ({ jwks: _j, ...c }) => c, /^jwks: private_key_jwt needs/],
    ['private_key_jwt has both jwks and jwks_uri', (c) => ({ ...c, jwks_uri: 'https://benefits.agency.gov/jwks' }), /^jwks_uri: use either jwks or jwks_uri/],
    ['jwks_uri is plain http', ({ jwks: _j, ...c }) => ({ ...c, jwks_uri: 'http://benefits.agency.gov/jwks' }), /^jwks_uri: must be an absolute https URL \(http only for localhost\)$/],
    ['jwks has no keys', (c) => ({ ...c, jwks: { keys: [] } }), /^jwks\.keys: must contain at least one key/],
    ['a none client sends jwks', (c) => ({ ...c, token_endpoint_auth_method: 'none' }), /^jwks: is only for private_key_jwt clients/],
    ['grant_types includes implicit', (c) => ({ ...c, grant_types: ['authorization_code', 'implicit'] }), /^grant_types\[1\]: must be authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange or urn:openid:params:grant-type:ciba/],
    ['grant_types leaves out authorization_code', (c) => ({ ...c, grant_types: ['refresh_token'] }), /^grant_types: must include authorization_code/],
    ['response_types asks for an id_token', (c) => ({ ...c, response_types: ['code id_token'] }), /^response_types: must be \["code"\]/],
    ['subject_type is public', (c) => ({ ...c, subject_type: 'public' }), /^subject_type: must be pairwise/],
    ['id_token_signed_response_alg is HS256', (c) => ({ ...c, id_token_signed_response_alg: 'HS256' }), /^id_token_signed_response_alg: must be RS256 or ES256/],
    ['token_endpoint_auth_signing_alg is none', (c) => ({ ...c, token_endpoint_auth_signing_alg: 'none' }), /^token_endpoint_auth_signing_alg: must be ES256, RS256 or PS256/],
    ['backchannel_logout_uri is plain http', (c) => ({ ...c, backchannel_logout_uri: 'http://benefits.agency.gov/bcl' }), /^backchannel_logout_uri: must be an absolute https URL/],
    ['backchannel_logout_session_required comes without a URI', ({ backchannel_logout_uri: _b, ...c }) => c, /^backchannel_logout_session_required: needs backchannel_logout_uri/],
    ['logo_uri is not a URL', (c) => ({ ...c, logo_uri: 'logo.png' }), /^logo_uri: must be an absolute https URL/],
    ['a contact is not an email address', (c) => ({ ...c, contacts: ['identity team'] }), /^contacts\[0\]: must be an email address/],
    ['delegation_enabled is a string', (c) => ({ ...c, delegation_enabled: 'yes' }), /^delegation_enabled: must be true or false/],
    ['max_ial is 3', (c) => ({ ...c, max_ial: 3 }), /^max_ial: must be 1 or 2/],
    ['delegation_bases_accepted names an unknown basis', (c) => ({ ...c, delegation_bases_accepted: ['consent', 'uncle'] }), /^delegation_bases_accepted\[1\]: must be consent, guardianship, power_of_attorney, representative_payee, parent/],
    ['delegation_bases_accepted is empty', (c) => ({ ...c, delegation_bases_accepted: [] }), /^delegation_bases_accepted: must list at least one basis/],
    ['delegation_bases_accepted repeats a basis', (c) => ({ ...c, delegation_bases_accepted: ['parent', 'parent'] }), /^delegation_bases_accepted: must not repeat a value/],
    ['representation_authority names an unknown kind', (c) => ({ ...c, representation_authority: ['consent'] }), /^representation_authority\[0\]: must be guardianship, power_of_attorney, representative_payee, parent/],
    ['representation_authority is on a public client', (c) => { const { jwks: _j, token_endpoint_auth_signing_alg: _a, ...rest } = c as Record<string, unknown>; return { ...rest, token_endpoint_auth_method: 'none', representation_authority: ['parent'] }; }, /representation_authority: needs token_endpoint_auth_method private_key_jwt/],
    ['delegation_bases_accepted comes without delegation_enabled', (c) => ({ ...c, delegation_enabled: false, delegation_bases_accepted: ['parent'] }), /^delegation_bases_accepted: needs delegation_enabled: true/],
    ['an unknown field is present', (c) => ({ ...c, userinfo_encrypted_response_alg: 'RSA-OAEP' }), /^userinfo_encrypted_response_alg: unknown field$/],
    ['a scope is not one OneDoor offers', (c) => ({ ...c, scope: 'openid payroll' }), /^scope: "payroll" is not offered$/],
    ['a max_ial 1 client asks for an identity scope', (c) => ({ ...c, max_ial: 1, scope: 'openid social_security_number' }), /^scope: "social_security_number" is not offered to clients with max_ial 1$/],
  ];

  test.each(bad)('when %s, then it is rejected naming the field', async (_name, mutate, message) => {
    expect(await errorFor(mutate(jwtClient()))).toMatch(message);
  });

  test('when a client opts in to security events, then an https endpoint is kept, and plain http only on localhost while OneDoor runs there', async () => {
    const events = { ...jwtClient(), security_event_endpoint: 'https://benefits.agency.gov/security-events' };
    const result = await check(events);
    expect(result.ok && result.metadata.security_event_endpoint).toBe('https://benefits.agency.gov/security-events');
    expect(await errorFor({ ...events, security_event_endpoint: 'http://benefits.agency.gov/events' })).toBe('security_event_endpoint: must be an absolute https URL (http only for localhost)');
    expect((await check({ ...events, security_event_endpoint: 'http://127.0.0.1:4000/events' })).ok).toBe(true);
    const production = loadConfig({ KEYS_DIR: config.keysDir, DATABASE_URL: 'sqlite::memory:', ISSUER: 'https://login.onedoor.example' }, { warn: () => {} });
    const refused = await validateClientFile({ input: { ...events, security_event_endpoint: 'http://127.0.0.1:4000/events' }, config: production, ds, keys });
    expect(refused).toEqual({ ok: false, error: 'security_event_endpoint: must be an absolute https URL' });
  });

  describe('native apps (RFC 8252)', () => {
    const app = (redirects: string[], extra: Record<string, unknown> = {}) => ({ client_id: 'benefits-ios', client_name: 'Benefits', application_type: 'native', redirect_uris: redirects, ...extra });

    test.each([
      ['a reverse-domain scheme', ['gov.example.benefits:/callback', 'gov.example.benefits:/other']],
      ['a claimed https URI', ['https://benefits.example.gov/app/callback']],
      ['a loopback IP literal', ['http://127.0.0.1/callback']],
      ['an IPv6 loopback literal', ['http://[::1]:8080/callback']],
    ])('when a native app registers %s, then it is accepted as a public client', async (_name, redirects) => {
      const result = await check(app(redirects));
      if (!result.ok) throw new Error(result.error);
      expect(result.metadata).toMatchObject({ application_type: 'native', token_endpoint_auth_method: 'none', subject_type: 'pairwise' });
    });

    test('when a native app mixes redirect kinds without a sector_identifier_uri, then it is refused naming the field', async () => {
      expect(await errorFor(app(['gov.example.benefits:/callback', 'http://127.0.0.1/callback']))).toMatch(/^sector_identifier_uri: is required/);
    });

    test.each([
      ['a scheme without a dot', ['benefits:/callback'], /^redirect_uris\[0\]: must use a private-use scheme in reverse-domain form/],
      ['localhost as the loopback host', ['http://localhost:8080/callback'], /^redirect_uris\[0\]: must use the loopback IP literal 127\.0\.0\.1 or \[::1\], not localhost/],
      ['http to another host', ['http://benefits.example.gov/callback'], /^redirect_uris\[0\]: must be a loopback IP literal/],
      ['a javascript: URI', ['javascript:alert(1)'], /^redirect_uris\[0\]: must not use the javascript scheme$/],
      ['a data: URI', ['data:text/html,x'], /^redirect_uris\[0\]: must not use the data scheme$/],
      ['a claimed https URI on a loopback host', ['https://127.0.0.1/callback'], /^redirect_uris\[0\]: must be a claimed https URI/],
      ['a fragment', ['gov.example.benefits:/callback#x'], /^redirect_uris\[0\]: must not contain a fragment/],
    ])('when a native app registers %s, then it is refused naming the field', async (_name, redirects, message) => {
      expect(await errorFor(app(redirects))).toMatch(message);
    });

    test('when a native app names private_key_jwt, then it is refused (an app cannot keep a private key)', async () => {
      expect(await errorFor(app(['gov.example.benefits:/callback'], { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] } }))).toMatch(/^token_endpoint_auth_method: must be none for a native app/);
    });

    test('when a web client registers a custom scheme or a loopback IP, then it is refused as before', async () => {
      expect(await errorFor({ ...publicClient(), redirect_uris: ['gov.example.benefits:/callback'] })).toBe('redirect_uris[0]: must be an absolute https URL (http only for localhost)');
      expect(await errorFor({ ...publicClient(), application_type: 'desktop' })).toBe('application_type: must be "web" or "native"');
    });
  });

  // Security review (issue 16, finding 7): URLs OneDoor calls are refused when they point inside.
  test.each([
    ['jwks_uri', 'https://localhost/jwks', 'localhost is loopback'],
    ['jwks_uri', 'https://api.localhost/jwks', 'api.localhost is loopback'],
    ['jwks_uri', 'https://2130706433/jwks', '127.0.0.1 is loopback'],
    ['jwks_uri', 'https://0x7f.1/jwks', '127.0.0.1 is loopback'],
    ['jwks_uri', 'https://0.0.0.0/jwks', '0.0.0.0 is unspecified'],
    ['backchannel_logout_uri', 'https://192.168.0.10/logout', '192.168.0.10 is private'],
    ['backchannel_logout_uri', 'https://[fe80::1]/logout', 'fe80::1 is link-local'],
    ['security_event_endpoint', 'https://100.64.0.1/events', '100.64.0.1 is shared'],
    ['sector_identifier_uri', 'https://[::ffff:169.254.169.254]/sector', '::ffff:a9fe:a9fe is link-local'],
  ])('when %s is %s, then it is refused naming the field', async (field, url, detail) => {
    const { jwks: _jwks, ...withoutKeys } = jwtClient();
    const file = field === 'jwks_uri' ? { ...withoutKeys, jwks_uri: url } : { ...jwtClient(), [field]: url };
    expect(await errorFor(file)).toBe(`${field}: must not point to a private, loopback or link-local address (${detail})`);
  });

  test('when a name resolves to a loopback address, then it is refused', async () => {
    // This machine's own name resolves to one of its own addresses.
    const { jwks: _jwks, ...withoutKeys } = jwtClient();
    expect(await errorFor({ ...withoutKeys, jwks_uri: `https://${os.hostname().toLowerCase()}/jwks` })).toMatch(/^jwks_uri: must not point to a private, loopback or link-local address \(/);
  });

  test('when the operator allows an address with OUTBOUND_ALLOW, then a client may use it', async () => {
    const staging = loadConfig({ KEYS_DIR: config.keysDir, DATABASE_URL: 'sqlite::memory:', OUTBOUND_ALLOW: '10.0.0.0/8' }, { warn: () => {} });
    const { jwks: _jwks, ...withoutKeys } = jwtClient();
    const result = await validateClientFile({ input: { ...withoutKeys, jwks_uri: 'https://10.1.2.3/jwks' }, config: staging, ds, keys });
    expect(result.ok).toBe(true);
    expect(await errorFor({ ...withoutKeys, jwks_uri: 'https://10.1.2.3/jwks' })).toMatch(/^jwks_uri: must not point to/);
  });

  test('when a name does not resolve yet, then the file is accepted with a notice (the address is checked at every call)', async () => {
    const { jwks: _jwks, ...withoutKeys } = jwtClient();
    const result = await check({ ...withoutKeys, jwks_uri: 'https://keys.not-yet-live.invalid/jwks' });
    if (!result.ok) throw new Error(result.error);
    expect(result.notices).toContain('jwks_uri: keys.not-yet-live.invalid does not resolve from here; OneDoor checks its address at every call');
  });

  describe('phone channel (CIBA)', () => {
    const CIBA = 'urn:openid:params:grant-type:ciba';
    const phone = (extra: Record<string, unknown> = {}) => ({
      client_id: 'benefits-phone', client_name: 'Benefits Agency', grant_types: [CIBA], token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://benefits.agency.gov/.well-known/jwks.json', backchannel_token_delivery_mode: 'poll', ...extra,
    });

    test('when a phone-channel-only client uses poll, then it is accepted with no redirect URIs and no response types', async () => {
      const result = await check(phone());
      if (!result.ok) throw new Error(result.error);
      expect(result.metadata).toMatchObject({ grant_types: [CIBA], response_types: [], subject_type: 'pairwise', backchannel_token_delivery_mode: 'poll' });
      expect(result.metadata.redirect_uris).toBeUndefined();
    });

    test('when it uses ping with an https notification endpoint, then it is accepted', async () => {
      const result = await check(phone({ backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: 'https://benefits.agency.gov/ciba/notify' }));
      expect(result.ok).toBe(true);
    });

    test('when its keys are at http://localhost while OneDoor runs on localhost, then it is accepted; in production it is refused', async () => {
      expect((await check(phone({ jwks_uri: 'http://localhost:4000/jwks.json' }))).ok).toBe(true);
      const production = loadConfig({ KEYS_DIR: config.keysDir, DATABASE_URL: 'sqlite::memory:', ISSUER: 'https://login.onedoor.example' }, { warn: () => {} });
      const refused = await validateClientFile({ input: phone({ jwks_uri: 'http://localhost:4000/jwks.json' }), config: production, ds, keys });
      expect(refused).toEqual({ ok: false, error: 'jwks_uri: must be an absolute https URL' });
    });

    const bad: Array<[string, Record<string, unknown>, RegExp]> = [
      ['has no delivery mode', phone({ backchannel_token_delivery_mode: undefined }), /^backchannel_token_delivery_mode: is required for the phone channel/],
      ['asks for push delivery', phone({ backchannel_token_delivery_mode: 'push' }), /^backchannel_token_delivery_mode: must be "poll" or "ping"$/],
      ['uses ping without a notification endpoint', phone({ backchannel_token_delivery_mode: 'ping' }), /^backchannel_client_notification_endpoint: is required for ping delivery$/],
      ['gives a plain http notification endpoint', phone({ backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: 'http://localhost:4000/notify' }), /^backchannel_client_notification_endpoint: must be an absolute https URL$/],
      ['gives a notification endpoint inside the network', phone({ backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: 'https://10.1.2.3/notify' }), /^backchannel_client_notification_endpoint: must not point to a private, loopback or link-local address \(10\.1\.2\.3 is private\)$/],
      ['uses poll with a notification endpoint', phone({ backchannel_client_notification_endpoint: 'https://benefits.agency.gov/notify' }), /^backchannel_client_notification_endpoint: is only for ping delivery$/],
      ['gives its keys inline', phone({ jwks_uri: undefined, jwks: { keys: [] } }), /jwks_uri: is required for the urn:openid:params:grant-type:ciba grant/],
      ['is a public client', phone({ jwks_uri: undefined, token_endpoint_auth_method: 'none' }), /token_endpoint_auth_method: must be private_key_jwt for the urn:openid:params:grant-type:ciba grant/],
      ['asks for refresh tokens', phone({ grant_types: [CIBA, 'refresh_token'] }), /^grant_types: refresh_token needs authorization_code/],
      ['lists redirect URIs', phone({ redirect_uris: ['https://benefits.agency.gov/callback'] }), /^redirect_uris: is only for clients with authorization_code$/],
      ['asks for the code response type', phone({ response_types: ['code'] }), /^response_types: must be \[\] for a client without authorization_code$/],
      ['also signs people in without a sector_identifier_uri', phone({ grant_types: ['authorization_code', CIBA], redirect_uris: ['https://benefits.agency.gov/callback'] }), /^sector_identifier_uri: is required when a client has both authorization_code and urn:openid:params:grant-type:ciba/],
      ['asks for user codes', phone({ backchannel_user_code_parameter: true }), /^backchannel_user_code_parameter: must be false/],
      ['is a native app', { ...phone(), application_type: 'native', token_endpoint_auth_method: undefined }, /grant_types: urn:openid:params:grant-type:ciba is for an agency's back end, not a native app/],
    ];

    test.each(bad)('when a phone client %s, then it is refused naming the field', async (_name, file, message) => {
      expect(await errorFor(JSON.parse(JSON.stringify(file)))).toMatch(message);
    });

    test('when a client without the CIBA grant gives a delivery mode, then it is refused', async () => {
      expect(await errorFor({ ...jwtClient(), backchannel_token_delivery_mode: 'poll' })).toBe(`backchannel_token_delivery_mode: is only for clients with the ${CIBA} grant`);
    });

    test('when a client has neither authorization_code nor the CIBA grant, then it is refused', async () => {
      expect(await errorFor({ ...phone(), grant_types: ['client_credentials'] })).toMatch(/^grant_types: must include authorization_code \(or urn:openid:params:grant-type:ciba/);
    });
  });

  test('when the file is not a JSON object, then the message says so', async () => {
    expect(await errorFor(['not', 'an', 'object'])).toBe('client file: must be a JSON object');
  });
});
