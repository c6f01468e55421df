import fs from 'node:fs';
import { text } from 'node:stream/consumers';
import { OidcClient } from '../../entities/index.js';
import { createDataSource } from '../../ormconfig.js';
import type { Config } from '../config/loadConfig.js';
import { loadOrCreateKeys } from '../oidc/keys.js';
import { validateClientFile } from '../oidc/validateClientFile.js';
import { CliError } from './CliError.js';
import { openDatabase } from './openDatabase.js';

export interface AddClientOptions {
  config: Config;
  /** Path of the client file, or `-` for standard input. */
  file: string;
  /** Replace a client with the same client_id instead of refusing. */
  replace?: boolean;
  stdin?: NodeJS.ReadableStream;
  notice?: (message: string) => void;
}

async function readClientFile(file: string, stdin: NodeJS.ReadableStream): Promise<unknown> {
  const name = file === '-' ? 'stdin' : file;
  let source: string;
  try {
    source = file === '-' ? await text(stdin) : fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${name}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? (err as Error).message})`}`);
  }
  try {
    return JSON.parse(source);
  } catch (err) {
    throw new CliError(`${name}: not valid JSON (${(err as Error).message})`);
  }
}

/**
 * `onedoor clients add FILE.json`: validates a client file and stores its normalized
 * metadata in `oidc_clients`. A bad file writes nothing. Returns what to print.
 */
export async function addClient({ config, file, replace = false, stdin = process.stdin, notice }: AddClientOptions): Promise<string> {
  const input = await readClientFile(file, stdin);
  const ds = createDataSource(config.database);
  const keys = await loadOrCreateKeys(config.keysDir, { onCreate: notice });
  const result = await validateClientFile({ input, config, ds, keys });
  if (!result.ok) throw new CliError(result.error);
  const { metadata } = result;
  for (const n of result.notices ?? []) notice?.(n);

  await openDatabase({ config, ds });
  try {
    return await ds.transaction(async (em) => {
      const clients = em.getRepository(OidcClient);
      const existing = await clients.findOneBy({ clientId: metadata.client_id });
      if (existing && !replace) throw new CliError(`client_id: ${metadata.client_id} is already registered; use --replace to replace it`);
      const now = new Date();
      await clients.save({ clientId: metadata.client_id, metadata: JSON.stringify(metadata), createdAt: existing?.createdAt ?? now, updatedAt: now });
      return `${existing ? 'replaced' : 'added'} client ${metadata.client_id}`;
    });
  } finally {
    await ds.destroy();
  }
}
