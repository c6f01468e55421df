import fc from 'fast-check';
import * as oidc from 'openid-client';
import { Delegation, DelegationEvent } from '../../entities/index.js';
import { answerInvitation, answerRequest, type DelegationDeps, inviteHelper, requestAccess } from '../../src/delegation/manageDelegations.js';
import { createProvider } from '../../src/oidc/createProvider.js';
import { endDelegation, maintainDelegationsAndSessions } from '../../src/oidc/endDelegation.js';
import { clock } from '../../src/shared/clock.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { delegationDepsFor, helperSignsIn, newPerson, type TestPerson } from '../support/delegationFlow.js';
import { finishAtAgency, interactionUid, invitationCodeFrom } from '../support/flows.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';

/**
 * A model of the delegation lifecycle (fast-check model-based testing) against the real
 * services and endpoints, on the test clock: invite, accept, decline, ask, approve (narrowed),
 * revoke by either side, sign in as helper, refresh, exchange (RFC 8693), introspect, advance
 * the clock, run the expiry job. After every step: a token is active exactly while its delegation is active,
 * unexpired, and covers the agency; the helper's chooser offers exactly the delegations that
 * may act there; tokens name the principal with the helper as `act`, never a nested actor; the
 * principal's activity holds every use. Commands whose preconditions do not hold are skipped.
 *
 * Bounded by default (about 15 s); longer searches:
 *   MODEL_RUNS=500 MODEL_COMMANDS=40 MODEL_SHRINK=1 MODEL_SEED=… MODEL_STATS=1
 */
const RUNS = Number(process.env['MODEL_RUNS'] ?? 80);
const MAX_COMMANDS = Number(process.env['MODEL_COMMANDS'] ?? 30);
const SHRINK = process.env['MODEL_SHRINK'] === '1';
const SEED = process.env['MODEL_SEED'] ? Number(process.env['MODEL_SEED']) : undefined;
const DAY = 86400 * 1000;
const AGENCIES = ['dmv', 'health'] as const;
type AgencyId = (typeof AGENCIES)[number];
const SCOPES = ['email', 'offline_access'];
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

interface ModelDelegation { id: string; status: string; clientIds: string[]; scopes: string[]; endsAtMs: number; code?: string; uses: number }
interface ModelToken { delegationId: string; agency: AgencyId; access: string; accessExpMs: number; refresh: string | undefined; helperSub: string; sessionEnded?: boolean; refreshed?: boolean; exchanged?: boolean }
interface Model { delegations: ModelDelegation[]; tokens: ModelToken[] }
interface Real { server: TestServer; deps: DelegationDeps; principal: TestPerson; helper: TestPerson; agencies: Record<AgencyId, TestAgency> }

let server: TestServer;
let deps: DelegationDeps;
let principal: TestPerson;
let helper: TestPerson;
let agencies: Record<AgencyId, TestAgency>;
const stats = new Map<string, number>();

beforeAll(async () => {
  server = await startTestServer();
  const grants = ['authorization_code', 'refresh_token', EXCHANGE];
  agencies = {
    dmv: await registerAgency(server, { clientId: 'dmv', extra: { delegation_enabled: true, grant_types: grants } }),
    health: await registerAgency(server, { clientId: 'health', extra: { delegation_enabled: true, grant_types: grants } }),
  };
  await registerAgency(server, { clientId: 'model-api' });
  deps = delegationDepsFor(server);
  principal = await newPerson(server, agencies.dmv);
  helper = await newPerson(server, agencies.dmv);
}, 60_000);
afterAll(async () => { clock.reset(); await server.close(); });

const provider = () => createProvider({ config: server.config, ds: server.ds, keys: server.keys, pages: { renderError: async () => {}, logoutSource: async () => {}, postLogoutSuccessSource: async () => {} } });
const usable = (d: ModelDelegation | undefined, agency: AgencyId) =>
  !!d && d.status === 'active' && clock.nowMs() < d.endsAtMs && (d.clientIds.includes('*') || d.clientIds.includes(agency));
const count = (name: string) => stats.set(name, (stats.get(name) ?? 0) + 1);

