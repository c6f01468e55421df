import fs from 'node:fs';
import { jest } from '@jest/globals';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { IsNull, Not } from 'typeorm';
import {
  Account, AuditEvent, Delegation, DelegationEvent, EmailConfirmation, OidcPayload, Passkey, ProofingSession, RecoveryCode,
  SecurityEventDelivery, VerifiedProfile,
} from '../../entities/index.js';
import { answerInvitation, inviteHelper } from '../../src/delegation/manageDelegations.js';
import { translator } from '../../src/shared/i18n.js';
import { createMailer } from '../../src/shared/mailer.js';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { decodeMail, invitationCodeFrom, interactionUid, openAuthorization, signIn, signUp } from '../support/flows.js';
import { startHttpReceiver, type HttpReceiver } from '../support/httpReceiver.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { runCli } from '../support/runCli.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';

// Each test runs the real command several times (a process and a TypeScript load each): on a
// busy machine that takes longer than the default limit, which is about hanging, not speed.
jest.setTimeout(180_000);

let server: TestServer;
let agency: TestAgency;
let receiver: HttpReceiver;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-accounts-'));

beforeAll(async () => {
  server = await startTestServer();
  receiver = await startHttpReceiver({ '/events': 202 });
  agency = await registerAgency(server, {
    clientId: 'benefits',
    extra: { max_ial: 2, backchannel_logout_uri: `${receiver.url}/logout`, backchannel_logout_session_required: true, security_event_endpoint: `${receiver.url}/events` },
  });
});
afterAll(async () => {
  await receiver.close();
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const newEmail = () => `cli-${randomUUID().slice(0, 8)}@example.com`;
const newAuthenticator = () => new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });

/** A person who signed up at the agency and gave it offline access; the agency holds their tokens. */
async function connectedPerson(email = newEmail()) {
  const authenticator = newAuthenticator();
  const auth = await agency.authorize({ scope: 'openid email offline_access', prompt: 'consent' });
  const { agent, landing, recoveryCodes } = await signUp({ server, authenticator, authUrl: auth.url, email });
  const tokens = await agency.redeem(landing, auth);
  const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
  return { email, authenticator, agent, recoveryCodes, tokens, account };
}

/** A passkey sign-in attempt at the agency, as a browser on a new device would make it. */
async function passkeySignIn(authenticator: SoftAuthenticator) {
  const agent = new Agent();
  const url = await openAuthorization(agent, server, (await agency.authorize()).url);
  const base = `${server.url}/interaction/${interactionUid(url)}`;
  const options = await agent.request(`${base}/passkey/options`, { method: 'POST', json: { email: '' } });
  const assertion = authenticator.getAssertion({ options: await options.json() });
  const res = await agent.request(`${base}/passkey`, { method: 'POST', form: { response: JSON.stringify(assertion), email: '' } });
  return { agent, base, res };
}

