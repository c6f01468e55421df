import { Account } from './Account.js';
import { AuditEvent } from './AuditEvent.js';
import { DelegatedGrant } from './DelegatedGrant.js';
import { Delegation } from './Delegation.js';
import { DelegationEvent } from './DelegationEvent.js';
import { EmailConfirmation } from './EmailConfirmation.js';
import { OidcClient } from './OidcClient.js';
import { OidcPayload } from './OidcPayload.js';
import { PairwiseSubject } from './PairwiseSubject.js';
import { Passkey } from './Passkey.js';
import { ProofingImage } from './ProofingImage.js';
import { PhoneRequest } from './PhoneRequest.js';
import { ProofingSession } from './ProofingSession.js';
import { VerifiedProfile } from './VerifiedProfile.js';
import { RecoveryCode } from './RecoveryCode.js';
import { Representation } from './Representation.js';
import { RepresentedPerson } from './RepresentedPerson.js';
import { SecurityEventDelivery } from './SecurityEventDelivery.js';
import { WebAuthnChallenge } from './WebAuthnChallenge.js';

export { Account, AuditEvent, DelegatedGrant, Delegation, DelegationEvent, EmailConfirmation, OidcClient, OidcPayload, PairwiseSubject, Passkey, PhoneRequest, ProofingImage, ProofingSession, RecoveryCode, Representation, RepresentedPerson, SecurityEventDelivery, VerifiedProfile, WebAuthnChallenge };

export const entities = [Account, AuditEvent, DelegatedGrant, Delegation, DelegationEvent, EmailConfirmation, OidcClient, OidcPayload, PairwiseSubject, Passkey, PhoneRequest, ProofingImage, ProofingSession, RecoveryCode, Representation, RepresentedPerson, SecurityEventDelivery, VerifiedProfile, WebAuthnChallenge];
