import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { checkSigningKeys, describeKeysProblem } from '../../../src/oidc/checkSigningKeys.js';
import { createProvider } from '../../../src/oidc/createProvider.js';
import { KeysFileError, loadOrCreateKeys, type KeyMaterial } from '../../../src/oidc/keys.js';
import { watchSigningKeys } from '../../../src/oidc/watchSigningKeys.js';
import { headlessPages } from '../../../src/oidc/validateClientFile.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { createMetrics } from '../../../src/shared/metrics.js';
import { badJwksFiles, type BadJwksFile, keyMaterialIn } from '../../support/badJwks.js';
import { createTestDb, type TestDb } from '../../support/db.js';

let files: BadJwksFile[];
let dir: string;
let good: KeyMaterial;

beforeAll(async () => {
  files = await badJwksFiles();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-checkkeys-'));
  good = await loadOrCreateKeys(path.join(dir, 'good'));
});
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

test('when the keys are the ones OneDoor generates, then they pass', () => {
  expect(checkSigningKeys(good.jwks)).toEqual({ ok: true, jwks: good.jwks });
});

test('when a key set has a fault the review found, then the check names the reason and the key, and nothing it returns or says holds key material', () => {
  for (const file of files.filter((f) => f.reason !== 'not_json')) {
    const result = checkSigningKeys(JSON.parse(file.text));
    expect([file.kind, result]).toEqual([file.kind, { ok: false, problem: expect.objectContaining({ reason: file.reason, ...(file.index === undefined ? {} : { index: file.index }) }) }]);
    const said = JSON.stringify(result) + (result.ok ? '' : describeKeysProblem('/k/jwks.json', result.problem));
    expect([file.kind, keyMaterialIn(said, file.secrets)]).toEqual([file.kind, []]);
  }
});

test('when the input is not a key set at all (null, an array, keys not an array, a key that is a string or public only), then it is refused without throwing', () => {
  const pub = { ...good.jwks.keys[0]!, d: undefined };
  for (const input of [null, [], 'keys', { keys: {} }, { keys: [] }, { keys: ['x'] }, { keys: [null] }, { keys: [pub] }, { keys: [{ ...good.jwks.keys[0]!, kid: '' }] }]) {
    const result = checkSigningKeys(input);
    expect(result.ok).toBe(false);
  }
  expect(checkSigningKeys({ keys: [{ ...good.jwks.keys[0]!, use: 'enc' }, good.jwks.keys[1]] })).toEqual({ ok: false, problem: { reason: 'not_for_signing', index: 0, kid: good.jwks.keys[0]!.kid } });
  expect(checkSigningKeys({ keys: [{ ...good.jwks.keys[0]!, alg: 'ES384' }, good.jwks.keys[1]] })).toEqual({ ok: false, problem: { reason: 'unsupported_alg', index: 0, kid: good.jwks.keys[0]!.kid } });
  // oidc-provider's keystore refuses what OneDoor's own rules let through (key_ops not strings).
  expect(checkSigningKeys({ keys: [good.jwks.keys[0], { ...good.jwks.keys[1]!, key_ops: [1] }] })).toEqual({ ok: false, problem: { reason: 'rejected_by_provider', index: 1, kid: good.jwks.keys[1]!.kid } });
  // A kid that is not an id is not repeated.
  expect(checkSigningKeys({ keys: [{ ...good.jwks.keys[0]!, kid: 'a "kid"\nwith a line break', alg: 'RS256' }] })).toEqual({ ok: false, problem: { reason: 'alg_mismatch', index: 0 } });
});

test('when KEYS_DIR holds a bad jwks.json at start, then loadOrCreateKeys refuses with a KeysFileError naming the file and the problem, with no cause and no key material', async () => {
  for (const file of files) {
    const keysDir = path.join(dir, `start-${files.indexOf(file)}`);
    fs.mkdirSync(keysDir, { recursive: true });
    fs.writeFileSync(path.join(keysDir, 'jwks.json'), file.text);
    const err = await loadOrCreateKeys(keysDir).then(() => undefined, (e: unknown) => e as Error);
    expect([file.kind, err]).toEqual([file.kind, expect.any(KeysFileError)]);
    expect([file.kind, err!.message]).toEqual([file.kind, expect.stringMatching(new RegExp(`^jwks\\.json in KEYS_DIR \\(${path.join(keysDir, 'jwks.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\):[^\\n]+$`))]);
    expect(err!.cause).toBeUndefined();
    expect([file.kind, keyMaterialIn(`${err!.message}\n${err!.stack}`, file.secrets)]).toEqual([file.kind, []]);
  }
});

describe('a running node (in-process) watching KEYS_DIR', () => {
  let db: TestDb;
  beforeAll(async () => { db = await createTestDb(); });
  afterAll(async () => { await db.close(); });

  test('when each bad file lands, then check() never throws, the provider keeps its keys, the metric moves and the one log line per file holds no key material', async () => {
    const keysDir = path.join(dir, 'node');
    const keys = await loadOrCreateKeys(keysDir);
    const config = loadConfig({ KEYS_DIR: keysDir, DATABASE_URL: db.url, LOG_LEVEL: 'silent' });
    const provider = createProvider({ config, ds: db.ds, keys, pages: headlessPages });
    const metrics = createMetrics({ defaultMetrics: false });
    const logged: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { logged.push(String(chunk)); done(); } }));
    const watcher = watchSigningKeys({ provider, keys, keysDir, intervalSeconds: 3600, metrics, logger });
    const published = JSON.stringify(keys.jwks);
    try {
      for (const file of files) {
        fs.writeFileSync(path.join(keysDir, 'jwks.json'), file.text);
        const result = watcher.check();
        expect([file.kind, result]).toEqual([file.kind, { changed: false, problem: expect.objectContaining({ reason: file.reason }) }]);
        expect(keys.reloadProblem).toEqual(expect.objectContaining({ reason: file.reason }));
        expect(JSON.stringify(keys.jwks)).toBe(published);
        // Checked again with the file unchanged: the same answer, nothing more logged or counted.
        expect(watcher.check()).toEqual(result);
      }
      const counted = (await metrics.signingKeysReloadFailures.get()).values.reduce((n, v) => n + v.value, 0);
      expect(counted).toBe(files.length);
      expect((await metrics.signingKeysReloadFailing.get()).values[0]!.value).toBe(1);
      expect(logged).toHaveLength(files.length);
      expect(keyMaterialIn(logged.join(''), files.flatMap((f) => f.secrets))).toEqual([]);
    } finally {
      watcher.stop();
    }
  });
});