async function userinfoStatus(accessToken: string): Promise<number> {
  const res = await fetch(agency.config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.body?.cancel();
  return res.status;
}

const logoutTokens = () => receiver.received.filter((r) => r.path === '/logout').map((r) => new URLSearchParams(r.body).get('logout_token')!);

describe('onedoor accounts disable / enable', () => {
  test('when an operator disables an account, then its tokens and sessions end at once, the agency is logged out, and every way in is refused', async () => {
    const p = await connectedPerson();
    expect((await oidc.tokenIntrospection(agency.config, p.tokens.access_token)).active).toBe(true);
    const logoutsBefore = logoutTokens().length;

    const result = await runCli(server, ['accounts', 'disable', p.email.toUpperCase()]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`disabled account ${p.account.id}; ended 1 session(s), 1 agency connection(s), 0 delegation(s); 1 agency security event(s) queued\n`);

    await expect(oidc.refreshTokenGrant(agency.config, p.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(agency.config, p.tokens.access_token)).active).toBe(false);
    expect(await userinfoStatus(p.tokens.access_token)).toBe(401);

    // The agency's back-channel logout endpoint heard of the session's end, for this person's pairwise subject.
    const logouts = logoutTokens().slice(logoutsBefore);
    expect(logouts).toHaveLength(1);
    const { payload } = await jwtVerify(logouts[0]!, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'benefits' });
    expect(payload.sub).toBe(p.tokens.claims()!.sub);

    // The browser's session is gone too: the account page asks to sign in again.
    expect((await p.agent.request(`${server.url}/account`)).status).toBe(303);

    const passkey = await passkeySignIn(p.authenticator);
    expect(passkey.res.status).toBe(400);
    expect(await passkey.res.text()).toContain('This OneDoor account is disabled');

    await passkey.agent.page(`${passkey.base}/recovery`);
    const wrong = await passkey.agent.request(`${passkey.base}/recovery`, { method: 'POST', form: { email: p.email, code: 'AAAA-BBBB-CCCC' } });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('do not match');
    const right = await passkey.agent.request(`${passkey.base}/recovery`, { method: 'POST', form: { email: p.email, code: p.recoveryCodes[0]! } });
    expect(right.status).toBe(400);
    expect(await right.text()).toContain('This OneDoor account is disabled');
    expect(await server.ds.getRepository(RecoveryCode).countBy({ accountId: p.account.id, usedAt: Not(IsNull()) })).toBe(0);

    // Sign-up with the address looks the same on the page; only the address's owner is told.
    await passkey.agent.page(`${passkey.base}/signup`);
    const signup = await passkey.agent.request(`${passkey.base}/signup`, { method: 'POST', form: { email: p.email } });
    expect(signup.status).toBe(303);
    expect(decodeMail(latestMail(server.outboxDir))).toContain('Subject: Your OneDoor account is disabled');

    const deliveries = await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: p.account.id });
    expect(deliveries.map((d) => [d.clientId, d.eventType, d.status])).toEqual([['benefits', 'https://schemas.openid.net/secevent/risc/event-type/account-disabled', 'pending']]);

    const listed = await runCli(server, ['security-events', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ id: deliveries[0]!.id, client_id: 'benefits', status: 'pending', attempts: 0 }));
    expect(listed.stdout).not.toContain(p.account.id);

    const again = await runCli(server, ['accounts', 'disable', p.account.id]);
    expect(again.stdout).toBe(`account ${p.account.id} was already disabled; ended 0 session(s), 0 agency connection(s), 0 delegation(s)\n`);
  });

  test('when an operator enables a disabled account, then the person signs in again and sees both changes in their history', async () => {
    const p = await connectedPerson();
    expect((await runCli(server, ['accounts', 'disable', p.email])).code).toBe(0);
    const enabled = await runCli(server, ['accounts', 'enable', p.email]);
    expect(enabled).toMatchObject({ code: 0, stdout: `enabled account ${p.account.id}; 1 agency security event(s) queued\n` });

    const { agent, landing } = await signIn({ server, authenticator: p.authenticator, authUrl: (await agency.authorize()).url });
    expect(landing.startsWith(agency.redirectUri)).toBe(true);
    const page = await agent.page(`${server.url}/account`);
    expect(page.html).toContain('Account disabled by OneDoor support');
    expect(page.html).toContain('Account turned back on by OneDoor support');
    // Enabling restores sign-in only: the old refresh token stays dead.
    await expect(oidc.refreshTokenGrant(agency.config, p.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    expect(await runCli(server, ['accounts', 'enable', p.account.id])).toMatchObject({ code: 1, stderr: `onedoor: ACCOUNT: account ${p.account.id} is not disabled\n` });
  });

  test('when the account named is unknown or malformed, then one line says so and nothing changes', async () => {
    expect(await runCli(server, ['accounts', 'disable', 'nobody@example.com'])).toMatchObject({ code: 1, stdout: '', stderr: 'onedoor: ACCOUNT: no account with that email address\n' });
    expect(await runCli(server, ['accounts', 'disable', randomUUID()])).toMatchObject({ code: 1, stderr: 'onedoor: ACCOUNT: no account with that id\n' });
    expect(await runCli(server, ['accounts', 'enable', 'not-an-account'])).toMatchObject({ code: 1, stderr: 'onedoor: ACCOUNT: must be an email address or an account id (a UUID)\n' });
    expect(await runCli(server, ['accounts', 'disable'])).toMatchObject({ code: 2, stderr: 'onedoor: usage: onedoor accounts disable ACCOUNT (see onedoor --help)\n' });
  });
});

describe('onedoor accounts export', () => {
  test('when an operator exports an account, then the file (0600) holds the account, passkeys, codes count, agencies, history and the decrypted identity, and no code hashes', async () => {
    const p = await connectedPerson();
    await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator });
    const out = path.join(tmp, `${randomUUID()}.json`);

    const result = await runCli(server, ['accounts', 'export', p.email, '--out', out]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: `onedoor: wrote the export of account ${p.account.id} to ${out}\n` });
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(out, 'utf8');
    const doc = JSON.parse(text);
    expect(doc.format).toBe('onedoor-account-export/1');
    expect(doc.account).toMatchObject({ id: p.account.id, email: p.email, status: 'active' });
    const passkey = await server.ds.getRepository(Passkey).findOneByOrFail({ accountId: p.account.id });
    expect(doc.passkeys).toEqual([expect.objectContaining({ name: 'Test key', credential_id: passkey.id, public_key_cose: passkey.publicKey })]);
    expect(doc.recovery_codes).toEqual({ unused: 10, used: 0 });
    expect(doc.connected_agencies).toEqual([{ client_id: 'benefits', name: 'Agency benefits', scopes: expect.arrayContaining(['openid', 'email', 'offline_access']) }]);
    expect(doc.history.map((h: { type: string }) => h.type)).toEqual(expect.arrayContaining(['account_created', 'consent_granted', 'identity_verified']));
    expect(doc.verified_identity).toMatchObject({ status: 'active', ial: 2, identity: { givenName: SANDBOX_PEOPLE[0]!.firstName, familyName: SANDBOX_PEOPLE[0]!.lastName, ssn: '123456789' } });
    expect(doc.delegations).toEqual({ given: [], held: [] });
    for (const code of await server.ds.getRepository(RecoveryCode).findBy({ accountId: p.account.id })) expect(text).not.toContain(code.codeHash);
    for (const code of p.recoveryCodes) expect(text).not.toContain(code);

    const again = await runCli(server, ['accounts', 'export', p.account.id, '--out', out]);
    expect(again).toMatchObject({ code: 1, stderr: 'onedoor: --out: file already exists\n' });
    const toStdout = await runCli(server, ['accounts', 'export', p.account.id]);
    expect(toStdout.code).toBe(0);
    expect(JSON.parse(toStdout.stdout).account.id).toBe(p.account.id);
  });
});

