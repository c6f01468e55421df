/**
 * Test and sandbox identity documents: AAMVA barcode payloads and pictures of them.
 *
 * `aamvaPayload` writes what a jurisdiction's card printer would (AAMVA DL/ID Card Design
 * Standard, Annex D): the header with correct subfile offsets and lengths, a DL or ID subfile
 * in the layout of the requested version, and a jurisdiction subfile (ZV). `barcodeImage`
 * draws it as PDF417 with bwip-js, the way it appears on the back of the card.
 */
import bwipjs from 'bwip-js';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import type { IdDocument } from '../../src/proofing/documents/parseAamva.js';

const { PNG } = pngjs;

/**
 * Three documented people for tests and the sandbox. Names and addresses are upper case, as
 * on real cards. Their documents expire in 2031–2033, so they stay valid for years.
 */
export const SANDBOX_PEOPLE: readonly IdDocument[] = Object.freeze([
  {
    firstName: 'JANE',
    middleName: 'QUINN',
    lastName: 'SAMPLE',
    dateOfBirth: '1985-04-12',
    address: { street1: '123 MAIN ST', city: 'RICHMOND', state: 'VA', postalCode: '23219' },
    documentNumber: 'S12345678',
    issueDate: '2023-04-12',
    expirationDate: '2031-04-12',
    issuingJurisdiction: 'VA',
    country: 'USA',
    documentType: 'drivers_license',
    sex: 'F',
  },
  {
    firstName: 'MARCUS',
    middleName: 'ALLEN',
    lastName: 'EXAMPLE',
    dateOfBirth: '1972-11-30',
    address: { street1: '4500 HARBOR VIEW DR', street2: 'APT 12', city: 'BALTIMORE', state: 'MD', postalCode: '21202-1234' },
    documentNumber: 'E123456789012',
    issueDate: '2024-11-30',
    expirationDate: '2032-11-30',
    issuingJurisdiction: 'MD',
    country: 'USA',
    documentType: 'state_id',
    sex: 'M',
  },
  {
    firstName: 'RIVER',
    lastName: 'TESTER',
    dateOfBirth: '2001-07-04',
    address: { street1: '2200 E 6TH ST', city: 'AUSTIN', state: 'TX', postalCode: '78702' },
    documentNumber: '41234567',
    issueDate: '2025-01-15',
    expirationDate: '2033-07-04',
    issuingJurisdiction: 'TX',
    country: 'USA',
    documentType: 'drivers_license',
    sex: 'X',
  },
]);

/** Issuer identification numbers (AAMVA IIN list) for the jurisdictions tests use. */
const IINS: Record<string, string> = {
  VA: '636000', NY: '636001', MD: '636003', FL: '636010', CA: '636014', TX: '636015', WA: '636045',
  ON: '636012', BC: '636028', QC: '604428',
};

export type AamvaFields = Partial<IdDocument> & {
  /** Issuer identification number; by default the one of `issuingJurisdiction`. */
  iin?: string;
  /** Raw data elements added after the standard ones, or replacing them: `{ DBB: '02302000' }`. */
  elements?: Record<string, string>;
};

export interface AamvaOptions {
  /** AAMVA version, 1–10 (default 10): decides the name elements, date order and header. */
  version?: number;
  /** Default: the document's country, else USA. Canada writes dates CCYYMMDD. */
  country?: 'USA' | 'CAN';
  /** Added to the DL/ID subfile's stated offset, to imitate cards that get it wrong. */
  offsetError?: number;
}

const LF = '\n';
const RS = '\x1e';
const CR = '\r';

