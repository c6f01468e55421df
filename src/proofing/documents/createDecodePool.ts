import os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { logger } from '../../shared/logger.js';
import { startChild } from '../../shared/startChild.js';
import type { DecodeBarcodeResult } from './decodeBarcode.js';
import { measureImage } from './measureImage.js';

export interface DecodePoolOptions {
  /** Decodes running at once, one worker process each. Default: the machine's cores but one (1–4), so the event loop keeps a core. */
  size?: number;
  /** Decodes that may wait for a worker; one more gets `busy`. Default: 2 per worker. */
  queueLimit?: number;
  /** A decode still running after this long is cut off: its worker is terminated and replaced. Default 10 s; a 12 MP photo takes about 2 s. */
  timeLimitMs?: number;
  /** Told of every change, for metrics. */
  observer?: DecodePoolObserver;
}

export interface DecodePoolStats { running: number; queued: number; workers: number }

export interface DecodePoolObserver {
  changed(stats: DecodePoolStats): void;
  /** A decode refused (`busy`), cut off at its time limit, or lost with a worker that crashed. */
  refused(reason: 'busy' | 'time_limit' | 'crash'): void;
}

export interface DecodeRequest {
  image: Buffer;
  /** This decode's limit instead of the pool's. */
  timeLimitMs?: number;
}

/** What proofing needs to read a barcode: the pool, or anything that answers the same way. */
export interface BarcodeDecoder {
  decode(request: DecodeRequest): Promise<DecodeBarcodeResult>;
}

export interface DecodePool extends BarcodeDecoder {
  stats(): DecodePoolStats;
  /** Refuses new decodes (`busy`), ends those waiting or running the same way, and stops every worker. */
  close(): Promise<void>;
}

interface Job { request: DecodeRequest; limitMs: number; resolve: (r: DecodeBarcodeResult) => void; reject: (e: Error) => void }
interface Slot { worker: ChildProcess; state: 'starting' | 'idle' | 'busy' | 'gone'; job?: Job; timer?: NodeJS.Timeout }

const BUSY = { ok: false, reason: 'busy' } as const;
const WORKER = new URL('./decodeWorker.js', import.meta.url);
/** A decode's heap: a 16 MP RGBA frame is 64 MB; the decoders' copies fit well within this. */
const WORKER_HEAP_MIB = 512;

/**
 * Decodes untrusted photos off the event loop (DESIGN.md, security principles): a bounded
 * number of worker processes (src/shared/startChild.ts says why processes, not threads), a
 * bounded queue, and a time limit per decode after which the worker is killed (the only way to
 * stop synchronous JavaScript) and replaced. The header
 * is measured here first, so an image that is too large never reaches a worker. When the pool
 * is full the answer is `busy` at once: the person is told to try again, and the node goes on
 * answering everyone else. Workers start when first needed and never keep the process alive.
 */
