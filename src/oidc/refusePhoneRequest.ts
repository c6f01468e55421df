import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { answerPhoneRequest } from '../phone/answerPhoneRequest.js';
import { deliverPhoneResult } from './deliverPhoneResult.js';

export type PhoneRefusal = 'denied' | 'not_me' | 'unmet';

/** What the agency's next poll says for each refusal (CIBA Core §11; OIDC Core §3.1.2.6). */
const RESULTS: Record<PhoneRefusal, () => errors.OIDCProviderError> = {
  denied: () => new errors.AccessDenied('the person declined the request'),
  // Distinct words for the agency's fraud checks: the person says nobody from the agency called them.
  not_me: () => new errors.AccessDenied('the person says they are not on a call with your agency'),
  unmet: () => new errors.UnmetAuthenticationRequirements('the person cannot meet the requested authentication requirements now'),
};

export type RefusePhoneRequestResult = { ok: true; clientName: string } | { ok: false; reason: 'not_found' | 'closed' };

/**
 * The person refuses one of their open phone requests: declines it, says they did not call
 * (which also refuses that agency's phone requests to them for a day: src/phone/admitPhoneRequest.ts),
 * or tells the agency they cannot give what it asked for (identity verification, a security key).
 * Each is in their history, and the agency hears it at its next poll (or ping).
 */
export async function refusePhoneRequest(opts: { provider: Provider; ds: DataSource; accountId: string; requestId: string; answer: PhoneRefusal }): Promise<RefusePhoneRequestResult> {
  const answered = await opts.ds.transaction((db) => answerPhoneRequest({ db, requestId: opts.requestId, accountId: opts.accountId, answer: opts.answer }));
  if (!answered.ok) return answered;
  const { request } = answered;
  await deliverPhoneResult({ provider: opts.provider, authReqId: request.authReqId, result: RESULTS[opts.answer]() });
  return { ok: true, clientName: (await opts.provider.Client.find(request.clientId))?.clientName ?? request.clientId };
}
