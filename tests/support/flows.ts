import { expect } from '@jest/globals';
import { Agent } from './agent.js';
import type { SoftAuthenticator } from './softAuthenticator.js';
import { latestMail, type TestServer } from './testServer.js';

/** The interaction uid from a /interaction/<uid> URL. */
export function interactionUid(url: string): string {
  const m = new URL(url).pathname.match(/^\/interaction\/([^/]+)/);
  if (!m) throw new Error(`not an interaction URL: ${url}`);
  return m[1]!;
}

/** The code a confirmation mail carries (first run of 6 digits in the subject, in any language). */
export function codeFromMail(mail: string): string {
  const m = readMail(mail).subject.match(/(\d{6})/);
  if (!m) throw new Error('no code in the mail subject');
  return m[1]!;
}

/** Follows an authorization URL to the interaction page it leads to. */
export async function openAuthorization(agent: Agent, server: TestServer, authUrl: string): Promise<string> {
  const { url, res } = await agent.follow(authUrl, server.url);
  expect(res.status).toBe(200);
  await agent.page(url);
  return url;
}

/** Agrees on the consent page if shown and returns the URL the browser lands on at the agency. */
export async function finishAtAgency(agent: Agent, server: TestServer, next: string): Promise<string> {
  let { url } = await agent.follow(next, server.url);
  if (url.startsWith(`${server.url}/interaction/`)) {
    const page = await agent.page(url);
    expect(page.html).toContain('consent');
    const uid = interactionUid(url);
    const res = await agent.request(`${server.url}/interaction/${uid}/consent`, { method: 'POST', form: {} });
    expect(res.status).toBe(303);
    ({ url } = await agent.follow(new URL(res.headers.get('location')!, server.url).toString(), server.url));
  }
  return url;
}

/**
 * A new person inside an authorization request, through their email address and its code, up
 * to the passkey step. `postPasskey` runs one passkey ceremony there (each call a fresh one)
 * and answers with the response to the registration.
 */
export async function signUpToPasskeyStep(opts: { server: TestServer; authenticator: SoftAuthenticator; authUrl: string; email: string; agent?: Agent }): Promise<{ agent: Agent; base: string; postPasskey: () => Promise<Response> }> {
  const { server, authenticator } = opts;
  const agent = opts.agent ?? new Agent();
  const base = `${server.url}/interaction/${interactionUid(await openAuthorization(agent, server, opts.authUrl))}`;
  await agent.page(`${base}/signup`);
  expect((await agent.request(`${base}/signup`, { method: 'POST', form: { email: opts.email } })).status).toBe(303);
  await agent.page(`${base}/signup/code`);
  expect((await agent.request(`${base}/signup/code`, { method: 'POST', form: { code: codeFromMail(latestMail(server.outboxDir)) } })).status).toBe(303);
  await agent.page(`${base}/signup/passkey`);
  const postPasskey = async () => {
    const options = await agent.request(`${base}/signup/passkey/options`, { method: 'POST', json: {} });
    expect(options.status).toBe(200);
    const credential = authenticator.createCredential({ options: await options.json() });
    return agent.request(`${base}/signup/passkey`, { method: 'POST', form: { response: JSON.stringify(credential), name: 'Test key' } });
  };
  return { agent, base, postPasskey };
}

/** A new person signs up inside an authorization request; returns where they land and their codes. */
export async function signUp(opts: { server: TestServer; authenticator: SoftAuthenticator; authUrl: string; email: string; agent?: Agent }): Promise<{ agent: Agent; landing: string; recoveryCodes: string[] }> {
  const { server } = opts;
  const { agent, postPasskey } = await signUpToPasskeyStep(opts);
  const page = await postPasskey();
  const html = await page.text();
  expect(page.status).toBe(200);
  const recoveryCodes = [...html.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((m) => m[1]!);
  const next = html.match(/<a class="usa-button" href="([^"]+)">/)![1]!.replace(/&amp;/g, '&');
  const landing = await finishAtAgency(agent, server, new URL(next, server.url).toString());
  return { agent, landing, recoveryCodes };
}

/** Signs in with a passkey inside an authorization request; returns where the browser lands. */
export async function signIn(opts: { server: TestServer; authenticator: SoftAuthenticator; authUrl: string; agent?: Agent; email?: string }): Promise<{ agent: Agent; landing: string }> {
  const { server, authenticator } = opts;
  const agent = opts.agent ?? new Agent();
  const first = await agent.follow(opts.authUrl, server.url);
  if (!first.url.startsWith(`${server.url}/interaction/`)) return { agent, landing: first.url };
  const page = await agent.page(first.url);
  if (!page.html.includes('data-webauthn="authenticate"')) return { agent, landing: await finishAtAgency(agent, server, first.url) };
  const base = `${server.url}/interaction/${interactionUid(first.url)}`;
  const res = await agent.request(`${base}/passkey/options`, { method: 'POST', json: { email: opts.email ?? '' } });
  expect(res.status).toBe(200);
  const assertion = authenticator.getAssertion({ options: await res.json() });
  const done = await agent.request(`${base}/passkey`, { method: 'POST', form: { response: JSON.stringify(assertion), email: opts.email ?? '' } });
  expect(done.status).toBe(303);
  const landing = await finishAtAgency(agent, server, new URL(done.headers.get('location')!, server.url).toString());
  return { agent, landing };
}

/** RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`), as nodemailer writes non-ASCII headers. */
function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between adjacent encoded words is not text
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, enc: string, data: string) => (enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1')).toString('utf8'));
}

/** A mail file read as a person's mail program would show it: headers unfolded and decoded, the body in UTF-8. */
export function readMail(raw: string): { headers: Map<string, string>; subject: string; to: string; text: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = new Map<string, string>();
  for (const line of raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), decodeHeader(line.slice(colon + 1).trim()));
  }
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const text = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    : encoding === 'quoted-printable' ? Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')
    : body;
  return { headers, subject: headers.get('subject') ?? '', to: headers.get('to') ?? '', text };
}

/** A mail's headers and body, decoded to text (`Subject: …` lines and all), for `toContain` checks. */
export function decodeMail(raw: string): string {
  const mail = readMail(raw);
  return `${[...mail.headers].map(([k, v]) => `${k.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase())}: ${v}`).join('\n')}\n\n${mail.text}`;
}

/** The delegation invitation code in a mail's body (never a look-alike from its headers). */
export function invitationCodeFrom(raw: string): string {
  const m = decodeMail(raw).match(/invitation code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/);
  if (!m) throw new Error('no invitation code in the mail');
  return m[1]!;
}
