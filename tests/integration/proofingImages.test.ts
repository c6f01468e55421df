import { AuditEvent } from '../../entities/index.js';
import { MAX_DOCUMENT_READS_PER_DAY } from '../../src/proofing/attempts.js';
import { clock } from '../../src/shared/clock.js';
import { aamvaPayload, barcodeImage, documentFrontImage, SANDBOX_PEOPLE } from '../support/aamva.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import type { Agent } from '../support/agent.js';
import { barsPng, greyPng, jpegClaiming } from '../support/images.js';
import { documentImages, newPerson, postDocument, startVerification } from '../support/proofingFlow.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * Photos of IDs are measured from their header, then decoded in worker threads with a time
 * limit; every photo read counts toward the person's day (security review, issue 16,
 * finding 3). Over real HTTP, with real workers and decoders. `server` has one decode worker
 * and no queue, so "full" is one decode; `strict` cuts every decode off after 1 ms.
 */

let server: TestServer;
let strict: TestServer;
let agency: TestAgency;
let strictAgency: TestAgency;

beforeAll(async () => {
  [server, strict] = await Promise.all([
    startTestServer({ decodePool: { size: 1, queueLimit: 0 } }),
    startTestServer({ decodePool: { timeLimitMs: 1 } }),
  ]);
  agency = await registerAgency(server, { clientId: 'photos' });
  strictAgency = await registerAgency(strict, { clientId: 'photos' });
});
afterAll(async () => { await Promise.all([server?.close(), strict?.close()]); });
afterEach(() => clock.reset());

/** A 5000 × 5000 PNG of 35 KB: refused before any decoding. */
const BOMB = greyPng(5000, 5000);
/** 16 MP, the most accepted, in 50 KB: seconds of decoding. */
const LARGE = barsPng();

async function personAtDocumentStep(on = server, at = agency) {
  const p = await newPerson(on, at);
  await startVerification(p.agent, on);
  return p;
}

const upload = (agent: Agent, back: Buffer, on = server) => postDocument(agent, on, { front: documentFrontImage(), back });

/** The outcomes of the account's document checks in its history, sorted (events in one millisecond have no order). */
async function outcomes(on: TestServer, accountId: string): Promise<string[]> {
  const rows = await on.ds.getRepository(AuditEvent).find({ where: { accountId, type: 'proofing_document_checked' } });
  return rows.map((r) => (JSON.parse(r.details) as { outcome: string }).outcome).sort();
}

