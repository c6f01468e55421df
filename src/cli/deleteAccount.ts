import { deleteAccount as erase } from '../accounts/deleteAccount.js';
import type { Config } from '../config/loadConfig.js';
import { endAccountAccess } from '../oidc/endAccountAccess.js';
import { CliError } from './CliError.js';
import { openAccount } from './openAccount.js';

export interface DeleteAccountOptions {
  config: Config;
  /** An email address or an account id. */
  account: string;
  /** The operator's confirmation: deletion cannot be undone. */
  yes: boolean;
}

/** `onedoor accounts delete ACCOUNT --yes`: the account and all its data go, for good. */
export async function deleteAccount({ config, account, yes }: DeleteAccountOptions): Promise<string> {
  if (!yes) throw new CliError('deleting an account cannot be undone: add --yes to confirm');
  return openAccount({ config, reference: account }, async ({ account: a, ds, keys, provider, delegationDeps }) => {
    const result = await erase({
      db: ds.manager, accountId: a.id, kek: keys.kek, outboxDir: config.outboxDir,
      endAccess: async () => { await endAccountAccess({ provider: provider(), ds, deps: delegationDeps(), accountId: a.id }); },
    });
    return `deleted account ${a.id}; ${result.notified.length} agency security event(s) queued; ${result.outboxDeleted} outbox message(s) deleted`;
  });
}
