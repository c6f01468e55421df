import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { OutboundAllow } from '../config/parseOutboundAllow.js';
import { parseAddress, rangeContains } from './addressRanges.js';
import { type AddressUse, classifyAddress } from './classifyAddress.js';

/** What decides where OneDoor may send a request (Config has both). */
export interface OutboundPolicy {
  /** OneDoor itself runs on localhost (development): plain-http calls to this machine are allowed. */
  insecureTransport: boolean;
  outboundAllow: OutboundAllow;
}

/** Where a checked request goes: the URL and the very addresses that were checked (connect to these only). */
export interface OutgoingTarget {
  url: URL;
  /** The host name (or IP literal, without brackets) for TLS and the Host header. */
  host: string;
  addresses: LookupAddress[];
}

export type CheckOutgoingUrlResult =
  | { ok: true; target: OutgoingTarget }
  | { ok: false; reason: 'invalid_url' | 'scheme_not_allowed' | 'name_not_resolved' }
  | { ok: false; reason: 'address_not_allowed'; address: string; use: AddressUse };

/** While OneDoor runs on localhost, plain http to these hosts stays allowed (docs/agencies.md: a developer's agency). */
const DEV_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** RFC 6761 §6.3: `localhost` and names under it are the loopback interface, whatever a resolver says. */
const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

function resolveName(host: string, signal: AbortSignal | undefined): Promise<LookupAddress[] | undefined> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    dns.lookup(host, { all: true, verbatim: true }, (err, addresses) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(err || !addresses.length ? undefined : addresses);
    });
  });
}

/**
 * Decides whether OneDoor may call a URL, before anything is sent: https only (plain http only
 * to this machine while OneDoor itself runs on localhost), and every address the host resolves
 * to must be public (classifyAddress) unless OUTBOUND_ALLOW lists the host name or the address.
 * Returns the checked addresses, to which the caller must connect (no second resolution that
 * DNS rebinding could answer differently). Rejects only when `signal` aborts.
 */
export async function checkOutgoingUrl(opts: { url: string | URL; policy: OutboundPolicy; signal?: AbortSignal }): Promise<CheckOutgoingUrlResult> {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    return { ok: false, reason: 'invalid_url' };
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || !url.hostname) return { ok: false, reason: 'invalid_url' };
  const devRule = opts.policy.insecureTransport && url.protocol === 'http:' && DEV_HOSTS.has(url.hostname);
  if (url.protocol === 'http:' && !devRule) return { ok: false, reason: 'scheme_not_allowed' };

  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const name = host.replace(/\.$/, '');
  const { hosts, ranges } = opts.policy.outboundAllow;
  const nameAllowed = isIP(host) === 0 && hosts.has(name);
  let addresses: LookupAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else if (isLocalhostName(name) && !devRule && !nameAllowed) return { ok: false, reason: 'address_not_allowed', address: name, use: 'loopback' };
  else {
    const resolved = await resolveName(host, opts.signal);
    if (!resolved) return { ok: false, reason: 'name_not_resolved' };
    addresses = resolved;
  }
  if (!nameAllowed) {
    for (const { address } of addresses) {
      const use = classifyAddress(address);
      const listed = ranges.some((r) => rangeContains(r, parseAddress(address)!));
      if (use !== 'public' && !listed && !(devRule && use === 'loopback')) return { ok: false, reason: 'address_not_allowed', address, use };
    }
  }
  return { ok: true, target: { url, host, addresses } };
}
