import { Initial1764150000000 } from './1764150000000-Initial.js';
import { Proofing1764160000000 } from './1764160000000-Proofing.js';
import { Delegation1764170000000 } from './1764170000000-Delegation.js';
import { AccountOperations1764180000000 } from './1764180000000-AccountOperations.js';
import { RateLimits1764190000000 } from './1764190000000-RateLimits.js';
import { ProofingImages1764200000000 } from './1764200000000-ProofingImages.js';
import { PasskeyAttestation1764220000000 } from './1764220000000-PasskeyAttestation.js';
import { RecoveryAlerts1764230000000 } from './1764230000000-RecoveryAlerts.js';
import { PhoneChannel1764300000000 } from './1764300000000-PhoneChannel.js';
import { Representation1764400000000 } from './1764400000000-Representation.js';

/** Every migration, in order. Both SQLite and MySQL run the same list. */
export const migrations = [
  Initial1764150000000, Proofing1764160000000, Delegation1764170000000, AccountOperations1764180000000, RateLimits1764190000000,
  ProofingImages1764200000000, PasskeyAttestation1764220000000, RecoveryAlerts1764230000000, PhoneChannel1764300000000, Representation1764400000000,
];
