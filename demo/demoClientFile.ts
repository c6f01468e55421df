import type { JWK } from 'jose';

export interface DemoClientFileOptions {
  /** The agency site's public origin, e.g. http://localhost:4000 (no trailing slash). */
  agencyUrl: string;
  /** The agency's public signing key (never the private one). */
  publicJwk: JWK;
  clientId?: string;
  clientName?: string;
}

/**
 * The client file an agency hands to the OneDoor operator (`npx onedoor clients add FILE.json`):
 * OpenID Connect Dynamic Client Registration metadata. The agency proves who it is at the token
 * endpoint with a JWT signed by the private half of `jwks` (private_key_jwt, RFC 7523), so no
 * shared secret ever exists.
 */
export function demoClientFile({ agencyUrl, publicJwk, clientId = 'demo-agency', clientName = 'Demo Benefits Agency' }: DemoClientFileOptions) {
  const { d: _private, ...publicOnly } = publicJwk;
  return {
    client_id: clientId,
    client_name: clientName,
    redirect_uris: [`${agencyUrl}/callback`],
    post_logout_redirect_uris: [`${agencyUrl}/`],
    backchannel_logout_uri: `${agencyUrl}/backchannel-logout`,
    // Puts `sid` in ID tokens and logout tokens, so a logout ends one session, not every
    // session of that person (OIDC Back-Channel Logout 1.0 §2.2).
    backchannel_logout_session_required: true,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [publicOnly] },
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
}

/**
 * The agency's second client file, for its back end's phone channel (CIBA): the Phone agent page
 * asks OneDoor to confirm a caller. It signs its requests with the same key, published at this
 * site's /jwks.json: that URL's host is the client's sector, the same as the sign-in client's
 * redirect URI, so a person has the same `sub` on both. Poll delivery: the site asks the token
 * endpoint every few seconds until the caller answers.
 */
export function demoPhoneClientFile({ agencyUrl, clientId = 'demo-agency-phone', clientName = 'Demo Benefits Agency' }: Omit<DemoClientFileOptions, 'publicJwk'>) {
  return {
    client_id: clientId,
    client_name: clientName,
    grant_types: ['urn:openid:params:grant-type:ciba'],
    // No browser sign-in through this client: no redirect URIs, no response types.
    response_types: [],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks_uri: `${agencyUrl}/jwks.json`,
    backchannel_token_delivery_mode: 'poll',
  };
}
