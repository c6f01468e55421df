import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Starts a child process on a module given by its compiled name (`new URL('./x.js',
 * import.meta.url)`), with an IPC channel that carries Buffers as they are (structured clone).
 * Compiled (dist/, as the Dockerfile runs OneDoor) that file exists and plain node runs it. From
 * source (tsx, ts-jest) only `x.ts` exists: it is run through tsx's loader. The parent's own
 * flags (a test runner's, a debugger's) are not passed on; `maxOldSpaceMiB` caps the child's heap.
 *
 * A child process, not a worker thread: cutting off a worker thread with `terminate()` while it
 * is inside zlib (pngjs inflates PNGs with it) can abort the whole process on Node 20
 * ("close before init" in node_zlib.cc); killing a child never touches the parent.
 */
export function startChild(entry: URL, opts: { maxOldSpaceMiB: number }): ChildProcess {
  const compiled = fileURLToPath(entry);
  const limits = [`--max-old-space-size=${opts.maxOldSpaceMiB}`];
  const options = { serialization: 'advanced' as const, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ['ignore', 'inherit', 'inherit', 'ipc'] };
  if (fs.existsSync(compiled)) return fork(compiled, [], { ...options, execArgv: limits });
  const source = compiled.replace(/\.js$/, '.ts');
  if (!fs.existsSync(source)) throw new Error(`startChild: neither ${compiled} nor its .ts source exists`);
  return fork(source, [], { ...options, execArgv: [...limits, '--import', 'tsx'] });
}
