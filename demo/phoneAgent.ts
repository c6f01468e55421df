/**
 * The "Phone agent" page of the demo agency: an agent on a call types the caller's email address,
 * reads out the binding message shown, and sees the verified result once the caller approves on
 * their own device with their OneDoor passkey.
 *
 * OpenID Connect Client-Initiated Backchannel Authentication (CIBA Core 1.0,
 * https://openid.net/specs/openid-client-initiated-backchannel-authentication-core-1_0.html),
 * poll mode, with openid-client 6:
 * - the agency's back end is a second OneDoor client (`urn:openid:params:grant-type:ciba`,
 *   private_key_jwt) whose public keys are at this site's /jwks.json: the same host as the
 *   sign-in client's redirect URI, so a person has the same pairwise `sub` on both;
 * - `initiateBackchannelAuthentication()` sends `login_hint` (the caller's email),
 *   `binding_message` and `acr_values`; `pollBackchannelAuthenticationGrant()` polls every
 *   `interval` seconds until the caller answers or the request expires.
 *
 * In production this page is behind your agents' own sign-in; calls are kept in memory here.
 * Nothing about the caller is logged.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type http from 'node:http';
import * as client from 'openid-client';
import { importJWK, type JWK } from 'jose';
import { errorCode, escapeHtml, layout, parseCookies, readBody, redirect, sendHtml } from './web.js';

export interface PhoneAgentOptions {
  issuer: string;
  /** The client_id of the agency's phone-channel (CIBA) client; without it the page says how to set it up. */
  clientId: string | undefined;
  privateJwk: JWK;
  /** Whether this site is served over https (for the cookie). */
  secure: () => boolean;
  log: (line: string) => void;
}

/** What the agent may ask for: a signed-in account, or (for a client registered with max_ial 2) a verified identity. */
export const PHONE_ACR_CHOICES = [
  { value: 'urn:onedoor:ial:1', label: 'The caller has this OneDoor account (urn:onedoor:ial:1)' },
  { value: 'urn:onedoor:ial:2', label: 'The caller has a verified identity (urn:onedoor:ial:2; the client needs max_ial 2)' },
] as const;

/** Short, easy to read aloud: a word and four digits (at most 20 letters, digits, spaces and hyphens). */
const WORDS = ['BLUE', 'GREEN', 'RIVER', 'MAPLE', 'STONE', 'CEDAR', 'OCEAN', 'AMBER', 'TIGER', 'CLOUD'];
const bindingMessage = () => `${WORDS[randomInt(WORDS.length)]}-${randomInt(1000, 10000)}`;

type CallStatus = 'waiting' | 'verified' | 'declined' | 'not_on_call' | 'cannot' | 'expired' | 'failed';

interface Call {
  id: string;
  bindingMessage: string;
  status: CallStatus;
  startedAt: number;
  result?: { claims: client.IDToken; userinfo: client.UserInfoResponse };
}

const CSRF_COOKIE = 'agent_csrf';
const CALL_MINUTES = 30;

