import { OidcClient } from '../../entities/index.js';
import type { Config } from '../config/loadConfig.js';
import { formatTable } from './formatTable.js';
import { openDatabase } from './openDatabase.js';

export interface ListClientsOptions {
  config: Config;
  /** Print the stored metadata as a JSON array instead of a table. */
  json?: boolean;
}

/** `onedoor clients list [--json]`: registered agencies, sorted by client_id. */
export async function listClients({ config, json = false }: ListClientsOptions): Promise<string> {
  const ds = await openDatabase({ config });
  try {
    const rows = await ds.getRepository(OidcClient).find({ order: { clientId: 'ASC' } });
    const clients = rows.map((r) => JSON.parse(r.metadata) as Record<string, unknown>);
    if (json) return JSON.stringify(clients, null, 2);
    if (!clients.length) return 'no clients registered';
    return formatTable(
      ['CLIENT_ID', 'NAME', 'AUTH_METHOD', 'DELEGATION', 'MAX_IAL', 'REDIRECT_URIS'],
      clients.map((c) => [
        String(c['client_id']),
        String(c['client_name'] ?? '-'),
        String(c['token_endpoint_auth_method'] ?? 'private_key_jwt'),
        String(c['delegation_enabled'] ?? false),
        String(c['max_ial'] ?? 1),
        ((c['redirect_uris'] as string[] | undefined) ?? []).join(','),
      ]),
    );
  } finally {
    await ds.destroy();
  }
}
