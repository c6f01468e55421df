import type { Config } from '../config/loadConfig.js';
import { KeysFileError, removeKey as removeKeyFromFile } from '../oidc/keys.js';
import { CliError } from './CliError.js';

export interface RemoveKeyOptions {
  config: Config;
  kid: string;
}

/**
 * `onedoor keys remove KID`: retire a key once no live token can still need it (after the
 * longest token lifetime since the rotation). An algorithm's last key is never removed.
 */
export async function removeKey({ config, kid }: RemoveKeyOptions): Promise<string> {
  try {
    await removeKeyFromFile(config.keysDir, kid);
  } catch (err) {
    throw new CliError(err instanceof KeysFileError ? `KEYS_DIR: ${err.message}` : (err as Error).message, { cause: err });
  }
  return `removed key ${kid}`;
}
