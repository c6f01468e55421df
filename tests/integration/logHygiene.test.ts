import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { Agent } from '../support/agent.js';
import { registerAgency } from '../support/agency.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { decodeMail, finishAtAgency, interactionUid, signUp } from '../support/flows.js';
import { latestOutbox, verifyIdentity } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import type { TestServer } from '../support/testServer.js';

// The real process, at debug level (the most it ever writes), with its stdout captured.
let server: SpawnedServer;
beforeAll(async () => { server = await spawnServer({ env: { LOG_LEVEL: 'debug' } }); });
afterAll(async () => { await server.close(); });

type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** Which of the secrets occur in the text (names only, so a failure does not print them twice). */
function leaked(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets).filter(([, v]) => v && new RegExp(`(?<![0-9A-Za-z])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`).test(text)).map(([k]) => k);
}

test('when a person signs up, signs in at an agency, verifies their identity and some attempts fail, then no log line carries an email, code, token, key or personal data, and every line of a request carries its id', async () => {
  const asTestServer = server as unknown as TestServer;
  const agency = await registerAgency(asTestServer, { clientId: 'log-agency', extra: { max_ial: 2 } });
  const email = `log-${randomUUID().slice(0, 8)}@example.com`;
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });

  // Sign-up inside an authorization, then code → tokens → userinfo at the agency.
  const auth = await agency.authorize();
  const { agent, landing, recoveryCodes } = await signUp({ server: asTestServer, authenticator, authUrl: auth.url, email });
  const tokens = await agency.redeem(landing, auth);
  const info = await oidc.fetchUserInfo(agency.config, tokens.access_token, tokens.claims()!.sub);
  expect(info.email).toBe(email);

  // Failed attempts: a code redeemed twice, a made-up access token, a wrong recovery code.
  await expect(agency.redeem(landing, auth)).rejects.toMatchObject({ error: 'invalid_grant' });
  const madeUpToken = `fake${randomUUID().replace(/-/g, '')}`;
  const bad = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${madeUpToken}`, accept: 'application/json' } });
  expect(bad.status).toBe(401);
  const stranger = new Agent();
  const second = await agency.authorize();
  const { url: interactionUrl } = await stranger.follow(second.url, server.url);
  await stranger.page(interactionUrl);
  const wrongCode = 'ZZZZ-9999-YYYY';
  const recovery = await stranger.request(`${server.url}/interaction/${interactionUid(interactionUrl)}/recovery`, { method: 'POST', form: { email, code: wrongCode } });
  expect(recovery.status).toBe(400);
  // A query string with a code in it (as a redirect back from somewhere would carry).
  const queryCode = `Q${randomUUID().slice(0, 12)}`;
  await fetch(`${server.url}/interaction/${interactionUid(interactionUrl)}?code=${queryCode}&state=${queryCode}`);

  // Identity verification (name, birth date, address, SSN, phone, SMS code, personal key),
  // then an IAL2 sign-in that releases all of it to the agency.
  const ssn = '123-45-6789';
  const { personalKey } = await verifyIdentity({ server: asTestServer, agent, authenticator, ssn, phone: '(202) 555-0142' });
  const smsCode = latestOutbox(server.outboxDir, '-sms.txt').match(/\b(\d{6})\b/)![1]!;
  const ial2 = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified', scope: 'openid email profile address phone social_security_number' });
  const ial2Landing = await finishAtAgency(agent, asTestServer, ial2.url);
  const ial2Tokens = await agency.redeem(ial2Landing, ial2);
  const ial2Info = await oidc.fetchUserInfo(agency.config, ial2Tokens.access_token, ial2Tokens.claims()!.sub);
  expect(ial2Info['social_security_number']).toBe('123456789');

  // Request ids: a well-formed one is kept and echoed, anything else replaced.
  const traceId = `trace-${randomUUID().replace(/-/g, '')}`.slice(0, 40);
  const traced = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': traceId } });
  expect(traced.headers.get('x-request-id')).toBe(traceId);
  const forged = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id"}{' } });
  expect(forged.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  expect(forged.headers.get('x-request-id')).not.toBe('bad id"}{');
  // Lines arrive in order on the pipe: once the last request's line is in, all are.
  const last = `last-${randomUUID().replace(/-/g, '')}`;
  await fetch(`${server.url}/`, { headers: { 'x-request-id': last } });
  await server.waitForLine(new RegExp(last));

  const mails = fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).map((f) => decodeMail(fs.readFileSync(path.join(server.outboxDir, f), 'utf8')));
  const mailCodes = mails.flatMap((m) => [...m.matchAll(/\b(\d{6})\b/g)].map((x) => x[1]!)).filter((c) => !/^20\d{4}$/.test(c));
  expect(mailCodes.length).toBeGreaterThan(0);
  const person = SANDBOX_PEOPLE[0]!;
  const secrets: Record<string, string> = {
    email, personalKey, smsCode, ssn, ssnDigits: '123456789', wrongCode, queryCode, madeUpToken,
    accessToken: tokens.access_token, idToken: tokens.id_token!, refreshToken: tokens.refresh_token ?? '',
    ial2AccessToken: ial2Tokens.access_token, ial2IdToken: ial2Tokens.id_token!, pairwiseSub: tokens.claims()!.sub,
    code: new URL(landing).searchParams.get('code')!, lastName: person.lastName, firstName: person.firstName,
    documentNumber: person.documentNumber, street: person.address.street1, birthDate: person.dateOfBirth, phone: '2025550142',
    ...Object.fromEntries(recoveryCodes.map((c, i) => [`recoveryCode${i}`, c])),
    ...Object.fromEntries(mailCodes.map((c, i) => [`mailCode${i}`, c])),
  };

  const text = server.lines.join('\n');
  expect(leaked(text, secrets)).toEqual([]);
  expect(text).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}/); // any email address
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/); // any JWT
  expect(text).not.toMatch(/PRIVATE KEY|"d":"|"kty"|"k":"/); // key material
  expect(text).not.toMatch(/\b\d{3}-\d{2}-\d{4}\b/); // anything SSN-shaped
  expect(text).not.toMatch(/\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b/); // anything recovery-code-shaped

  // Structured: every line but the one human "running at" line is JSON with a level and message.
  const json = server.lines.filter((l) => !l.startsWith('OneDoor is running at')).map((l) => JSON.parse(l) as LogLine);
  expect(json.every((l) => typeof l.level === 'number' && typeof l.msg === 'string')).toBe(true);
  // One access line per request: route pattern (never the raw path or query), status, duration, request id.
  const access = json.filter((l) => l.msg === 'request');
  expect(access.length).toBeGreaterThan(30);
  for (const l of access) {
    expect(l).toEqual(expect.objectContaining({ requestId: expect.stringMatching(/^[A-Za-z0-9_-]{8,64}$/), route: expect.any(String), method: expect.any(String), status: expect.any(Number), ms: expect.any(Number) }));
    expect(l['path']).toBeUndefined();
    expect(String(l['route'])).not.toContain('?');
  }
  const routes = new Set(access.map((l) => l['route']));
  expect([...routes]).toEqual(expect.arrayContaining(['oidc:authorization', 'oidc:token', 'oidc:userinfo', '/interaction/:uid/signup', '/interaction/:uid/recovery', '/verify/ssn']));
  expect([...routes].some((r) => String(r).includes(interactionUid(interactionUrl)))).toBe(false);
  expect(access.some((l) => l.requestId === traceId)).toBe(true);
  // The provider's own errors are logged with their code and the request id, not the token.
  const grantError = json.find((l) => l.msg === 'oidc error' && l['error'] === 'invalid_grant');
  expect(grantError).toEqual(expect.objectContaining({ requestId: expect.any(String) }));
  expect(access.some((l) => l.requestId === grantError!['requestId'] && l['route'] === 'oidc:token')).toBe(true);
});
