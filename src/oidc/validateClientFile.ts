import { IAL2_SCOPES, scopesForMaxIal } from './claims.js';
import { createPublicKey } from 'node:crypto';
import { errors } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { CONSENT, KIND_NAMES } from '../delegation/representationKinds.js';
import type { Config } from '../config/loadConfig.js';
import { checkOutgoingUrl } from '../shared/checkOutgoingUrl.js';
import { ACCOUNT_CLIENT_ID, createProvider, type ProviderPages } from './createProvider.js';
import type { KeyMaterial } from './keys.js';

/**
 * A client file is OIDC Dynamic Client Registration metadata (RFC 7591, OIDC DCR 1.0 §2) plus
 * OneDoor's own fields. It is checked twice: first by the schema below, which knows OneDoor's
 * policy (no client secrets, exact https redirect URIs, pairwise subjects, public keys only)
 * and names the field at fault; then by oidc-provider itself, exactly as it will check the
 * stored row when it loads the client, so a file that passes here cannot fail at sign-in time.
 */

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const str = (what = 'a string') => z.string({ error: (iss) => (iss.input === undefined ? 'is required' : `must be ${what}`) });

/** What is wrong with a web URL, if anything: absolute, https (or http on localhost when allowed), exact. */
function webUrlProblem(value: string, { httpOnLocalhost }: { httpOnLocalhost: boolean }): string | undefined {
  const requirement = httpOnLocalhost ? 'must be an absolute https URL (http only for localhost)' : 'must be an absolute https URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return requirement;
  }
  const httpOk = httpOnLocalhost && url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !httpOk) return requirement;
  if (value.includes('#')) return 'must not contain a fragment (#)';
  if (value.includes('*')) return 'must be an exact URL (no wildcards)';
  if (url.username || url.password) return 'must not contain credentials';
  return undefined;
}

/** An absolute URL with no fragment and no wildcard; https, or http on localhost when allowed. */
function webUrl(opts: { httpOnLocalhost: boolean }) {
  return str('a URL string').superRefine((value, ctx) => {
    const problem = webUrlProblem(value, opts);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** The host part of native apps' sectors (`native-app:<client_id>`, pairwise.ts): no URL may name it. */
const NATIVE_SECTOR_HOST = 'native-app';

/** Loopback IP literals a native app may listen on (RFC 8252 §7.3); `localhost` is refused (§8.3). */
const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);
/** Schemes that can never be a redirect (RFC 8252 §8.1, and what a browser would run or read). */
const FORBIDDEN_SCHEMES = new Set(['http:', 'https:', 'javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:']);

/**
 * What is wrong with a native app's redirect URI (RFC 8252 §7), if anything: a private-use
 * scheme in reverse-domain form (`gov.example.benefits:/callback`), a claimed `https` URI, or a
 * loopback IP literal over `http` (any port at request time).
 */
function nativeRedirectProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URI';
  }
  if (value.includes('#')) return 'must not contain a fragment (#)';
  if (value.includes('*')) return 'must be an exact URI (no wildcards)';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol === 'http:') {
    if (url.hostname === 'localhost') return 'must use the loopback IP literal 127.0.0.1 or [::1], not localhost (RFC 8252 §8.3)';
    return LOOPBACK_IPS.has(url.hostname) ? undefined : 'must be a loopback IP literal (http://127.0.0.1 or http://[::1]) when it uses http (RFC 8252 §7.3)';
  }
  if (url.protocol === 'https:') return LOCAL_HOSTS.has(url.hostname) ? 'must be a claimed https URI on the app\'s own domain, not a loopback host' : undefined;
  const scheme = url.protocol.slice(0, -1);
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `must not use the ${scheme} scheme`;
  if (!scheme.includes('.')) return 'must use a private-use scheme in reverse-domain form, like gov.example.benefits:/callback (RFC 8252 §7.1)';
  return undefined;
}

const uriList = z.array(str('a URL string'), { error: 'must be an array of URLs' });

/** The phone channel's grant (OpenID Connect CIBA Core 1.0). */
const CIBA = 'urn:openid:params:grant-type:ciba';
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', CIBA] as const;

