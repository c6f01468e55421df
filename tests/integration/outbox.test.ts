import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Account } from '../../entities/index.js';
import { clock } from '../../src/shared/clock.js';
import { outboxStamp, purgeOutbox } from '../../src/shared/outbox.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { signUp } from '../support/flows.js';
import { proofUpToPossession, verifyIdentity } from '../support/proofingFlow.js';
import { runCli } from '../support/runCli.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { spawnServer } from '../support/spawnServer.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * The outbox holds people's addresses, phone numbers, names and codes in clear: it keeps them
 * OUTBOX_RETENTION_HOURS (by the time in each file's name), and deleting an account deletes
 * that person's mail, SMS and letters from it, nobody else's.
 */
jest.setTimeout(180_000);

let server: TestServer;
let agency: TestAgency;
beforeAll(async () => {
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'outbox-agency', extra: { max_ial: 2 } });
});
afterAll(async () => { await server.close(); });
afterEach(() => clock.reset());

const files = () => fs.readdirSync(server.outboxDir).sort();
const read = (name: string) => fs.readFileSync(path.join(server.outboxDir, name), 'utf8');
/** The names of the messages whose text matches. */
const filesWith = (pattern: RegExp) => files().filter((f) => !f.startsWith('.') && pattern.test(read(f)));
/** A message name as the outbox writes them, for a time `hoursAgo` before now. */
const stampedName = (hoursAgo: number, rest: string) => `${outboxStamp(Date.now() - hoursAgo * 3600_000)}-${rest}`;

async function person(email = `o-${randomUUID().slice(0, 8)}@example.com`) {
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const { agent } = await signUp({ server, authenticator, authUrl: (await agency.authorize()).url, email });
  const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
  return { email, authenticator, agent, account };
}

/** Proofing left at the possession step after a code to each phone and a letter. */
async function proofingWithCodes(p: Awaited<ReturnType<typeof person>>, who: (typeof SANDBOX_PEOPLE)[number], phones: string[]) {
  await proofUpToPossession({ server, agent: p.agent, person: who, ssn: '123-45-6789' });
  for (const phone of phones) {
    await p.agent.page(`${server.url}/verify/possession`);
    expect((await p.agent.request(`${server.url}/verify/phone`, { method: 'POST', form: { phone } })).status).toBe(303);
  }
  await p.agent.page(`${server.url}/verify/possession`);
  expect((await p.agent.request(`${server.url}/verify/letter`, { method: 'POST', form: {} })).status).toBe(303);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test("when an operator deletes an account, then that person's mail, SMS (every number they gave) and letters leave the outbox, and nobody else's", async () => {
  // In proofing: a code to two phones, then a letter (MARCUS). Verified: a phone (JANE). A bystander: RIVER.
  const victim = await person();
  await proofingWithCodes(victim, SANDBOX_PEOPLE[1]!, ['(202) 555-0143', '(202) 555-0144']);
  const verified = await person();
  await verifyIdentity({ server, agent: verified.agent, authenticator: verified.authenticator, phone: '(202) 555-0150' });
  const bystander = await person();
  await proofingWithCodes(bystander, SANDBOX_PEOPLE[2]!, ['(202) 555-0160']);

  const victims = {
    mail: filesWith(new RegExp(`^To: ${escape(victim.email)}$`, 'm')),
    sms: filesWith(/^To: \+1202555014[34]\n/),
    letters: filesWith(/^To: MARCUS EXAMPLE\n4500 HARBOR VIEW DR\nAPT 12\nBALTIMORE, MD 21202-1234\n\n/),
  };
  expect([victims.mail.length > 0, victims.sms.length, victims.letters.length]).toEqual([true, 2, 1]);
  const others = files().filter((f) => !Object.values(victims).flat().includes(f));
  const verifiedFiles = [...filesWith(new RegExp(`^To: ${escape(verified.email)}$`, 'm')), ...filesWith(/^To: \+12025550150\n/)];
  expect(filesWith(/^To: \+12025550160\n/)).toHaveLength(1);
  expect(filesWith(/^To: RIVER TESTER\n/)).toHaveLength(1);

  const deleted = await runCli(server, ['accounts', 'delete', victim.email, '--yes']);
  expect(deleted).toMatchObject({ code: 0, stderr: '' });
  const count = Object.values(victims).flat().length;
  expect(deleted.stdout).toMatch(new RegExp(`; ${count} outbox message\\(s\\) deleted\\n$`));
  expect(files()).toEqual(others);

  // The verified person: their profile held the phone; their proofing draft is long gone.
  const second = await runCli(server, ['accounts', 'delete', verified.account.id, '--yes']);
  expect(second.stdout).toMatch(new RegExp(`; ${verifiedFiles.length} outbox message\\(s\\) deleted\\n$`));
  expect(files()).toEqual(others.filter((f) => !verifiedFiles.includes(f)));
  // The bystander's messages are all still there.
  expect(filesWith(/^To: \+12025550160\n/)).toHaveLength(1);
  expect(filesWith(/^To: RIVER TESTER\n/)).toHaveLength(1);
  expect(filesWith(new RegExp(`^To: ${escape(bystander.email)}$`, 'm')).length).toBeGreaterThan(0);
});

test('when messages are older than OUTBOX_RETENTION_HOURS, then the purge deletes them (leftover temporary files too) and leaves younger ones and files that are not messages', async () => {
  const deps = server.app.deps;
  const before = new Set(files());
  await deps.mailer.send({ to: 'retention@example.com', subject: 'Code', text: 'Your code is 123456' });
  await deps.vendors.sms.send({ phone: '+12025550170', text: 'Code 654321' });
  await deps.vendors.letters.send({ name: 'RIVER TESTER', address: SANDBOX_PEOPLE[2]!.address, text: 'Code 11112222' });
  const leftover = `.${stampedName(0, `${process.pid}-sms.tmp`)}`;
  fs.writeFileSync(path.join(server.outboxDir, leftover), 'To: +12025550171\n\nCode 1\n');
  fs.writeFileSync(path.join(server.outboxDir, 'README.txt'), 'the operator\'s own notes');
  const fresh = files().filter((f) => !before.has(f));
  expect(fresh).toHaveLength(5);
  expect(server.config.outboxRetentionHours).toBe(24);

  clock.advance(23 * 3600_000);
  expect(await purgeOutbox({ outboxDir: server.outboxDir, retentionHours: server.config.outboxRetentionHours })).toBe(0);
  expect(files()).toEqual([...before, ...fresh].sort());

  clock.advance(2 * 3600_000);
  const purged = await purgeOutbox({ outboxDir: server.outboxDir, retentionHours: 24 });
  expect(files()).toEqual(['README.txt']);
  expect(purged).toBe(before.size + 4);
  // A folder that does not exist yet (no message sent) is not an error.
  expect(await purgeOutbox({ outboxDir: path.join(server.outboxDir, 'none'), retentionHours: 24 })).toBe(0);
});

test('when OneDoor starts with old messages in the outbox, then it purges them at start and keeps the younger ones', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-outbox-'));
  const old = stampedName(3, '000001-sms.txt');
  const young = stampedName(0.5, '000002-sms.txt');
  for (const name of [old, young]) fs.writeFileSync(path.join(dir, name), 'To: +12025550180\n\nCode 1\n');
  const node = await spawnServer({ env: { OUTBOX_DIR: dir, OUTBOX_RETENTION_HOURS: '2' } });
  try {
    // The purge at start runs beside listening: wait (bounded by the test's timeout) for it.
    while (fs.existsSync(path.join(dir, old))) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fs.readdirSync(dir)).toEqual([young]);
  } finally {
    await node.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
