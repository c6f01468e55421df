import type { Config } from '../config/loadConfig.js';
import { registeredAgencies } from '../delegation/listRepresentations.js';
import { recordRepresentation } from '../delegation/recordRepresentation.js';
import { CliError } from './CliError.js';
import { openServices } from './openAccount.js';
import { readJsonFile } from './readJsonFile.js';

/**
 * `onedoor representations add FILE.json`: records a legal authority from documents the support
 * team checked (docs/operators.md). It waits for a second operator's approval before anyone can act on it.
 */
export async function addRepresentation({ config, file }: { config: Config; file: string }): Promise<string> {
  const input = readJsonFile(file);
  const recordedBy = typeof input === 'object' && input && !Array.isArray(input) ? (input as Record<string, unknown>)['recorded_by'] : undefined;
  if (recordedBy === undefined) throw new CliError('recorded_by: is required (the operator recording it)');
  return openServices({ config }, async ({ ds, keys }) => {
    const result = await ds.transaction(async (db) => recordRepresentation({ db, kek: keys.kek, pepper: keys.secrets.pepper }, {
      input, source: 'operator', recordedBy: String(recordedBy).trim(), status: 'pending', agencies: await registeredAgencies(db),
    }));
    if (!result.ok) throw new CliError(result.error);
    const id = result.delegation.id;
    return `recorded ${result.representation.kind} ${id}, pending: a second operator approves it with \`onedoor representations approve ${id} --by NAME\``;
  });
}