const publicJwk = z.looseObject({
  kty: z.enum(['EC', 'RSA'], { error: 'must be "EC" or "RSA"' }),
  kid: str().min(1, 'must not be empty').optional(),
  use: z.literal('sig', { error: 'must be "sig"' }).optional(),
  alg: z.enum(['ES256', 'RS256', 'PS256'], { error: 'must be ES256, RS256 or PS256' }).optional(),
}, { error: 'must be a JWK object' }).superRefine((jwk, ctx) => {
  const present = PRIVATE_JWK_MEMBERS.filter((m) => m in jwk);
  if (present.length) {
    ctx.addIssue({ code: 'custom', message: `must be a public key: remove the private member${present.length > 1 ? 's' : ''} ${present.map((m) => `"${m}"`).join(', ')}` });
    return;
  }
  const members = jwk.kty === 'EC' ? ['kty', 'crv', 'x', 'y'] : ['kty', 'n', 'e'];
  try {
    createPublicKey({ key: Object.fromEntries(members.map((m) => [m, (jwk as Record<string, unknown>)[m]])) as never, format: 'jwk' });
  } catch {
    ctx.addIssue({ code: 'custom', message: `is not a valid ${jwk.kty} public key` });
  }
});

const ClientFileSchema = z.strictObject({
  client_id: str().regex(/^[A-Za-z0-9._~:-]{1,191}$/, 'must be 1-191 characters of A-Z a-z 0-9 . _ ~ : -')
    .refine((id) => id !== ACCOUNT_CLIENT_ID, `is reserved for OneDoor's own account pages`),
  client_name: str().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
  application_type: z.enum(['web', 'native'], { error: 'must be "web" or "native"' }).optional(),
  // Required with authorization_code (checked below); a phone-channel-only client has none.
  redirect_uris: uriList.optional(),
  post_logout_redirect_uris: uriList.optional(),
  // Defaults after parsing: private_key_jwt for a web client, none for a native app.
  token_endpoint_auth_method: z.enum(['private_key_jwt', 'none'], {
    error: 'must be private_key_jwt or none (client secrets are not accepted)',
  }).optional(),
  token_endpoint_auth_signing_alg: z.enum(['ES256', 'RS256', 'PS256'], { error: 'must be ES256, RS256 or PS256' }).optional(),
  jwks: z.strictObject({
    keys: z.array(publicJwk, { error: 'must be an array of JWKs' }).min(1, 'must contain at least one key'),
  }, { error: 'must be a JWK Set: {"keys": [...]}' }).optional(),
  jwks_uri: webUrl({ httpOnLocalhost: true }).optional(),
  grant_types: z.array(z.enum(GRANT_TYPES, { error: `must be ${GRANT_TYPES.slice(0, -1).join(', ')} or ${CIBA}` }), { error: 'must be an array' })
    .refine((g) => g.includes('authorization_code') || g.includes(CIBA), `must include authorization_code (or ${CIBA} for a phone-channel client)`)
    .refine((g) => new Set(g).size === g.length, 'must not repeat a value')
    .default(['authorization_code']),
  // ["code"] with authorization_code, [] for a phone-channel-only client (checked below; the default follows grant_types).
  response_types: z.array(z.string(), { error: 'must be ["code"]' })
    .refine((r) => r.length === 0 || (r.length === 1 && r[0] === 'code'), 'must be ["code"] (or [] for a phone-channel-only client)')
    .optional(),
  subject_type: z.literal('pairwise', { error: 'must be pairwise (agencies always get pairwise subjects)' }).default('pairwise'),
  sector_identifier_uri: webUrl({ httpOnLocalhost: false }).optional(),
  backchannel_logout_uri: webUrl({ httpOnLocalhost: true }).optional(),
  backchannel_logout_session_required: z.boolean({ error: 'must be true or false' }).optional(),
  logo_uri: webUrl({ httpOnLocalhost: false }).optional(),
  // The phone channel (CIBA Core §4): how the agency's back end learns the person answered.
  backchannel_token_delivery_mode: z.enum(['poll', 'ping'], { error: 'must be "poll" or "ping"' }).optional(),
  backchannel_client_notification_endpoint: webUrl({ httpOnLocalhost: false }).optional(),
  backchannel_user_code_parameter: z.literal(false, { error: 'must be false: OneDoor does not take user codes' }).optional(),
  id_token_signed_response_alg: z.enum(['RS256', 'ES256'], { error: 'must be RS256 or ES256' }).optional(),
  scope: str().regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be space-separated scope names').optional(),
  contacts: z.array(z.email({ error: 'must be an email address' }), { error: 'must be an array of email addresses' }).optional(),
  // OneDoor extension: where to push Security Event Tokens (RFC 8417, RFC 8935) about people connected to this agency.
  security_event_endpoint: webUrl({ httpOnLocalhost: true }).optional(),
  delegation_enabled: z.boolean({ error: 'must be true or false' }).default(false),
  // Which bases of delegation the agency accepts: consent (a helper the person chose) and kinds of legal authority.
  delegation_bases_accepted: z.array(z.enum([CONSENT, ...KIND_NAMES] as [string, ...string[]], { error: `must be ${[CONSENT, ...KIND_NAMES].join(', ')}` }), { error: 'must be an array' })
    .min(1, 'must list at least one basis').refine((b) => new Set(b).size === b.length, 'must not repeat a value').optional(),
  // The kinds of legal authority this agency is the register of (POST /representations).
  representation_authority: z.array(z.enum(KIND_NAMES as [string, ...string[]], { error: `must be ${KIND_NAMES.join(', ')}` }), { error: 'must be an array' })
    .min(1, 'must list at least one kind').refine((b) => new Set(b).size === b.length, 'must not repeat a value').optional(),
  max_ial: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' }).default(1),
}, { error: 'must be a JSON object' }).superRefine((m, ctx) => {
  const issue = (path: string | Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path: Array.isArray(path) ? path : [path], message });
  const native = m.application_type === 'native';
  const code = m.grant_types.includes('authorization_code');
  if (code && !m.redirect_uris?.length) issue('redirect_uris', m.redirect_uris ? 'must list at least one redirect URI' : 'is required');
  if (!code) {
    for (const field of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
      if (m[field]?.length) issue(field, 'is only for clients with authorization_code');
    }
    if (m.response_types?.length) issue('response_types', 'must be [] for a client without authorization_code');
    if (m.grant_types.includes('refresh_token')) issue('grant_types', 'refresh_token needs authorization_code (a phone confirmation gives no refresh token)');
  }
  checkPhoneChannel(m, issue);
  // Web clients: exact https URLs (http only on localhost). Native apps: RFC 8252 §7.
  for (const field of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
    (m[field] ?? []).forEach((uri, i) => {
      const problem = native ? nativeRedirectProblem(uri) : webUrlProblem(uri, { httpOnLocalhost: true });
      if (problem) issue([field, i], problem);
    });
  }
  if (native && m.token_endpoint_auth_method === 'private_key_jwt') issue('token_endpoint_auth_method', 'must be none for a native app (a public client: an app cannot keep a private key; PKCE protects it)');
  if (m.scope) {
    const allowed = scopesForMaxIal(m.max_ial);
    const beyond = m.scope.split(' ').find((s) => !allowed.includes(s));
    if (beyond) issue('scope', `"${beyond}" is not offered${IAL2_SCOPES.includes(beyond) ? ' to clients with max_ial 1' : ''}`);
  }
  if ((m.token_endpoint_auth_method ?? (native ? 'none' : 'private_key_jwt')) === 'private_key_jwt') {
    if (m.jwks && m.jwks_uri) issue('jwks_uri', 'use either jwks or jwks_uri, not both');
    else if (!m.jwks && !m.jwks_uri) issue('jwks', 'private_key_jwt needs the client\'s public keys: give jwks or jwks_uri');
  } else {
    for (const field of ['jwks', 'jwks_uri', 'token_endpoint_auth_signing_alg'] as const) {
      if (m[field] !== undefined) issue(field, 'is only for private_key_jwt clients');
    }
  }
  // Pairwise subjects are computed per sector: the redirect host, or the sector document when
  // there are several hosts (OIDC Core §8.1).
  // (Runs even when a URI failed its own check above, so it parses defensively.)
  // (A native app's private-use scheme has no host: it counts as one, as oidc-provider counts it.)
  const hosts = new Set((m.redirect_uris ?? []).map(hostOf).filter((h) => h !== undefined && (native || h)));
  if (hosts.size > 1 && !m.sector_identifier_uri) {
    issue('sector_identifier_uri', 'is required when redirect_uris use more than one host (pairwise subjects are per sector)');
  }
  if (m.delegation_bases_accepted && !m.delegation_enabled) issue('delegation_bases_accepted', 'needs delegation_enabled: true');
  if (m.representation_authority && (m.token_endpoint_auth_method ?? (native ? 'none' : 'private_key_jwt')) !== 'private_key_jwt') issue('representation_authority', 'needs token_endpoint_auth_method private_key_jwt');
  // A native app without a sector document is the sector `native-app:<client_id>` (pairwise.ts
  // sectorOf): a URL on the host `native-app` (`https://native-app:8080/`, sector
  // `native-app:8080`) would share the subjects of the native app whose id is `8080`.
  for (const field of ['redirect_uris', 'sector_identifier_uri', 'jwks_uri'] as const) {
    const value = m[field];
    (Array.isArray(value) ? value : value === undefined ? [] : [value]).forEach((uri, i) => {
      if (hostnameOf(uri) === NATIVE_SECTOR_HOST) issue(Array.isArray(value) ? [field, i] : field, `must not use the host "${NATIVE_SECTOR_HOST}" (it names native apps' pairwise sectors)`);
    });
  }
  if (m.backchannel_logout_session_required !== undefined && !m.backchannel_logout_uri) {
    issue('backchannel_logout_session_required', 'needs backchannel_logout_uri');
  }
});