/** The invariants, checked after every command. */
async function checkInvariants(m: Model): Promise<void> {
  for (const t of m.tokens.slice(-4)) {
    const d = m.delegations.find((x) => x.id === t.delegationId);
    const intro = await oidc.tokenIntrospection(agencies[t.agency].config, t.access);
    // Token lifetimes are oidc-provider's, on the real clock; delegation ends are OneDoor's, on the test clock.
    const expected = usable(d, t.agency) && Date.now() < t.accessExpMs && !t.sessionEnded;
    if (intro.active !== expected) throw new Error(`access token of delegation ${d?.status} at ${t.agency} is ${intro.active ? 'active' : 'inactive'}, expected ${expected ? 'active' : 'inactive'}`);
    if (intro.active) {
      expect(intro['act']).toEqual({ sub: t.helperSub });
      expect((intro['act'] as Record<string, unknown>)['act']).toBeUndefined();
      expect(intro['delegation']).toMatchObject({ id: t.delegationId });
    }
  }
  // The principal's activity holds every use.
  for (const d of m.delegations) {
    const uses = await server.ds.getRepository(DelegationEvent).countBy({ delegationId: d.id, type: 'signed_in' });
    expect(uses).toBe(d.uses);
  }
}

const terms = (clients: string[], scopes: string[], days: number) => ({ clientIds: clients, scopes, endsAt: new Date(clock.nowMs() + days * DAY) });
const clientsArb = fc.constantFrom('*', 'dmv', 'health', 'dmv health').map((s) => s.split(' '));
const scopesArb = fc.subarray(SCOPES, { minLength: 1 });
const daysArb = fc.integer({ min: 2, max: 40 });

class Invite implements fc.AsyncCommand<Model, Real> {
  constructor(readonly clients: string[], readonly scopes: string[], readonly days: number) {}
  check = () => true;
  async run(m: Model) {
    const inv = await inviteHelper(deps, { principalId: principal.account.id, helperEmail: helper.email, terms: terms(this.clients, this.scopes, this.days) });
    if (!inv.ok) throw new Error('invite refused');
    m.delegations.push({ id: inv.delegation.id, status: 'invited', clientIds: this.clients, scopes: this.scopes, endsAtMs: inv.delegation.endsAt.getTime(), code: invitationCodeFrom(latestMail(server.outboxDir)), uses: 0 });
    count('invite');
    await checkInvariants(m);
  }
  toString = () => `Invite(${this.clients}, ${this.scopes}, ${this.days}d)`;
}

class AnswerInvite implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly accept: boolean) {}
  check = (m: Readonly<Model>) => m.delegations.some((d) => d.status === 'invited');
  async run(m: Model) {
    const open = m.delegations.filter((d) => d.status === 'invited');
    const d = open[this.pick % open.length]!;
    const r = await answerInvitation(deps, { helperId: helper.account.id, code: d.code!, accept: this.accept });
    expect(r.ok).toBe(true);
    d.status = this.accept ? 'active' : 'declined';
    count(this.accept ? 'accept' : 'decline invitation');
    await checkInvariants(m);
  }
  toString = () => `AnswerInvite(${this.pick}, ${this.accept})`;
}

class Ask implements fc.AsyncCommand<Model, Real> {
  constructor(readonly clients: string[], readonly scopes: string[], readonly days: number) {}
  check = () => true;
  async run(m: Model) {
    const r = await requestAccess(deps, { helperId: helper.account.id, principalEmail: principal.email, terms: terms(this.clients, this.scopes, this.days) });
    if (!r.ok) throw new Error('request refused');
    m.delegations.push({ id: r.delegation.id, status: 'requested', clientIds: this.clients, scopes: this.scopes, endsAtMs: r.delegation.endsAt.getTime(), uses: 0 });
    count('ask');
    await checkInvariants(m);
  }
  toString = () => `Ask(${this.clients}, ${this.scopes}, ${this.days}d)`;
}

class AnswerRequest implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly approve: boolean, readonly narrowTo: AgencyId | undefined, readonly dropScopes: boolean) {}
  check = (m: Readonly<Model>) => m.delegations.some((d) => d.status === 'requested');
  async run(m: Model) {
    const open = m.delegations.filter((d) => d.status === 'requested');
    const d = open[this.pick % open.length]!;
    const clients = this.narrowTo && (d.clientIds.includes('*') || d.clientIds.includes(this.narrowTo)) ? [this.narrowTo] : d.clientIds;
    const scopes = this.dropScopes && d.scopes.length > 1 ? d.scopes.slice(0, 1) : d.scopes;
    const stillLongEnough = d.endsAtMs - clock.nowMs() > 3600 * 1000 + 60_000;
    const r = await server.ds.transaction((db) => answerRequest({ ...deps, db }, { principalId: principal.account.id, delegationId: d.id, approve: this.approve, terms: this.approve ? { clientIds: clients, scopes, endsAt: new Date(d.endsAtMs) } : undefined }));
    if (this.approve && !stillLongEnough) {
      expect(r).toEqual({ ok: false, reason: 'ends_too_soon' });
      return;
    }
    expect(r).toEqual({ ok: true });
    Object.assign(d, this.approve ? { status: 'active', clientIds: clients, scopes } : { status: 'declined' });
    count(this.approve ? 'approve' : 'decline request');
    await checkInvariants(m);
  }
  toString = () => `AnswerRequest(${this.pick}, ${this.approve}, ${this.narrowTo}, ${this.dropScopes})`;
}

