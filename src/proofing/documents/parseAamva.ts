/**
 * Reads the text of the PDF417 barcode on the back of a North American driver's license or
 * ID card, as laid out by the AAMVA DL/ID Card Design Standard (2020, Annex D; earlier
 * versions back to DL/ID-2000 are read too).
 *
 * The file is: a header (compliance indicator `@`, the data element separator LF, the record
 * separator RS, the segment terminator CR, file type `ANSI ` — `AAMVA` on some old cards —,
 * the issuer identification number, the AAMVA version, the jurisdiction version from version
 * 02 on, and the number of entries), then one subfile designator per entry (type, offset,
 * length), then the subfiles. The `DL` or `ID` subfile holds the data elements, each a
 * three-letter element ID and its value, separated by LF and ended by CR (D.12.3–D.12.5).
 *
 * Many cards in circulation get details wrong — offsets off by a few bytes, a separator
 * missing — so the header is checked for what identifies the file and the subfile is found
 * by its designator even when the offset points elsewhere. What a person's identity rests
 * on (names, dates, document number, address) is checked strictly.
 */
export interface IdDocument {
  firstName: string;
  middleName?: string;
  lastName: string;
  /** YYYY-MM-DD */
  dateOfBirth: string;
  address: { street1: string; street2?: string; city: string; state: string; postalCode: string };
  documentNumber: string;
  /** YYYY-MM-DD */
  issueDate: string;
  /** YYYY-MM-DD */
  expirationDate: string;
  /** Two-letter code of the state, district, territory or province that issued it, e.g. `VA`. */
  issuingJurisdiction: string;
  country: 'USA' | 'CAN';
  documentType: 'drivers_license' | 'state_id';
  sex?: 'M' | 'F' | 'X';
}

export type ParseAamvaResult = { ok: true; document: IdDocument } | { ok: false; reason: 'malformed' };

const MALFORMED = { ok: false, reason: 'malformed' } as const;

/**
 * Issuer identification numbers (AAMVA IIN list) → jurisdiction. The IIN names the issuer
 * authoritatively; the address state (DAJ) is only where the holder lives.
 */
const ISSUERS: Record<string, { code: string; country: 'USA' | 'CAN' }> = {
  636033: { code: 'AL', country: 'USA' }, 636059: { code: 'AK', country: 'USA' }, 604427: { code: 'AS', country: 'USA' },
  636026: { code: 'AZ', country: 'USA' }, 636021: { code: 'AR', country: 'USA' }, 636014: { code: 'CA', country: 'USA' },
  636020: { code: 'CO', country: 'USA' }, 636006: { code: 'CT', country: 'USA' }, 636011: { code: 'DE', country: 'USA' },
  636043: { code: 'DC', country: 'USA' }, 636010: { code: 'FL', country: 'USA' }, 636055: { code: 'GA', country: 'USA' },
  636019: { code: 'GU', country: 'USA' }, 636047: { code: 'HI', country: 'USA' }, 636050: { code: 'ID', country: 'USA' },
  636035: { code: 'IL', country: 'USA' }, 636037: { code: 'IN', country: 'USA' }, 636018: { code: 'IA', country: 'USA' },
  636022: { code: 'KS', country: 'USA' }, 636046: { code: 'KY', country: 'USA' }, 636007: { code: 'LA', country: 'USA' },
  636041: { code: 'ME', country: 'USA' }, 636003: { code: 'MD', country: 'USA' }, 636002: { code: 'MA', country: 'USA' },
  636032: { code: 'MI', country: 'USA' }, 636038: { code: 'MN', country: 'USA' }, 636051: { code: 'MS', country: 'USA' },
  636030: { code: 'MO', country: 'USA' }, 636008: { code: 'MT', country: 'USA' }, 636054: { code: 'NE', country: 'USA' },
  636049: { code: 'NV', country: 'USA' }, 636039: { code: 'NH', country: 'USA' }, 636036: { code: 'NJ', country: 'USA' },
  636009: { code: 'NM', country: 'USA' }, 636001: { code: 'NY', country: 'USA' }, 636004: { code: 'NC', country: 'USA' },
  636034: { code: 'ND', country: 'USA' }, 604430: { code: 'MP', country: 'USA' }, 636023: { code: 'OH', country: 'USA' },
  636058: { code: 'OK', country: 'USA' }, 636029: { code: 'OR', country: 'USA' }, 636025: { code: 'PA', country: 'USA' },
  604431: { code: 'PR', country: 'USA' }, 636052: { code: 'RI', country: 'USA' }, 636005: { code: 'SC', country: 'USA' },
  636042: { code: 'SD', country: 'USA' }, 636053: { code: 'TN', country: 'USA' }, 636015: { code: 'TX', country: 'USA' },
  636062: { code: 'VI', country: 'USA' }, 636040: { code: 'UT', country: 'USA' }, 636024: { code: 'VT', country: 'USA' },
  636000: { code: 'VA', country: 'USA' }, 636045: { code: 'WA', country: 'USA' }, 636061: { code: 'WV', country: 'USA' },
  636031: { code: 'WI', country: 'USA' }, 636060: { code: 'WY', country: 'USA' },
  604432: { code: 'AB', country: 'CAN' }, 636028: { code: 'BC', country: 'CAN' }, 636048: { code: 'MB', country: 'CAN' },
  636017: { code: 'NB', country: 'CAN' }, 636016: { code: 'NL', country: 'CAN' }, 636013: { code: 'NS', country: 'CAN' },
  604434: { code: 'NT', country: 'CAN' }, 604433: { code: 'NU', country: 'CAN' }, 636012: { code: 'ON', country: 'CAN' },
  604426: { code: 'PE', country: 'CAN' }, 604428: { code: 'QC', country: 'CAN' }, 636044: { code: 'SK', country: 'CAN' },
  604429: { code: 'YT', country: 'CAN' },
};