type ParsedClientFile = z.output<typeof ClientFileSchema>;

/**
 * A phone-channel client (CIBA Core §4): `private_key_jwt` with its keys at a `jwks_uri`, whose
 * host is its sector when it has no redirect URIs (pairwise subjects, OIDC Core §8.1): host the
 * keys where the agency's sign-in client redirects, and a person has the same `sub` on both. A
 * client that also signs people in (authorization_code) names its sector with
 * `sector_identifier_uri`, as oidc-provider requires. Ping needs an https notification endpoint.
 */
function checkPhoneChannel(m: ParsedClientFile, issue: (path: string, message: string) => void): void {
  const fields = ['backchannel_token_delivery_mode', 'backchannel_client_notification_endpoint', 'backchannel_user_code_parameter'] as const;
  if (!m.grant_types.includes(CIBA)) {
    for (const field of fields) if (m[field] !== undefined) issue(field, `is only for clients with the ${CIBA} grant`);
    return;
  }
  if (m.application_type === 'native') issue('grant_types', `${CIBA} is for an agency's back end, not a native app`);
  else if ((m.token_endpoint_auth_method ?? 'private_key_jwt') !== 'private_key_jwt') issue('token_endpoint_auth_method', `must be private_key_jwt for the ${CIBA} grant`);
  if (!m.jwks_uri) issue('jwks_uri', `is required for the ${CIBA} grant (its host is the client's sector for pairwise subjects; publish the keys there instead of jwks)`);
  if (m.grant_types.includes('authorization_code') && !m.sector_identifier_uri) issue('sector_identifier_uri', `is required when a client has both authorization_code and ${CIBA} (it names the sector both use)`);
  if (!m.backchannel_token_delivery_mode) issue('backchannel_token_delivery_mode', 'is required for the phone channel: "poll" or "ping"');
  else if (m.backchannel_token_delivery_mode === 'ping' && !m.backchannel_client_notification_endpoint) issue('backchannel_client_notification_endpoint', 'is required for ping delivery');
  else if (m.backchannel_token_delivery_mode === 'poll' && m.backchannel_client_notification_endpoint) issue('backchannel_client_notification_endpoint', 'is only for ping delivery');
}

