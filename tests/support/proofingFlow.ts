import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from '@jest/globals';
import type { Agent } from './agent.js';
import type { TestAgency } from './agency.js';
import { aamvaPayload, barcodeImage, documentFrontImage, SANDBOX_PEOPLE } from './aamva.js';
import { signUp } from './flows.js';
import { SoftAuthenticator } from './softAuthenticator.js';
import type { TestServer } from './testServer.js';
import type { IdDocument } from '../../src/proofing/documents/parseAamva.js';

/** The newest outbox file with this suffix (`-sms.txt`, `-letter.txt`). */
export function latestOutbox(outboxDir: string, suffix: string): string {
  const files = fs.readdirSync(outboxDir).filter((f) => f.endsWith(suffix)).sort();
  if (!files.length) throw new Error(`no ${suffix} in the outbox`);
  return fs.readFileSync(path.join(outboxDir, files[files.length - 1]!), 'utf8');
}

/** A new person with an account (IAL1), signed up at `agency`, signed in on their agent. */
export async function newPerson(server: TestServer, agency: TestAgency): Promise<{ agent: Agent; authenticator: SoftAuthenticator; accountId: string }> {
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const a = await agency.authorize();
  const { agent, landing } = await signUp({ server, authenticator, authUrl: a.url, email: `p-${randomUUID().slice(0, 8)}@example.com` });
  await agency.redeem(landing, a);
  // The WebAuthn user handle is the account id. (A page first: the CSRF token is bound to the session the sign-up started.)
  await agent.page(`${server.url}/account`);
  const options = await (await agent.request(`${server.url}/account/passkeys/options`, { method: 'POST', json: {} })).json();
  return { agent, authenticator, accountId: Buffer.from(options.user.id, 'base64url').toString('utf8') };
}

/** Starts (or resumes) verification, agrees to the checks and opens the document page. `returnUid`: an agency's authorization waiting. */
export async function startVerification(agent: Agent, server: TestServer, returnUid?: string): Promise<void> {
  await agent.request(`${server.url}/verify${returnUid ? `?return=${returnUid}` : ''}`);
  await agent.page(`${server.url}/verify/consent`);
  expect((await agent.request(`${server.url}/verify/consent`, { method: 'POST', form: { agree: 'yes' } })).status).toBe(303);
  await agent.page(`${server.url}/verify/document`);
}

export async function documentImages(person: Partial<IdDocument> = SANDBOX_PEOPLE[0]!, front = documentFrontImage()) {
  return { front, back: await barcodeImage({ text: aamvaPayload({ ...SANDBOX_PEOPLE[0]!, ...person }) }) };
}

/** The facial-match form: only the selfie (it is compared with the front kept from the document step). */
export async function postSelfie(agent: Agent, server: TestServer, selfie: Buffer, extra: Record<string, Buffer> = {}) {
  await agent.page(`${server.url}/verify/facial-match`);
  const form = new FormData();
  form.set('_csrf', agent.csrf);
  for (const [name, image] of Object.entries({ ...extra, selfie })) form.set(name, new Blob([new Uint8Array(image)], { type: 'image/png' }), `${name}.png`);
  return agent.request(`${server.url}/verify/facial-match`, { method: 'POST', body: form });
}

export async function postDocument(agent: Agent, server: TestServer, images: { front: Buffer; back: Buffer }, pathName = '/verify/document') {
  const form = new FormData();
  form.set('_csrf', agent.csrf);
  form.set('front', new Blob([new Uint8Array(images.front)], { type: 'image/png' }), 'front.png');
  form.set('back', new Blob([new Uint8Array(images.back)], { type: 'image/png' }), 'back.png');
  return agent.request(`${server.url}${pathName}`, { method: 'POST', body: form });
}

const dobParts = (iso: string) => { const [y, m, d] = iso.split('-'); return { dob_month: m!, dob_day: d!, dob_year: y! }; };

// Each verification texts a number of its own (fictional, 555-0100…0199): one number may get only
// a few messages a day (README, "Limits on guessing and sending").
let nextPhone = 0;
const fictionalPhone = () => `(202) 555-01${String(nextPhone++ % 100).padStart(2, '0')}`;

/**
 * Identity verification over HTTP with sandbox data up to the possession step (phone or
 * letter): consent, document, facial match when a selfie is given, SSN, records check.
 */
export async function proofUpToPossession(opts: {
  server: TestServer; agent: Agent; returnUid?: string; person?: Partial<IdDocument>; ssn?: string; selfie?: Buffer; front?: Buffer;
}): Promise<void> {
  const { server, agent } = opts;
  const person = { ...SANDBOX_PEOPLE[0]!, ...opts.person };
  const start = await agent.request(`${server.url}/verify${opts.returnUid ? `?return=${opts.returnUid}` : ''}`);
  expect(start.status).toBe(303);
  await agent.page(`${server.url}/verify/consent`);
  expect((await agent.request(`${server.url}/verify/consent`, { method: 'POST', form: { agree: 'yes' } })).status).toBe(303);
  await agent.page(`${server.url}/verify/document`);
  const doc = await postDocument(agent, server, await documentImages(person, opts.front));
  expect(doc.status).toBe(303);
  if (opts.selfie) expect((await postSelfie(agent, server, opts.selfie)).status).toBe(303);
  await agent.page(`${server.url}/verify/ssn`);
  expect((await agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: opts.ssn ?? '123-45-6789', ...dobParts(person.dateOfBirth!) } })).status).toBe(303);
  await agent.page(`${server.url}/verify/records`);
  expect((await agent.request(`${server.url}/verify/records`, { method: 'POST', form: {} })).status).toBe(303);
}

/**
 * Goes through identity verification over HTTP with sandbox data, from /verify (with `returnUid`
 * when an agency's authorization is waiting) to the personal key page. Returns that page.
 */
export async function verifyIdentity(opts: {
  server: TestServer; agent: Agent; authenticator: SoftAuthenticator; returnUid?: string;
  person?: Partial<IdDocument>; ssn?: string; phone?: string; selfie?: Buffer; front?: Buffer;
}): Promise<{ personalKey: string; continueUrl: string }> {
  const { server, agent } = opts;
  await proofUpToPossession(opts);
  await agent.page(`${server.url}/verify/possession`);
  expect((await agent.request(`${server.url}/verify/phone`, { method: 'POST', form: { phone: opts.phone ?? fictionalPhone() } })).status).toBe(303);
  const code = latestOutbox(server.outboxDir, '-sms.txt').match(/\b(\d{6})\b/)![1]!;
  await agent.page(`${server.url}/verify/code`);
  expect((await agent.request(`${server.url}/verify/code`, { method: 'POST', form: { code } })).status).toBe(303);
  await agent.page(`${server.url}/verify/reauth`);
  const options = await agent.request(`${server.url}/verify/reauth/options`, { method: 'POST', json: {} });
  const assertion = opts.authenticator.getAssertion({ options: await options.json() });
  const done = await agent.request(`${server.url}/verify/reauth`, { method: 'POST', form: { response: JSON.stringify(assertion) } });
  const html = await done.text();
  expect(done.status).toBe(200);
  const personalKey = html.match(/data-testid="personal-key"><code>([^<]+)<\/code>/)![1]!;
  const continueUrl = html.match(/<a class="usa-button" href="([^"]+)">/)![1]!.replace(/&amp;/g, '&');
  return { personalKey, continueUrl };
}
