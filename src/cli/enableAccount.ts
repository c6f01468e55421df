import { enableAccount as enable } from '../accounts/enableAccount.js';
import type { Config } from '../config/loadConfig.js';
import { CliError } from './CliError.js';
import { openAccount } from './openAccount.js';

export interface EnableAccountOptions {
  config: Config;
  /** An email address or an account id. */
  account: string;
}

/** `onedoor accounts enable ACCOUNT`: a disabled account may sign in again (nothing ended comes back). */
export async function enableAccount({ config, account }: EnableAccountOptions): Promise<string> {
  return openAccount({ config, reference: account }, async ({ account: a, ds }) => {
    const result = await ds.transaction((db) => enable({ db, accountId: a.id }));
    if (!result.ok) throw new CliError(`ACCOUNT: account ${a.id} is not disabled`);
    return `enabled account ${a.id}; ${result.notified.length} agency security event(s) queued`;
  });
}