class Revoke implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly byHelper: boolean) {}
  // An invitation names no helper account until it is accepted: only the principal can end it.
  private endable = (d: ModelDelegation) => ['requested', 'active', ...(this.byHelper ? [] : ['invited'])].includes(d.status);
  check = (m: Readonly<Model>) => m.delegations.some((d) => this.endable(d as ModelDelegation));
  async run(m: Model) {
    const open = m.delegations.filter(this.endable);
    const d = open[this.pick % open.length]!;
    expect(await endDelegation({ provider: provider(), ds: server.ds, deps, actorId: (this.byHelper ? helper : principal).account.id, delegationId: d.id })).toBe(true);
    d.status = 'revoked';
    count(`revoke by ${this.byHelper ? 'helper' : 'principal'}`);
    await checkInvariants(m);
  }
  toString = () => `Revoke(${this.pick}, ${this.byHelper ? 'helper' : 'principal'})`;
}

class SignInAsHelper implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly agency: AgencyId) {}
  check = (m: Readonly<Model>) => m.delegations.some((d) => usable(d as ModelDelegation, this.agency));
  async run(m: Model) {
    const offered = m.delegations.filter((d) => usable(d, this.agency));
    const d = offered[this.pick % offered.length]!;
    // The chooser offers exactly the delegations that may act at this agency.
    const agency = agencies[this.agency];
    const { auth, url, page } = await helperSignsIn(server, { helper, agency, params: { scope: 'openid email offline_access', prompt: 'login consent' } });
    for (const x of m.delegations) expect([x.id, page.html.includes(`value="${x.id}"`)]).toEqual([x.id, offered.includes(x)]);
    const chosen = await helper.agent.request(`${server.url}/interaction/${interactionUid(url)}/actor`, { method: 'POST', form: { actor: d.id } });
    expect(chosen.status).toBe(303);
    const tokens = await agency.redeem(await finishAtAgency(helper.agent, server, new URL(chosen.headers.get('location')!, server.url).toString()), auth);
    const claims = tokens.claims()!;
    const act = claims['act'] as { sub: string; act?: unknown };
    expect(act.act).toBeUndefined();
    expect(act.sub).not.toBe(claims.sub);
    expect(claims['delegation']).toMatchObject({ id: d.id });
    // Only what the delegation covers: the agency asked for more.
    for (const granted of (tokens.scope ?? '').split(' ').filter((x) => x !== 'openid')) expect(d.scopes).toContain(granted);
    expect(tokens.refresh_token !== undefined).toBe(d.scopes.includes('offline_access'));
    // The helper receives the principal's session, never their credentials or their own account.
    expect(claims.sub).not.toBe(helper.sub);
    d.uses += 1;
    // An access token issued without offline_access belongs to the browser's session at that
    // agency (oidc-provider): signing in there again ends it (docs/agencies.md).
    for (const earlier of m.tokens) if (earlier.agency === this.agency && earlier.refresh === undefined && !earlier.refreshed && !earlier.exchanged) earlier.sessionEnded = true;
    m.tokens.push({ delegationId: d.id, agency: this.agency, access: tokens.access_token, accessExpMs: Date.now() + (tokens.expires_in ?? 0) * 1000 - 2000, refresh: tokens.refresh_token, helperSub: act.sub });
    count('sign in as helper');
    await checkInvariants(m);
  }
  toString = () => `SignInAsHelper(${this.pick}, ${this.agency})`;
}

class Refresh implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.tokens.some((t) => t.refresh);
  async run(m: Model) {
    const withRefresh = m.tokens.filter((t) => t.refresh);
    const t = withRefresh[this.pick % withRefresh.length]!;
    const d = m.delegations.find((x) => x.id === t.delegationId);
    const result = await oidc.refreshTokenGrant(agencies[t.agency].config, t.refresh!).then((r) => r, (err: { error?: string }) => err);
    if (usable(d, t.agency)) {
      const r = result as oidc.TokenEndpointResponse;
      expect(r.access_token).toBeDefined();
      Object.assign(t, { refreshed: true, access: r.access_token, refresh: r.refresh_token, accessExpMs: Date.now() + (r.expires_in ?? 0) * 1000 - 2000 });
      count('refresh (works)');
    } else {
      expect((result as { error?: string }).error).toBe('invalid_grant');
      t.refresh = undefined;
      count('refresh (refused)');
    }
    await checkInvariants(m);
  }
  toString = () => `Refresh(${this.pick})`;
}