const PROVINCES = new Set(['AB', 'BC', 'MB', 'NB', 'NL', 'NS', 'NT', 'NU', 'ON', 'PE', 'QC', 'SK', 'YT']);

/** Subfile types that carry the cardholder's data (D.12.4): driver's license, ID card. */
const DOCUMENT_TYPES = { DL: 'drivers_license', ID: 'state_id' } as const;
type SubfileType = keyof typeof DOCUMENT_TYPES;

/** Values some jurisdictions write where an element does not apply (D.12.5.1). */
const NO_VALUE = new Set(['', 'NONE', 'UNAVL', 'UNAVAIL', 'UNAVAILABLE', 'N/A']);

interface Header {
  iin: string;
  version: number;
  /** Where the designator table ends (or, if it could not be read, where it would start). */
  bodyStart: number;
  designators: { type: string; offset: number }[];
}

export function parseAamva(opts: { text: string }): ParseAamvaResult {
  const { text } = opts;
  const header = readHeader(text);
  if (!header) return MALFORMED;
  const subfile = locateSubfile(text, header);
  if (!subfile) return MALFORMED;
  const elements = readElements(text, subfile.start + 2);

  const issuer = ISSUERS[header.iin];
  const residence = elements.get('DAJ')?.toUpperCase();
  const declaredCountry = elements.get('DCG')?.toUpperCase();
  let country: 'USA' | 'CAN';
  if (declaredCountry === 'USA' || declaredCountry === 'CAN') country = declaredCountry;
  else if (declaredCountry !== undefined) return MALFORMED;
  else country = issuer?.country ?? (residence && PROVINCES.has(residence) ? 'CAN' : 'USA');

  // Dates are MMDDCCYY in the USA and CCYYMMDD in Canada (D.12.5.1); DL/ID-2000 (version 01)
  // used CCYYMMDD everywhere.
  const dateOrder = country === 'CAN' || header.version <= 1 ? 'YMD' : 'MDY';
  const dateOfBirth = readDate(elements.get('DBB'), dateOrder);
  const issueDate = readDate(elements.get('DBD'), dateOrder);
  const expirationDate = readDate(elements.get('DBA'), dateOrder);
  if (!dateOfBirth || !issueDate || !expirationDate) return MALFORMED;
  if (dateOfBirth > issueDate || issueDate > expirationDate) return MALFORMED;

  const name = readName(elements);
  if (!name) return MALFORMED;

  const documentNumber = elements.get('DAQ');
  if (!documentNumber) return MALFORMED;

  const address = readAddress(elements, country);
  if (!address) return MALFORMED;

  const issuingJurisdiction = issuer?.code ?? residence;
  if (!issuingJurisdiction || !/^[A-Z]{2}$/.test(issuingJurisdiction)) return MALFORMED;

  const sex = readSex(elements.get('DBC'));
  return {
    ok: true,
    document: {
      firstName: name.first,
      ...(name.middle ? { middleName: name.middle } : {}),
      lastName: name.last,
      dateOfBirth,
      address,
      documentNumber,
      issueDate,
      expirationDate,
      issuingJurisdiction,
      country,
      documentType: DOCUMENT_TYPES[subfile.type],
      ...(sex ? { sex } : {}),
    },
  };
}

/**
 * The header (D.12.3). The three separator characters sit between `@` and the file type;
 * some readers drop or rewrite one of them, so the file type is looked for within the first
 * few characters rather than at a fixed index.
 */
