import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as a number: 32 bits for IPv4, 128 for IPv6. */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

/** A CIDR range, e.g. 10.0.0.0/8 or fc00::/7. */
export interface AddressRange extends IpAddress {
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

function parseIPv4(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function parseIPv6(text: string): bigint {
  // A trailing dotted quad (::ffff:127.0.0.1) is the last 32 bits.
  let head = text;
  let tail: bigint[] = [];
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = parseIPv4(dotted[2]!);
    head = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
    tail = [v4 >> 16n, v4 & 0xffffn];
  }
  const [left = '', right] = head.split('::');
  const groups = (s: string) => (s ? s.split(':').map((g) => BigInt(parseInt(g, 16))) : []);
  const l = groups(left);
  const r = [...(right === undefined ? [] : groups(right)), ...tail];
  const all = right === undefined ? [...l, ...r] : [...l, ...Array<bigint>(8 - l.length - r.length).fill(0n), ...r];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/**
 * An IP literal in its usual forms (dotted-quad IPv4; IPv6 with or without brackets, `::`,
 * an embedded IPv4 tail, a zone id), or undefined for anything else. Host names, and the
 * shorthand IPv4 forms (2130706433, 0x7f.1), are not IP literals here: URL parsing turns the
 * latter into dotted quads, and a resolver's answer is always canonical.
 */
export function parseAddress(text: string): IpAddress | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(bare)) return { version: 4, value: parseIPv4(bare) };
  if (isIPv6(bare)) return { version: 6, value: parseIPv6(bare.toLowerCase()) };
  return undefined;
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128); undefined when malformed. */
export function parseAddressRange(text: string): AddressRange | undefined {
  const [addr = '', len, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const ip = parseAddress(addr);
  if (!ip) return undefined;
  const bits = BITS[ip.version];
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  const prefix = len === undefined ? bits : Number(len);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  return { version: ip.version, value: (ip.value >> hostBits) << hostBits, prefix };
}

export function rangeContains(range: AddressRange, ip: IpAddress): boolean {
  if (range.version !== ip.version) return false;
  const hostBits = BigInt(BITS[ip.version] - range.prefix);
  return ip.value >> hostBits === range.value >> hostBits;
}

/** The dotted quad of a 32-bit value (for an IPv4 address carried inside an IPv6 one). */
export function ipv4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}
