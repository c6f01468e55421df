import type { DataSource } from 'typeorm';
import type { PhoneRequest } from '../../entities/index.js';
import { hasAal3Passkey } from '../passkeys/hasAal3Passkey.js';
import type { AttestationTrustStore } from '../passkeys/loadAttestationTrustStore.js';
import { ialFromProfile } from '../proofing/levels.js';
import { profileState } from '../proofing/verifiedProfiles.js';
import { clock } from '../shared/clock.js';
import { type AssuranceRequirement, requirementOf } from './acr.js';

export interface PhoneAssessment {
  requirement: AssuranceRequirement;
  /** What stops this person approving the request as it stands: they can only tell the agency they cannot. */
  blocker?: 'ial2' | 'aal3' | undefined;
  /** Identity assurance of the person now, for this request (verified_within, facial match). */
  ial: 1 | 2;
  facialMatch: boolean;
}

/** A person's identity assurance now, as this request measures it. */
export async function identityAssurance(opts: { ds: DataSource; accountId: string; request: Pick<PhoneRequest, 'acrValues' | 'verifiedWithin'> }): Promise<{ ial: 1 | 2; facialMatch: boolean }> {
  const requirement = requirementOf(opts.request.acrValues ?? undefined);
  const profile = await profileState({ db: opts.ds.manager, accountId: opts.accountId });
  const ial = ialFromProfile(profile, { now: clock.now(), verifiedWithinSeconds: opts.request.verifiedWithin ?? undefined, facialMatchRequired: requirement.facialMatch });
  return { ial, facialMatch: ial === 2 && !!profile.facialMatch };
}

/**
 * What a phone request asks for (its acr_values and verified_within) against what the person
 * has — the same assurance rules as a browser sign-in (src/oidc/assurancePolicy.ts): IAL2 needs
 * an active verified identity recent enough; AAL3 needs a passkey that meets it (the approval is
 * then made with that passkey). Every passkey meets AAL2, phishing-resistant.
 */
export async function assessPhoneRequest(opts: { ds: DataSource; trust: AttestationTrustStore; accountId: string; request: Pick<PhoneRequest, 'acrValues' | 'verifiedWithin'> }): Promise<PhoneAssessment> {
  const requirement = requirementOf(opts.request.acrValues ?? undefined);
  const { ial, facialMatch } = await identityAssurance(opts);
  let blocker: PhoneAssessment['blocker'];
  if ((requirement.ial ?? 1) > ial) blocker = 'ial2';
  else if ((requirement.aal ?? 1) >= 3 && !(await hasAal3Passkey({ db: opts.ds.manager, accountId: opts.accountId, trust: opts.trust }))) blocker = 'aal3';
  return { requirement, blocker, ial, facialMatch };
}
