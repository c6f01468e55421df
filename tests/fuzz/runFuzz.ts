/**
 * `npm run fuzz [-- --seconds N] [--target NAME …] [--seed N] [--json FILE]`: runs every fuzz
 * target (tests/fuzz/targets/) with fast-check for N seconds in all (default 60), shared
 * equally, in batches of fresh random inputs. Each input that breaks a property is shrunk and
 * saved under tests/fixtures/fuzz/ (replayed by tests/fuzz/findings.test.ts from then on).
 * Exits 1 when anything was found. (Jazzer.js 4 needs glibc 2.38, which this Debian does not
 * have; fast-check's random search with shrinking stands in for it.)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { type FuzzTarget, TARGETS } from './targets/index.js';

const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'fuzz');

interface Options { seconds: number; targets: string[]; seed: number | undefined; json: string | undefined }

function parseArgs(argv: string[]): Options {
  const opts: Options = { seconds: 60, targets: [], seed: undefined, json: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const need = () => { if (value === undefined) fail(`${flag} needs a value`); i += 1; return value!; };
    if (flag === '--seconds') { opts.seconds = Number(need()); if (!(opts.seconds > 0)) fail('--seconds must be a positive number'); }
    else if (flag === '--target') opts.targets.push(need());
    else if (flag === '--seed') { opts.seed = Number(need()); if (!Number.isInteger(opts.seed)) fail('--seed must be an integer'); }
    else if (flag === '--json') opts.json = need();
    else fail(`unknown option ${flag} (use --seconds N, --target NAME, --seed N, --json FILE)`);
  }
  const unknown = opts.targets.filter((t) => !TARGETS.some((x) => x.name === t));
  if (unknown.length) fail(`unknown target ${unknown[0]} (targets: ${TARGETS.map((t) => t.name).join(', ')})`);
  return opts;
}

function fail(message: string): never {
  console.error(`fuzz: ${message}`);
  process.exit(2);
}

interface Find { target: string; seed: number; path: string; input: unknown; error: string; file: string }

function save(target: FuzzTarget, seed: number, details: { counterexamplePath: string | null; counterexample: [unknown] | null; errorInstance: unknown }): Find {
  const input = target.encode ? target.encode(details.counterexample![0]) : details.counterexample![0];
  const body = { target: target.name, seed, path: details.counterexamplePath, input, error: String((details.errorInstance as Error)?.message ?? details.errorInstance).split('\n')[0] };
  const name = `${target.name}-${createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 12)}.json`;
  fs.mkdirSync(FIXTURES, { recursive: true });
  const file = path.join(FIXTURES, name);
  fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return { ...body, path: body.path ?? '', file: path.relative(process.cwd(), file) };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const targets = opts.targets.length ? TARGETS.filter((t) => opts.targets.includes(t.name)) : TARGETS;
  const sliceMs = (opts.seconds * 1000) / targets.length;
  let seed = opts.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const report: Array<{ target: string; runs: number; finds: number; seconds: number }> = [];
  const finds: Find[] = [];
  for (const target of targets) {
    const start = Date.now();
    let runs = 0;
    let found = 0;
    // Batches with their own seeds, until the target's share of the time is spent.
    while (Date.now() - start < sliceMs) {
      const batchSeed = seed;
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      const result = await fc.check(fc.asyncProperty(target.arbitrary, async (input) => { await target.check(input); }), {
        seed: batchSeed, numRuns: Math.max(50, target.testRuns), interruptAfterTimeLimit: Math.max(100, sliceMs - (Date.now() - start)), markInterruptAsFailure: false,
      });
      runs += result.numRuns;
      if (result.failed && result.counterexample) {
        found += 1;
        const f = save(target, batchSeed, result);
        finds.push(f);
        console.log(`FOUND ${target.name} (seed ${batchSeed}, path ${f.path}): ${f.error}\n  saved ${f.file}`);
        break; // one find per target per run: the shrunk input says it all
      }
    }
    const seconds = Math.round((Date.now() - start) / 100) / 10;
    report.push({ target: target.name, runs, finds: found, seconds });
    console.log(`${target.name.padEnd(24)} ${String(runs).padStart(8)} inputs in ${seconds}s, ${found} found`);
  }
  console.log(`fuzz: ${finds.length} found in ${report.reduce((n, r) => n + r.runs, 0)} inputs`);
  if (opts.json) fs.writeFileSync(opts.json, `${JSON.stringify({ date: new Date().toISOString(), seconds: opts.seconds, targets: report, finds }, null, 2)}\n`);
  process.exit(finds.length ? 1 : 0);
}

await main();