export function createDecodePool(opts: DecodePoolOptions = {}): DecodePool {
  const size = opts.size ?? Math.max(1, Math.min(4, os.availableParallelism() - 1));
  const queueLimit = opts.queueLimit ?? size * 2;
  const timeLimitMs = opts.timeLimitMs ?? 10_000;
  if (!(Number.isInteger(size) && size >= 1 && Number.isInteger(queueLimit) && queueLimit >= 0 && timeLimitMs > 0)) {
    throw new TypeError('createDecodePool: size must be a whole number ≥ 1, queueLimit ≥ 0, timeLimitMs > 0');
  }
  const slots = new Set<Slot>();
  const queue: Job[] = [];
  let running = 0;
  let closed = false;

  const stats = (): DecodePoolStats => ({ running, queued: queue.length, workers: slots.size });
  const changed = () => opts.observer?.changed(stats());

  function spawn(): void {
    const slot: Slot = { worker: startChild(WORKER, { maxOldSpaceMiB: WORKER_HEAP_MIB }), state: 'starting' };
    // Started for a waiting decode: it holds the process open until it has answered.
    working(slot);
    slots.add(slot);
    slot.worker.on('message', (message: DecodeBarcodeResult | 'ready') => {
      if (slot.state === 'busy' && message !== 'ready') finish(slot, message);
      if (slot.state === 'starting' || slot.state === 'busy') slot.state = 'idle';
      dispatch();
      if (slot.state === 'idle') idle(slot);
    });
    slot.worker.on('error', (err) => lose(slot, err));
    slot.worker.on('exit', (code, signal) => lose(slot, new Error(`decode worker exited with ${signal ?? `code ${code}`}`)));
  }

  /** An idle worker never keeps the process alive; one running a decode does, until it answers. */
  function idle(slot: Slot): void {
    slot.worker.unref();
    (slot.worker.channel as { unref?: () => void } | null | undefined)?.unref?.();
  }
  function working(slot: Slot): void {
    slot.worker.ref();
    (slot.worker.channel as { ref?: () => void } | null | undefined)?.ref?.();
  }

  function stop(slot: Slot): Promise<void> {
    if (slot.worker.exitCode !== null || slot.worker.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
    slot.worker.ref(); // whoever awaits the stop sees it through
    slot.worker.kill('SIGKILL');
    return exited;
  }

  /** A worker that failed: a decode it was running gets `unsupported_image`; one that never started fails the waiting decodes. */
  function lose(slot: Slot, err: Error): void {
    if (slot.state === 'gone') return;
    const { state } = slot;
    retire(slot);
    logger.warn({ error: err.name, code: (err as NodeJS.ErrnoException).code }, 'an image decode worker stopped');
    if (state === 'busy') {
      opts.observer?.refused('crash');
      finish(slot, { ok: false, reason: 'unsupported_image' });
    } else if (state === 'starting' && ![...slots].some((s) => s.state !== 'starting')) {
      // Nothing could start a worker (a broken install): fail loudly instead of respawning forever.
      for (const job of queue.splice(0)) job.reject(err);
    }
    dispatch();
  }

  function retire(slot: Slot): void {
    slot.state = 'gone';
    slots.delete(slot);
    void stop(slot);
    changed();
  }

  function run(slot: Slot, job: Job): void {
    slot.state = 'busy';
    slot.job = job;
    running += 1;
    slot.timer = setTimeout(() => {
      opts.observer?.refused('time_limit');
      finish(slot, { ok: false, reason: 'decode_timeout' });
      retire(slot);
      dispatch();
    }, job.limitMs);
    working(slot);
    // Copied: the caller still sends the image to the document vendor.
    slot.worker.send(job.request.image, (err) => { if (err) lose(slot, err); });
  }

  function finish(slot: Slot, result: DecodeBarcodeResult): void {
    const job = slot.job;
    if (!job) return;
    clearTimeout(slot.timer);
    slot.job = undefined;
    running -= 1;
    job.resolve(result);
    changed();
  }

  function dispatch(): void {
    if (closed) return;
    for (const slot of slots) {
      if (!queue.length) break;
      if (slot.state === 'idle') run(slot, queue.shift()!);
    }
    const starting = [...slots].filter((s) => s.state === 'starting').length;
    for (let i = starting; i < queue.length && slots.size < size; i++) spawn();
    changed();
  }

  return {
    stats,
    async decode(request) {
      // The header is read on the event loop: microseconds, and a bomb never reaches a worker.
      const measured = measureImage(request.image);
      if (!measured.ok) return measured;
      if (closed || running + queue.length >= size + queueLimit) {
        opts.observer?.refused('busy');
        return BUSY;
      }
      return new Promise<DecodeBarcodeResult>((resolve, reject) => {
        queue.push({ request, limitMs: request.timeLimitMs ?? timeLimitMs, resolve, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.resolve(BUSY);
      const stopping = [...slots].map((slot) => {
        finish(slot, BUSY);
        slot.state = 'gone';
        return stop(slot);
      });
      slots.clear();
      await Promise.all(stopping);
      changed();
    },
  };
}
