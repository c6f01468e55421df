import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { generateKeyPair, SignJWT } from 'jose';
import { Delegation, Representation, SecurityEventDelivery } from '../../entities/index.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { chooseAndRedeem, newPerson, type TestPerson } from '../support/delegationFlow.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let server: TestServer;
let ssa: TestAgency;
let other: TestAgency;
let plain: TestAgency;
let publicClient: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  ssa = await registerAgency(server, { clientId: 'ssa', extra: { delegation_enabled: true, delegation_bases_accepted: ['consent', 'representative_payee'], representation_authority: ['representative_payee'] } });
  other = await registerAgency(server, { clientId: 'other-register', extra: { representation_authority: ['representative_payee'] } });
  plain = await registerAgency(server, { clientId: 'plain', extra: {} });
  publicClient = await registerAgency(server, { clientId: 'spa', public: true });
});
afterAll(async () => { await server.close(); });

async function assertion(agency: TestAgency, over: { aud?: string; iat?: number; exp?: number; jti?: string; key?: CryptoKey; iss?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: over.jti ?? randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: agency.kid })
    .setIssuer(over.iss ?? agency.clientId).setSubject(over.iss ?? agency.clientId).setAudience(over.aud ?? server.url)
    .setIssuedAt(over.iat ?? now).setExpirationTime(over.exp ?? now + 60)
    .sign(over.key ?? agency.privateKey);
}

const payee = (rep: TestPerson, over: Record<string, unknown> = {}) => ({
  kind: 'representative_payee',
  representative: { account: rep.email, given_name: 'Jane', family_name: 'Sample', birthdate: '1985-04-12' },
  represented: { given_name: 'Walter', family_name: `Beneficiary${randomUUID().slice(0, 6)}`, birthdate: '1938-09-09' },
  agencies: ['ssa'], scopes: ['email', 'profile'],
  evidence: { case_number: 'RP-55-1234', document_type: 'SSA-11 appointment' },
  ...over,
});

