import type { OutboundPolicy } from '../shared/checkOutgoingUrl.js';
import { outgoingRequest, OutgoingRequestError } from '../shared/outgoingRequest.js';

/**
 * oidc-provider's `fetch` hook (jwks_uri, sector_identifier_uri, back-channel logout): every
 * call goes through OneDoor's one outgoing-request helper. oidc-provider's own guard (an undici
 * dispatcher) is ignored: it cannot be set up on Node 20, and the helper checks the same and
 * more, connecting to the address it checked. A refusal or failure rejects, as fetch does, with
 * a reason code and never the URL.
 */
export function providerFetch(opts: { policy: OutboundPolicy }) {
  return async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const headers: Record<string, string> = {};
    // oidc-provider blanks the user-agent to send none.
    new Headers(init.headers).forEach((value, name) => { if (value) headers[name] = value; });
    const body = init.body === undefined || init.body === null ? undefined
      : typeof init.body === 'string' || init.body instanceof URLSearchParams ? String(init.body)
        : init.body instanceof Uint8Array ? init.body : undefined;
    if (init.body && body === undefined) throw new TypeError('unsupported request body for an outgoing call');
    const result = await outgoingRequest({
      url: input instanceof Request ? input.url : input, policy: opts.policy,
      method: init.method ?? 'GET', headers, body, signal: init.signal ?? null,
    });
    if (!result.ok) throw new OutgoingRequestError(result.reason);
    return result.response;
  };
}
