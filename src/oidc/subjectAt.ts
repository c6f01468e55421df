import type { Account } from '../../entities/index.js';
import { parseAliases } from '../delegation/joinRepresentedPeople.js';
import { pairwiseSubject } from './pairwise.js';

/**
 * The subject an agency's sector knows a person by: the pairwise subject of their id, unless their
 * account took over, at that sector, the subject of a represented profile it joined (an agency
 * that knew only that profile keeps the subject it knew).
 */
export function subjectAt(opts: { salt: string; sector: string; id: string; account?: Pick<Account, 'subjectAliases'> | null | undefined }): string {
  return parseAliases(opts.account?.subjectAliases)[opts.sector] ?? pairwiseSubject(opts.salt, opts.sector, opts.id);
}