/** The normalized metadata stored in `oidc_clients.metadata` (defaults filled in). */
export type ClientFileMetadata = ParsedClientFile & { token_endpoint_auth_method: 'private_key_jwt' | 'none'; response_types: Array<'code'> };

export type ValidateClientFileResult =
  | { ok: true; metadata: ClientFileMetadata; notices?: string[] }
  | { ok: false; error: string };

export interface ValidateClientFileOptions {
  /** The parsed JSON of the client file. */
  input: unknown;
  config: Config;
  /** Only used to construct the provider as the app does; never queried. */
  ds: DataSource;
  keys: KeyMaterial;
}

/** `redirect_uris[0]`, `jwks.keys[1].d`: the path as an operator would write it. */
function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

function formatIssues(issues: ReadonlyArray<z.core.$ZodIssue>): string {
  const lines = issues.flatMap((iss) => {
    const at = formatPath(iss.path);
    if (iss.code === 'unrecognized_keys') {
      return iss.keys.map((key) => {
        const field = at ? `${at}.${key}` : key;
        return key === 'client_secret' && !at
          ? `client_secret: not accepted; OneDoor clients use private_key_jwt (or none with PKCE)`
          : `${field}: unknown field`;
      });
    }
    return [`${at || 'client file'}: ${iss.message}`];
  });
  const shown = lines.slice(0, 3).join('; ');
  return lines.length > 3 ? `${shown}; and ${lines.length - 3} more` : shown;
}

