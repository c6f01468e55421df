import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from '@jest/globals';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { registerAgency, type TestAgency } from './agency.js';
import type { Agent } from './agent.js';
import { decodeMail } from './flows.js';
import type { SoftAuthenticator } from './softAuthenticator.js';

/**
 * An agency's phone channel, as the README tells an agency to set it up: a CIBA client
 * (`urn:openid:params:grant-type:ciba`, private_key_jwt) whose keys are published at a
 * `jwks_uri`, and openid-client's CIBA functions. The keys are served from 127.0.0.1 (OneDoor
 * runs on localhost in the tests, so plain http to this machine is allowed), and the agency's
 * sign-in client redirects to the same host, so both are one sector: a person has one `sub`.
 */
export interface AgencySite {
  /** http://127.0.0.1:<port>: the sector both of the agency's clients share. */
  origin: string;
  /** Keys published at `${origin}/jwks.json`. */
  publish(jwk: JWK): void;
  close(): Promise<void>;
}

interface ServerLike {
  url: string;
  addClient(metadata: Record<string, unknown>): Promise<void>;
}

export async function startAgencySite(): Promise<AgencySite> {
  const keys: JWK[] = [];
  const site = http.createServer((req, res) => {
    if (req.url !== '/jwks.json') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(site.address() as AddressInfo).port}`,
    publish: (jwk) => { keys.push(jwk); },
    close: () => { site.closeAllConnections(); return new Promise<void>((resolve) => site.close(() => resolve())); },
  };
}

/** The agency's sign-in client (authorization code), redirecting to the site's host: same sector as its phone client. */
export function registerSignInClient(server: Parameters<typeof registerAgency>[0], site: AgencySite, opts: { clientId: string; extra?: Record<string, unknown> }): Promise<TestAgency> {
  return registerAgency(server, { clientId: opts.clientId, redirectUri: `${site.origin}/callback`, extra: opts.extra });
}

export interface PhoneAgency {
  clientId: string;
  config: oidc.Configuration;
  /** A backchannel authentication request (CIBA Core §7.1) with openid-client. */
  ask(params: Record<string, string>): Promise<oidc.BackchannelAuthenticationResponse>;
  /** One token request for the auth_req_id (CIBA Core §10.1): the tokens, or the OAuth error thrown. */
  pollOnce(authReqId: string): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>;
  /**
   * openid-client's polling, once the person has answered: the first poll goes at once (the
   * interval is the least time between polls, and no poll came before).
   */
  poll(response: oidc.BackchannelAuthenticationResponse): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>;
}

/** A phone-channel (CIBA-only) client of the agency, registered with OneDoor. */
export async function registerPhoneAgency(server: ServerLike, site: AgencySite, opts: { clientId: string; extra?: Record<string, unknown> }): Promise<PhoneAgency> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${opts.clientId}-key`;
  site.publish({ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
  await server.addClient({
    client_id: opts.clientId, client_name: `Agency ${opts.clientId}`,
    grant_types: ['urn:openid:params:grant-type:ciba'], response_types: [], redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256',
    jwks_uri: `${site.origin}/jwks.json`, backchannel_token_delivery_mode: 'poll',
    ...opts.extra,
  });
  const config = await oidc.discovery(new URL(server.url), opts.clientId, { id_token_signed_response_alg: 'RS256' }, oidc.PrivateKeyJwt({ key: privateKey, kid }), { execute: [oidc.allowInsecureRequests] });
  return {
    clientId: opts.clientId,
    config,
    ask: (params) => oidc.initiateBackchannelAuthentication(config, { scope: 'openid email', binding_message: 'BLUE-4127', ...params }),
    pollOnce: (authReqId) => oidc.genericGrantRequest(config, 'urn:openid:params:grant-type:ciba', { auth_req_id: authReqId }),
    poll: (response) => oidc.pollBackchannelAuthenticationGrant(config, { ...response, interval: 0 }),
  };
}

/** The OAuth error a call fails with (its `error`, `error_description`, HTTP status and Retry-After). */
export async function oauthError(call: Promise<unknown>): Promise<{ error?: string; error_description?: string; status?: number; retryAfter?: string | null }> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  if (!err) throw new Error('expected an OAuth error');
  type Body = { error?: string; error_description?: string; status?: number; response?: Response };
  const e = err as Body & { cause?: Body };
  const response = e.response ?? e.cause?.response;
  return { error: e.error ?? e.cause?.error, error_description: e.error_description ?? e.cause?.error_description, status: e.status ?? e.cause?.status, retryAfter: response?.headers.get('retry-after') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every mail in the outbox to `to`, decoded, oldest first. */
export function mailsTo(outboxDir: string, to: string): string[] {
  if (!fs.existsSync(outboxDir)) return [];
  return fs.readdirSync(outboxDir).filter((f) => f.endsWith('.eml')).sort()
    .map((f) => decodeMail(fs.readFileSync(path.join(outboxDir, f), 'utf8')))
    .filter((m) => new RegExp(`^To: ${to.replace(/[.+]/g, '\\$&')}$`, 'mi').test(m));
}

const PHONE_LINK = /\/phone\/[0-9a-f-]{36}/;

/** How many phone-request mails `to` has had. */
export function phoneMailCount(outboxDir: string, to: string): number {
  return mailsTo(outboxDir, to).filter((m) => PHONE_LINK.test(m)).length;
}

/**
 * The approval page link of the newest phone-request mail to `to`, once there are more than
 * `seen` (phoneMailCount before the request): notifications go out in the background, after the
 * agency has its answer.
 */
export async function phoneLinkMailedTo(outboxDir: string, to: string, seen = 0): Promise<{ url: string; mail: string }> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const mails = mailsTo(outboxDir, to).filter((m) => PHONE_LINK.test(m));
    if (mails.length > seen) {
      const mail = mails[mails.length - 1]!;
      return { url: mail.match(/(https?:\/\/\S+\/phone\/[0-9a-f-]{36})/)![1]!, mail };
    }
    await sleep(50);
  }
  throw new Error(`no phone-request mail to ${to}`);
}

/** The person, signed in in `agent`, approves on the approval page with their passkey (as themself, or for the delegation `actor`). */
export async function approveOnPage(agent: Agent, authenticator: SoftAuthenticator, url: string, opts: { actor?: string } = {}): Promise<{ status: number; html: string }> {
  const page = await agent.page(url);
  expect(page.status).toBe(200);
  const options = await agent.request(`${url}/options`, { method: 'POST', json: {} });
  expect(options.status).toBe(200);
  const assertion = authenticator.getAssertion({ options: await options.json() });
  const res = await agent.request(`${url}/approve`, { method: 'POST', form: { response: JSON.stringify(assertion), ...(opts.actor ? { actor: opts.actor } : {}) } });
  return { status: res.status, html: await res.text() };
}

/** The person presses one of the refusal buttons (`deny`, `not-me`, `unmet`). */
export async function refuseOnPage(agent: Agent, url: string, action: 'deny' | 'not-me' | 'unmet'): Promise<{ status: number; html: string }> {
  await agent.page(url);
  const res = await agent.request(`${url}/${action}`, { method: 'POST', form: {} });
  return { status: res.status, html: await res.text() };
}
