import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { Delegation } from '../../entities/index.js';
import { actorChoice } from './actorPolicy.js';
import { aalFromAmr, ialFromProfile, parseVerifiedWithin } from '../proofing/levels.js';
import { accountWithProfile } from '../accounts/accountWithProfile.js';
import { delegationLinkOf } from './delegatedAuthorization.js';
import { memoFor, seedMemo } from './requestMemo.js';
import { hasAal3Passkey } from '../passkeys/hasAal3Passkey.js';
import type { AttestationTrustStore } from '../passkeys/loadAttestationTrustStore.js';
import { clock } from '../shared/clock.js';
import { type AchievedAssurance, type AssuranceRequirement, chooseAcr, requirementOf } from './acr.js';
import { carryVerifiedWithin } from './tokenAssurance.js';

const { Check, Prompt } = interactionPolicy;

export interface Assessment {
  requirement: AssuranceRequirement;
  achieved: AchievedAssurance;
  /** The account has at least one passkey that meets AAL3 (an attested hardware security key): AAL3 is reachable. */
  hasAal3Passkey: boolean;
  /** The signed-in person's own IAL, and — when acting for someone — the principal's. */
  helperIal: 1 | 2;
  principalIal?: 1 | 2 | undefined;
}

/**
 * An account with its verified-profile state, read once per request in one statement. Given a
 * grant id, the same statement answers which delegation that grant is under (see delegationLinkOf
 * in delegatedAuthorization.ts), unless the request asked already.
 */
function accountAndProfileOf(ctx: object | undefined, ds: DataSource, accountId: string, grantId?: string) {
  return memoFor(ctx, `account:${accountId}`, async () => {
    const found = await accountWithProfile(ds, accountId, { grantId });
    if (found.delegationLink) seedMemo(ctx, delegationLinkKey(found.delegationLink.grantId), found.delegationLink.delegationId);
    return found;
  });
}

/** The request-memo key under which a grant's delegation link is kept. */
const delegationLinkKey = (grantId: string) => `delegation-link:${grantId}`;

/** The delegation a grant was made under (if any), once per request; the account read may already have answered it. */
export function delegationLinkIn(ctx: object | undefined, ds: DataSource, grantId: string): Promise<string | undefined> {
  return memoFor(ctx, delegationLinkKey(grantId), () => delegationLinkOf(ds, grantId));
}

/** An account (null when there is none), read once per request together with its profile state. */
export async function accountOf(ctx: object | undefined, ds: DataSource, accountId: string, opts: { grantId?: string | undefined } = {}) {
  return (await accountAndProfileOf(ctx, ds, accountId, opts.grantId)).account;
}

/** An account's verified-profile state, read once per request together with the account. */
export async function profileOf(ctx: object | undefined, ds: DataSource, accountId: string) {
  return (await accountAndProfileOf(ctx, ds, accountId)).profile;
}

/**
 * What this authorization asks for (acr_values, verified_within) against what the person has:
 * IAL from their verified profile, AAL from how this session was authenticated.
 */
export function assess(ctx: KoaContextWithOIDC, ds: DataSource, trust: AttestationTrustStore): Promise<Assessment> {
  // The prompt's details and each of its checks ask; oidc-provider may ask concurrently.
  return memoFor(ctx, 'assessment', () => computeAssessment(ctx, ds, trust));
}

