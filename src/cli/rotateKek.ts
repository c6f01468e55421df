import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/loadConfig.js';
import { rewrapSealedRecords, type RewrapReport } from '../proofing/rewrapSealedRecords.js';
import { KEK_FILE, type Kek, loadOrCreateKek, rotateKek as addKek } from '../proofing/vault.js';
import { CliError } from './CliError.js';
import { openDatabase } from './openDatabase.js';

export interface RotateKekOptions {
  config: Config;
  /** Finish an earlier rotation: re-wrap what is still under older entries, add no new KEK. */
  resume: boolean;
  /** Re-wrap at most this many records in this run. */
  limit?: number | undefined;
}

const RESUME = '`onedoor keys rotate-kek --resume`';
const sum = (report: RewrapReport, field: 'rewrapped' | 'current' | 'older' | 'unreadable') => report.columns.reduce((n, c) => n + c[field], 0);

/**
 * `onedoor keys rotate-kek [--resume] [--limit N]`: a new key-encryption key goes first in
 * KEYS_DIR/proofing-kek.json, then every sealed record's data key is re-wrapped under it
 * (60 bytes a record; the ciphertext and the personal-key wraps stay as they are). Refuses to
 * add a KEK while records are still under an older one than the first (an unfinished rotation:
 * `--resume` finishes it). Old entries are never removed here; the output names those no record
 * uses, for the operator to delete by hand.
 */
export async function rotateKek({ config, resume, limit }: RotateKekOptions): Promise<string> {
  // Never generated here: a new KEK file could open none of the records in the database.
  if (!fs.existsSync(path.join(config.keysDir, KEK_FILE))) throw new CliError(`KEYS_DIR: no ${KEK_FILE} in ${config.keysDir}; point KEYS_DIR at the server's keys`);
  const readKek = async (): Promise<Kek> => {
    try {
      return await loadOrCreateKek({ keysDir: config.keysDir });
    } catch (err) {
      throw new CliError(`KEYS_DIR: ${(err as Error).message}`);
    }
  };
  let kek = await readKek();
  const ds = await openDatabase({ config });
  try {
    const lines: string[] = [];
    if (resume) {
      lines.push(`resuming: re-wrapping under ${kek.entries[0]!.kid}, the first entry of ${KEK_FILE}`);
    } else {
      const before = await rewrapSealedRecords({ db: ds.manager, kek, limit: 0 });
      const unfinished = sum(before, 'older');
      if (unfinished) throw new CliError(`${unfinished} sealed record(s) are still under an older key-encryption key than ${before.kid} (an unfinished rotation): run ${RESUME} first`);
      const kid = await addKek({ keysDir: config.keysDir });
      kek = await readKek();
      lines.push(`key-encryption key ${kid} is now first in ${KEK_FILE}`);
    }
    const report = await rewrapSealedRecords({ db: ds.manager, kek, ...(limit === undefined ? {} : { limit }) });
    for (const c of report.columns) lines.push(`${c.name}: ${c.rewrapped} re-wrapped, ${c.current} already under ${report.kid}, ${c.older} still under older kids, ${c.unreadable} unreadable`);
    const older = Object.entries(report.byKid).filter(([kid, n]) => kid !== report.kid && n > 0);
    if (sum(report, 'older')) {
      lines.push(`${sum(report, 'older')} record(s) still under old kids (${older.map(([kid, n]) => `${kid}: ${n}`).join(', ')}): run ${RESUME}`);
    } else {
      lines.push(`every readable sealed record is under ${report.kid}`);
    }
    if (sum(report, 'unreadable')) lines.push(`${sum(report, 'unreadable')} record(s) could not be re-wrapped: their kid is in no entry of ${KEK_FILE}, or they do not authenticate`);
    const unused = kek.entries.slice(1).filter((e) => !report.byKid[e.kid]).map((e) => e.kid);
    if (unused.length) lines.push(`older entries no record uses: ${unused.join(', ')} (delete them from ${KEK_FILE} by hand once no backup you may restore needs them)`);
    return lines.join('\n');
  } finally {
    await ds.destroy();
  }
}
