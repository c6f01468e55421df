import type { Config } from '../config/loadConfig.js';
import { describeKeys, loadOrCreateKeys } from '../oidc/keys.js';
import { CliError } from './CliError.js';
import { formatTable } from './formatTable.js';

export interface ListKeysOptions {
  config: Config;
  json?: boolean;
  notice?: (message: string) => void;
}

/** `onedoor keys list [--json]`: every key in KEYS_DIR; the first of each algorithm signs. */
export async function listKeys({ config, json = false, notice }: ListKeysOptions): Promise<string> {
  let keys: ReturnType<typeof describeKeys>;
  try {
    keys = describeKeys(await loadOrCreateKeys(config.keysDir, { onCreate: notice }));
  } catch (err) {
    throw new CliError(`KEYS_DIR: ${(err as Error).message}`, { cause: err });
  }
  if (json) return JSON.stringify(keys, null, 2);
  return formatTable(['KID', 'ALG', 'SIGNING'], keys.map((k) => [k.kid, k.alg, k.signing ? 'yes' : 'no']));
}
