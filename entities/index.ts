import { Account } from './Account.js';
import { AuditEvent } from './AuditEvent.js';
import { EmailConfirmation } from './EmailConfirmation.js';
import { OidcClient } from './OidcClient.js';
import { OidcPayload } from './OidcPayload.js';
import { Passkey } from './Passkey.js';
import { RecoveryCode } from './RecoveryCode.js';
import { WebAuthnChallenge } from './WebAuthnChallenge.js';

export { Account, AuditEvent, EmailConfirmation, OidcClient, OidcPayload, Passkey, RecoveryCode, WebAuthnChallenge };

export const entities = [Account, AuditEvent, EmailConfirmation, OidcClient, OidcPayload, Passkey, RecoveryCode, WebAuthnChallenge];