function readHeader(text: string): Header | undefined {
  if (!text.startsWith('@')) return undefined;
  const match = /^@[\n\r\x1e\x1c\x1d ]{0,4}(?:ANSI ?|AAMVA)(\d{6})(\d{2})/.exec(text.slice(0, 40));
  if (!match) return undefined;
  const iin = match[1]!;
  const version = Number(match[2]);
  if (version < 1) return undefined;
  const afterVersion = match[0].length;
  // Version 01 has no jurisdiction version; some version 01 cards carry one anyway, and
  // some later cards leave it out, so both layouts are tried, the standard one first.
  const layouts = version >= 2 ? [2, 0] : [0, 2];
  for (const skip of layouts) {
    const designators = readDesignators(text, afterVersion + skip);
    if (designators) return { iin, version, ...designators };
  }
  return { iin, version, bodyStart: afterVersion, designators: [] };
}

function readDesignators(text: string, at: number): Pick<Header, 'bodyStart' | 'designators'> | undefined {
  const count = /^\d{2}/.exec(text.slice(at, at + 2)) ? Number(text.slice(at, at + 2)) : 0;
  if (count < 1) return undefined;
  const designators: Header['designators'] = [];
  let pos = at + 2;
  for (let i = 0; i < count; i++, pos += 10) {
    const entry = /^([A-Z]{2})(\d{4})(\d{4})/.exec(text.slice(pos, pos + 10));
    if (!entry) return undefined;
    designators.push({ type: entry[1]!, offset: Number(entry[2]) });
  }
  return { bodyStart: pos, designators };
}

/**
 * Finds the DL or ID subfile. The designator's offset is trusted only where a subfile can
 * really begin — right after the designators or after a separator, and followed by an element
 * ID — so letters `DL`/`ID` at the end of a value (`SADDL`, `MADID`, `A9DL`) never pass for
 * one. Otherwise the type is searched for at such places, nearest the stated offset; a place
 * after a digit (cards whose designator table could not be read run straight into the
 * subfile) only when there is no better one, since a value can end in a digit too.
 */
function locateSubfile(text: string, header: Header): { type: SubfileType; start: number } | undefined {
  const declared = header.designators.find((d): d is { type: SubfileType; offset: number } => d.type in DOCUMENT_TYPES);
  if (declared && beginning(text, declared.type, declared.offset, header.bodyStart) === 'clear') {
    return { type: declared.type, start: declared.offset };
  }
  const types: SubfileType[] = declared ? [declared.type] : ['DL', 'ID'];
  const clear: { type: SubfileType; start: number }[] = [];
  const afterDigit: { type: SubfileType; start: number }[] = [];
  for (const type of types) {
    for (let at = text.indexOf(type, header.bodyStart); at !== -1; at = text.indexOf(type, at + 1)) {
      const kind = beginning(text, type, at, header.bodyStart);
      if (kind) (kind === 'clear' ? clear : afterDigit).push({ type, start: at });
    }
  }
  const candidates = clear.length ? clear : afterDigit;
  if (candidates.length === 0) return undefined;
  const target = declared?.offset ?? header.bodyStart;
  return candidates.reduce((best, c) => (Math.abs(c.start - target) < Math.abs(best.start - target) ? c : best));
}

/**
 * Whether a `type` subfile can begin at `at`, before an element ID: 'clear' at the end of the
 * header or after a separator, 'after_digit' after a digit, else undefined.
 */
function beginning(text: string, type: SubfileType, at: number, bodyStart: number): 'clear' | 'after_digit' | undefined {
  if (at < bodyStart || !text.startsWith(type, at) || !isElementStart(text, at + 2)) return undefined;
  const before = text[at - 1] ?? '';
  if (at === bodyStart || /[\n\r\x1e]/.test(before)) return 'clear';
  return /\d/.test(before) ? 'after_digit' : undefined;
}

/** An element ID (`DAQ`, `DCS`, …) follows, possibly after a stray separator. */
function isElementStart(text: string, at: number): boolean {
  return /^[\n\r]?D[A-Z]{2}/.test(text.slice(at, at + 4));
}

/**
 * Data elements of the subfile up to its segment terminator (CR), each `IDvalue` with the
 * value's padding trimmed. The first occurrence of an element wins.
 */
function readElements(text: string, from: number): Map<string, string> {
  let end = text.indexOf('\r', from);
  // A CR right at the start is a stray separator, not the end of the subfile.
  if (end === from) end = text.indexOf('\r', from + 1);
  const body = text.slice(from, end === -1 ? undefined : end);
  const elements = new Map<string, string>();
  for (const line of body.split(/[\n\r]/)) {
    const match = /^([A-Z]{3})(.*)$/s.exec(line.trimStart());
    if (!match) continue;
    const value = match[2]!.trim().replace(/\s+/g, ' ');
    if (!elements.has(match[1]!) && !NO_VALUE.has(value.toUpperCase())) elements.set(match[1]!, value);
  }
  return elements;
}

