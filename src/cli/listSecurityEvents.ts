import { In } from 'typeorm';
import { SecurityEventDelivery } from '../../entities/index.js';
import type { Config } from '../config/loadConfig.js';
import { formatTable } from './formatTable.js';
import { openDatabase } from './openDatabase.js';

export interface ListSecurityEventsOptions {
  config: Config;
  json?: boolean;
}

/**
 * `onedoor security-events list [--json]`: security events not (yet) delivered to agencies —
 * waiting for a retry, or given up on (`failed`, kept for the operator to see and take up with
 * the agency). Delivered ones are not listed. No person is named: only the delivery (jti), the
 * agency and the event.
 */
export async function listSecurityEvents({ config, json = false }: ListSecurityEventsOptions): Promise<string> {
  const ds = await openDatabase({ config });
  try {
    const rows = await ds.getRepository(SecurityEventDelivery).find({ where: { status: In(['pending', 'failed']) }, order: { createdAt: 'ASC' } });
    const items = rows.map((r) => ({
      id: r.id, client_id: r.clientId, event: r.eventType, status: r.status, attempts: r.attempts,
      last_error: r.lastError, next_attempt_at: r.status === 'pending' ? r.nextAttemptAt.toISOString() : null, created_at: r.createdAt.toISOString(),
    }));
    if (json) return JSON.stringify(items, null, 2);
    if (!items.length) return 'no security events waiting or failed';
    return formatTable(
      ['ID', 'CLIENT_ID', 'STATUS', 'ATTEMPTS', 'LAST_ERROR', 'NEXT_ATTEMPT', 'EVENT'],
      items.map((i) => [i.id, i.client_id, i.status, String(i.attempts), i.last_error ?? '-', i.next_attempt_at ?? '-', i.event]),
    );
  } finally {
    await ds.destroy();
  }
}
