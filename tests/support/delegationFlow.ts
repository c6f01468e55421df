import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import { Account } from '../../entities/index.js';
import { answerInvitation, inviteHelper, type DelegationDeps } from '../../src/delegation/manageDelegations.js';
import { clock } from '../../src/shared/clock.js';
import { isLocale, translator } from '../../src/shared/i18n.js';
import { createMailer } from '../../src/shared/mailer.js';
import type { TestAgency } from './agency.js';
import type { Agent } from './agent.js';
import { finishAtAgency, interactionUid, invitationCodeFrom, signUp } from './flows.js';
import { SoftAuthenticator } from './softAuthenticator.js';
import { latestMail, type TestServer } from './testServer.js';

/**
 * People, delegations between them and helpers signing in at agencies, for the delegation tests:
 * the same HTTP steps a browser takes, through the same services the pages use.
 */
export interface TestPerson {
  authenticator: SoftAuthenticator;
  agent: Agent;
  email: string;
  account: Account;
  /** Their pairwise subject at the agency they signed up through. */
  sub: string;
}

export function delegationDepsFor(server: TestServer): DelegationDeps {
  return { db: server.ds.manager, mailer: createMailer({ outboxDir: server.outboxDir, from: 'OneDoor <x@y>' }), t: (l) => translator(isLocale(l) ? l : 'en'), pepper: server.keys.secrets.pepper, issuer: server.url };
}

/** A new person who signs up through `agency` (and so is connected to it). */
export async function newPerson(server: TestServer, agency: TestAgency): Promise<TestPerson> {
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const email = `d-${randomUUID().slice(0, 8)}@example.com`;
  const a = await agency.authorize();
  const { agent, landing } = await signUp({ server, authenticator, authUrl: a.url, email });
  const tokens = await agency.redeem(landing, a);
  const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
  return { authenticator, agent, email, account, sub: tokens.claims()!.sub };
}

/** Principal invites, helper accepts (through the services the pages use). */
export async function delegateTo(deps: DelegationDeps, server: TestServer, opts: { principal: TestPerson; helper: TestPerson; scopes?: string[]; clientIds?: string[]; days?: number }) {
  const endsAt = new Date(clock.nowMs() + (opts.days ?? 30) * 86400 * 1000);
  const inv = await inviteHelper(deps, { principalId: opts.principal.account.id, helperEmail: opts.helper.email, terms: { clientIds: opts.clientIds ?? ['*'], scopes: opts.scopes ?? ['email', 'profile', 'address', 'offline_access'], endsAt } });
  if (!inv.ok) throw new Error('invite failed');
  const code = invitationCodeFrom(latestMail(server.outboxDir));
  const ok = await answerInvitation(deps, { helperId: opts.helper.account.id, code, accept: true });
  if (!ok.ok) throw new Error('accept failed');
  return inv.delegation;
}

/** The helper signs in with their passkey at an agency; returns where that leads (the chooser, consent, or the agency). */
export async function helperSignsIn(server: TestServer, opts: { helper: TestPerson; agency: TestAgency; params?: Record<string, string> }) {
  const auth = await opts.agency.authorize({ prompt: 'login', ...opts.params });
  const first = await opts.helper.agent.follow(auth.url, server.url);
  await opts.helper.agent.page(first.url);
  const base = `${server.url}/interaction/${interactionUid(first.url)}`;
  const options = await opts.helper.agent.request(`${base}/passkey/options`, { method: 'POST', json: {} });
  const done = await opts.helper.agent.request(`${base}/passkey`, { method: 'POST', form: { response: JSON.stringify(opts.helper.authenticator.getAssertion({ options: await options.json() })) } });
  const next = await opts.helper.agent.follow(new URL(done.headers.get('location')!, server.url).toString(), server.url);
  const page = next.url.startsWith(server.url) ? await opts.helper.agent.page(next.url) : { status: 302, html: '', res: next.res };
  return { auth, url: next.url, page };
}

/** The helper signs in, chooses whom they act for (a delegation id or 'self'), agrees to consent if asked, and the agency redeems the code. */
export async function chooseAndRedeem(server: TestServer, opts: { helper: TestPerson; agency: TestAgency; choice: string; params?: Record<string, string> }) {
  const { auth, url, page } = await helperSignsIn(server, opts);
  expect(page.html).toContain('Who are you signing in for?');
  const res = await opts.helper.agent.request(`${server.url}/interaction/${interactionUid(url)}/actor`, { method: 'POST', form: { actor: opts.choice } });
  expect(res.status).toBe(303);
  const landing = await finishAtAgency(opts.helper.agent, server, new URL(res.headers.get('location')!, server.url).toString());
  return { tokens: await opts.agency.redeem(landing, auth), landing };
}
