import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { Passkey } from '../../entities/index.js';
import { listOwnGrants } from '../accounts/listOwnGrants.js';
import type { DelegationDeps } from '../delegation/manageDelegations.js';
import { delegationsForHelperAt } from '../delegation/peopleToActFor.js';
import { noteFirstUse } from '../delegation/noteFirstUse.js';
import type { AttestationTrustStore } from '../passkeys/loadAttestationTrustStore.js';
import { passkeyAmr, passkeyAssurance } from '../passkeys/passkeyAssurance.js';
import { answerPhoneRequest } from '../phone/answerPhoneRequest.js';
import { clock } from '../shared/clock.js';
import { chooseAcr } from './acr.js';
import { identityAssurance } from './assessPhoneRequest.js';
import { deliverPhoneResult } from './deliverPhoneResult.js';
import { grantForDelegation } from './grantForDelegation.js';
import { reviewPhoneRequest } from './reviewPhoneRequest.js';

export type ApprovePhoneRequestResult =
  | { ok: true; clientName: string }
  | { ok: false; reason: 'not_found' | 'closed' | 'not_delegable' | 'ial2' | 'aal3' };

/** The person's own consent for this agency (never a grant a helper holds for someone else), with what they approved added. */
async function ownGrantWith(opts: { provider: Provider; ds: DataSource; accountId: string; clientId: string; scopes: string[]; claims: string[] }): Promise<string> {
  const { provider, accountId, clientId } = opts;
  const own = (await listOwnGrants({ db: opts.ds, accountId, clientId }))[0];
  const found = own ? await provider.Grant.find(own.id) : undefined;
  const grant = found && found.accountId === accountId && found.clientId === clientId ? found : new provider.Grant({ accountId, clientId });
  grant.addOIDCScope(opts.scopes.join(' '));
  if (opts.claims.length) grant.addOIDCClaims(opts.claims);
  return grant.save();
}

/**
 * The person approves an agency's phone request with the passkey they just used (`passkey`, its
 * assertion verified for `accountId` by the caller): as themself, or — at an agency that enabled
 * delegation — for a person they help (`actor` = that delegation's id). The same rules as a
 * browser sign-in: IAL2 needs the person (and the person helped) verified now, AAL3 needs this
 * passkey to meet it, a delegated grant holds only what the delegation allows and is never the
 * helper's own. The agency then receives tokens with `acr` for what was met, `amr` of this
 * passkey and `auth_time` now.
 */
export async function approvePhoneRequest(opts: {
  provider: Provider; ds: DataSource; trust: AttestationTrustStore; delegationDeps: DelegationDeps;
  accountId: string; requestId: string; actor: string; passkey: Passkey;
}): Promise<ApprovePhoneRequestResult> {
  const { provider, ds, trust, accountId } = opts;
  const reviewed = await reviewPhoneRequest({ provider, ds, trust, accountId, requestId: opts.requestId });
  if (!reviewed.ok) return { ok: false, reason: reviewed.reason };
  const { view } = reviewed;
  const { requirement } = view.assessment;
  let chosen: Awaited<ReturnType<typeof delegationsForHelperAt>>[number] | undefined;
  if (opts.actor !== 'self') {
    if (!view.people.some((p) => p.delegationId === opts.actor)) return { ok: false, reason: 'not_delegable' };
    chosen = (await delegationsForHelperAt({ db: ds.manager, helperId: accountId, clientId: view.clientId })).find((h) => h.delegation.id === opts.actor);
    if (!chosen) return { ok: false, reason: 'not_delegable' };
  }
  // Acting for someone: identity assurance is the weaker of the two people's; authentication is the approver's.
  const principal = chosen ? await identityAssurance({ ds, accountId: chosen.principal.id, request: view.measure }) : undefined;
  const ial = principal ? (Math.min(view.assessment.ial, principal.ial) as 1 | 2) : view.assessment.ial;
  if ((requirement.ial ?? 1) > ial) return { ok: false, reason: 'ial2' };
  const used = passkeyAssurance({ passkey: opts.passkey, trust });
  if ((requirement.aal ?? 1) > used.aal) return { ok: false, reason: 'aal3' };

  const answered = await ds.transaction((db) => answerPhoneRequest({ db, requestId: view.id, accountId, answer: 'approved', delegationId: chosen?.delegation.id }));
  if (!answered.ok) return answered;
  const { request } = answered;
  let grantId: string;
  if (chosen) {
    ({ grantId } = await grantForDelegation({ provider, ds, helperId: accountId, clientId: request.clientId, chosen, channel: 'phone', requestedScopes: view.scopes, requestedClaims: view.claims }));
    await noteFirstUse(opts.delegationDeps, { delegationId: chosen.delegation.id, principalId: chosen.principal.id, helperId: accountId, clientName: view.clientName });
  } else {
    grantId = await ownGrantWith({ provider, ds, accountId, clientId: request.clientId, scopes: view.scopes, claims: view.claims });
  }
  const achieved = { ial, aal: used.aal, phishingResistant: true, facialMatch: ial === 2 && view.assessment.facialMatch && (principal?.facialMatch ?? true) };
  await deliverPhoneResult({
    provider, authReqId: request.authReqId, result: grantId,
    authentication: { acr: chooseAcr(request.acrValues ?? undefined, achieved), amr: passkeyAmr({ passkey: opts.passkey, trust }), authTime: clock.epoch() },
  });
  return { ok: true, clientName: view.clientName };
}
