import http from 'node:http';
import { createHash } from 'node:crypto';
import Provider, { type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { serveStats } from '../lib/ServerProcess.js';

/**
 * The reference: oidc-provider 9 alone, as its README configures it — its in-memory adapter,
 * the same clients (private_key_jwt ES256), the same signing algorithms (RS256 ID tokens,
 * ES256 available), PKCE, pairwise subjects, refresh rotation, introspection and client
 * credentials. Its interaction signs the person in and consents at once (no pages, no passkey,
 * no database): what is left is the protocol itself. OneDoor / this = what OneDoor adds.
 *
 * Storage is in memory, as in oidc-provider's bundled adapter, but in plain Maps: the bundled
 * one is an LRU capped at 1,000 entries (meant for development), which under load evicts live
 * grants and tokens and turns the reference's requests into errors. A Map is the cheapest
 * store there is, so the comparison flatters the reference, not OneDoor.
 */
class MapAdapter implements Adapter {
  static readonly stores = new Map<string, Map<string, { payload: AdapterPayload; expiresAt: number }>>();
  static readonly byGrant = new Map<string, Array<[string, string]>>();
  static readonly byUid = new Map<string, string>();
  readonly #store: Map<string, { payload: AdapterPayload; expiresAt: number }>;
  readonly #model: string;

  constructor(model: string) {
    this.#model = model;
    let store = MapAdapter.stores.get(model);
    if (!store) { store = new Map(); MapAdapter.stores.set(model, store); }
    this.#store = store;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
    this.#store.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.uid) MapAdapter.byUid.set(`${this.#model}:${payload.uid}`, id);
    if (payload.grantId) {
      const list = MapAdapter.byGrant.get(payload.grantId) ?? [];
      list.push([this.#model, id]);
      MapAdapter.byGrant.set(payload.grantId, list);
    }
  }

  async find(id: string) {
    const e = this.#store.get(id);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) { this.#store.delete(id); return undefined; }
    return e.payload;
  }

  async findByUid(uid: string) {
    const id = MapAdapter.byUid.get(`${this.#model}:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string) {
    for (const [id, e] of this.#store) if (e.payload.userCode === userCode) return this.find(id);
    return undefined;
  }

  async consume(id: string) {
    const e = this.#store.get(id);
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string) {
    this.#store.delete(id);
  }

  async revokeByGrantId(grantId: string) {
    for (const [model, id] of MapAdapter.byGrant.get(grantId) ?? []) MapAdapter.stores.get(model)?.delete(id);
    MapAdapter.byGrant.delete(grantId);
  }
}
const port = Number(process.env['BENCH_PORT']);
const issuer = `http://localhost:${port}`;
const clients = JSON.parse(process.env['BENCH_CLIENTS']!) as Configuration['clients'];
const jwks = JSON.parse(process.env['BENCH_JWKS']!) as Configuration['jwks'];

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  clients,
  jwks,
  cookies: { keys: ['bench-bare-cookie-key-0123456789abcdef'] },
  clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'RS256', token_endpoint_auth_method: 'private_key_jwt', subject_type: 'pairwise' },
  clientAuthMethods: ['private_key_jwt', 'none'],
  enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256'], idTokenSigningAlgValues: ['RS256', 'ES256'] },
  responseTypes: ['code'],
  pkce: { required: () => true },
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier: (_ctx, accountId, client) => createHash('sha256').update(`${client.sectorIdentifier}|${accountId}|bench-salt`).digest('base64url'),
  scopes: ['openid', 'email', 'offline_access'],
  claims: { email: ['email', 'email_verified'] },
  ttl: { AccessToken: 15 * 60, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 30 * 24 * 3600, Interaction: 3600, Grant: 365 * 24 * 3600, Session: 3600 },
  rotateRefreshToken: () => true,
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: `${id}@bench.example`, email_verified: true }) }),
  conformIdTokenClaims: true,
});

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const m = req.url?.match(/^\/interaction\/([\w-]+)$/);
  if (!m) return callback(req, res);
  // Sign in as the account the bench names in the login_hint, grant what was asked.
  (async () => {
    const details = await provider.interactionDetails(req, res);
    const accountId = String(details.params['login_hint'] ?? 'bench-person');
    const grant = details.grantId ? (await provider.Grant.find(details.grantId))! : new provider.Grant({ accountId, clientId: String(details.params['client_id']) });
    grant.addOIDCScope(String(details.params['scope']));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  })().catch((err: Error) => { res.statusCode = 500; res.end(err.name); });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => serveStats(issuer));
