import { Initial1764150000000 } from './1764150000000-Initial.js';
import { Proofing1764160000000 } from './1764160000000-Proofing.js';

/** Every migration, in order. Both SQLite and MySQL run the same list. */
export const migrations = [Initial1764150000000, Proofing1764160000000];
