import { type AddressRange, ipv4Text, parseAddress, parseAddressRange, rangeContains } from './addressRanges.js';

/** What an address is for; only `public` is reachable by OneDoor's outgoing requests by default. */
export type AddressUse =
  | 'public' | 'loopback' | 'private' | 'link_local' | 'shared' | 'unspecified'
  | 'multicast' | 'broadcast' | 'documentation' | 'benchmarking' | 'reserved';

/**
 * Special-use ranges, most specific first: the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890 and its updates), plus multicast, broadcast and the deprecated
 * site-local block. 169.254.169.254 (cloud metadata) is link-local.
 * https://www.iana.org/assignments/iana-ipv4-special-registry
 * https://www.iana.org/assignments/iana-ipv6-special-registry
 */
const SPECIAL: ReadonlyArray<readonly [string, AddressUse]> = [
  ['255.255.255.255/32', 'broadcast'],
  ['0.0.0.0/8', 'unspecified'], // "this network" (RFC 791); 0.0.0.0 reaches the local host
  ['10.0.0.0/8', 'private'], // RFC 1918
  ['100.64.0.0/10', 'shared'], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link_local'], // RFC 3927
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'], // TEST-NET-1 (RFC 5737)
  ['192.31.196.0/24', 'reserved'], // AS112-v4
  ['192.52.193.0/24', 'reserved'], // AMT
  ['192.88.99.0/24', 'reserved'], // 6to4 relay anycast (deprecated)
  ['192.168.0.0/16', 'private'],
  ['192.175.48.0/24', 'reserved'], // AS112 direct delegation
  ['198.18.0.0/15', 'benchmarking'], // RFC 2544
  ['198.51.100.0/24', 'documentation'], // TEST-NET-2
  ['203.0.113.0/24', 'documentation'], // TEST-NET-3
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // future use
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'private'], // local-use NAT64 (RFC 8215)
  ['100::/64', 'reserved'], // discard-only (RFC 6666)
  ['2001:2::/48', 'benchmarking'], // RFC 5180
  ['2001:db8::/32', 'documentation'], // RFC 3849
  ['2001::/23', 'reserved'], // IETF protocol assignments (Teredo, ORCHID…)
  ['2002::/16', 'reserved'], // 6to4
  ['2620:4f:8000::/48', 'reserved'], // AS112 direct delegation
  ['3fff::/20', 'documentation'], // RFC 9637
  ['5f00::/16', 'reserved'], // SRv6 SIDs (RFC 9602)
  ['fc00::/7', 'private'], // unique local (RFC 4193)
  ['fe80::/10', 'link_local'],
  ['fec0::/10', 'private'], // site-local (deprecated, RFC 3879)
  ['ff00::/8', 'multicast'],
];
const SPECIAL_RANGES = SPECIAL.map(([cidr, use]) => [parseAddressRange(cidr)!, use] as const);

/** IPv6 forms that carry an IPv4 address in their last 32 bits: it decides (::ffff:127.0.0.1 is loopback). */
const EMBEDS_IPV4: readonly AddressRange[] = [
  '::ffff:0:0/96', // IPv4-mapped
  '::ffff:0:0:0/96', // IPv4-translated (SIIT)
  '64:ff9b::/96', // NAT64 well-known prefix (RFC 6052)
].map((cidr) => parseAddressRange(cidr)!);

/** The only IPv6 space allocated for global unicast; everything outside it is reserved. */
const GLOBAL_UNICAST = parseAddressRange('2000::/3')!;

/**
 * What an IP address is for, by the tables above. Throws for anything that is not an IP
 * literal: callers classify resolved or parsed addresses, never host names.
 */
export function classifyAddress(address: string): AddressUse {
  const ip = parseAddress(address);
  if (!ip) throw new TypeError('classifyAddress needs an IP address');
  if (ip.version === 6 && EMBEDS_IPV4.some((r) => rangeContains(r, ip))) return classifyAddress(ipv4Text(ip.value & 0xffffffffn));
  const special = SPECIAL_RANGES.find(([range]) => rangeContains(range, ip));
  if (special) return special[1];
  if (ip.version === 6 && !rangeContains(GLOBAL_UNICAST, ip)) return 'reserved';
  return 'public';
}
