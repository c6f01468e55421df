import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Account, ProofingImage, ProofingSession, VerifiedProfile } from '../../entities/index.js';
import { keepDocumentFront, readDocumentFront } from '../../src/proofing/documentFront.js';
import { draftAad } from '../../src/proofing/proofingSessions.js';
import { rewrapSealedRecords } from '../../src/proofing/rewrapSealedRecords.js';
import { KEK_FILE, loadOrCreateKek, rotateKek as rotateKekFile, openRecord, parseSealed, sealRecord, serializeSealed, type SealedRecord } from '../../src/proofing/vault.js';
import { deactivateForRecovery, profileAad, reactivateWithPersonalKey, readVerifiedIdentity } from '../../src/proofing/verifiedProfiles.js';
import { registerAgency } from '../support/agency.js';
import { signUp } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { runCli } from '../support/runCli.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * `onedoor keys rotate-kek` run as an operator would, beside a running server on the same
 * database and KEYS_DIR: records sealed under the old key-encryption key end up under the new
 * one, a run stopped halfway (`--limit`) is finished by `--resume`, and the server, still
 * holding the KEK it read at start, keeps opening everything.
 */
jest.setTimeout(180_000);

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

const kekKids = () => (JSON.parse(fs.readFileSync(path.join(server.config.keysDir, KEK_FILE), 'utf8')) as Array<{ kid: string }>).map((e) => e.kid);
const pii = (n: number) => ({ givenName: `PERSON${n}`, familyName: 'SAMPLE', ssn: `12345${String(n).padStart(4, '0')}` });

/** Every sealed record in the database, by `table:key`. */
async function sealedRecords(): Promise<Map<string, { sealed: SealedRecord; aad: string }>> {
  const out = new Map<string, { sealed: SealedRecord; aad: string }>();
  for (const p of await server.ds.getRepository(VerifiedProfile).find()) out.set(`profile:${p.accountId}`, { sealed: parseSealed(p.sealed), aad: profileAad(p.accountId) });
  for (const s of await server.ds.getRepository(ProofingSession).find()) if (s.draft) out.set(`draft:${s.id}`, { sealed: parseSealed(s.draft), aad: draftAad(s.accountId) });
  return out;
}

/** Verified profiles and proofing drafts sealed with the server's KEK, as the app writes them. */
async function sealSome(n: number): Promise<void> {
  const now = new Date();
  for (let i = 0; i < n; i += 1) {
    const accountId = randomUUID();
    const identity = sealRecord({ kek: server.keys.kek, plaintext: pii(i), aad: profileAad(accountId) });
    await server.ds.getRepository(VerifiedProfile).insert({ accountId, status: 'active', ial: 2, verifiedAt: now, facialMatch: false, createdAt: now, sealed: serializeSealed(identity), personalKeyWrapped: 'pk1.unused' });
    const other = randomUUID();
    const draft = sealRecord({ kek: server.keys.kek, plaintext: { ssn: pii(i).ssn }, aad: draftAad(other) });
    await server.ds.getRepository(ProofingSession).insert({
      id: randomUUID(), accountId: other, status: 'in_progress', facialMatchRequired: false, stepsDone: '[]', draft: serializeSealed(draft),
      codeChannel: null, codeHash: null, codeExpiresAt: null, codeAttempts: 0, createdAt: now, updatedAt: now,
    });
  }
}