async function computeAssessment(ctx: KoaContextWithOIDC, ds: DataSource, trust: AttestationTrustStore): Promise<Assessment> {
  const accountId = ctx.oidc.session!.accountId!;
  const requirement = requirementOf(ctx.oidc.params!['acr_values'] as string | undefined);
  const profile = await profileOf(ctx, ds, accountId);
  const ial = ialFromProfile(profile, {
    now: clock.now(),
    verifiedWithinSeconds: parseVerifiedWithin(ctx.oidc.params!['verified_within']),
    facialMatchRequired: requirement.facialMatch,
  });
  const aal3Passkey = await hasAal3Passkey({ db: ds.manager, accountId, trust });
  // A session's `hwk` counts only while the account has a passkey that meets AAL3 under the trust
  // store loaded now: a session signed in before attestation was checked, or with a model whose
  // root the operator has since removed, is AAL2 and an AAL3 request asks for the key again.
  const sessionAal = aalFromAmr(ctx.oidc.session!.amr as string[] | undefined);
  const aal = sessionAal === 3 && !aal3Passkey ? 2 : sessionAal;
  // Acting for someone: identity assurance is that of the weaker of the two people (both must
  // be verified for IAL2); authentication assurance is the helper's own.
  const delegationId = actorChoice(ctx)?.delegationId;
  let principalIal: 1 | 2 | undefined;
  // On legal authority, identity assurance is the representative's own (checked against the record).
  const d = delegationId ? await ds.getRepository(Delegation).findOneBy({ id: delegationId }) : null;
  if (delegationId && (!d || d.basis === 'consent')) {
    const principalProfile = d?.principalId ? await profileOf(ctx, ds, d.principalId) : {};
    principalIal = ialFromProfile(principalProfile, { now: clock.now(), verifiedWithinSeconds: parseVerifiedWithin(ctx.oidc.params!['verified_within']), facialMatchRequired: requirement.facialMatch });
  }
  const effectiveIal = principalIal ? (Math.min(ial, principalIal) as 1 | 2) : ial;
  return {
    requirement,
    achieved: { ial: effectiveIal, aal, phishingResistant: aal >= 2, facialMatch: effectiveIal === 2 && (profile.facialMatch ?? false) },
    hasAal3Passkey: aal3Passkey,
    helperIal: ial,
    principalIal,
  };
}

/**
 * The `assurance` prompt, after `login` and before `consent`: an agency asking for more than the
 * person has gets them taken through what is missing in the same authorization — identity
 * proofing for IAL2, an attested hardware security key for AAL3, a passkey after a recovery-code sign-in
 * for AAL2 — and the ID token's `acr` is always the level actually met.
 */
export function assurancePrompt(opts: { ds: DataSource; maxIalOf: (ctx: KoaContextWithOIDC) => number; trust: AttestationTrustStore }) {
  const { ds, trust } = opts;
  return new Prompt(
    { name: 'assurance', requestable: false },
    async (ctx) => {
      const a = await assess(ctx, ds, trust);
      return { requirement: a.requirement, achieved: a.achieved, hasAal3Passkey: a.hasAal3Passkey, helperIal: a.helperIal, principalIal: a.principalIal };
    },
    new Check('client_max_ial', 'requested assurance exceeds the client registration', async (ctx) => {
      const a = await assess(ctx, ds, trust);
      if ((a.requirement.ial ?? 1) > opts.maxIalOf(ctx)) throw new errors.InvalidRequest('acr_values ask for an identity assurance level this client is not registered for');
      return Check.NO_NEED_TO_PROMPT;
    }),
    new Check('ial2_required', 'identity verification is required', 'interaction_required', async (ctx) => {
      const a = await assess(ctx, ds, trust);
      return (a.requirement.ial ?? 1) > a.achieved.ial ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
    new Check('aal_required', 'stronger authentication is required', 'interaction_required', async (ctx) => {
      const a = await assess(ctx, ds, trust);
      const wanted = a.requirement.aal ?? (a.requirement.phishingResistant ? 2 : 1);
      return wanted > a.achieved.aal ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
    // Not a prompt: records in the session the acr this authorization will report.
    // Also carries `verified_within` into the tokens, which check it again at every use.
    new Check('acr', 'acr', async (ctx) => {
      const a = await assess(ctx, ds, trust);
      const acr = chooseAcr(ctx.oidc.params!['acr_values'] as string | undefined, a.achieved);
      if (ctx.oidc.session!.acr !== acr) ctx.oidc.session!.acr = acr;
      carryVerifiedWithin(ctx, parseVerifiedWithin(ctx.oidc.params!['verified_within']));
      return Check.NO_NEED_TO_PROMPT;
    }),
  );
}
