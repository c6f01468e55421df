import { randomUUID } from 'node:crypto';
import { Account, Passkey } from '../../../entities/index.js';
import { createAccount } from '../../../src/accounts/createAccount.js';
import { CHALLENGE_TTL_SECONDS, type RelyingParty } from '../../../src/passkeys/challenges.js';
import { finishAuthentication } from '../../../src/passkeys/finishAuthentication.js';
import { finishRegistration } from '../../../src/passkeys/finishRegistration.js';
import { NO_ATTESTATION_TRUST } from '../../../src/passkeys/loadAttestationTrustStore.js';
import { startAuthentication } from '../../../src/passkeys/startAuthentication.js';
import { startRegistration } from '../../../src/passkeys/startRegistration.js';
import { clock } from '../../../src/shared/clock.js';
import { createTestDb, type TestDb } from '../../support/db.js';
import { SoftAuthenticator } from '../../support/softAuthenticator.js';

/**
 * The four WebAuthn ceremony steps against a real database, with a software authenticator in
 * place of browser + device. Each test makes its own account, authenticator and binding ids.
 */

const rp: RelyingParty = { rpId: 'localhost', rpName: 'OneDoor', origin: 'http://localhost:3000' };

type AssertionKnobs = Omit<Parameters<SoftAuthenticator['getAssertion']>[0], 'options'>;
type AttestationKnobs = Omit<Parameters<SoftAuthenticator['createCredential']>[0], 'options'>;

let testDb: TestDb;
const db = () => testDb.ds.manager;

beforeAll(async () => { testDb = await createTestDb(); });
afterAll(async () => { await testDb?.close(); });
afterEach(() => { clock.reset(); });

function newAuthenticator(opts: { backupEligible?: boolean; backedUp?: boolean } = {}): SoftAuthenticator {
  return new SoftAuthenticator({ origin: rp.origin, rpId: rp.rpId, ...opts });
}

/** Runs a registration ceremony for a new account id; the passkey is verified but not saved. */
async function register({ authenticator, accountId = randomUUID(), knobs = {} }: { authenticator: SoftAuthenticator; accountId?: string; knobs?: AttestationKnobs }) {
  const bindingId = randomUUID();
  const options = await startRegistration({ db: db(), rp, bindingId, accountId, userName: `${accountId}@example.com`, userDisplayName: 'Test Person' });
  const response = authenticator.createCredential({ options, ...knobs });
  const result = await finishRegistration({ db: db(), rp, bindingId, response, name: 'Laptop', trust: NO_ATTESTATION_TRUST });
  return { accountId, bindingId, response, result };
}

/**
 * A person with an account and one passkey on `authenticator`. By default the account row is
 * inserted directly (so the passkey has never been used); `viaCreateAccount` goes through
 * createAccount as sign-up does.
 */
async function signUp({ authenticator = newAuthenticator(), viaCreateAccount = false }: { authenticator?: SoftAuthenticator; viaCreateAccount?: boolean } = {}) {
  const { accountId, result } = await register({ authenticator });
  if (!result.ok) throw new Error(`registration failed: ${result.reason}`);
  const { passkey } = result;
  if (viaCreateAccount) {
    const created = await testDb.ds.transaction((m) => createAccount({ db: m, pepper: 'test-pepper', email: `${accountId}@example.com`, passkey, locale: 'en' }));
    if (!created.ok) throw new Error(`createAccount failed: ${created.reason}`);
  } else {
    const now = clock.now();
    await db().getRepository(Account).insert({
      id: accountId, email: `${accountId}@example.com`, status: 'active', emailConfirmedAt: now,
      failedAttempts: 0, lockedUntil: null, locale: 'en', createdAt: now,
    });
    await db().getRepository(Passkey).insert(passkey);
  }
  return { accountId, authenticator, passkeyId: passkey.id };
}

/** Runs an authentication ceremony; `accountId` names the account (email-first), else discoverable. */
async function signIn({ authenticator, accountId, bindingId = randomUUID(), knobs = {} }: { authenticator: SoftAuthenticator; accountId?: string; bindingId?: string; knobs?: AssertionKnobs }) {
  const options = await startAuthentication({ db: db(), rp, bindingId, accountId });
  const response = authenticator.getAssertion({ options, ...knobs });
  return finishAuthentication({ db: db(), rp, bindingId, response });
}

const passkeyRow = (id: string) => db().getRepository(Passkey).findOneByOrFail({ id });
const accountRow = (id: string) => db().getRepository(Account).findOneByOrFail({ id });

