import type { Config } from '../config/loadConfig.js';
import { rotateKeys as addSigningKeys } from '../oidc/keys.js';
import { CliError } from './CliError.js';

export interface RotateKeysOptions {
  config: Config;
}

/**
 * `onedoor keys rotate`: a new key per algorithm goes in front and signs from the next start
 * of each node; old keys stay published so tokens they signed keep verifying until
 * `keys remove`. Returns the new key ids, one a line.
 */
export async function rotateKeys({ config }: RotateKeysOptions): Promise<string> {
  let kids: string[];
  try {
    kids = await addSigningKeys(config.keysDir);
  } catch (err) {
    throw new CliError(`KEYS_DIR: ${(err as Error).message}`, { cause: err });
  }
  return kids.join('\n');
}
