import type { Config } from '../config/loadConfig.js';
import { showRepresentation as show } from '../delegation/showRepresentation.js';
import { CliError } from './CliError.js';
import { openServices } from './openAccount.js';

/** `onedoor representations show ID [--json]`: one legal authority in full (names, evidence reference, history). */
export async function showRepresentation({ config, id, json }: { config: Config; id: string; json: boolean }): Promise<string> {
  return openServices({ config }, async ({ ds, keys }) => {
    const found = await show({ db: ds.manager, kek: keys.kek, id });
    if (!found) throw new CliError('ID: no legal authority with that id');
    if (json) return JSON.stringify(found, null, 2);
    const { summary: s, record: r } = found;
    const person = (p: typeof r.representative) => `${p.given_name} ${p.family_name}, born ${p.birthdate}`;
    return [
      `${s.kind} ${s.id}: ${s.endReason ?? s.status}`,
      `source:         ${s.source} (recorded by ${s.recordedBy}${s.approvedBy ? `, approved by ${s.approvedBy}` : ''})`,
      `representative: ${person(r.representative)} (account ${s.representativeId})`,
      `represented:    ${person(r.represented)}${s.principalId ? ` (account ${s.principalId})` : ' (no account)'}`,
      `agencies:       ${s.agencies.join(' ')}`,
      `scopes:         ${s.scopes.join(' ')}`,
      `from ${s.startsAt.toISOString().slice(0, 10)} until ${s.endsAt.toISOString().slice(0, 10)}${s.reviewAt ? `, review ${s.reviewAt.toISOString().slice(0, 10)}` : ''}`,
      `evidence:       ${[r.evidence.document_type, r.evidence.court, r.evidence.case_number].filter(Boolean).join(', ')}`,
      ...found.events.map((e) => `  ${e.at.toISOString()} ${e.type}${e.clientId ? ` at ${e.clientId}` : ''}`),
    ].join('\n');
  });
}