test('when an operator rotates the KEK, stops halfway and resumes, then every record is re-wrapped under the new kid (ciphertext untouched), the server still opens them and the personal key still re-activates', async () => {
  // A person verified over HTTP (sealed profile + personal key), and more records beside.
  const agency = await registerAgency(server, { clientId: 'kek-agency', extra: { max_ial: 2 } });
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const email = `kek-${randomUUID().slice(0, 8)}@example.com`;
  const { agent } = await signUp({ server, authenticator, authUrl: (await agency.authorize()).url, email });
  const { personalKey } = await verifyIdentity({ server, agent, authenticator });
  const person = await server.ds.getRepository(Account).findOneByOrFail({ email });
  await sealSome(3);
  const before = await sealedRecords();
  expect(before.size).toBe(7);
  const [oldKid] = kekKids();
  expect([...before.values()].every((r) => r.sealed.kid === oldKid)).toBe(true);

  // Stopped after 3 records (as a crash halfway would leave it).
  const partial = await runCli(server, ['keys', 'rotate-kek', '--limit', '3']);
  expect(partial).toMatchObject({ code: 0, stderr: '' });
  const [newKid, ...rest] = kekKids();
  expect(rest).toEqual([oldKid]);
  expect(partial.stdout).toContain(`key-encryption key ${newKid} is now first in ${KEK_FILE}`);
  expect(partial.stdout).toContain(`4 record(s) still under old kids (${oldKid}: 4): run \`onedoor keys rotate-kek --resume\``);
  const halfway = await sealedRecords();
  expect([...halfway.values()].filter((r) => r.sealed.kid === newKid)).toHaveLength(3);

  // A plain rotation now would add yet another KEK over an unfinished one: refused.
  const again = await runCli(server, ['keys', 'rotate-kek']);
  expect(again).toEqual({ code: 1, stdout: '', stderr: `onedoor: 4 sealed record(s) are still under an older key-encryption key than ${newKid} (an unfinished rotation): run \`onedoor keys rotate-kek --resume\` first\n` });
  expect(kekKids()).toEqual([newKid, oldKid]);

  const resumed = await runCli(server, ['keys', 'rotate-kek', '--resume']);
  expect(resumed).toMatchObject({ code: 0, stderr: '' });
  expect(resumed.stdout).toBe([
    `resuming: re-wrapping under ${newKid}, the first entry of ${KEK_FILE}`,
    // Profiles come first (SEALED_COLUMNS): the 3 of the first run were profiles.
    `verified_profiles.sealed: 1 re-wrapped, 3 already under ${newKid}, 0 still under older kids, 0 unreadable`,
    `proofing_sessions.draft: 3 re-wrapped, 0 already under ${newKid}, 0 still under older kids, 0 unreadable`,
    `representations.sealed: 0 re-wrapped, 0 already under ${newKid}, 0 still under older kids, 0 unreadable`,
    `represented_people.sealed: 0 re-wrapped, 0 already under ${newKid}, 0 still under older kids, 0 unreadable`,
    `proofing_images.data: 0 re-wrapped, 0 already under ${newKid}, 0 still under older kids, 0 unreadable`,
    `every readable sealed record is under ${newKid}`,
    `older entries no record uses: ${oldKid} (delete them from ${KEK_FILE} by hand once no backup you may restore needs them)`,
    '',
  ].join('\n'));
  expect(kekKids()).toEqual([newKid, oldKid]);

  const after = await sealedRecords();
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  const fresh = await loadOrCreateKek({ keysDir: server.config.keysDir });
  const onlyNew = { entries: fresh.entries.filter((e) => e.kid === newKid) };
  for (const [key, { sealed, aad }] of after) {
    const old = before.get(key)!.sealed;
    // Only the wrapped data key changed: same iv, ciphertext and tag.
    expect([key, sealed.kid, sealed.iv, sealed.ciphertext, sealed.tag]).toEqual([key, newKid, old.iv, old.ciphertext, old.tag]);
    expect(sealed.wrappedKey).not.toBe(old.wrappedKey);
    // Opens with the new entry alone: the old one is no longer needed.
    expect(openRecord({ kek: onlyNew, sealed, aad })).toEqual(openRecord({ kek: fresh, sealed: old, aad }));
  }

  // The running server read its KEK before the rotation: it picks up the new kid and still
  // opens the person's identity, and seals new records under the new entry.
  expect((await readVerifiedIdentity({ db: server.ds.manager, kek: server.keys.kek, accountId: person.id }))!.identity.givenName).toBe('JANE');
  expect(sealRecord({ kek: server.keys.kek, plaintext: {}, aad: 'x' }).kid).toBe(newKid);
  // The personal key given at verification still re-activates the profile (its wrap of the data key is unchanged).
  await deactivateForRecovery({ db: server.ds.manager, accountId: person.id });
  const reactivated = await server.ds.transaction((db) => reactivateWithPersonalKey({ db, kek: server.keys.kek, accountId: person.id, personalKey }));
  expect(reactivated).toEqual({ ok: true, personalKey: expect.any(String) });

  // Nothing left to do: a resume changes nothing.
  const idle = await runCli(server, ['keys', 'rotate-kek', '--resume']);
  expect(idle.stdout).toContain('verified_profiles.sealed: 0 re-wrapped, 4 already under');
});

test('when two re-wrap runs go at once, then each record is written once (only if unchanged since read) and every record still opens', async () => {
  await sealSome(4);
  await runCli(server, ['keys', 'rotate-kek', '--resume']);
  const kid = await runCli(server, ['keys', 'rotate-kek', '--limit', '1']);
  expect(kid.code).toBe(0);
  const kek = await loadOrCreateKek({ keysDir: server.config.keysDir });
  const reports = await Promise.all([0, 1].map(() => rewrapSealedRecords({ db: server.ds.manager, kek, batchSize: 3 })));
  const total = (await sealedRecords()).size;
  const rewrapped = reports.flatMap((r) => r.columns).reduce((n, c) => n + c.rewrapped, 0);
  // One record was done by the CLI; of the rest, each by exactly one of the two runs.
  expect(rewrapped).toBe(total - 1);
  for (const r of reports) expect(r.byKid).toEqual({ [kek.entries[0]!.kid]: total });
  for (const { sealed, aad } of (await sealedRecords()).values()) {
    expect(sealed.kid).toBe(kek.entries[0]!.kid);
    expect(() => openRecord({ kek, sealed, aad })).not.toThrow();
  }
});

