import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import type { TestServer } from './testServer.js';

/**
 * A test agency: registers a private_key_jwt client (ES256) with OneDoor and configures
 * openid-client 6 the way an agency would from the README.
 */
export interface TestAgency {
  clientId: string;
  redirectUri: string;
  config: oidc.Configuration;
  privateKey: CryptoKey;
  kid: string;
  /** Starts an authorization: returns the URL and what the callback needs. */
  authorize(params?: Record<string, string>): Promise<{ url: string; verifier: string; state: string; nonce: string }>;
  /** Redeems the code in the URL the browser landed on. */
  redeem(landing: string, ctx: { verifier: string; state: string; nonce: string }): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>;
}

/**
 * `public: true` registers a public client (`token_endpoint_auth_method: none`, PKCE only), as a
 * single-page or native app would be.
 */
export async function registerAgency(server: TestServer, opts: { clientId: string; redirectUri?: string; extra?: Record<string, unknown>; public?: boolean }): Promise<TestAgency> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = `${opts.clientId}-key`;
  const redirectUri = opts.redirectUri ?? `https://${opts.clientId}.agency.example/callback`;
  const auth = opts.public
    ? { token_endpoint_auth_method: 'none' }
    : { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] } };
  const metadata = {
    client_id: opts.clientId,
    client_name: `Agency ${opts.clientId}`,
    redirect_uris: [redirectUri],
    ...auth,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...opts.extra,
  };
  await server.addClient(metadata);
  const config = await oidc.discovery(new URL(server.url), opts.clientId, { id_token_signed_response_alg: 'RS256' }, opts.public ? oidc.None() : oidc.PrivateKeyJwt({ key: privateKey, kid }), { execute: [oidc.allowInsecureRequests] });
  return {
    clientId: opts.clientId, redirectUri, config, privateKey, kid,
    async authorize(params = {}) {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256', state, nonce, ...params,
      });
      return { url: url.toString(), verifier, state, nonce };
    },
    async redeem(landing, ctx) {
      return oidc.authorizationCodeGrant(config, new URL(landing), { pkceCodeVerifier: ctx.verifier, expectedState: ctx.state, expectedNonce: ctx.nonce, idTokenExpected: true });
    },
  };
}

/**
 * The agency's openid-client configuration with every endpoint on one OneDoor node (same
 * issuer, same client): how a test sends a back-channel request to a chosen node.
 */
export function agencyConfigOn(agency: TestAgency, nodeUrl: string): oidc.Configuration {
  const onNode = (v: string) => { const u = new URL(v); return `${nodeUrl}${u.pathname}${u.search}`; };
  const metadata = Object.fromEntries(Object.entries(agency.config.serverMetadata()).map(([k, v]) => [k, typeof v === 'string' && k.endsWith('_endpoint') ? onNode(v) : v]));
  const config = new oidc.Configuration(metadata as oidc.ServerMetadata, agency.clientId, { id_token_signed_response_alg: 'RS256' }, oidc.PrivateKeyJwt({ key: agency.privateKey, kid: agency.kid }));
  oidc.allowInsecureRequests(config);
  return config;
}
