import { createHash, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { BenchPasskey } from './benchPasskey.js';
import { CookieJar, expectStatus, HttpClient, locationOf, type HttpResponse } from './http.js';

export const REDIRECT_URI = 'https://agency.bench.example/callback';
export const SCOPE = 'openid email';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

interface Discovery {
  issuer: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  introspection_endpoint: string;
  jwks_uri: string;
  authorization_endpoint: string;
}

/**
 * One server under test seen as an agency and a browser see it: discovery first, then every
 * endpoint from it; client authentication is private_key_jwt (ES256) with a fresh assertion
 * per call, PKCE S256 on every authorization. Each flow method is one iteration of a flow.
 */
export class BenchTarget {
  readonly http: HttpClient;
  readonly kind: 'onedoor' | 'bare';
  readonly passkey: BenchPasskey | undefined;
  readonly clientId: string;
  readonly audience: string;
  #d!: Discovery;
  readonly #key: KeyObject;
  readonly #kid: string;
  readonly #verifier = randomBytes(32).toString('base64url');
  readonly #challenge = createHash('sha256').update(this.#verifier).digest('base64url');

  constructor(opts: { url: string; kind: 'onedoor' | 'bare'; sockets: number; clientId: string; audience: string; key: KeyObject; kid: string; passkey?: BenchPasskey }) {
    this.http = new HttpClient({ base: opts.url, sockets: opts.sockets });
    this.kind = opts.kind;
    this.clientId = opts.clientId;
    this.audience = opts.audience;
    this.#key = opts.key;
    this.#kid = opts.kid;
    this.passkey = opts.passkey;
  }

  async discover(): Promise<void> {
    this.#d = JSON.parse((await this.discovery()).body) as Discovery;
  }

  #path(url: string): string {
    const u = new URL(url);
    return u.pathname + u.search;
  }

  /** RFC 7523 client assertion, signed here with node:crypto (cheap for the load generator). */
  #assertion(): Record<string, string> {
    const now = Math.floor(Date.now() / 1000);
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ alg: 'ES256', kid: this.#kid, typ: 'JWT' })}.${enc({ iss: this.clientId, sub: this.clientId, aud: this.#d.issuer, jti: randomUUID(), iat: now, exp: now + 60 })}`;
    const sig = sign('sha256', Buffer.from(input), { key: this.#key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: `${input}.${sig}` };
  }

  #token(fields: Record<string, string>): Promise<HttpResponse> {
    return this.http.form(this.#path(this.#d.token_endpoint), { ...fields, ...this.#assertion() });
  }

  #authorizePath(extra: Record<string, string> = {}): string {
    const q = new URLSearchParams({
      client_id: this.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: SCOPE,
      state: randomBytes(12).toString('base64url'), nonce: randomBytes(12).toString('base64url'),
      code_challenge: this.#challenge, code_challenge_method: 'S256', ...extra,
    });
    return `${this.#path(this.#d.authorization_endpoint)}?${q}`;
  }

  /** Follows redirects inside the server until the browser is sent to the agency; returns the code. */
  async #followToCode(jar: CookieJar, from: HttpResponse): Promise<string> {
    let res = from;
    for (let hops = 0; hops < 8; hops += 1) {
      const next = locationOf(res, this.http.base);
      if (next.href.startsWith(REDIRECT_URI)) {
        const code = next.searchParams.get('code');
        if (!code) throw new Error(`no code: ${next.searchParams.get('error') ?? 'unknown'}`);
        return code;
      }
      if (next.origin !== this.http.base.origin) throw new Error(`left the server for ${next.origin}`);
      res = await this.http.request({ path: next.pathname + next.search, jar });
      if (res.status === 200) throw new Error(`stopped at a page: ${next.pathname}`);
    }
    throw new Error('too many redirects');
  }

  discovery(): Promise<HttpResponse> {
    return this.http.request({ path: '/.well-known/openid-configuration' }).then((r) => expectStatus(r, 200, 'discovery'));
  }

  jwks(): Promise<HttpResponse> {
    return this.http.request({ path: this.#path(this.#d.jwks_uri) }).then((r) => expectStatus(r, 200, 'jwks'));
  }

  /**
   * A person signs in: authorization request → OneDoor's sign-in page → WebAuthn options →
   * passkey assertion → consent already given → code. On the bare provider the interaction
   * signs the person in by itself. Returns the browser's jar (now holding a session) and a code.
   */
  async signInToCode(opts: { n: number; jar?: CookieJar; extra?: Record<string, string> }): Promise<{ jar: CookieJar; code: string }> {
    const jar = opts.jar ?? new CookieJar();
    const extra = this.kind === 'bare' ? { login_hint: `person${opts.n}`, ...opts.extra } : { ...opts.extra };
    const first = await this.http.request({ path: this.#authorizePath(extra), jar });
    if (this.kind === 'bare') return { jar, code: await this.#followToCode(jar, first) };

    const done = await this.#passkeySignIn(opts.n, jar, first);
    return { jar, code: await this.#followToCode(jar, done) };
  }

  /** OneDoor's sign-in page answered with account n's passkey; returns the 303 that resumes the authorization. */
  async #passkeySignIn(n: number, jar: CookieJar, first: HttpResponse): Promise<HttpResponse> {
    const interaction = locationOf(first, this.http.base).pathname;
    const page = expectStatus(await this.http.request({ path: interaction, jar }), 200, 'sign-in page');
    const csrf = page.body.match(/<meta name="csrf-token" content="([^"]*)">/)?.[1];
    if (!csrf) throw new Error('no CSRF token on the sign-in page');
    const options = expectStatus(await this.http.request({
      method: 'POST', path: `${interaction}/passkey/options`, jar, body: JSON.stringify({ email: '' }),
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
    }), 200, 'passkey options');
    const { challenge } = JSON.parse(options.body) as { challenge: string };
    const assertion = this.passkey!.assert({ n, challenge });
    return expectStatus(await this.http.form(`${interaction}/passkey`, { _csrf: csrf, response: JSON.stringify(assertion), email: '' }, { jar }), 303, 'passkey sign-in');
  }

  /**
   * A helper signs in for someone they help (OneDoor only; the agency has `delegation_enabled`):
   * sign-in page → passkey → OneDoor's chooser ("whom are you acting for?") → the option naming
   * the principal's email → code. Throws if no chooser is shown (the helper would be signed in
   * as themself) or if it does not offer the principal.
   */
  async delegatedSignInToCode(opts: { helper: number; principalEmail: string }): Promise<{ jar: CookieJar; code: string }> {
    if (this.kind !== 'onedoor') throw new Error('delegated sign-in needs OneDoor');
    const jar = new CookieJar();
    const first = await this.http.request({ path: this.#authorizePath(), jar });
    let res = await this.#passkeySignIn(opts.helper, jar, first);
    let at = '';
    for (let hops = 0; res.status !== 200; hops += 1) {
      const next = locationOf(res, this.http.base);
      if (next.href.startsWith(REDIRECT_URI)) throw new Error('no chooser: the helper was signed in as themself');
      if (next.origin !== this.http.base.origin || hops >= 8) throw new Error(`no chooser (at ${next.href})`);
      at = next.pathname;
      res = await this.http.request({ path: next.pathname + next.search, jar });
    }
    const csrf = res.body.match(/<meta name="csrf-token" content="([^"]*)">/)?.[1];
    if (!csrf || !res.body.includes(`action="${at}/actor"`)) throw new Error(`stopped at a page that is not the chooser: ${at}`);
    // Each option is a radio `actor` whose label names the person; pick the one naming the principal.
    const options = [...res.body.matchAll(/<input[^>]*name="actor" value="([^"]*)"[^>]*>\s*<label[^>]*>([^<]*)/g)];
    const choice = options.find(([, value, label]) => value !== 'self' && label!.includes(opts.principalEmail))?.[1];
    if (!choice) throw new Error(`the chooser does not offer ${opts.principalEmail}`);
    const done = expectStatus(await this.http.form(`${at}/actor`, { _csrf: csrf, actor: choice }, { jar }), 303, 'actor choice');
    return { jar, code: await this.#followToCode(jar, done) };
  }

  /** Another authorization in a browser that already has a session and consent: straight to a code. */
  async codeFromSession(jar: CookieJar, extra: Record<string, string> = {}): Promise<string> {
    const first = await this.http.request({ path: this.#authorizePath(extra), jar });
    return this.#followToCode(jar, first);
  }

  /** A consent page answered (refresh tokens need `offline_access` with `prompt=consent`). */
  async consentToCode(opts: { n: number; jar: CookieJar }): Promise<string> {
    const { jar } = opts;
    const extra = { scope: `${SCOPE} offline_access`, prompt: 'consent', ...(this.kind === 'bare' ? { login_hint: `person${opts.n}` } : {}) };
    const first = await this.http.request({ path: this.#authorizePath(extra), jar });
    if (this.kind === 'bare') return this.#followToCode(jar, first);
    const interaction = locationOf(first, this.http.base).pathname;
    const page = expectStatus(await this.http.request({ path: interaction, jar }), 200, 'consent page');
    const csrf = page.body.match(/<meta name="csrf-token" content="([^"]*)">/)?.[1] ?? '';
    const done = expectStatus(await this.http.form(`${interaction}/consent`, { _csrf: csrf }, { jar }), 303, 'consent');
    return this.#followToCode(jar, done);
  }

  async redeem(code: string): Promise<{ access_token: string; refresh_token?: string; id_token: string }> {
    const res = expectStatus(await this.#token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: this.#verifier }), 200, 'code redemption');
    return JSON.parse(res.body) as { access_token: string; refresh_token?: string; id_token: string };
  }

  async refresh(refreshToken: string): Promise<string> {
    const res = expectStatus(await this.#token({ grant_type: 'refresh_token', refresh_token: refreshToken }), 200, 'refresh');
    const next = (JSON.parse(res.body) as { refresh_token?: string }).refresh_token;
    if (!next) throw new Error('refresh did not rotate');
    return next;
  }

  async userinfo(accessToken: string): Promise<void> {
    expectStatus(await this.http.request({ path: this.#path(this.#d.userinfo_endpoint), headers: { authorization: `Bearer ${accessToken}` } }), 200, 'userinfo');
  }

  async introspect(accessToken: string): Promise<void> {
    const res = expectStatus(await this.http.form(this.#path(this.#d.introspection_endpoint), { token: accessToken, ...this.#assertion() }), 200, 'introspection');
    if (!res.body.includes('"active":true')) throw new Error('introspection: token not active');
  }

  async clientCredentials(): Promise<void> {
    expectStatus(await this.#token({ grant_type: 'client_credentials' }), 200, 'client credentials');
  }

  async tokenExchange(accessToken: string): Promise<void> {
    expectStatus(await this.#token({
      grant_type: TOKEN_EXCHANGE, subject_token: accessToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: this.audience, scope: SCOPE,
    }), 200, 'token exchange');
  }

  close(): void {
    this.http.close();
  }
}