test("when a record's wrap was tampered with or its kid is in no KEK entry, then it is reported unreadable, left as it is, and the others are re-wrapped", async () => {
  await runCli(server, ['keys', 'rotate-kek', '--resume']);
  const now = new Date();
  const kek = await loadOrCreateKek({ keysDir: server.config.keysDir });
  const good = sealRecord({ kek, plaintext: pii(1), aad: profileAad('a') });
  // The wrap of another row copied in (its aad differs), and a kid nobody has.
  const copied = serializeSealed(sealRecord({ kek, plaintext: pii(2), aad: profileAad('someone-else') }));
  const unknown = serializeSealed({ ...good, kid: 'no-such-kid' });
  const ids = [randomUUID(), randomUUID()];
  await server.ds.getRepository(VerifiedProfile).insert([copied, unknown].map((sealed, i) => ({ accountId: ids[i]!, status: 'active' as const, ial: 2, verifiedAt: now, facialMatch: false, createdAt: now, sealed, personalKeyWrapped: 'pk1.unused' })));
  const run = await runCli(server, ['keys', 'rotate-kek']);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/verified_profiles\.sealed: \d+ re-wrapped, 0 already under \S+, 0 still under older kids, 2 unreadable/);
  expect(run.stdout).toContain(`2 record(s) could not be re-wrapped: their kid is in no entry of ${KEK_FILE}, or they do not authenticate`);
  const rows = await server.ds.getRepository(VerifiedProfile).findBy(ids.map((accountId) => ({ accountId })));
  expect(rows.map((r) => r.sealed).sort()).toEqual([copied, unknown].sort());
});

test('when rotate-kek is given a bad --limit, a flag of another command, or no KEK file, then it refuses and changes nothing', async () => {
  const kids = kekKids();
  for (const args of [['--limit', '0'], ['--limit', 'abc'], ['--limit'], ['--yes'], ['extra']]) {
    const run = await runCli(server, ['keys', 'rotate-kek', ...args]);
    expect([args, run.code, run.stdout]).toEqual([args, 2, '']);
  }
  expect((await runCli(server, ['keys', 'rotate', '--resume'])).stderr).toBe('onedoor: --resume does not apply to "keys rotate" (see onedoor --help)\n');
  expect(kekKids()).toEqual(kids);
  const empty = { ...server, config: { ...server.config, keysDir: path.join(server.config.keysDir, 'nowhere') } } as TestServer;
  expect(await runCli(empty, ['keys', 'rotate-kek'])).toEqual({ code: 1, stdout: '', stderr: `onedoor: KEYS_DIR: no ${KEK_FILE} in ${empty.config.keysDir}; point KEYS_DIR at the server's keys\n` });
  expect(fs.existsSync(empty.config.keysDir)).toBe(false);
});

test('when a document photo is kept for a facial match under the old KEK, then a rotation re-wraps all its parts and it opens with the new entry alone', async () => {
  const keysDir = fs.mkdtempSync(path.join(server.config.keysDir, '..', 'kek-photo-'));
  const oldKek = await loadOrCreateKek({ keysDir });
  const session = { accountId: randomUUID(), id: randomUUID() } as ProofingSession;
  // Over 1 MiB: stored in several parts.
  const photo = Buffer.concat([Buffer.from('PNGPHOTO'), Buffer.alloc(2.5 * 1024 * 1024, 7)]);
  await keepDocumentFront({ db: server.ds.manager, kek: oldKek }, { session, image: photo });
  expect(await server.ds.getRepository(ProofingImage).countBy({ accountId: session.accountId })).toBe(3);

  await rotateKekFile({ keysDir });
  const kek = await loadOrCreateKek({ keysDir });
  const report = await rewrapSealedRecords({ db: server.ds.manager, kek, columns: [] });
  expect(report.columns).toEqual([{ name: 'proofing_images.data', rewrapped: 1, current: 0, older: 0, unreadable: 0 }]);
  const newOnly = { entries: [kek.entries[0]!] } as typeof kek;
  expect((await readDocumentFront({ db: server.ds.manager, kek: newOnly }, { session }))!.equals(photo)).toBe(true);
  // Nothing left under the old entry: it may go.
  expect(report.byKid).toEqual({ [kek.entries[0]!.kid]: 1 });
});
