/**
 * A sample agency site that signs people in with OneDoor. Copy this file to integrate.
 *
 * - OpenID Connect authorization code flow with PKCE (S256), `state` and `nonce`
 *   (https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth)
 * - client authentication with `private_key_jwt`: the agency signs a short JWT with its own
 *   private key; OneDoor holds only the public key (RFC 7523, OIDC Core §9)
 * - RP-initiated logout and back-channel logout
 *   (https://openid.net/specs/openid-connect-rpinitiated-1_0.html,
 *   https://openid.net/specs/openid-connect-backchannel-1_0.html)
 * - a "Phone agent" page that verifies a caller with the phone channel (CIBA): phoneAgent.ts
 *
 * Plain node:http, openid-client 6 and jose; sessions are kept in memory (use your own
 * session store in production). Nothing about the person is logged.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { createRemoteJWKSet, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { phoneAgent } from './phoneAgent.js';
import { errorCode, escapeHtml, layout, parseCookies, readBody, redirect, securityHeaders, sendHtml, sendJson } from './web.js';

export interface AgencyOptions {
  /** OneDoor's issuer URL (or Login.gov's: same code, same scopes and acr values). */
  issuer: string;
  /** The client_id OneDoor's operator registered for this site. */
  clientId: string;
  /** This site's private signing key (ES256 JWK with `kid`); its public half is in the client file. */
  privateJwk: JWK;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  host?: string;
  /** This site's public origin; defaults to http://localhost:<port>. */
  redirectBase?: string;
  /** Where one-line request logs go (method, path, status: never codes, tokens or claims). */
  log?: (line: string) => void;
  /** The client_id of this agency's phone-channel (CIBA) client, for the Phone agent page; its keys are this site's /jwks.json. */
  phoneClientId?: string | undefined;
}

export interface Agency {
  url: string;
  redirectUri: string;
  close(): Promise<void>;
}

/** Assurance levels the person can pick on the home page, sent as `acr_values`. */
export const ACR_CHOICES = [
  { value: 'urn:onedoor:ial:1', label: 'urn:onedoor:ial:1: a OneDoor account with a passkey' },
  { value: 'urn:acr.login.gov:auth-only', label: 'urn:acr.login.gov:auth-only: the same, with a Login.gov value' },
] as const;

/** Scopes as Login.gov names them: `openid` for the sign-in itself, `email` for the address. */
export const SCOPE = 'openid email';

const SESSION_COOKIE = 'agency_session';
const SESSION_SECONDS = 8 * 3600;
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Session {
  id: string;
  expiresAt: number;
  /** Between "Sign in" and the callback: what the callback must check. */
  pending?: { codeVerifier: string; state: string; nonce: string; acr: string };
  /** After the callback. */
  user?: { idToken: string; claims: client.IDToken; userinfo: client.UserInfoResponse; sub: string; sid?: string };
}