/** One sample of `/metrics`, e.g. `onedoor_image_decodes{state="running"}`. */
async function metric(on: TestServer, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${on.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Waits until the node reports a decode in its worker, or `pending` settles first (then false). */
async function decodeStarted(on: TestServer, pending: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void pending.then(() => { settled = true; });
  for (;;) {
    if (await metric(on, 'onedoor_image_decodes{state="running"}') === 1) return true;
    if (settled) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('photos are measured before they are decoded', () => {
  test('when a 35 KB PNG declares 5000 × 5000 pixels, then it is refused from its header, the page says why, and it counts as a photo read', async () => {
    expect(BOMB.length).toBeLessThan(40 * 1024);
    const p = await personAtDocumentStep();
    const res = await upload(p.agent, BOMB);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('That photo is too large for us to read.');
    expect(await outcomes(server, p.accountId)).toEqual(['image_too_large']);
  });

  test('when a JPEG\'s header claims 60000 × 60000 pixels, then it is refused the same way', async () => {
    const jpeg = jpegClaiming(await barcodeImage({ text: aamvaPayload(SANDBOX_PEOPLE[0]!), format: 'jpeg' }), 60000, 60000);
    const p = await personAtDocumentStep();
    const res = await upload(p.agent, jpeg);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('That photo is too large for us to read.');
    expect(await outcomes(server, p.accountId)).toEqual(['image_too_large']);
  });

  test('when the front is not a PNG or JPEG, or claims too many pixels, then the document is refused before the back is read', async () => {
    const p = await personAtDocumentStep();
    const { back } = await documentImages();
    const pdf = await postDocument(p.agent, server, { front: Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n'), back });
    expect(pdf.status).toBe(400);
    expect(await pdf.text()).toContain('We could not open that file. Use a PNG or JPEG photo.');
    const huge = await postDocument(p.agent, server, { front: BOMB, back });
    expect(huge.status).toBe(400);
    expect(await huge.text()).toContain('That photo is too large for us to read.');
    expect(await outcomes(server, p.accountId)).toEqual(['image_too_large', 'unsupported_image']);
  });

  test('when a large photo is being decoded, then /healthz answers before the upload\'s response', async () => {
    const p = await personAtDocumentStep();
    const answered: string[] = [];
    const uploading = upload(p.agent, LARGE).then((res) => { answered.push('upload'); return res; });
    await decodeStarted(server, uploading);
    const health = await fetch(`${server.url}/healthz`);
    answered.push('healthz');
    expect(health.status).toBe(200);
    const res = await uploading;
    expect(answered).toEqual(['healthz', 'upload']);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('We could not read the barcode on the back of your ID.');
  });

  test('when the decode worker is busy, then the next person is told at once to try again (503, Retry-After), and nothing is counted for them', async () => {
    const first = await personAtDocumentStep();
    const second = await personAtDocumentStep();
    const { back } = await documentImages();
    const answered: string[] = [];
    const uploading = upload(first.agent, LARGE).then((res) => { answered.push('first'); return res; });
    expect(await decodeStarted(server, uploading)).toBe(true);
    const busy = await upload(second.agent, back);
    answered.push('second');
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('30');
    expect(await busy.text()).toContain('We are reading many photos right now. Nothing was saved. Try again in a minute.');
    expect((await uploading).status).toBe(400);
    expect(answered).toEqual(['second', 'first']);
    expect(await outcomes(server, second.accountId)).toEqual([]);
    expect(await metric(server, 'onedoor_image_decodes_refused_total{reason="busy"}')).toBeGreaterThanOrEqual(1);
    // Once the worker is free, the same upload goes through.
    expect((await upload(second.agent, back)).status).toBe(303);
  });
});

describe('every photo read counts', () => {
  test(`when a person uploads photos without a readable barcode, then each one counts, and after ${MAX_DOCUMENT_READS_PER_DAY} the document step waits a day, while a vendor outage counts nothing`, async () => {
    const p = await personAtDocumentStep();
    const { back: outage } = await documentImages({ documentNumber: 'S1234TIMEOUT' });
    for (let i = 0; i < 3; i++) expect((await upload(p.agent, outage)).status).toBe(503);
    for (let i = 0; i < MAX_DOCUMENT_READS_PER_DAY - 1; i++) expect((await upload(p.agent, documentFrontImage())).status).toBe(400);
    // The last read of the day: a good photo still goes through.
    expect((await postDocument(p.agent, server, await documentImages())).status).toBe(303);
    await p.agent.page(`${server.url}/verify/document`);
    const refused = await postDocument(p.agent, server, await documentImages());
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('You have tried too many times today.');
    expect(await outcomes(server, p.accountId)).toEqual([...Array(MAX_DOCUMENT_READS_PER_DAY - 1).fill('no_barcode'), 'passed', ...Array(3).fill('unavailable')]);
    // A day later the budget is back.
    clock.advance(24 * 3600 * 1000 + 1000);
    expect((await postDocument(p.agent, server, await documentImages())).status).toBe(303);
  });
});

describe('a decode past its time limit', () => {
  test('when a decode runs past the time limit, then it is cut off, the person is told, it counts, and the node keeps serving', async () => {
    const p = await personAtDocumentStep(strict, strictAgency);
    const res = await upload(p.agent, LARGE, strict);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Reading that photo took too long.');
    expect(await outcomes(strict, p.accountId)).toEqual(['decode_timeout']);
    expect(await metric(strict, 'onedoor_image_decodes_refused_total{reason="time_limit"}')).toBe(1);
    // The worker was terminated; the node answers, and the next upload gets a worker again.
    expect((await fetch(`${strict.url}/healthz`)).status).toBe(200);
    expect((await p.agent.page(`${strict.url}/verify/document`)).status).toBe(200);
    expect((await upload(p.agent, LARGE, strict)).status).toBe(400);
    expect(await outcomes(strict, p.accountId)).toEqual(['decode_timeout', 'decode_timeout']);
    expect(await metric(strict, 'onedoor_image_decodes_refused_total{reason="time_limit"}')).toBe(2);
  });
});