describe('registration', () => {
  test('when the authenticator verifies the user, then the passkey is returned for the account that started the ceremony', async () => {
    const authenticator = newAuthenticator();
    const { accountId, response, result } = await register({ authenticator });
    expect(result).toMatchObject({ ok: true, accountId });
    if (!result.ok) return;
    expect(result.passkey).toMatchObject({
      id: response.id, accountId, signCount: 0, name: 'Laptop', lastUsedAt: null,
      aaguid: '00000000-0000-0000-0000-000000000000',
    });
    expect(JSON.parse(result.passkey.transports)).toEqual(['internal', 'hybrid']);
    expect(result.passkey.publicKey).toBe(authenticator.publicKeyOf({ credentialId: response.id }));
    // Not saved: the caller saves it with the account change it belongs to.
    expect(await db().getRepository(Passkey).existsBy({ id: response.id })).toBe(false);
  });

  test('when the authenticator sets BE (and BS), then backupEligible and backedUp are stored true', async () => {
    const { passkeyId } = await signUp({ authenticator: newAuthenticator({ backupEligible: true, backedUp: true }) });
    expect(await passkeyRow(passkeyId)).toMatchObject({ backupEligible: true, backedUp: true });
  });

  test('when the authenticator does not set BE, then backupEligible and backedUp are stored false', async () => {
    const { passkeyId } = await signUp({ authenticator: newAuthenticator() });
    expect(await passkeyRow(passkeyId)).toMatchObject({ backupEligible: false, backedUp: false });
  });

  test('when the user was not verified (UV off), then registration fails with not_verified', async () => {
    const { result } = await register({ authenticator: newAuthenticator(), knobs: { userVerified: false } });
    expect(result).toEqual({ ok: false, reason: 'not_verified' });
  });

  test('when the user was not present (UP off), then registration fails with not_verified', async () => {
    const { result } = await register({ authenticator: newAuthenticator(), knobs: { userPresent: false } });
    expect(result).toEqual({ ok: false, reason: 'not_verified' });
  });

  test('when the response comes from another origin, then registration fails with not_verified', async () => {
    const { result } = await register({ authenticator: newAuthenticator(), knobs: { origin: 'https://evil.example' } });
    expect(result).toEqual({ ok: false, reason: 'not_verified' });
  });

  test('when the credential is scoped to another RP ID, then registration fails with not_verified', async () => {
    const { result } = await register({ authenticator: newAuthenticator(), knobs: { rpId: 'evil.example' } });
    expect(result).toEqual({ ok: false, reason: 'not_verified' });
  });

  test('when the same registration response is submitted twice, then the second fails with no_challenge', async () => {
    const { bindingId, response, result } = await register({ authenticator: newAuthenticator() });
    expect(result.ok).toBe(true);
    const again = await finishRegistration({ db: db(), rp, bindingId, response, name: 'Laptop', trust: NO_ATTESTATION_TRUST });
    expect(again).toEqual({ ok: false, reason: 'no_challenge' });
  });

  test('when the registration challenge has expired, then registration fails with no_challenge', async () => {
    const authenticator = newAuthenticator();
    const accountId = randomUUID();
    const bindingId = randomUUID();
    const options = await startRegistration({ db: db(), rp, bindingId, accountId, userName: 'x@example.com', userDisplayName: 'X' });
    const response = authenticator.createCredential({ options });
    clock.advance((CHALLENGE_TTL_SECONDS + 1) * 1000);
    expect(await finishRegistration({ db: db(), rp, bindingId, response, name: 'Laptop', trust: NO_ATTESTATION_TRUST })).toEqual({ ok: false, reason: 'no_challenge' });
  });

  test('when the account already has a passkey on this authenticator, then the options exclude it and the authenticator refuses', async () => {
    const { accountId, authenticator, passkeyId } = await signUp();
    const options = await startRegistration({ db: db(), rp, bindingId: randomUUID(), accountId, userName: 'x@example.com', userDisplayName: 'X' });
    expect(options.excludeCredentials?.map((c) => c.id)).toEqual([passkeyId]);
    expect(() => authenticator.createCredential({ options })).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
  });
});