class Exchange implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.tokens.some((t) => !t.exchanged);
  async run(m: Model) {
    const subjects = m.tokens.filter((t) => !t.exchanged);
    const t = subjects[this.pick % subjects.length]!;
    const d = m.delegations.find((x) => x.id === t.delegationId);
    const live = usable(d, t.agency) && Date.now() < t.accessExpMs && !t.sessionEnded;
    const result = await oidc.genericGrantRequest(agencies[t.agency].config, EXCHANGE, { subject_token: t.access, subject_token_type: AT_TYPE, audience: 'model-api', scope: 'openid' })
      .then((r) => r, (err: { error?: string }) => err);
    if (live) {
      const r = result as oidc.TokenEndpointResponse;
      expect(r.access_token).toBeDefined();
      m.tokens.push({ ...t, access: r.access_token, accessExpMs: Date.now() + (r.expires_in ?? 0) * 1000 - 2000, refresh: undefined, exchanged: true });
      count('exchange (works)');
    } else {
      expect((result as { error?: string }).error).toBe('invalid_grant');
      count('exchange (refused)');
    }
    await checkInvariants(m);
  }
  toString = () => `Exchange(${this.pick})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly hours: number) {}
  check = () => true;
  async run(m: Model) {
    clock.advance(this.hours * 3600 * 1000);
    await syncPending(m);
    count('advance clock');
    await checkInvariants(m);
  }
  toString = () => `Advance(${this.hours}h)`;
}

class Maintain implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model) {
    await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    for (const d of m.delegations) if (d.status === 'active' && clock.nowMs() >= d.endsAtMs) d.status = 'expired';
    await syncPending(m);
    count('expiry job');
    await checkInvariants(m);
  }
  toString = () => 'Maintain';
}

/** Invitations and requests end on their own schedule (mail links expire); the model reads it. */
async function syncPending(m: Model): Promise<void> {
  for (const d of m.delegations.filter((x) => x.status === 'invited' || x.status === 'requested')) {
    const row = await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id });
    const invitationLapsed = row.status === 'invited' && row.inviteExpiresAt !== null && row.inviteExpiresAt.getTime() <= clock.nowMs();
    if (row.status !== d.status || invitationLapsed) d.status = invitationLapsed ? 'lapsed' : row.status;
  }
}

const commands = [
  fc.tuple(clientsArb, scopesArb, daysArb).map(([c, s, d]) => new Invite(c, s, d)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, a]) => new AnswerInvite(p, a)),
  fc.tuple(clientsArb, scopesArb, daysArb).map(([c, s, d]) => new Ask(c, s, d)),
  fc.tuple(fc.nat(), fc.boolean(), fc.option(fc.constantFrom(...AGENCIES), { nil: undefined }), fc.boolean()).map(([p, a, n, s]) => new AnswerRequest(p, a, n, s)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, h]) => new Revoke(p, h)),
  // Uses weigh more: they are what the invariants are about.
  ...Array.from({ length: 4 }, () => fc.tuple(fc.nat(), fc.constantFrom(...AGENCIES)).map(([p, a]) => new SignInAsHelper(p, a))),
  ...Array.from({ length: 3 }, () => fc.nat().map((p) => new Refresh(p))),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, a]) => new AnswerInvite(p, a || p % 3 !== 0)),
  ...Array.from({ length: 2 }, () => fc.nat().map((p) => new Exchange(p))),
  fc.constantFrom(1, 6, 24, 24 * 7, 24 * 20).map((h) => new Advance(h)),
  fc.constant(new Maintain()),
];

test('when any sequence of delegation events happens, then tokens live exactly as long as their delegation allows, the chooser offers exactly the live delegations, and every use is in the principal\'s activity', async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS, ...(SHRINK ? {} : { size: 'max' as const }) }), async (cmds) => {
      // Each run starts clean: the clock back, every open delegation between the two ended.
      clock.reset();
      for (const d of await server.ds.getRepository(Delegation).findBy({ principalId: principal.account.id })) {
        if (['invited', 'requested', 'active'].includes(d.status)) await endDelegation({ provider: provider(), ds: server.ds, deps, actorId: null, delegationId: d.id });
      }
      await server.ds.getRepository(Delegation).update({ helperId: helper.account.id, status: 'requested' }, { status: 'declined' });
      await fc.asyncModelRun(() => ({ model: { delegations: [], tokens: [] }, real: { server, deps, principal, helper, agencies } }), cmds);
    }),
    { numRuns: RUNS, endOnFailure: !SHRINK, ...(SEED !== undefined ? { seed: SEED } : {}) },
  );
  if (process.env['MODEL_STATS'] === '1') console.log([...stats].map(([k, v]) => `${k}: ${v}`).join('\n'));
}, 600_000);
