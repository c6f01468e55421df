import type { Config } from '../config/loadConfig.js';
import { endRepresentationBySource } from '../oidc/endRepresentationBySource.js';
import { CliError } from './CliError.js';
import { openServices } from './openAccount.js';

/**
 * `onedoor representations end ID --reason TEXT`: the source (an operator) ends a legal
 * authority. Its tokens stop working at once, agencies get a back-channel logout and the
 * `delegation-revoked` security event (reason `ended_by_source`); the text stays in its history.
 */
export async function endRepresentation({ config, id, reason }: { config: Config; id: string; reason: string | undefined }): Promise<string> {
  if (!reason?.trim()) throw new CliError('--reason: why it ends is required');
  if (reason.length > 200 || /[\p{Cc}\p{Cf}]/u.test(reason)) throw new CliError('--reason: at most 200 characters, no control characters');
  return openServices({ config }, async ({ ds, provider, delegationDeps }) => {
    const result = await endRepresentationBySource({ provider: provider(), ds, deps: delegationDeps(), id, source: 'operator', note: reason.trim() });
    if (result === 'not_found') throw new CliError('ID: no legal authority recorded by operators with that id');
    if (result === 'already_ended') throw new CliError('ID: already ended');
    return `ended legal authority ${id.toLowerCase()}; its tokens no longer work`;
  });
}
