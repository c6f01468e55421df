import type { Config } from '../config/loadConfig.js';
import { listRepresentations as list } from '../delegation/listRepresentations.js';
import { formatTable } from './formatTable.js';
import { openServices } from './openAccount.js';

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : '-');

/** `onedoor representations list [--json]`: every legal authority, without names. */
export async function listRepresentations({ config, json }: { config: Config; json: boolean }): Promise<string> {
  return openServices({ config }, async ({ ds }) => {
    const rows = await list({ db: ds.manager });
    if (json) return JSON.stringify(rows, null, 2);
    if (!rows.length) return 'no legal authorities recorded';
    return formatTable(['ID', 'KIND', 'STATUS', 'SOURCE', 'STARTS', 'ENDS', 'RECORDED BY', 'APPROVED BY'],
      rows.map((r) => [r.id, r.kind, r.endReason ?? r.status, r.source, day(r.startsAt), day(r.endsAt), r.recordedBy, r.approvedBy ?? '-']));
  });
}
