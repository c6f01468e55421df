import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { exportJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { Account, SecurityEventDelivery } from '../../entities/index.js';
import { deliverSecurityEvents } from '../../src/oidc/deliverSecurityEvents.js';
import { logger } from '../../src/shared/logger.js';
import { registerAgency } from '../support/agency.js';
import { signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Security review (issue 16, finding 7): the provider's own outgoing calls (jwks_uri,
// back-channel logout) and OneDoor's (security events) all go through the one helper. OneDoor
// runs on localhost here, so only plain http to localhost is allowed: https://127.0.0.1 stands
// for an agency URL pointing inside the network.
let server: TestServer;
let inside: { port: number; connections: number; close(): Promise<void> };

/** A listener on 127.0.0.1 that counts connections (and hangs up): what an internal service would see. */
async function listener() {
  const state = { port: 0, connections: 0, close: async () => {} };
  const srv = net.createServer((socket) => { state.connections += 1; socket.destroy(); });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  state.port = (srv.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => srv.close(() => resolve()));
  return state;
}

beforeAll(async () => {
  server = await startTestServer();
  inside = await listener();
});
afterAll(async () => {
  await inside.close();
  await server.close();
});
afterEach(() => jest.restoreAllMocks());

/** An agency that authenticates with keys published at `jwksUri` and may use client credentials. */
async function jwksUriAgency(clientId: string, jwksUri: string) {
  const agency = await registerAgency(server, { clientId, extra: { jwks: undefined, jwks_uri: jwksUri, grant_types: ['authorization_code', 'client_credentials'] } });
  const { d: _d, ...publicJwk } = await exportJWK(agency.privateKey);
  return { agency, publicJwk: { ...publicJwk, kid: agency.kid, alg: 'ES256', use: 'sig' } as JWK };
}

/** What was logged at warn level while `run` ran, as JSON text. */
async function warnings(run: () => Promise<void>): Promise<string> {
  const warn = jest.spyOn(logger, 'warn');
  await run();
  return JSON.stringify(warn.mock.calls);
}

describe("the provider's outgoing calls", () => {
  test("when a client's jwks_uri points inside the network, then the token endpoint answers invalid_client, nothing connects there, and the log names the client and the reason, not the URL", async () => {
    const { agency } = await jwksUriAgency('agency-inside-keys', `https://127.0.0.1:${inside.port}/jwks?key=s3cr3t`);
    let error: unknown;
    const logged = await warnings(async () => { error = await oidc.clientCredentialsGrant(agency.config, { scope: 'openid' }).catch((e: unknown) => e); });
    expect(error).toMatchObject({ error: 'invalid_client' });
    expect(inside.connections).toBe(0);
    expect(logged).toContain('"clientId":"agency-inside-keys"');
    expect(logged).toContain('"reason":"address_not_allowed"');
    expect(logged).not.toMatch(/127\.0\.0\.1|s3cr3t/);
  });

  test("when a client's jwks_uri is plain http on this machine while OneDoor runs on localhost, then its keys are fetched and its assertion accepted", async () => {
    let keys: JWK[] = [];
    const site = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ keys })); });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    try {
      const { agency, publicJwk } = await jwksUriAgency('agency-local-keys', `http://127.0.0.1:${(site.address() as AddressInfo).port}/jwks`);
      keys = [publicJwk];
      const tokens = await oidc.clientCredentialsGrant(agency.config, {});
      expect(tokens.token_type).toBe('bearer');
    } finally {
      site.closeAllConnections();
      await new Promise<void>((resolve) => site.close(() => resolve()));
    }
  });

  test('when an agency\'s back-channel logout URI points inside the network, then the logout is not sent there and the log names the client and the reason', async () => {
    const agency = await registerAgency(server, { clientId: 'agency-inside-logout', extra: { backchannel_logout_uri: `https://127.0.0.1:${inside.port}/logout`, backchannel_logout_session_required: true } });
    const a = await agency.authorize();
    const { agent } = await signUp({ server, authenticator: new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }), authUrl: a.url, email: `bcl-${randomUUID().slice(0, 8)}@example.com` });
    await agent.page(`${server.url}/account`);
    const before = inside.connections;
    const logged = await warnings(async () => {
      expect((await agent.request(`${server.url}/account/sign-out-everywhere`, { method: 'POST', form: {} })).status).toBe(303);
    });
    expect(inside.connections).toBe(before);
    expect(logged).toContain('"clientId":"agency-inside-logout"');
    expect(logged).toContain('"reason":"address_not_allowed"');
    expect(logged).not.toContain(`${inside.port}`);
  });
});

describe("OneDoor's own outgoing calls", () => {
  test('when an agency\'s security event endpoint points inside the network, then nothing is sent there and the delivery fails with the reason code', async () => {
    const agency = await registerAgency(server, { clientId: 'agency-inside-events', extra: { security_event_endpoint: `https://127.0.0.1:${inside.port}/events` } });
    const a = await agency.authorize();
    const email = `set-${randomUUID().slice(0, 8)}@example.com`;
    const { agent } = await signUp({ server, authenticator: new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }), authUrl: a.url, email });
    await agent.page(`${server.url}/account`);
    const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
    await agent.page(`${server.url}/account/passkeys/new`);
    const options = await agent.request(`${server.url}/account/passkeys/options`, { method: 'POST', json: {} });
    const credential = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }).createCredential({ options: await options.json() });
    expect((await agent.request(`${server.url}/account/passkeys`, { method: 'POST', form: { response: JSON.stringify(credential), name: 'Laptop' } })).status).toBe(303);

    const before = inside.connections;
    await deliverSecurityEvents({ ds: server.ds, provider: server.provider, keys: server.keys, config: server.config });
    expect(inside.connections).toBe(before);
    const rows = await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: account.id });
    expect(rows.map((r) => ({ clientId: r.clientId, status: r.status, lastError: r.lastError }))).toEqual([{ clientId: 'agency-inside-events', status: 'failed', lastError: 'address_not_allowed' }]);
  });
});
