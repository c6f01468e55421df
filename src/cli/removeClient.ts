import { OidcClient } from '../../entities/index.js';
import type { Config } from '../config/loadConfig.js';
import { ACCOUNT_CLIENT_ID } from '../oidc/createProvider.js';
import { CliError } from './CliError.js';
import { openDatabase } from './openDatabase.js';

export interface RemoveClientOptions {
  config: Config;
  clientId: string;
}

/**
 * `onedoor clients remove ID`. Tokens already issued to the client stop working within a
 * second: oidc-provider loads the client for every token use, and each node reads it from the
 * database at most once a second (CLIENT_CACHE_MS).
 */
export async function removeClient({ config, clientId }: RemoveClientOptions): Promise<string> {
  if (clientId === ACCOUNT_CLIENT_ID) throw new CliError(`client_id: ${ACCOUNT_CLIENT_ID} is built in and cannot be removed`);
  const ds = await openDatabase({ config });
  try {
    const result = await ds.getRepository(OidcClient).delete({ clientId });
    if (!result.affected) throw new CliError(`client_id: no client ${clientId}`);
    return `removed client ${clientId}`;
  } finally {
    await ds.destroy();
  }
}