/**
 * Names by version: DCS family + DAC first + DAD middle (2009 on); DCS + DCT given names
 * (2003–2005, first and middle separated by a comma or space); DAB + DAC, or DAA
 * `FAMILY,FIRST,MIDDLE` (DL/ID-2000).
 */
function readName(elements: Map<string, string>): { first: string; middle?: string; last: string } | undefined {
  const last = elements.get('DCS') ?? elements.get('DAB');
  const first = elements.get('DAC');
  if (last && first) return withMiddle(last, first, elements.get('DAD'));
  const given = elements.get('DCT');
  if (last && given) {
    const [firstGiven, ...rest] = given.split(/[,\s]+/).filter(Boolean);
    if (firstGiven) return withMiddle(last, firstGiven, rest.join(' '));
  }
  const full = elements.get('DAA');
  if (full) {
    const parts = full.split(/[,$]/).map((p) => p.trim());
    if (parts[0] && parts[1]) return withMiddle(parts[0], parts[1], parts[2]);
  }
  return undefined;
}

function withMiddle(last: string, first: string, middle: string | undefined): { first: string; middle?: string; last: string } {
  // Several middle names are separated by commas in DAD (D.12.5.1).
  const m = middle?.split(/[,\s]+/).filter((p) => p && !NO_VALUE.has(p.toUpperCase())).join(' ');
  return m ? { first, middle: m, last } : { first, last };
}

/** DAG/DAH street, DAI city, DAJ state, DAK postal code; DL/ID-2000 cards may use DAL–DAP. */
function readAddress(elements: Map<string, string>, country: 'USA' | 'CAN'): IdDocument['address'] | undefined {
  const pick = (current: string, old: string) => elements.get(current) ?? elements.get(old);
  const street1 = pick('DAG', 'DAL');
  const street2 = pick('DAH', 'DAM');
  const city = pick('DAI', 'DAN');
  const state = pick('DAJ', 'DAO')?.toUpperCase();
  const postalCode = readPostalCode(pick('DAK', 'DAP'), country);
  if (!street1 || !city || !state || !/^[A-Z]{2}$/.test(state) || !postalCode) return undefined;
  return { street1, ...(street2 ? { street2 } : {}), city, state, postalCode };
}

/**
 * DAK is 11 characters: a US ZIP as 9 digits (`0000` when the +4 is unknown) padded with
 * spaces, or a Canadian postal code.
 */
function readPostalCode(raw: string | undefined, country: 'USA' | 'CAN'): string | undefined {
  if (!raw) return undefined;
  if (country === 'CAN') {
    const compact = raw.toUpperCase().replace(/[\s-]/g, '');
    if (/^[A-Z]\d[A-Z]\d[A-Z]\d$/.test(compact)) return `${compact.slice(0, 3)} ${compact.slice(3)}`;
    return undefined;
  }
  const digits = raw.replace(/[\s-]/g, '');
  if (!/^\d{5}(\d{4})?$/.test(digits)) return undefined;
  const plus4 = digits.slice(5);
  return plus4 && plus4 !== '0000' ? `${digits.slice(0, 5)}-${plus4}` : digits.slice(0, 5);
}

/**
 * An 8-digit date in the order the standard expects for this card, or — because some cards
 * use the other country's order — the other one. The two cannot both be real dates in
 * 1800–9999 (a CCYY of 18–99 is not a month), so the fallback never changes a valid reading.
 */
function readDate(raw: string | undefined, order: 'MDY' | 'YMD'): string | undefined {
  if (!raw || !/^\d{8}$/.test(raw)) return undefined;
  const mdy = () => calendarDate(raw.slice(4, 8), raw.slice(0, 2), raw.slice(2, 4));
  const ymd = () => calendarDate(raw.slice(0, 4), raw.slice(4, 6), raw.slice(6, 8));
  return order === 'MDY' ? (mdy() ?? ymd()) : (ymd() ?? mdy());
}

function calendarDate(year: string, month: string, day: string): string | undefined {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (y < 1800 || m < 1 || m > 12 || d < 1) return undefined;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return `${year}-${month}-${day}`;
}

/** DBC: 1 male, 2 female, 9 not specified (D.12.5.1); DL/ID-2000 cards wrote M or F. */
function readSex(raw: string | undefined): IdDocument['sex'] | undefined {
  switch (raw?.toUpperCase()) {
    case '1': case 'M': return 'M';
    case '2': case 'F': return 'F';
    case '9': case 'X': return 'X';
    default: return undefined;
  }
}
