import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { checkOutgoingUrl, type CheckOutgoingUrlResult, type OutboundPolicy, type OutgoingTarget } from './checkOutgoingUrl.js';

/** Connect, send and read the whole answer within this, unless the caller says less. */
export const OUTGOING_TIMEOUT_MS = 5000;
/** The largest answer read (a JWKS, a sector document, an error body); larger ones are dropped. */
export const OUTGOING_MAX_RESPONSE_BYTES = 512 * 1024;

/** Why an outgoing request was not made or gave no usable answer (a reason code: never the URL). */
export type OutgoingFailure =
  | 'invalid_url' | 'scheme_not_allowed' | 'address_not_allowed' | 'name_not_resolved'
  | 'timeout' | 'response_too_large' | 'connection_failed' | 'bad_response';

export type OutgoingResult = { ok: true; response: Response } | { ok: false; reason: OutgoingFailure };

export interface OutgoingRequestOptions {
  url: string | URL;
  policy: OutboundPolicy;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** The caller's own deadline or cancellation (oidc-provider passes one). */
  signal?: AbortSignal | null;
}

/** For callers that must throw (oidc-provider's fetch): carries the reason code, never the URL or a token. */
export class OutgoingRequestError extends Error {
  readonly code: OutgoingFailure;
  constructor(code: OutgoingFailure) {
    super(`outgoing request failed: ${code}`);
    this.name = 'OutgoingRequestError';
    this.code = code;
  }
}

/** The reason code of an outgoing failure somewhere in an error's cause chain (oidc-provider wraps them). */
export function outgoingFailureOf(err: unknown): OutgoingFailure | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof OutgoingRequestError) return e.code;
  }
  return undefined;
}

/** net's lookup hook, answering only with the addresses that were checked. */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options.family === 'number' ? options.family : 0;
    const list = family ? addresses.filter((a) => a.family === family) : addresses;
    if (!list.length) {
      callback(Object.assign(new Error('no checked address of that family'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) callback(null, list);
    else callback(null, list[0]!.address, list[0]!.family);
  };
}

function toResponse(res: IncomingMessage, body: Buffer, method: string): Response | undefined {
  const status = res.statusCode ?? 0;
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  const empty = method === 'HEAD' || status === 204 || status === 205 || status === 304;
  try {
    return new Response(empty ? null : new Uint8Array(body), { status, headers });
  } catch {
    return undefined; // a status fetch cannot represent (below 200 or above 599)
  }
}

function send(target: OutgoingTarget, opts: OutgoingRequestOptions, signal: AbortSignal, maxBytes: number): Promise<OutgoingResult> {
  const method = (opts.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: OutgoingResult) => { if (!settled) { settled = true; resolve(result); } };
    const req = client.request({
      protocol: target.url.protocol, hostname: target.host, port: target.url.port || undefined,
      path: `${target.url.pathname}${target.url.search}`, method, headers,
      // A fresh connection to a checked address; Node never follows redirects (the 3xx is the answer).
      agent: false, lookup: pinnedLookup(target.addresses), signal,
    }, (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.destroy();
        done({ ok: false, reason: 'response_too_large' });
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) {
          res.destroy();
          done({ ok: false, reason: 'response_too_large' });
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const response = toResponse(res, Buffer.concat(chunks), method);
        done(response ? { ok: true, response } : { ok: false, reason: 'bad_response' });
      });
      // Cut off (deadline, reset) before the end: whatever came is not an answer.
      res.on('close', () => done({ ok: false, reason: signal.aborted ? 'timeout' : 'connection_failed' }));
      res.on('error', () => done({ ok: false, reason: signal.aborted ? 'timeout' : 'connection_failed' }));
    });
    req.on('error', () => done({ ok: false, reason: signal.aborted ? 'timeout' : 'connection_failed' }));
    req.end(opts.body);
  });
}

/**
 * Every request OneDoor sends to an address it does not control goes through here: agencies'
 * `jwks_uri`, `sector_identifier_uri`, back-channel logout (through oidc-provider's `fetch`
 * hook) and security events. The URL is checked first (checkOutgoingUrl: https, public
 * addresses only, OUTBOUND_ALLOW and the localhost development rule) and the connection goes to
 * the address that was checked. Redirects are never followed, the whole exchange has a deadline
 * and the answer a size limit. Expected failures are return values with a reason code.
 */
export async function outgoingRequest(opts: OutgoingRequestOptions): Promise<OutgoingResult> {
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? OUTGOING_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  let checked: CheckOutgoingUrlResult;
  try {
    checked = await checkOutgoingUrl({ url: opts.url, policy: opts.policy, signal });
  } catch {
    return { ok: false, reason: 'timeout' };
  }
  if (!checked.ok) return { ok: false, reason: checked.reason };
  return send(checked.target, opts, signal, opts.maxResponseBytes ?? OUTGOING_MAX_RESPONSE_BYTES);
}
