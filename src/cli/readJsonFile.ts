import fs from 'node:fs';
import { CliError } from './CliError.js';

/** Reads an operator's JSON file (at most 64 KiB); errors name the file, never its content. */
export function readJsonFile(file: string): unknown {
  let source: string;
  try {
    if (fs.statSync(file).size > 64 * 1024) throw new CliError(`${file}: larger than 64 KiB`);
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? 'error'})`}`);
  }
  try {
    return JSON.parse(source);
  } catch {
    throw new CliError(`${file}: not valid JSON`);
  }
}