describe('authentication', () => {
  test('when a registered passkey signs the challenge, then sign-in succeeds and the sign count and last use are saved', async () => {
    const { accountId, authenticator, passkeyId } = await signUp();
    expect((await passkeyRow(passkeyId)).lastUsedAt).toBeNull();
    const before = clock.nowMs();

    const result = await signIn({ authenticator });
    expect(result).toMatchObject({ ok: true, accountId });
    if (!result.ok) return;
    expect(result.passkey).toMatchObject({ id: passkeyId, signCount: 1 });
    const row = await passkeyRow(passkeyId);
    expect(row.signCount).toBe(1);
    expect(row.lastUsedAt).toBeInstanceOf(Date);
    expect(row.lastUsedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    // Email-first: the account is named and only its passkeys are allowed.
    const named = await signIn({ authenticator, accountId });
    expect(named).toMatchObject({ ok: true, accountId });
    expect((await passkeyRow(passkeyId)).signCount).toBe(2);
  });

  test('when the account is named, then the options allow exactly its passkeys', async () => {
    const { accountId, passkeyId } = await signUp();
    const options = await startAuthentication({ db: db(), rp, bindingId: randomUUID(), accountId });
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([passkeyId]);
    expect(options.userVerification).toBe('required');
    expect(options.rpId).toBe(rp.rpId);
  });

  test('when the response comes from another origin, then sign-in fails with not_verified', async () => {
    const { accountId, authenticator } = await signUp();
    expect(await signIn({ authenticator, knobs: { origin: 'https://evil.example' } })).toEqual({ ok: false, reason: 'not_verified', accountId });
  });

  test('when the assertion is for another RP ID, then sign-in fails with not_verified', async () => {
    const { accountId, authenticator } = await signUp();
    expect(await signIn({ authenticator, knobs: { rpId: 'evil.example' } })).toEqual({ ok: false, reason: 'not_verified', accountId });
  });

  test('when the same response is submitted twice, then the second fails with no_challenge', async () => {
    const { accountId, authenticator } = await signUp();
    const bindingId = randomUUID();
    const options = await startAuthentication({ db: db(), rp, bindingId });
    const response = authenticator.getAssertion({ options });
    expect(await finishAuthentication({ db: db(), rp, bindingId, response })).toMatchObject({ ok: true, accountId });
    expect(await finishAuthentication({ db: db(), rp, bindingId, response })).toEqual({ ok: false, reason: 'no_challenge' });
  });

  test('when a response for one binding is submitted under another, then it fails and the other binding keeps its challenge', async () => {
    const { accountId, authenticator } = await signUp();
    const bindingA = randomUUID();
    const bindingB = randomUUID();
    const optionsA = await startAuthentication({ db: db(), rp, bindingId: bindingA });
    const optionsB = await startAuthentication({ db: db(), rp, bindingId: bindingB });
    const responseA = authenticator.getAssertion({ options: optionsA });

    expect(await finishAuthentication({ db: db(), rp, bindingId: bindingB, response: responseA })).toEqual({ ok: false, reason: 'not_verified', accountId });
    // B's challenge is burnt by the failed attempt; A's is untouched.
    const responseB = authenticator.getAssertion({ options: optionsB });
    expect(await finishAuthentication({ db: db(), rp, bindingId: bindingB, response: responseB })).toEqual({ ok: false, reason: 'no_challenge' });
    expect(await finishAuthentication({ db: db(), rp, bindingId: bindingA, response: authenticator.getAssertion({ options: optionsA }) })).toMatchObject({ ok: true, accountId });
  });

  test('when a binding has no challenge, then a response for another binding fails with no_challenge', async () => {
    const { authenticator } = await signUp();
    const options = await startAuthentication({ db: db(), rp, bindingId: randomUUID() });
    const response = authenticator.getAssertion({ options });
    expect(await finishAuthentication({ db: db(), rp, bindingId: randomUUID(), response })).toEqual({ ok: false, reason: 'no_challenge' });
  });

  test('when the response carries a challenge the server never issued, then sign-in fails with not_verified', async () => {
    const { accountId, authenticator } = await signUp();
    expect(await signIn({ authenticator, knobs: { challengeOverride: Buffer.from('not-the-challenge').toString('base64url') } }))
      .toEqual({ ok: false, reason: 'not_verified', accountId });
  });

  test('when the user was not verified (UV off), then sign-in fails with not_verified', async () => {
    const { accountId, authenticator } = await signUp();
    expect(await signIn({ authenticator, knobs: { userVerified: false } })).toEqual({ ok: false, reason: 'not_verified', accountId });
  });

  test('when the user was not present (UP off), then sign-in fails with not_verified', async () => {
    const { accountId, authenticator } = await signUp();
    expect(await signIn({ authenticator, knobs: { userPresent: false } })).toEqual({ ok: false, reason: 'not_verified', accountId });
  });

  test('when the signature is bad, then sign-in fails with not_verified and the sign count is unchanged', async () => {
    const { accountId, authenticator, passkeyId } = await signUp();
    expect(await signIn({ authenticator, knobs: { badSignature: true } })).toEqual({ ok: false, reason: 'not_verified', accountId });
    expect(await passkeyRow(passkeyId)).toMatchObject({ signCount: 0, lastUsedAt: null });
  });

  test('when a cloned credential is used once from each copy, then the second (equal sign count) fails', async () => {
    const { accountId, authenticator, passkeyId } = await signUp();
    const clone = newAuthenticator();
    clone.importCredential({ credential: authenticator.exportCredential({ credentialId: passkeyId }) });

    expect(await signIn({ authenticator })).toMatchObject({ ok: true, accountId });
    expect(await signIn({ authenticator: clone })).toEqual({ ok: false, reason: 'not_verified', accountId });
    expect((await passkeyRow(passkeyId)).signCount).toBe(1);
  });

  test('when the sign count goes backwards, then sign-in fails with not_verified', async () => {
    const { accountId, authenticator, passkeyId } = await signUp();
    expect(await signIn({ authenticator, knobs: { counter: 5 } })).toMatchObject({ ok: true, accountId });
    expect(await signIn({ authenticator, knobs: { counter: 4 } })).toEqual({ ok: false, reason: 'not_verified', accountId });
    expect(await signIn({ authenticator, knobs: { counter: 0 } })).toEqual({ ok: false, reason: 'not_verified', accountId });
    expect((await passkeyRow(passkeyId)).signCount).toBe(5);
  });

  test('when the authenticator does not count signatures (always 0), then each assertion is accepted', async () => {
    const { accountId, authenticator, passkeyId } = await signUp();
    expect(await signIn({ authenticator, knobs: { counter: 0 } })).toMatchObject({ ok: true, accountId });
    expect(await signIn({ authenticator, knobs: { counter: 0 } })).toMatchObject({ ok: true, accountId });
    expect((await passkeyRow(passkeyId)).signCount).toBe(0);
  });

  test('when the challenge named an account and another account\'s passkey answers, then sign-in fails with wrong_account', async () => {
    const alice = await signUp();
    const bob = await signUp();
    const result = await signIn({ authenticator: bob.authenticator, accountId: alice.accountId, knobs: { credentialId: bob.passkeyId } });
    expect(result).toEqual({ ok: false, reason: 'wrong_account' });
    expect((await passkeyRow(bob.passkeyId)).signCount).toBe(0);
  });

  test('when the credential is not registered, then sign-in fails with unknown_credential', async () => {
    const authenticator = newAuthenticator();
    // Verified, but never saved to an account.
    const { result } = await register({ authenticator });
    expect(result.ok).toBe(true);
    expect(await signIn({ authenticator })).toEqual({ ok: false, reason: 'unknown_credential' });
  });

  test('when the challenge has expired, then sign-in fails with no_challenge', async () => {
    const { authenticator } = await signUp();
    const bindingId = randomUUID();
    const options = await startAuthentication({ db: db(), rp, bindingId });
    const response = authenticator.getAssertion({ options });
    clock.advance((CHALLENGE_TTL_SECONDS + 1) * 1000);
    expect(await finishAuthentication({ db: db(), rp, bindingId, response })).toEqual({ ok: false, reason: 'no_challenge' });
  });

  test('when the challenge is just inside its lifetime, then sign-in succeeds', async () => {
    const { accountId, authenticator } = await signUp();
    const bindingId = randomUUID();
    const options = await startAuthentication({ db: db(), rp, bindingId });
    const response = authenticator.getAssertion({ options });
    clock.advance((CHALLENGE_TTL_SECONDS - 5) * 1000);
    expect(await finishAuthentication({ db: db(), rp, bindingId, response })).toMatchObject({ ok: true, accountId });
  });

  test('when a hundred and ten verifications fail, then the account counts none of them and its valid passkey still signs in at once', async () => {
    const { accountId, authenticator } = await signUp({ viaCreateAccount: true });
    for (let i = 0; i < 110; i += 1) {
      const knobs = [{ badSignature: true }, { userVerified: false }, { userPresent: false }][i % 3]!;
      expect(await signIn({ authenticator, knobs })).toEqual({ ok: false, reason: 'not_verified', accountId });
    }
    // An assertion cannot be guessed: failures are counted per source by the pages, never here.
    expect(await accountRow(accountId)).toMatchObject({ failedAttempts: 0, lockedUntil: null });
    expect(await signIn({ authenticator })).toMatchObject({ ok: true, accountId });
    expect(await signIn({ authenticator, accountId })).toMatchObject({ ok: true, accountId });
  });

  test('when the account\'s recovery codes are paused after wrong codes, then its passkey still signs in and leaves the pause alone', async () => {
    const { accountId, authenticator } = await signUp({ viaCreateAccount: true });
    const until = new Date(clock.nowMs() + 24 * 3600 * 1000);
    await db().getRepository(Account).update({ id: accountId }, { failedAttempts: 100, lockedUntil: until });
    expect(await signIn({ authenticator })).toMatchObject({ ok: true, accountId });
    // A passkey sign-in does not hand a guesser a fresh hundred recovery-code tries.
    expect(await accountRow(accountId)).toMatchObject({ failedAttempts: 100, lockedUntil: until });
  });
});
