import fs from 'node:fs';
import { exportAccount as exportData } from '../accounts/exportAccount.js';
import type { Config } from '../config/loadConfig.js';
import { CliError } from './CliError.js';
import { openAccount } from './openAccount.js';

export interface ExportAccountOptions {
  config: Config;
  /** An email address or an account id. */
  account: string;
  /** Where to write the document (created 0600, never overwritten); standard output without it. */
  out?: string | undefined;
  notice?: (message: string) => void;
}

/**
 * `onedoor accounts export ACCOUNT [--out FILE]`: the person's own data, as JSON, for the
 * operator to hand to them. It holds their verified identity in clear: it goes only to the
 * file or standard output, never to a log.
 */
export async function exportAccount({ config, account, out, notice }: ExportAccountOptions): Promise<string> {
  return openAccount({ config, reference: account }, async ({ account: a, ds, keys }) => {
    const text = `${JSON.stringify(await exportData({ db: ds.manager, kek: keys.kek, accountId: a.id }), null, 2)}`;
    if (out === undefined) return text;
    let fd: number;
    try {
      // "wx": a file already there (perhaps someone else's export) is never replaced.
      fd = fs.openSync(out, 'wx', 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CliError(`--out: ${code === 'EEXIST' ? 'file already exists' : code === 'ENOENT' ? 'no such directory' : `cannot create (${code ?? 'error'})`}`);
    }
    try {
      fs.writeFileSync(fd, `${text}\n`);
    } finally {
      fs.closeSync(fd);
    }
    notice?.(`wrote the export of account ${a.id} to ${out}`);
    return '';
  });
}
