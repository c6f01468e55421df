import type Provider from 'oidc-provider';
import type { errors } from 'oidc-provider';
import { logger } from '../shared/logger.js';
import { outgoingFailureOf } from '../shared/outgoingRequest.js';

/**
 * Hands the person's answer to oidc-provider (`provider.backchannelResult`), which stores it for
 * the agency's next poll and, for a ping-mode client, calls its
 * `backchannel_client_notification_endpoint` (CIBA Core §10.2) through OneDoor's outgoing-request
 * helper (the provider's `fetch`). A ping that fails or is refused does not undo the answer: the
 * agency still gets it at the token endpoint. The log names the client and the reason code,
 * never the endpoint or the notification token.
 */
export async function deliverPhoneResult(opts: {
  provider: Provider;
  authReqId: string;
  /** A grant id (approved), or the error the agency's poll gets. */
  result: string | errors.OIDCProviderError;
  authentication?: { acr: string; amr: string[]; authTime: number };
}): Promise<void> {
  const { provider, authReqId, result } = opts;
  const request = await provider.BackchannelAuthenticationRequest.find(authReqId, { ignoreExpiration: true });
  if (!request) throw new Error('the phone request is gone');
  // backchannelResult stores an error's description under a name the request does not keep:
  // set it where the token endpoint reads it, so the agency hears why (e.g. "not on a call").
  if (typeof result !== 'string') request.errorDescription = result.error_description;
  try {
    await provider.backchannelResult(request, result, opts.authentication);
  } catch (err) {
    const stored = await provider.BackchannelAuthenticationRequest.find(authReqId, { ignoreExpiration: true });
    if (!stored || (!stored.grantId && !stored.error)) throw err;
    logger.warn({ clientId: stored.clientId, reason: outgoingFailureOf(err) ?? 'bad_status' }, 'phone channel: the ping to the client failed; the result waits for its token request');
  }
}
