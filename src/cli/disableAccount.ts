import { disableAccount as disable } from '../accounts/disableAccount.js';
import type { Config } from '../config/loadConfig.js';
import { endAccountAccess } from '../oidc/endAccountAccess.js';
import { openAccount } from './openAccount.js';

export interface DisableAccountOptions {
  config: Config;
  /** An email address or an account id. */
  account: string;
}

/**
 * `onedoor accounts disable ACCOUNT`: the account can no longer sign in, and everything it
 * could still use ends at once. Running it again on a disabled account ends anything left
 * (say, a session a node was still writing) and says so.
 */
export async function disableAccount({ config, account }: DisableAccountOptions): Promise<string> {
  return openAccount({ config, reference: account }, async ({ account: a, ds, provider, delegationDeps }) => {
    const result = await ds.transaction((db) => disable({ db, accountId: a.id }));
    const ended = await endAccountAccess({ provider: provider(), ds, deps: delegationDeps(), accountId: a.id });
    const what = `ended ${ended.sessions} session(s), ${ended.grants} agency connection(s), ${ended.delegations} delegation(s)`;
    if (!result.ok) return `account ${a.id} was already disabled; ${what}`;
    return `disabled account ${a.id}; ${what}; ${result.notified.length} agency security event(s) queued`;
  });
}
