import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { PhoneRequest } from '../../entities/index.js';
import { delegationsForHelperAt } from '../delegation/peopleToActFor.js';
import type { AttestationTrustStore } from '../passkeys/loadAttestationTrustStore.js';
import { findPhoneRequest } from '../phone/findPhoneRequest.js';
import { assessPhoneRequest, identityAssurance, type PhoneAssessment } from './assessPhoneRequest.js';

export interface PhoneRequestView {
  id: string;
  clientId: string;
  clientName: string;
  bindingMessage: string;
  scopes: string[];
  claims: string[];
  expiresAt: Date;
  /** What the request measures assurance by (acr_values, verified_within). */
  measure: Pick<PhoneRequest, 'acrValues' | 'verifiedWithin'>;
  assessment: PhoneAssessment;
  /**
   * People this person may confirm for (the same choice as a browser sign-in's "who are you
   * signing in for?"): only at an agency that enabled delegation, through delegations that are
   * active and cover it. `meets`: the person helped has the identity assurance asked for too.
   */
  people: Array<{ delegationId: string; email: string; until: Date; meets: boolean }>;
}

export type ReviewPhoneRequestResult =
  | { ok: true; view: PhoneRequestView }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'closed'; status: PhoneRequest['status'] | 'expired'; clientName: string };

async function clientOf(provider: Provider, clientId: string) {
  const client = await provider.Client.find(clientId);
  return { exists: !!client, name: client?.clientName ?? clientId, delegationEnabled: (client?.metadata() as { delegation_enabled?: boolean } | undefined)?.delegation_enabled === true };
}

/** What the approval page shows a person about one of their phone requests (and whether they can still answer it). */
export async function reviewPhoneRequest(opts: { provider: Provider; ds: DataSource; trust: AttestationTrustStore; accountId: string; requestId: string }): Promise<ReviewPhoneRequestResult> {
  const { provider, ds, accountId } = opts;
  const found = await findPhoneRequest({ db: ds.manager, requestId: opts.requestId, accountId });
  if (!found.ok) return found;
  const { request } = found;
  const client = await clientOf(provider, request.clientId);
  // An agency whose client the operator removed can no longer receive an answer.
  if (!found.open || !client.exists) return { ok: false, reason: 'closed', status: request.status === 'pending' ? 'expired' : request.status, clientName: client.name };
  const assessment = await assessPhoneRequest({ ds, trust: opts.trust, accountId, request });
  const held = client.delegationEnabled ? await delegationsForHelperAt({ db: ds.manager, helperId: accountId, clientId: request.clientId }) : [];
  const wanted = assessment.requirement.ial ?? 1;
  const people = await Promise.all(held.map(async (h) => ({
    delegationId: h.delegation.id, email: h.principal.email, until: h.delegation.endsAt,
    meets: (await identityAssurance({ ds, accountId: h.principal.id, request })).ial >= wanted,
  })));
  return {
    ok: true,
    view: {
      id: request.id, clientId: request.clientId, clientName: client.name, bindingMessage: request.bindingMessage ?? '',
      scopes: (request.scope ?? '').split(' ').filter(Boolean), claims: JSON.parse(request.claims ?? '[]') as string[],
      expiresAt: request.expiresAt, measure: { acrValues: request.acrValues, verifiedWithin: request.verifiedWithin }, assessment, people,
    },
  };
}