async function call(method: 'POST' | 'DELETE', path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${server.url}${path}`, { method, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) as Record<string, unknown> : undefined, text, headers: res.headers };
}
const post = async (agency: TestAgency, record: unknown, over: Parameters<typeof assertion>[1] = {}) => call('POST', '/representations', { client_assertion_type: JWT_BEARER, client_assertion: await assertion(agency, over), ...(record as object) });
const del = async (agency: TestAgency, id: string) => call('DELETE', `/representations/${id}`, { client_assertion_type: JWT_BEARER, client_assertion: await assertion(agency) });

describe('POST /representations', () => {
  test('when the payee register records a representative payee, then it acts at once, and the representative acts with source = the register', async () => {
    const rep = await newPerson(server, plain);
    await verifyIdentity({ server, agent: rep.agent, authenticator: rep.authenticator });
    const res = await post(ssa, payee(rep));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ kind: 'representative_payee', status: 'active', source: 'ssa' });
    const id = String(res.json!['id']);
    expect(res.headers.get('location')).toBe(`/representations/${id}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { tokens } = await chooseAndRedeem(server, { helper: rep, agency: ssa, choice: id });
    expect(tokens.claims()!['delegation']).toMatchObject({ id, basis: 'representative_payee', source: 'ssa' });

    // Another register cannot end it; the one that recorded it can, and the tokens stop at once.
    expect((await del(other, id)).status).toBe(404);
    expect((await del(plain, id)).status).toBe(403);
    const ended = await del(ssa, id);
    expect(ended.status).toBe(204);
    expect((await oidc.tokenIntrospection(ssa.config, tokens.access_token)).active).toBe(false);
    expect((await server.ds.getRepository(Representation).findOneByOrFail({ delegationId: id })).endReason).toBe('ended_by_source');
    const d = await server.ds.getRepository(Delegation).findOneByOrFail({ id });
    const events = await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: d.representedPersonId!, eventType: 'urn:onedoor:secevent:delegation-revoked' });
    expect(events).toHaveLength(0); // ssa did not opt in to security events
    expect((await del(ssa, id)).status).toBe(204);
  });

  test('when the register names an account as the represented person, then that account must hold a verified identity with the record\'s name and birth date, and every refusal reads the same', async () => {
    const rep = await newPerson(server, plain);
    await verifyIdentity({ server, agent: rep.agent, authenticator: rep.authenticator });
    const river = SANDBOX_PEOPLE[2]!;
    const person = await newPerson(server, plain);
    const asRiver = { given_name: 'River', family_name: 'Tester', birthdate: river.dateOfBirth };
    const naming = (account: string, who: Record<string, string> = asRiver) => payee(rep, { represented: { account, ...who } });
    const refusal = { status: 400, json: { error: 'invalid_request', error_description: 'represented.account: no OneDoor account can take this record' } };
    const before = await server.ds.getRepository(Delegation).count();
    expect(await post(ssa, naming(person.email))).toMatchObject(refusal); // not verified yet
    expect(await post(ssa, naming(`nobody-${randomUUID().slice(0, 8)}@example.com`))).toMatchObject(refusal); // no account
    expect(await post(ssa, naming(rep.email, { given_name: 'Jane', family_name: 'Sample', birthdate: '1985-04-12' }))).toMatchObject(refusal); // the representative
    await verifyIdentity({ server, agent: person.agent, authenticator: person.authenticator, person: river });
    expect(await post(ssa, naming(person.email, { ...asRiver, family_name: 'Other' }))).toMatchObject(refusal); // another name
    expect(await post(ssa, naming(person.email, { ...asRiver, birthdate: '1990-01-01' }))).toMatchObject(refusal); // another birth date
    expect(await server.ds.getRepository(Delegation).count()).toBe(before);
    const recorded = await post(ssa, naming(person.email));
    expect(recorded.status).toBe(201);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: String(recorded.json!['id']) })).principalId).toBe(person.account.id);
  });

  test('when a client without representation_authority, or for another kind, registers, then it gets 403 and nothing is recorded', async () => {
    const rep = await newPerson(server, plain);
    const before = await server.ds.getRepository(Representation).count();
    expect(await post(plain, payee(rep))).toMatchObject({ status: 403, json: { error: 'unauthorized_client' } });
    expect(await post(ssa, payee(rep, { kind: 'guardianship', evidence: { case_number: 'x', court: 'y', document_type: 'z' } }))).toMatchObject({ status: 403, json: { error: 'unauthorized_client' } });
    expect(await server.ds.getRepository(Representation).count()).toBe(before);
  });

  test('when the assertion is replayed, sent twice at once, wrongly signed, for another audience, expired, another client\'s, or a public client\'s, then it is 401 invalid_client', async () => {
    const rep = await newPerson(server, plain);
    const a = await assertion(ssa);
    const body = { client_assertion_type: JWT_BEARER, client_assertion: a, ...payee(rep) };
    expect((await call('POST', '/representations', body)).status).toBe(201);
    expect(await call('POST', '/representations', body)).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    // Simultaneous: only one of the two wins.
    const b = await assertion(ssa);
    const both = await Promise.all([0, 1].map(() => call('POST', '/representations', { client_assertion_type: JWT_BEARER, client_assertion: b, ...payee(rep) })));
    expect(both.map((r) => r.status).sort()).toEqual([201, 401]);
    const { privateKey: stranger } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    for (const over of [{ key: stranger }, { aud: 'https://elsewhere.example' }, { iat: now - 600, exp: now - 300 }, { iat: now - 1200, exp: now + 60 }]) {
      expect(await post(ssa, payee(rep), over)).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    }
    // Signed by ssa's key but claiming to be another register.
    expect((await post(ssa, payee(rep), { iss: 'other-register' })).status).toBe(401);
    expect((await call('POST', '/representations', { ...payee(rep) })).status).toBe(401);
    expect((await call('POST', '/representations', { client_assertion_type: JWT_BEARER, client_assertion: 'not.a.jwt', ...payee(rep) })).status).toBe(401);
    expect((await post(publicClient, payee(rep), { key: (await generateKeyPair('ES256')).privateKey })).status).toBe(401);
  });

  test('when the body is malformed, then it is refused with an OAuth error that never repeats a value', async () => {
    const rep = await newPerson(server, plain);
    expect((await call('POST', '/representations', '{not json')).status).toBe(400);
    expect((await call('POST', '/representations', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await call('POST', '/representations', '[]')).json).toEqual({ error: 'invalid_request', error_description: 'the body must be a JSON object' });
    expect((await call('POST', '/representations', JSON.stringify({ pad: 'x'.repeat(20_000) }))).status).toBe(413);
    const unknown = await post(ssa, payee(rep, { secret_note: 'Walter has dementia' }));
    expect(unknown).toMatchObject({ status: 400, json: { error: 'invalid_request', error_description: 'secret_note: unknown field' } });
    const bad = await post(ssa, payee(rep, { represented: { given_name: 'Walter\u0000', family_name: 'X', birthdate: '1938-09-09' } }));
    expect(bad).toMatchObject({ status: 400, json: { error_description: 'represented.given_name: must not contain control characters' } });
    expect(bad.text).not.toContain('Walter');
    expect((await post(ssa, payee(rep, { recorded_by: 'someone' }))).json).toMatchObject({ error_description: 'recorded_by: unknown field' });
    expect((await del(ssa, 'not-an-id')).status).toBe(404);
  });
});
