import * as oidc from 'openid-client';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { finishAtAgency } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { chooseAndRedeem, delegateTo, newPerson } from '../support/delegationFlow.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { Delegation, RepresentedPerson } from '../../entities/index.js';
import { approveRepresentation } from '../../src/delegation/approveRepresentation.js';
import { listDelegations } from '../../src/delegation/manageDelegations.js';
import { recordRepresentation } from '../../src/delegation/recordRepresentation.js';
import { revokeDelegation } from '../../src/delegation/revokeDelegation.js';
import { delegationDepsFor } from '../support/delegationFlow.js';

let server: TestServer;
let benefits: TestAgency;
let library: TestAgency;
let health: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  const extra = { delegation_enabled: true, delegation_bases_accepted: ['consent', 'guardianship', 'power_of_attorney'], max_ial: 2 };
  benefits = await registerAgency(server, { clientId: 'benefits', extra });
  library = await registerAgency(server, { clientId: 'library', extra });
  health = await registerAgency(server, { clientId: 'health', extra });
});
afterAll(async () => { await server.close(); });

const river = SANDBOX_PEOPLE[2]!;

test('when a represented person later verifies with the same name and birth date, then the profile joins their account and no agency sees a subject change', async () => {
  const rep = await newPerson(server, library);
  await verifyIdentity({ server, agent: rep.agent, authenticator: rep.authenticator });
  const record = (kind: string) => ({
    kind, representative: { account: rep.email, given_name: 'Jane', family_name: 'Sample', birthdate: '1985-04-12' },
    represented: { given_name: 'River', family_name: 'Tester', birthdate: river.dateOfBirth }, agencies: ['*'], scopes: ['email', 'profile'],
    evidence: { case_number: 'PR-9', court: 'County Court', document_type: 'letters' },
  });
  const recorded = [];
  for (const kind of ['guardianship', 'power_of_attorney']) {
    const r = await recordRepresentation({ db: server.ds.manager, kek: server.keys.kek, pepper: server.keys.secrets.pepper }, { input: record(kind), source: 'operator', recordedBy: 'alice', status: 'pending', agencies: ['benefits'] });
    if (!r.ok) throw new Error(r.error);
    await approveRepresentation({ db: server.ds.manager, delegationId: r.delegation.id, by: 'bob' });
    recorded.push(r.delegation);
  }
  const [guardianship, poa] = recorded as [Delegation, Delegation];
  expect(poa.representedPersonId).toBe(guardianship.representedPersonId);
  // The guardian acts at benefits: benefits knows River only by the represented profile's subject.
  const before = (await chooseAndRedeem(server, { helper: rep, agency: benefits, choice: guardianship.id })).tokens.claims()!.sub;

  // River makes an account through health (health knows the account) and verifies.
  const person = await newPerson(server, health);
  await verifyIdentity({ server, agent: person.agent, authenticator: person.authenticator, person: river });
  const joined = await server.ds.getRepository(RepresentedPerson).findOneByOrFail({ id: guardianship.representedPersonId! });
  expect(joined.accountId).toBe(person.account.id);
  expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: guardianship.id })).principalId).toBe(person.account.id);

  // benefits: the representative's tokens and River's own sign-in carry the subject benefits already knew.
  expect((await chooseAndRedeem(server, { helper: rep, agency: benefits, choice: guardianship.id })).tokens.claims()!.sub).toBe(before);
  const own = await benefits.authorize();
  const tokens = await benefits.redeem(await finishAtAgency(person.agent, server, own.url), own);
  expect(tokens.claims()!.sub).toBe(before);
  const info = await oidc.fetchUserInfo(benefits.config, tokens.access_token, before);
  expect(info.sub).toBe(before);
  // health knew the account: its subject stays the account's own.
  const again = await health.authorize();
  expect((await health.redeem(await finishAtAgency(person.agent, server, again.url), again)).claims()!.sub).toBe(person.sub);

  // On /helpers River sees both authorities: the court's guardianship without an end button, the power of attorney with one.
  const riverPage = await person.agent.page(`${server.url}/helpers`);
  expect(riverPage.html).toContain('Legal authority: guardian, recorded by OneDoor support');
  expect(riverPage.html).toContain('Only the court or agency that recorded this authority can end it.');
  expect(riverPage.html).not.toContain(`action="/helpers/${guardianship.id}/revoke"`);
  expect(riverPage.html).toContain(`action="/helpers/${poa.id}/revoke"`);
  expect(riverPage.html).toContain('End this authority');
  // The representative sees whom they represent now, and can step down.
  const repPage = await rep.agent.page(`${server.url}/helpers`);
  expect(repPage.html).toContain(person.email);
  expect(repPage.html).toContain('Step down');
  expect(repPage.html).toContain(`action="/helpers/${guardianship.id}/revoke"`);

  // River can end the power of attorney, not the court's guardianship.
  const deps = delegationDepsFor(server);
  const { given } = await listDelegations({ db: server.ds.manager, accountId: person.account.id });
  expect(given.map((v) => v.delegation.id).sort()).toEqual([guardianship.id, poa.id].sort());
  expect(await revokeDelegation(deps, { actorId: person.account.id, delegationId: guardianship.id })).toEqual({ ok: false, reason: 'not_found' });
  expect(await revokeDelegation(deps, { actorId: person.account.id, delegationId: poa.id })).toMatchObject({ ok: true });

  // River now helps a friend at benefits: `act.sub` names River by the subject benefits knows, in the ID token and at introspection.
  const friend = await newPerson(server, benefits);
  const helping = await delegateTo(deps, server, { principal: friend, helper: person, clientIds: ['benefits'] });
  const helped = await chooseAndRedeem(server, { helper: person, agency: benefits, choice: helping.id });
  expect(helped.tokens.claims()!['act']).toEqual({ sub: before });
  expect(helped.tokens.claims()!.sub).toBe(friend.sub);
  const introspected = await oidc.tokenIntrospection(benefits.config, helped.tokens.access_token);
  expect(introspected).toMatchObject({ active: true, sub: friend.sub, act: { sub: before } });
});

test('when someone verifies with a name and birth date no represented profile has, then nothing joins', async () => {
  const person = await newPerson(server, health);
  await verifyIdentity({ server, agent: person.agent, authenticator: person.authenticator, person: SANDBOX_PEOPLE[1]! });
  expect(await server.ds.getRepository(RepresentedPerson).findBy({ accountId: person.account.id })).toEqual([]);
});
