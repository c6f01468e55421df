import fs from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { logger } from '../../src/shared/logger.js';
import { newPerson } from '../support/delegationFlow.js';
import { type AgencySite, approveOnPage, oauthError, phoneLinkMailedTo, phoneMailCount, refuseOnPage, registerPhoneAgency, registerSignInClient, startAgencySite } from '../support/phoneAgency.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import { createTestCa, issueServerCertificate } from '../support/testCertificates.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * Ping delivery (CIBA Core §10.2): when the person answers, OneDoor POSTs `{"auth_req_id"}` with
 * the agency's `client_notification_token` as a Bearer token to its
 * `backchannel_client_notification_endpoint` (https, CIBA Core §4), through the one
 * outgoing-request helper; the agency then fetches the result at the token endpoint.
 */

interface Notification { path: string; authorization: string | undefined; body: string }

/** The agency's notification endpoint: https on localhost, with a certificate from a test CA. */
async function notificationEndpoint(caFile: string) {
  const ca = createTestCa({ name: 'Phone Ping Test CA' });
  fs.writeFileSync(caFile, ca.pem);
  const { pem, keyPem } = issueServerCertificate({ ca, host: 'localhost' });
  const received: Notification[] = [];
  const srv = https.createServer({ cert: pem, key: keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => { received.push({ path: req.url ?? '', authorization: req.headers.authorization, body }); res.writeHead(204).end(); });
  });
  await new Promise<void>((resolve) => srv.listen(0, 'localhost', resolve));
  return {
    url: `https://localhost:${(srv.address() as AddressInfo).port}/ciba/notify`, received,
    close: () => { srv.closeAllConnections(); return new Promise<void>((resolve) => srv.close(() => resolve())); },
  };
}

const until = async (done: () => boolean) => { for (let i = 0; i < 200 && !done(); i += 1) await new Promise((r) => setTimeout(r, 50)); };

describe('ping delivery to the agency', () => {
  let server: SpawnedServer;
  let site: AgencySite;
  let endpoint: Awaited<ReturnType<typeof notificationEndpoint>>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-ping-'));

  beforeAll(async () => {
    endpoint = await notificationEndpoint(path.join(dir, 'ca.pem'));
    // The OneDoor process trusts the agency's CA (NODE_EXTRA_CA_CERTS, as for an agency on a
    // private PKI), and may call localhost (OUTBOUND_ALLOW, as for a development network).
    server = await spawnServer({ env: { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'), OUTBOUND_ALLOW: 'localhost', LOG_LEVEL: 'debug' } });
    site = await startAgencySite();
  });
  afterAll(async () => {
    await site?.close();
    await endpoint?.close();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('when the person approves or declines, then the agency\'s endpoint is pinged with its token and the auth_req_id, and the token endpoint has the answer', async () => {
    const srv = server as unknown as TestServer;
    const signIn = await registerSignInClient(srv, site, { clientId: 'ping-web' });
    const phone = await registerPhoneAgency(server, site, { clientId: 'ping-phone', extra: { backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: endpoint.url } });
    const who = await newPerson(srv, signIn);
    const token = randomBytes(24).toString('base64url');

    expect(await oauthError(phone.ask({ login_hint: who.email }))).toMatchObject({ error: 'invalid_request' });

    let seen = phoneMailCount(server.outboxDir, who.email);
    const approved = await phone.ask({ login_hint: who.email, client_notification_token: token });
    let { url } = await phoneLinkMailedTo(server.outboxDir, who.email, seen);
    await approveOnPage(who.agent, who.authenticator, url);
    await until(() => endpoint.received.length >= 1);
    expect(endpoint.received[0]).toEqual({ path: '/ciba/notify', authorization: `Bearer ${token}`, body: JSON.stringify({ auth_req_id: approved.auth_req_id }) });
    expect((await phone.pollOnce(approved.auth_req_id)).claims()!.sub).toBe(who.sub);

    seen = phoneMailCount(server.outboxDir, who.email);
    const declined = await phone.ask({ login_hint: who.email, client_notification_token: token });
    ({ url } = await phoneLinkMailedTo(server.outboxDir, who.email, seen));
    await refuseOnPage(who.agent, url, 'deny');
    await until(() => endpoint.received.length >= 2);
    expect(JSON.parse(endpoint.received[1]!.body)).toEqual({ auth_req_id: declined.auth_req_id });
    expect(await oauthError(phone.pollOnce(declined.auth_req_id))).toMatchObject({ error: 'access_denied' });

    // The real process's output (at debug level) names neither the people asked about nor the agency's token.
    const nobody = `nobody-${randomBytes(4).toString('hex')}@example.com`;
    await phone.ask({ login_hint: nobody, client_notification_token: token });
    await new Promise((r) => setTimeout(r, 300));
    const output = [...server.lines, ...server.stderr].join('\n');
    for (const secret of [token, nobody, nobody.split('@')[0]!, who.email, approved.auth_req_id, declined.auth_req_id]) expect(output).not.toContain(secret);
  });
});

describe('a ping that OneDoor must not send', () => {
  let server: TestServer;
  let site: AgencySite;
  let inside: net.Server;
  let connections = 0;

  beforeAll(async () => {
    server = await startTestServer();
    site = await startAgencySite();
    inside = net.createServer((socket) => { connections += 1; socket.destroy(); });
    await new Promise<void>((resolve) => inside.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => inside.close(() => resolve()));
    await site.close();
    await server.close();
  });
  afterEach(() => jest.restoreAllMocks());

  test('when the notification endpoint points inside the network, then nothing connects there, the log names the client and the reason only, and the agency still gets the tokens by polling', async () => {
    const signIn = await registerSignInClient(server, site, { clientId: 'inside-web' });
    const endpoint = `https://127.0.0.1:${(inside.address() as AddressInfo).port}/notify?secret=s3cr3t`;
    const phone = await registerPhoneAgency(server, site, { clientId: 'inside-phone', extra: { backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: endpoint } });
    const who = await newPerson(server, signIn);
    const token = randomBytes(24).toString('base64url');
    const seen = phoneMailCount(server.outboxDir, who.email);
    const response = await phone.ask({ login_hint: who.email, client_notification_token: token });
    const { url } = await phoneLinkMailedTo(server.outboxDir, who.email, seen);
    const warn = jest.spyOn(logger, 'warn');
    expect((await approveOnPage(who.agent, who.authenticator, url)).html).toContain('data-outcome="approved"');
    const logged = JSON.stringify(warn.mock.calls);
    expect(connections).toBe(0);
    expect(logged).toContain('"clientId":"inside-phone"');
    expect(logged).toContain('"reason":"address_not_allowed"');
    expect(logged).not.toMatch(/127\.0\.0\.1|s3cr3t/);
    expect(logged).not.toContain(token);
    expect((await phone.pollOnce(response.auth_req_id)).claims()!.sub).toBe(who.sub);
  });
});
