import { type AddressRange, parseAddressRange } from '../shared/addressRanges.js';

/**
 * Exceptions to the outgoing-request rules (src/shared/checkOutgoingUrl.ts) for development and
 * staging networks: host names whose addresses are not checked, and addresses or ranges that
 * may be called although they are private, loopback or otherwise special-use.
 */
export interface OutboundAllow {
  hosts: ReadonlySet<string>;
  ranges: readonly AddressRange[];
}

export const NO_OUTBOUND_EXCEPTIONS: OutboundAllow = { hosts: new Set(), ranges: [] };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** A name whose last label is a number is an IPv4 address to URL parsing (2130706433, 0x7f.1): never a host name here. */
const ENDS_IN_NUMBER = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/;

/** `OUTBOUND_ALLOW`: comma-separated host names, IP addresses and CIDR ranges. */
export function parseOutboundAllow(value: string | undefined): { ok: true; allow: OutboundAllow } | { ok: false; entry: string } {
  const hosts = new Set<string>();
  const ranges: AddressRange[] = [];
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const range = parseAddressRange(entry);
    if (range) ranges.push(range);
    else {
      const name = entry.replace(/\.$/, '');
      if (!HOST_NAME.test(name) || ENDS_IN_NUMBER.test(name)) return { ok: false, entry: raw.trim() };
      hosts.add(name);
    }
  }
  return { ok: true, allow: { hosts, ranges } };
}