/** For a provider built outside the app (client-file checks, operator commands): it never renders a page. */
export const headlessPages: ProviderPages = {
  async renderError() {},
  async logoutSource() {},
  async postLogoutSuccessSource() {},
};

/** The URLs OneDoor (or oidc-provider for it) calls: checked against the outgoing rules here, and again at every call. */
const OUTGOING_FIELDS = ['jwks_uri', 'sector_identifier_uri', 'backchannel_logout_uri', 'security_event_endpoint', 'backchannel_client_notification_endpoint'] as const;
/** How long a host name may take to resolve here before it counts as not resolving. */
const RESOLVE_TIMEOUT_MS = 5000;

/**
 * Refuses an outgoing URL OneDoor would refuse to call (src/shared/checkOutgoingUrl.ts): a
 * private, loopback, link-local or other special-use address, given as an IP literal, as
 * `localhost`, or as a name that resolves to one. A name that does not resolve from here is
 * accepted with a notice: DNS may not be set up yet (or differ where the CLI runs), and what
 * protects is the same check at every call, which a name that resolves now could fail later.
 */
async function checkOutgoingFields(metadata: ClientFileMetadata, config: Config): Promise<{ error: string } | { notices: string[] }> {
  const notices: string[] = [];
  for (const field of OUTGOING_FIELDS) {
    const value = metadata[field];
    if (value === undefined) continue;
    const checked = await checkOutgoingUrl({ url: value, policy: config, signal: AbortSignal.timeout(RESOLVE_TIMEOUT_MS) }).catch(() => ({ ok: false as const, reason: 'name_not_resolved' as const }));
    if (checked.ok) continue;
    if (checked.reason === 'name_not_resolved') notices.push(`${field}: ${new URL(value).hostname} does not resolve from here; OneDoor checks its address at every call`);
    else if (checked.reason === 'address_not_allowed') return { error: `${field}: must not point to a private, loopback or link-local address (${checked.address} is ${checked.use.replace('_', '-')})` };
    else return { error: `${field}: must be an absolute https URL${config.insecureTransport ? ' (http only for localhost)' : ''}` };
  }
  return { notices };
}

/** Checks a client file against OneDoor's policy and oidc-provider's own rules. */
export async function validateClientFile({ input, config, ds, keys }: ValidateClientFileOptions): Promise<ValidateClientFileResult> {
  const parsed = ClientFileSchema.safeParse(input);
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error.issues) };
  const metadata: ClientFileMetadata = {
    ...parsed.data,
    token_endpoint_auth_method: parsed.data.token_endpoint_auth_method ?? (parsed.data.application_type === 'native' ? 'none' as const : 'private_key_jwt' as const),
    response_types: parsed.data.grant_types.includes('authorization_code') ? ['code'] : [],
  };
  const outgoing = await checkOutgoingFields(metadata, config);
  if ('error' in outgoing) return { ok: false, error: outgoing.error };

  const provider = createProvider({ config, ds, keys, pages: headlessPages });
  try {
    // Validates a copy, as the adapter will hand it over (parsed JSON): oidc-provider's schema
    // assigns defaults onto what it is given.
    await provider.Client.validate(JSON.parse(JSON.stringify(metadata)) as Parameters<typeof provider.Client.validate>[0]);
  } catch (err) {
    if (err instanceof errors.OIDCProviderError) {
      // e.g. "client JSON Web Key Set is invalid" carries the member at fault in its cause.
      const detail = err.cause instanceof Error ? ` (${err.cause.message})` : '';
      return { ok: false, error: `${err.error}: ${err.error_description ?? err.message}${detail}`.replace(/\s*\n\s*/g, ' ') };
    }
    throw err;
  }
  return { ok: true, metadata, ...(outgoing.notices.length ? { notices: outgoing.notices } : {}) };
}