describe('onedoor accounts delete', () => {
  test('when an operator deletes an account with --yes, then its data and delegations go (the helper is told), one anonymised record stays, and the address can sign up afresh', async () => {
    const p = await connectedPerson();
    const helper = await connectedPerson();
    const deps = {
      db: server.ds.manager, mailer: createMailer({ outboxDir: server.outboxDir, from: 'OneDoor <no-reply@onedoor.localhost>' }),
      t: () => translator('en'), pepper: server.keys.secrets.pepper, issuer: server.url,
    };
    await inviteHelper(deps, { principalId: p.account.id, helperEmail: helper.email, terms: { clientIds: ['*'], scopes: ['openid'], endsAt: new Date(Date.now() + 30 * 86400_000) } });
    const accepted = await answerInvitation(deps, { helperId: helper.account.id, code: invitationCodeFrom(latestMail(server.outboxDir)), accept: true });
    expect(accepted.ok).toBe(true);
    const delegationId = accepted.ok ? accepted.delegation.id : '';

    // Before it goes, the export shows the delegation with its history.
    const exported = JSON.parse((await runCli(server, ['accounts', 'export', p.account.id])).stdout);
    expect(exported.delegations.given).toEqual([expect.objectContaining({ id: delegationId, helper: helper.email, status: 'active', scopes: ['openid'] })]);
    expect(exported.delegations.given[0].history.map((e: { type: string; by: string }) => [e.type, e.by])).toEqual([['invited', 'principal'], ['accepted', 'helper']]);

    expect(await runCli(server, ['accounts', 'delete', p.email])).toMatchObject({ code: 1, stderr: 'onedoor: deleting an account cannot be undone: add --yes to confirm\n' });
    expect(await server.ds.getRepository(Account).existsBy({ id: p.account.id })).toBe(true);

    const mailTo = (email: string) => fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml') && fs.readFileSync(path.join(server.outboxDir, f), 'utf8').includes(`\nTo: ${email}\n`));
    const theirMail = mailTo(p.email).length;
    expect(theirMail).toBeGreaterThan(0);
    const result = await runCli(server, ['accounts', 'delete', p.email, '--yes']);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^deleted account ${p.account.id}; 1 agency security event\\(s\\) queued; \\d+ outbox message\\(s\\) deleted\\n$`)), stderr: '' });
    // Their mail from before, and any the deletion itself sent them (the delegation ending).
    expect(Number(/; (\d+) outbox/.exec(result.stdout)![1])).toBeGreaterThanOrEqual(theirMail);
    expect(mailTo(p.email)).toEqual([]);

    const id = p.account.id;
    const ds = server.ds;
    expect(await ds.getRepository(Account).countBy({ id })).toBe(0);
    for (const entity of [Passkey, RecoveryCode, VerifiedProfile, ProofingSession, OidcPayload] as const) expect(await ds.getRepository(entity).countBy({ accountId: id })).toBe(0);
    expect(await ds.getRepository(EmailConfirmation).countBy({ email: p.email })).toBe(0);
    expect(await ds.getRepository(Delegation).countBy({ id: delegationId })).toBe(0);
    expect(await ds.getRepository(DelegationEvent).countBy({ delegationId })).toBe(0);
    const kept = await ds.getRepository(AuditEvent).findBy({ accountId: id });
    expect(kept.map((e) => [e.type, e.clientId, e.details])).toEqual([['account_deleted', null, '{}']]);
    const pending = await ds.getRepository(SecurityEventDelivery).findBy({ accountId: id });
    expect(pending.map((d) => [d.eventType, d.status])).toEqual([['https://schemas.openid.net/secevent/risc/event-type/account-purged', 'pending']]);

    // The helper was told, and their own history says the access ended.
    const helperMail = fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).map((f) => decodeMail(fs.readFileSync(path.join(server.outboxDir, f), 'utf8')))
      .filter((m) => m.includes(`To: ${helper.email}`) && m.includes('Subject: OneDoor helper access has ended'));
    expect(helperMail).toHaveLength(1);
    expect(await ds.getRepository(AuditEvent).countBy({ accountId: helper.account.id, type: 'delegation_revoked' })).toBe(1);

    await expect(oidc.refreshTokenGrant(agency.config, p.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const fresh = await signUp({ server, authenticator: newAuthenticator(), authUrl: (await agency.authorize()).url, email: p.email });
    expect(fresh.landing.startsWith(agency.redirectUri)).toBe(true);
    expect((await ds.getRepository(Account).findOneByOrFail({ email: p.email })).id).not.toBe(id);
  });
});