export function phoneAgent(opts: PhoneAgentOptions) {
  const calls = new Map<string, Call>();
  let discovered: Promise<client.Configuration> | undefined;
  function oidc() {
    discovered ??= (async () => {
      const key = (await importJWK(opts.privateJwk, 'ES256')) as CryptoKey;
      const local = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(opts.issuer).hostname);
      // As in agency.ts: allowInsecureRequests only because the demo's OneDoor is http://localhost.
      return client.discovery(new URL(opts.issuer), opts.clientId!, undefined, client.PrivateKeyJwt({ key, kid: opts.privateJwk.kid }), { execute: local ? [client.allowInsecureRequests] : [] });
    })();
    discovered.catch(() => { discovered = undefined; });
    return discovered;
  }

  /** The answer, from the token endpoint: tokens, or the CIBA error (CIBA Core §11). */
  async function follow(call: Call, config: client.Configuration, response: client.BackchannelAuthenticationResponse) {
    try {
      const tokens = await client.pollBackchannelAuthenticationGrant(config, response);
      const claims = tokens.claims()!;
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      call.result = { claims, userinfo };
      call.status = 'verified';
    } catch (err) {
      const e = err as { error?: string; error_description?: string };
      call.status = e.error === 'access_denied' ? (e.error_description?.includes('not on a call') ? 'not_on_call' : 'declined')
        : e.error === 'unmet_authentication_requirements' ? 'cannot'
          : e.error === 'expired_token' || (err as Error).name === 'TimeoutError' ? 'expired' : 'failed';
      opts.log(`phone verification ended: ${errorCode(err)}`);
    }
  }

  /** The agent's form, with a double-submit token against cross-site posts. */
  async function page(_req: http.IncomingMessage, res: http.ServerResponse, _url: URL, problem?: string) {
    if (!opts.clientId) return sendHtml(res, 200, layout('Phone agent', '<h2>Phone agent</h2><p>This site has no phone-channel client yet: see demo/README.md.</p>'));
    const token = randomBytes(24).toString('base64url');
    res.appendHeader('set-cookie', `${CSRF_COOKIE}=${token}; Path=/phone; HttpOnly; SameSite=Strict${opts.secure() ? '; Secure' : ''}`);
    sendHtml(res, problem ? 400 : 200, agentPage(token, problem));
  }

  /** Step 1: ask OneDoor to confirm the caller; show the agent the code to read out. */
  async function start(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const form = new URLSearchParams(await readBody(req, 8 * 1024));
    const cookie = parseCookies(req.headers.cookie)[CSRF_COOKIE];
    if (!opts.clientId || !cookie || form.get('csrf') !== cookie) return page(req, res, url, 'This form expired. Please try again.');
    const email = (form.get('email') ?? '').trim();
    const acr = form.get('acr') ?? PHONE_ACR_CHOICES[0].value;
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) return page(req, res, url, 'Enter the caller\'s email address.');
    if (!PHONE_ACR_CHOICES.some((c) => c.value === acr)) return page(req, res, url, 'Choose one of the listed checks.');
    const config = await oidc();
    const call: Call = { id: randomBytes(16).toString('base64url'), bindingMessage: bindingMessage(), status: 'waiting', startedAt: Date.now() };
    let response: client.BackchannelAuthenticationResponse;
    try {
      response = await client.initiateBackchannelAuthentication(config, { scope: 'openid email', login_hint: email, binding_message: call.bindingMessage, acr_values: acr });
    } catch (err) {
      opts.log(`phone verification refused: ${errorCode(err)}`);
      return page(req, res, url, `OneDoor refused the request (${errorCode(err)}).`);
    }
    for (const [id, c] of calls) if (Date.now() - c.startedAt > CALL_MINUTES * 60_000) calls.delete(id);
    calls.set(call.id, call);
    void follow(call, config, response);
    redirect(res, `/phone/call?id=${encodeURIComponent(call.id)}`);
  }

  /** Step 2: the code to read out, then the result (the page refreshes itself while waiting). */
  async function status(_req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const call = calls.get(url.searchParams.get('id') ?? '');
    if (!call) return sendHtml(res, 404, layout('Phone agent', '<h2>No such call</h2><p><a href="/phone">Start a new verification</a></p>'));
    sendHtml(res, 200, callPage(call));
  }

  return { page, start, status };
}

// ---- pages ---------------------------------------------------------------------------------

function agentPage(csrf: string, problem?: string): string {
  const options = PHONE_ACR_CHOICES.map((c) => `<option value="${escapeHtml(c.value)}">${escapeHtml(c.label)}</option>`).join('');
  return layout('Phone agent', `<h2>Phone agent: verify a caller</h2>
<p>Ask the caller for the email address of their OneDoor account. OneDoor asks them to approve on their own phone or computer with their passkey.</p>
${problem ? `<p role="alert"><strong>${escapeHtml(problem)}</strong></p>` : ''}
<form method="post" action="/phone">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <label for="email">Caller's email address</label>
  <input id="email" name="email" type="email" autocomplete="off" size="40" required>
  <label for="acr">What this call needs (acr_values)</label>
  <select id="acr" name="acr">${options}</select>
  <div><button type="submit">Send to the caller</button></div>
</form>`);
}

const OUTCOMES: Record<Exclude<CallStatus, 'waiting' | 'verified'>, string> = {
  declined: 'The caller declined. Do not go on with the request.',
  not_on_call: 'The person says they are not on a call with us. Treat this call as a possible impostor.',
  cannot: 'The caller cannot meet this check now (for example, no verified identity yet).',
  expired: 'No answer before the request expired. Start again if the caller is still on the line.',
  failed: 'The verification did not complete. Start again.',
};

function callPage(call: Call): string {
  if (call.status === 'waiting') {
    return layout('Phone agent', `<h2>Read this code to the caller</h2>
<p class="code" data-testid="binding-message">${escapeHtml(call.bindingMessage)}</p>
<p>Say: "OneDoor sent you a request. Check that it shows <strong>${escapeHtml(call.bindingMessage)}</strong>, then approve it with your passkey."</p>
<p data-testid="call-status">Waiting for the caller… (this page refreshes itself)</p>`, '\n<meta http-equiv="refresh" content="3">');
  }
  if (call.status === 'verified' && call.result) {
    const json = (value: unknown) => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
    const { claims, userinfo } = call.result;
    return layout('Phone agent', `<h2 data-testid="call-status">Caller verified</h2>
<p>OneDoor confirmed the caller is <code>${escapeHtml(claims.sub)}</code> at this agency (the same subject as on the website), at <code>${escapeHtml(String(claims.acr))}</code>.</p>
${claims['act'] ? '<p><strong>A helper is calling for this person</strong> (the ID token\'s <code>act</code>).</p>' : ''}
<h3>ID token claims</h3>
${json(claims)}
<h3>Userinfo</h3>
${json(userinfo)}
<p><a class="button" href="/phone">Verify another caller</a></p>`);
  }
  return layout('Phone agent', `<h2 data-testid="call-status">Not verified</h2>
<p>${escapeHtml(OUTCOMES[call.status as keyof typeof OUTCOMES] ?? OUTCOMES.failed)}</p>
<p><a class="button" href="/phone">Start again</a></p>`);
}
