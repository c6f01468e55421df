import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import * as oidc from 'openid-client';
import { Delegation, Representation } from '../../entities/index.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { chooseAndRedeem, newPerson } from '../support/delegationFlow.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { runCli } from '../support/runCli.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Each step runs the real command (a process and a TypeScript load each).
jest.setTimeout(180_000);

let server: TestServer;
let agency: TestAgency;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-representations-'));

beforeAll(async () => {
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'benefits', extra: { delegation_enabled: true, delegation_bases_accepted: ['guardianship'], max_ial: 2 } });
});
afterAll(async () => { await server.close(); fs.rmSync(tmp, { recursive: true, force: true }); });

function file(name: string, content: unknown): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const record = (email: string, over: Record<string, unknown> = {}) => ({
  kind: 'guardianship',
  representative: { account: email, given_name: 'JANE', family_name: 'SAMPLE', birthdate: '1985-04-12' },
  represented: { given_name: 'Ada', family_name: 'Ward', birthdate: '1940-02-01' },
  agencies: ['benefits'], scopes: ['email', 'profile'],
  evidence: { case_number: 'PR-2026-0117', court: 'County Probate Court', document_type: 'letters of guardianship' },
  recorded_by: 'alice',
  ...over,
});

describe('onedoor representations', () => {
  test('when one operator adds and another approves, then the representative can act; list hides names, show has them, end stops the tokens', async () => {
    const rep = await newPerson(server, agency);
    await verifyIdentity({ server, agent: rep.agent, authenticator: rep.authenticator });
    const added = await runCli(server, ['representations', 'add', file('g.json', record(rep.email))]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = /recorded guardianship ([0-9a-f-]{36}), pending/.exec(added.stdout)![1]!;
    // Four eyes: the operator who recorded it cannot approve it; --by is required.
    const same = await runCli(server, ['representations', 'approve', id, '--by', 'Alice']);
    expect(same).toMatchObject({ code: 1, stderr: 'onedoor: --by: the operator who recorded it cannot approve it (four eyes)\n' });
    expect((await runCli(server, ['representations', 'approve', id])).code).toBe(1);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id })).status).toBe('pending');
    const approved = await runCli(server, ['representations', 'approve', id, '--by', 'bob']);
    expect(approved).toMatchObject({ code: 0, stdout: `approved guardianship ${id}; it is in effect\n` });
    expect((await server.ds.getRepository(Representation).findOneByOrFail({ delegationId: id })).approvedBy).toBe('bob');

    const list = await runCli(server, ['representations', 'list']);
    expect(list.stdout).toContain(id);
    expect(list.stdout).not.toContain('Ward');
    const show = await runCli(server, ['representations', 'show', id]);
    expect(show.stdout).toContain('Ada Ward, born 1940-02-01');
    expect(show.stdout).toContain('letters of guardianship, County Probate Court, PR-2026-0117');

    const { tokens } = await chooseAndRedeem(server, { helper: rep, agency, choice: id });
    expect(tokens.claims()!['delegation']).toMatchObject({ basis: 'guardianship', source: 'operator' });
    expect((await runCli(server, ['representations', 'end', id])).code).toBe(1);
    const ended = await runCli(server, ['representations', 'end', id, '--reason', 'court order revoked']);
    expect(ended).toMatchObject({ code: 0 });
    expect((await oidc.tokenIntrospection(agency.config, tokens.access_token)).active).toBe(false);
    expect((await server.ds.getRepository(Representation).findOneByOrFail({ delegationId: id })).endReason).toBe('ended_by_source');
    expect((await runCli(server, ['representations', 'end', id, '--reason', 'again'])).stderr).toBe('onedoor: ID: already ended\n');
  });

  test('when the file is wrong, then one line names the field and nothing is recorded', async () => {
    const rep = await newPerson(server, agency);
    const before = await server.ds.getRepository(Representation).count();
    const cases: Array<[unknown, string]> = [
      [record(rep.email, { kind: 'uncle' }), 'kind: must be one of guardianship, power_of_attorney, representative_payee, parent'],
      [record(rep.email, { evidence: { document_type: 'letters' } }), 'evidence.case_number: is required for guardianship'],
      [record(rep.email, { representative: { account: 'nobody@example.com', given_name: 'A', family_name: 'B', birthdate: '1980-01-01' } }), 'representative.account: no such account'],
      [record(rep.email, { agencies: ['unknown-agency'] }), 'agencies[0]: not an agency that accepts guardianship'],
      [record(rep.email, { recorded_by: undefined }), 'recorded_by: is required (the operator recording it)'],
      [record(rep.email, { extra: 1 }), 'extra: unknown field'],
      ['{not json', 'not valid JSON'],
    ];
    for (const [content, message] of cases) {
      const out = await runCli(server, ['representations', 'add', file('bad.json', content)]);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(message);
      expect(out.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(out.stderr).not.toContain('Ward');
    }
    expect(await server.ds.getRepository(Representation).count()).toBe(before);
    expect((await runCli(server, ['representations', 'show', '00000000-0000-0000-0000-000000000000'])).stderr).toBe('onedoor: ID: no legal authority with that id\n');
  });
});
