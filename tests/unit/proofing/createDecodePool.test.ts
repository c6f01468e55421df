import { execFileSync } from 'node:child_process';
import { createDecodePool, type DecodePool } from '../../../src/proofing/documents/createDecodePool.js';
import { aamvaPayload, barcodeImage, SANDBOX_PEOPLE } from '../../support/aamva.js';
import { barsPng, greyPng } from '../../support/images.js';

// Real worker processes (from source, through tsx's loader), real decoders.

/** 16 MP, the most accepted, in 50 KB: seconds of decoding. */
const LARGE = barsPng();
const pools: DecodePool[] = [];
const pool = (...args: Parameters<typeof createDecodePool>) => { const p = createDecodePool(...args); pools.push(p); return p; };
afterEach(async () => { await Promise.all(pools.splice(0).map((p) => p.close())); });

/** Which of the promises settled first, as the order of their names. */
async function order(named: Record<string, Promise<unknown>>): Promise<string[]> {
  const done: string[] = [];
  await Promise.all(Object.entries(named).map(([name, p]) => p.then(() => done.push(name))));
  return done;
}

describe('createDecodePool', () => {
  test('when a barcode photo is decoded, then the text comes back from a worker process and the pool keeps that worker', async () => {
    const decoder = pool({ size: 1 });
    const back = await barcodeImage({ text: aamvaPayload(SANDBOX_PEOPLE[0]!) });
    expect(await decoder.decode({ image: back })).toEqual({ ok: true, text: aamvaPayload(SANDBOX_PEOPLE[0]!) });
    expect(decoder.stats()).toEqual({ running: 0, queued: 0, workers: 1 });
  });

  test('when a header claims too many pixels, then the answer comes without any worker being started', async () => {
    const decoder = pool({ size: 1 });
    const bomb = greyPng(5000, 5000);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await decoder.decode({ image: bomb })).toEqual({ ok: false, reason: 'image_too_large' });
    expect(decoder.stats().workers).toBe(0);
  });

  test('when a decode runs past the time limit, then it is cut off, its worker is replaced, and the next decode works', async () => {
    const refused: string[] = [];
    const decoder = pool({ size: 1, timeLimitMs: 1, observer: { changed: () => {}, refused: (r) => refused.push(r) } });
    expect(await decoder.decode({ image: LARGE })).toEqual({ ok: false, reason: 'decode_timeout' });
    expect(refused).toEqual(['time_limit']);
    expect(decoder.stats()).toEqual({ running: 0, queued: 0, workers: 0 });
    const back = await barcodeImage({ text: aamvaPayload(SANDBOX_PEOPLE[1]!) });
    expect(await decoder.decode({ image: back, timeLimitMs: 60_000 })).toEqual({ ok: true, text: aamvaPayload(SANDBOX_PEOPLE[1]!) });
  });

  test('when every worker is busy and the queue is full, then the next decode is answered busy at once, before those ahead of it', async () => {
    const refused: string[] = [];
    const decoder = pool({ size: 1, queueLimit: 1, observer: { changed: () => {}, refused: (r) => refused.push(r) } });
    const running = decoder.decode({ image: LARGE });
    const queued = decoder.decode({ image: LARGE });
    const third = decoder.decode({ image: LARGE });
    expect(await third).toEqual({ ok: false, reason: 'busy' });
    expect(refused).toEqual(['busy']);
    const { running: r, queued: q } = decoder.stats();
    expect(r + q).toBe(2);
    expect(await order({ running, queued })).toEqual(['running', 'queued']);
    expect(await running).toEqual({ ok: false, reason: 'no_barcode' });
  });

  test('when a worker dies in the middle of a decode (a native abort), then only that decode fails: OneDoor\'s process goes on and the next decode works', async () => {
    // Worker threads share the process: a native abort in one (Node 20 aborts when a thread is
    // terminated inside zlib, which PNG decoding uses) would end OneDoor. Workers are processes.
    const refused: string[] = [];
    const decoder = pool({ size: 1, observer: { changed: () => {}, refused: (r) => refused.push(r) } });
    await decoder.decode({ image: await barcodeImage({ text: 'warm up' }) });
    const decoding = decoder.decode({ image: LARGE });
    const workers = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n').filter((line) => line.includes('decodeWorker')).map((line) => Number(line.trim().split(/\s+/)[0]));
    expect(workers).toHaveLength(1);
    process.kill(workers[0]!, 'SIGABRT');
    expect(await decoding).toEqual({ ok: false, reason: 'unsupported_image' });
    expect(refused).toEqual(['crash']);
    const back = await barcodeImage({ text: aamvaPayload(SANDBOX_PEOPLE[2]!) });
    expect(await decoder.decode({ image: back })).toEqual({ ok: true, text: aamvaPayload(SANDBOX_PEOPLE[2]!) });
  });

  test('when decodes run, then the event loop goes on: a timer set after the decode started fires before the decode answers', async () => {
    const decoder = pool({ size: 1 });
    await decoder.decode({ image: await barcodeImage({ text: 'warm up' }) });
    const decode = decoder.decode({ image: LARGE });
    const timer = new Promise((resolve) => setTimeout(resolve, 1));
    expect(await order({ decode, timer })).toEqual(['timer', 'decode']);
  });

  test('when the pool is closed, then decodes running or waiting are answered busy, no worker is left, and new decodes are refused', async () => {
    const decoder = pool({ size: 1, queueLimit: 4 });
    const decodes = [decoder.decode({ image: LARGE }), decoder.decode({ image: LARGE })];
    await decoder.close();
    expect(await Promise.all(decodes)).toEqual([{ ok: false, reason: 'busy' }, { ok: false, reason: 'busy' }]);
    expect(decoder.stats()).toEqual({ running: 0, queued: 0, workers: 0 });
    expect(await decoder.decode({ image: LARGE })).toEqual({ ok: false, reason: 'busy' });
  });

  test.each([[{ size: 0 }], [{ size: 1.5 }], [{ queueLimit: -1 }], [{ timeLimitMs: 0 }]])('when the options are %j, then the pool is not created', (options) => {
    expect(() => createDecodePool(options)).toThrow(TypeError);
  });
});