export async function createAgency(opts: AgencyOptions): Promise<Agency> {
  const { issuer, clientId, privateJwk, log = (line: string) => process.stdout.write(`${line}\n`) } = opts;
  const sessions = new Map<string, Session>();
  // Known once the server listens (port 0 picks a free port).
  let redirectBase = '';
  let redirectUri = '';
  let secure = false;

  // ---- OpenID Connect configuration (discovered once, on first use) ------------------------
  let discovered: Promise<{ config: client.Configuration; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;
  function oidc() {
    discovered ??= (async () => {
      const key = (await importJWK(privateJwk, 'ES256')) as CryptoKey;
      const local = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(issuer).hostname);
      const config = await client.discovery(
        new URL(issuer),
        clientId,
        undefined,
        client.PrivateKeyJwt({ key, kid: privateJwk.kid }),
        // openid-client refuses plain http. The demo's OneDoor is http://localhost: drop this
        // option in production, where the issuer is https.
        { execute: local ? [client.allowInsecureRequests] : [] },
      );
      const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
      return { config, jwks };
    })();
    discovered.catch(() => { discovered = undefined; }); // try again on the next request
    return discovered;
  }

  // ---- sessions: a random id in an HttpOnly cookie, the data on the server ------------------
  function readSession(req: http.IncomingMessage): Session | undefined {
    const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    const session = id ? sessions.get(id) : undefined;
    if (session && session.expiresAt < Date.now()) {
      sessions.delete(session.id);
      return undefined;
    }
    return session;
  }

  /** A new session id every time the state changes (sign-in), so an old cookie is worth nothing. */
  function newSession(res: http.ServerResponse, data: Omit<Session, 'id' | 'expiresAt'>, replaces?: Session): Session {
    if (replaces) sessions.delete(replaces.id);
    for (const [id, s] of sessions) if (s.expiresAt < Date.now()) sessions.delete(id);
    const session: Session = { id: randomBytes(32).toString('base64url'), expiresAt: Date.now() + SESSION_SECONDS * 1000, ...data };
    sessions.set(session.id, session);
    res.appendHeader('set-cookie', `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
    return session;
  }

  function endSession(res: http.ServerResponse, session: Session | undefined): void {
    if (session) sessions.delete(session.id);
    res.appendHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`);
  }

  // ---- routes ------------------------------------------------------------------------------

  /** Home: the "Sign in with OneDoor" button, or what OneDoor told us about the person. */
  async function home(req: http.IncomingMessage, res: http.ServerResponse) {
    const user = readSession(req)?.user;
    if (!user) return sendHtml(res, 200, signedOutPage());
    sendHtml(res, 200, signedInPage(user));
  }

  /** Step 1: send the browser to OneDoor with a fresh PKCE verifier, state and nonce. */
  async function login(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const acr = url.searchParams.get('acr') ?? ACR_CHOICES[0].value;
    if (!ACR_CHOICES.some((c) => c.value === acr)) return sendHtml(res, 400, errorPage('Choose one of the listed assurance levels.'));
    const { config } = await oidc();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    newSession(res, { pending: { codeVerifier, state, nonce, acr } }, readSession(req));
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: SCOPE,
      acr_values: acr,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    redirect(res, authorizationUrl.href);
  }

  /** Step 2: OneDoor sends the browser back with a code; trade it for tokens, then ask for userinfo. */
  async function callback(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const session = readSession(req);
    const pending = session?.pending;
    if (!session || !pending) return sendHtml(res, 400, errorPage('This sign-in has expired or was already used. Please start again.'));
    delete session.pending; // state, nonce and verifier are good for one try only
    const { config } = await oidc();
    let tokens;
    try {
      // Checks `state`, then redeems the code with the PKCE verifier (authenticating with
      // private_key_jwt), then validates the ID token: signature, iss, aud, exp, nonce.
      tokens = await client.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      log(`sign-in refused: ${errorCode(err)}`);
      const denied = err instanceof client.AuthorizationResponseError && err.error === 'access_denied';
      return sendHtml(res, 400, errorPage(denied ? 'Sign-in was cancelled.' : 'We could not complete your sign-in. Please start again.'));
    }
    const claims = tokens.claims()!;
    // acr_values is a request, not a guarantee (OIDC Core §3.1.2.1): check what was achieved.
    if (claims.acr !== pending.acr) {
      log('sign-in refused: acr not met');
      return sendHtml(res, 403, errorPage('Your sign-in did not reach the assurance level this service needs.'));
    }
    // The userinfo `sub` must match the ID token's (OIDC Core §5.3.4).
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    newSession(res, {
      user: { idToken: tokens.id_token!, claims, userinfo, sub: claims.sub, sid: typeof claims['sid'] === 'string' ? claims['sid'] : undefined },
    }, session);
    redirect(res, '/');
  }

  /** Sign out here and at OneDoor (RP-initiated logout); OneDoor sends the browser back to "/". */
  async function logout(req: http.IncomingMessage, res: http.ServerResponse) {
    const session = readSession(req);
    endSession(res, session);
    if (!session?.user) return redirect(res, '/');
    const { config } = await oidc();
    const endSessionUrl = client.buildEndSessionUrl(config, {
      id_token_hint: session.user.idToken,
      post_logout_redirect_uri: `${redirectBase}/`,
    });
    redirect(res, endSessionUrl.href);
  }

  /**
   * OneDoor POSTs a logout token here when the person signs out at OneDoor (for example "sign
   * out everywhere"). Validate it like an ID token, plus the back-channel rules (§2.6), then end
   * the matching local sessions.
   */
  async function backchannelLogout(req: http.IncomingMessage, res: http.ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    const logoutToken = form.get('logout_token');
    let payload: JWTPayload;
    try {
      if (!logoutToken) throw new Error('missing logout_token');
      const { config, jwks } = await oidc();
      const verified = await jwtVerify(logoutToken, jwks, {
        issuer: config.serverMetadata().issuer,
        audience: clientId,
        algorithms: ['RS256', 'ES256', 'PS256'],
        maxTokenAge: '2 minutes',
        requiredClaims: ['iat', 'jti', 'events'],
      });
      payload = verified.payload;
      if (verified.protectedHeader.typ !== undefined && verified.protectedHeader.typ !== 'logout+jwt') throw new Error('wrong typ');
      const events = payload['events'];
      if (!events || typeof events !== 'object' || !(LOGOUT_EVENT in events)) throw new Error('not a logout event');
      if ('nonce' in payload) throw new Error('a logout token must not have a nonce');
      if (!payload.sub && !payload['sid']) throw new Error('neither sub nor sid');
    } catch (err) {
      log(`back-channel logout refused: ${errorCode(err)}`);
      return sendJson(res, 400, { error: 'invalid_request' });
    }
    let ended = 0;
    for (const [id, s] of sessions) {
      if (!s.user) continue;
      const sidMatches = payload['sid'] === undefined || payload['sid'] === s.user.sid;
      const subMatches = payload.sub === undefined || payload.sub === s.user.sub;
      if (sidMatches && subMatches) {
        sessions.delete(id);
        ended += 1;
      }
    }
    log(`back-channel logout: ${ended} session(s) ended`);
    res.setHeader('cache-control', 'no-store');
    res.writeHead(200).end();
  }

  // ---- the phone channel's keys and the Phone agent page -------------------------------------

  /** This site's public signing key, for the phone-channel client's `jwks_uri` (never the private half). */
  async function jwks(_req: http.IncomingMessage, res: http.ServerResponse) {
    const { d: _private, ...publicJwk } = privateJwk;
    res.setHeader('cache-control', 'max-age=300');
    sendJson(res, 200, { keys: [publicJwk] });
  }

  const agent = phoneAgent({ issuer, clientId: opts.phoneClientId, privateJwk, secure: () => secure, log });

  // ---- server ------------------------------------------------------------------------------
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', redirectBase);
    const route = `${req.method} ${url.pathname}`;
    securityHeaders(res, new URL(issuer).origin);
    const handler = ({
      'GET /': () => home(req, res),
      'GET /login': () => login(req, res, url),
      'GET /callback': () => callback(req, res, url),
      'GET /logout': () => logout(req, res),
      'POST /backchannel-logout': () => backchannelLogout(req, res),
      'GET /jwks.json': () => jwks(req, res),
      'GET /phone': () => agent.page(req, res, url),
      'POST /phone': () => agent.start(req, res, url),
      'GET /phone/call': () => agent.status(req, res, url),
    } as Record<string, (() => Promise<void>) | undefined>)[route];
    (handler ?? (async () => sendHtml(res, 404, errorPage('There is no page here.'))))()
      .catch((err: unknown) => {
        log(`error on ${route}: ${errorCode(err)}`);
        if (!res.headersSent) sendHtml(res, 502, errorPage('OneDoor could not be reached. Please try again in a moment.'));
        else res.end();
      })
      .finally(() => log(`${route} ${res.statusCode}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  redirectBase = (opts.redirectBase ?? `http://localhost:${port}`).replace(/\/+$/, '');
  redirectUri = `${redirectBase}/callback`;
  secure = redirectBase.startsWith('https:');

  return {
    url: redirectBase,
    redirectUri,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

// ---- pages ---------------------------------------------------------------------------------

function signedOutPage(): string {
  const options = ACR_CHOICES.map((c) => `<option value="${escapeHtml(c.value)}">${escapeHtml(c.label)}</option>`).join('');
  return layout('Sign in', `<h2>Apply for benefits</h2>
<p>Sign in to continue. You will go to OneDoor and come back here.</p>
<form method="get" action="/login">
  <label for="acr">Assurance level to ask for (acr_values)</label>
  <select id="acr" name="acr">${options}</select>
  <div><button type="submit">Sign in with OneDoor</button></div>
</form>`);
}

function signedInPage(user: NonNullable<Session['user']>): string {
  const json = (value: unknown) => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
  return layout('Signed in', `<h2>You are signed in</h2>
<p>OneDoor says you are <code>${escapeHtml(user.sub)}</code> at this agency (a pairwise subject: other agencies see a different one).</p>
<h3>ID token claims</h3>
${json(user.claims)}
<h3>Userinfo</h3>
${json(user.userinfo)}
<p><a class="button" href="/logout">Sign out</a></p>`);
}

function errorPage(message: string): string {
  return layout('Sign-in problem', `<h2>Something went wrong</h2>
<p>${escapeHtml(message)}</p>
<p><a href="/">Back to the start</a></p>`);
}
