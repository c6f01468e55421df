import type { Config } from '../config/loadConfig.js';
import { approveRepresentation as approve } from '../delegation/approveRepresentation.js';
import { CliError } from './CliError.js';
import { openServices } from './openAccount.js';

const WHY = {
  not_found: 'ID: no legal authority with that id',
  not_pending: 'ID: not waiting for approval',
  same_operator: '--by: the operator who recorded it cannot approve it (four eyes)',
} as const;

/** `onedoor representations approve ID --by NAME`: the second operator's approval; it acts from now. */
export async function approveRepresentation({ config, id, by }: { config: Config; id: string; by: string | undefined }): Promise<string> {
  if (!by?.trim()) throw new CliError('--by: the approving operator\'s name is required');
  if (by.length > 100 || /[\p{Cc}\p{Cf}]/u.test(by)) throw new CliError('--by: at most 100 characters, no control characters');
  return openServices({ config }, async ({ ds }) => {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new CliError(WHY.not_found);
    const result = await ds.transaction((db) => approve({ db, delegationId: id.toLowerCase(), by }));
    if (!result.ok) throw new CliError(WHY[result.reason]);
    return `approved ${result.delegation.basis} ${result.delegation.id}; it is in effect`;
  });
}