/** A standard-conformant AAMVA barcode payload. Fields left out are not written. */
export function aamvaPayload(doc: AamvaFields, opts: AamvaOptions = {}): string {
  const version = opts.version ?? 10;
  const country = opts.country ?? doc.country ?? 'USA';
  const jurisdiction = doc.issuingJurisdiction ?? doc.address?.state ?? 'VA';
  const iin = doc.iin ?? IINS[jurisdiction];
  if (!iin) throw new Error(`aamvaPayload: no IIN known for ${jurisdiction}; pass iin`);
  const type = doc.documentType === 'state_id' ? 'ID' : 'DL';
  const date = (iso: string | undefined) => (iso ? formatDate(iso, version <= 1 || country === 'CAN' ? 'YMD' : 'MDY') : undefined);

  const fields: [string, string | undefined][] = [['DAQ', doc.documentNumber]];
  if (version >= 4) {
    fields.push(['DCS', doc.lastName], ['DDE', 'N'], ['DAC', doc.firstName], ['DDF', 'N'], ['DAD', doc.middleName ?? 'NONE'], ['DDG', 'N']);
  } else if (version >= 2) {
    fields.push(['DCS', doc.lastName], ['DCT', [doc.firstName, doc.middleName].filter(Boolean).join(',') || undefined]);
  } else {
    fields.push(['DAA', [doc.lastName, doc.firstName, doc.middleName].filter((p) => p !== undefined).join(',') || undefined]);
  }
  if (type === 'DL') fields.push(['DCA', 'D'], ['DCB', 'NONE'], ['DCD', 'NONE']);
  fields.push(
    ['DBD', date(doc.issueDate)],
    ['DBB', date(doc.dateOfBirth)],
    ['DBA', date(doc.expirationDate)],
    ['DBC', doc.sex && (version <= 1 ? doc.sex : { M: '1', F: '2', X: '9' }[doc.sex])],
    ['DAU', '068 IN'],
    ['DAY', 'BRO'],
    ['DAG', doc.address?.street1],
    ['DAH', doc.address?.street2],
    ['DAI', doc.address?.city],
    ['DAJ', doc.address?.state],
    ['DAK', doc.address && postalCode(doc.address.postalCode, country)],
    ['DCF', `${doc.documentNumber ?? ''}${(doc.issueDate ?? '').replace(/-/g, '')}`],
  );
  if (version >= 2) fields.push(['DCG', country]);
  if (version >= 4) fields.push(['DDA', 'F'], ['DDB', '07162021']);
  const elements = new Map(fields.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== ''));
  for (const [id, value] of Object.entries(doc.elements ?? {})) elements.set(id, value);

  const subfiles = [
    { type, body: `${type}${[...elements].map(([id, value]) => `${id}${value}`).join(LF)}${CR}` },
    { type: 'ZV', body: `ZVZVA${jurisdiction}01${CR}` },
  ];
  const version2 = String(version).padStart(2, '0');
  const head = `@${LF}${RS}${CR}ANSI ${iin}${version2}${version >= 2 ? '00' : ''}${String(subfiles.length).padStart(2, '0')}`;
  let offset = head.length + 10 * subfiles.length;
  let designators = '';
  for (const [i, subfile] of subfiles.entries()) {
    const stated = i === 0 ? offset + (opts.offsetError ?? 0) : offset;
    designators += `${subfile.type}${pad4(stated)}${pad4(subfile.body.length)}`;
    offset += subfile.body.length;
  }
  return head + designators + subfiles.map((s) => s.body).join('');
}

function pad4(n: number): string {
  if (n < 0 || n > 9999) throw new Error(`aamvaPayload: ${n} does not fit in 4 digits`);
  return String(n).padStart(4, '0');
}

function formatDate(iso: string, order: 'MDY' | 'YMD'): string {
  const [y, m, d] = iso.split('-') as [string, string, string];
  return order === 'MDY' ? `${m}${d}${y}` : `${y}${m}${d}`;
}

/** DAK is fixed at 11 characters: a 9-digit ZIP (`0000` for an unknown +4), space-padded. */
function postalCode(code: string, country: 'USA' | 'CAN'): string {
  if (country === 'CAN') return code.replace(/\s/g, '').padEnd(11, ' ');
  const digits = code.replace(/-/g, '');
  return (digits.length === 5 ? `${digits}0000` : digits).padEnd(11, ' ');
}

export interface BarcodeImageOptions {
  text: string;
  format?: 'png' | 'jpeg';
  /** Clockwise, as a phone held sideways or upside down would take it. */
  rotate?: 0 | 90 | 180 | 270;
  /** Pixels per module (default 3; a 300-byte payload then makes about 600 × 230 pixels). */
  scale?: number;
}

/** bwip-js's own names for quarter turns, clockwise. */
const TURNS = { 0: 'N', 90: 'R', 180: 'I', 270: 'L' } as const;

/** A picture of the PDF417 barcode on a white background with a quiet zone around it. */
export async function barcodeImage(opts: BarcodeImageOptions): Promise<Buffer> {
  // `columns` and `eclevel` go to BWIPP as they are; bwip-js's types do not list them.
  const render: bwipjs.RenderOptions & { columns: number; eclevel: number } = {
    bcid: 'pdf417',
    text: opts.text,
    scale: opts.scale ?? 3,
    rotate: TURNS[opts.rotate ?? 0],
    // Ten data columns, as on many cards; AAMVA asks for error correction level 3 or more.
    columns: 10,
    eclevel: 5,
    paddingwidth: 10,
    paddingheight: 10,
    backgroundcolor: 'FFFFFF',
  };
  const png = await bwipjs.toBuffer(render);
  if (opts.format !== 'jpeg') return png;
  const { data, width, height } = PNG.sync.read(png);
  return jpeg.encode({ data, width, height }, 90).data;
}

/** A small, valid PNG standing in for the front of a card (which carries no barcode). */
export function documentFrontImage(): Buffer {
  const width = 86 * 3;
  const height = 54 * 3;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const photo = x >= 12 && x < 82 && y >= 30 && y < 120;
      const [r, g, b] = photo ? [120, 110, 100] : [225, 232, 240];
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = 255;
    }
  }
  return encodePng(data, width, height);
}

function encodePng(data: Buffer, width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  data.copy(png.data);
  return PNG.sync.write(png);
}
