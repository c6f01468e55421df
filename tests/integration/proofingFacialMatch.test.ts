import { randomBytes } from 'node:crypto';
import { ProofingImage, ProofingSession, VerifiedProfile } from '../../entities/index.js';
import { MAX_IMAGE_BYTES } from '../../src/proofing/documents/measureImage.js';
import { createSandboxFaces } from '../../src/proofing/vendors/sandboxFaces.js';
import type { FacialMatcher } from '../../src/proofing/vendors/ports.js';
import { documentFrontImage } from '../support/aamva.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import type { Agent } from '../support/agent.js';
import { interactionUid } from '../support/flows.js';
import { documentImages, newPerson, postDocument, postSelfie, startVerification, verifyIdentity } from '../support/proofingFlow.js';
import { runCli } from '../support/runCli.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * The facial match compares the selfie with the front of the ID checked in the document step,
 * kept sealed until then (security review, issue 16, finding 4).
 *
 * The sandbox face matcher decides by the selfie alone, so it cannot tell one portrait from
 * another. Here it is wrapped by a matcher that compares faces, as a real vendor does: a
 * portrait carries its face as a marker (`FACE:<name>;` after a real PNG), and a selfie
 * matches a front showing the same face. It records what it was sent.
 */
const sent: Array<{ selfie: Buffer; documentFront: Buffer }> = [];
const faceOf = (image: Buffer) => /FACE:([a-z]+);/.exec(image.toString('latin1', Math.max(0, image.length - 64)))?.[1];
function comparingFaces(sandbox: FacialMatcher): FacialMatcher {
  return {
    async match(input) {
      sent.push(input);
      const verdict = await sandbox.match(input);
      if (!verdict.ok) return verdict;
      return faceOf(input.selfie) !== undefined && faceOf(input.selfie) === faceOf(input.documentFront) ? verdict : { ok: false, reason: 'no_match' };
    },
  };
}
const portrait = (face: string, padding = Buffer.alloc(0)) => Buffer.concat([documentFrontImage(), padding, Buffer.from(`FACE:${face};`)]);

let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  server = await startTestServer({ vendors: (sandbox) => ({ ...sandbox, faces: comparingFaces(createSandboxFaces()) }) });
  agency = await registerAgency(server, { clientId: 'benefits', extra: { max_ial: 2 } });
});
afterAll(async () => { await server.close(); });
afterEach(() => { sent.length = 0; });

/** The uid of an authorization at the agency that asks for a verified identity with a facial match. */
async function facialMatchAsked(agent: Agent): Promise<string> {
  const auth = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified-facial-match-required' });
  return interactionUid((await agent.follow(auth.url, server.url)).url);
}

/** A person whose agency asks for a facial match, at the document step. */
async function atDocumentStep() {
  const p = await newPerson(server, agency);
  await startVerification(p.agent, server, await facialMatchAsked(p.agent));
  return p;
}

const keptParts = (accountId: string) => server.ds.getRepository(ProofingImage).find({ where: { accountId }, order: { part: 'ASC' } });
const next = async (agent: Agent) => (await agent.request(`${server.url}/verify`)).headers.get('location');

describe('the selfie is compared with the ID checked in the document step', () => {
  test('when an attacker sends another portrait and a selfie matching it (the old two-file form), then the selfie is compared with the checked ID\'s front and does not match', async () => {
    const p = await atDocumentStep();
    expect((await postDocument(p.agent, server, await documentImages(undefined, portrait('victim')))).status).toBe(303);
    expect(await next(p.agent)).toBe('/verify/facial-match');
    const res = await postSelfie(p.agent, server, portrait('mallory'), { front: portrait('mallory') });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('The photo of your face did not match the photo on your ID.');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.documentFront.equals(portrait('victim'))).toBe(true);
    expect(sent[0]!.selfie.equals(portrait('mallory'))).toBe(true);
    expect(await next(p.agent)).toBe('/verify/facial-match');
  });

  test('when the person\'s selfie is sent, then it matches the front kept from the document step, byte for byte, and that front is deleted', async () => {
    const p = await atDocumentStep();
    const front = portrait('jane');
    await postDocument(p.agent, server, await documentImages(undefined, front));
    const kept = await keptParts(p.accountId);
    expect(kept.length).toBe(1);
    // Sealed: the photo is not in the row.
    expect(kept[0]!.data.includes(Buffer.from('FACE:jane;'))).toBe(false);
    expect(kept[0]!.data.includes(documentFrontImage().subarray(0, 64))).toBe(false);
    expect((await postSelfie(p.agent, server, portrait('jane'))).status).toBe(303);
    expect(sent.map((s) => s.documentFront.equals(front))).toEqual([true]);
    expect(await keptParts(p.accountId)).toEqual([]);
    expect(await next(p.agent)).toBe('/verify/ssn');
  });

  test('when the facial-match page is shown, then it asks only for the selfie; a form without one is refused, naming it', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages(undefined, portrait('jane')));
    const { html } = await p.agent.page(`${server.url}/verify/facial-match`);
    const fileInputs = [...html.matchAll(/<input[^>]*type="file"[^>]*>/g)].map((m) => /name="(\w+)"/.exec(m[0])![1]);
    expect(fileInputs).toEqual(['selfie']);
    const res = await postSelfie(p.agent, server, Buffer.alloc(0), { front: portrait('jane') });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Add a photo of your face.');
    expect(sent).toEqual([]);
  });

  test('when a new document is checked, then its front replaces the kept one', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages(undefined, portrait('first')));
    await p.agent.page(`${server.url}/verify/document`);
    await postDocument(p.agent, server, await documentImages(undefined, portrait('second')));
    expect(await keptParts(p.accountId)).toHaveLength(1);
    expect((await postSelfie(p.agent, server, portrait('first'))).status).toBe(400);
    expect((await postSelfie(p.agent, server, portrait('second'))).status).toBe(303);
    expect(sent.map((s) => faceOf(s.documentFront))).toEqual(['second', 'second']);
  });

  test('when the front is a photo of nearly 15 MB, then it is kept in parts and comes back byte for byte (MySQL\'s packet limit)', async () => {
    const p = await atDocumentStep();
    const front = portrait('jane', randomBytes(MAX_IMAGE_BYTES - documentFrontImage().length - 1024));
    expect((await postDocument(p.agent, server, await documentImages(undefined, front))).status).toBe(303);
    expect((await keptParts(p.accountId)).map((r) => r.part)).toEqual([...Array(15).keys()]);
    expect((await postSelfie(p.agent, server, portrait('jane'))).status).toBe(303);
    expect(sent[0]!.documentFront.equals(front)).toBe(true);
    expect(await keptParts(p.accountId)).toEqual([]);
  });
});

describe('the kept front is deleted with the proofing', () => {
  test('when the person abandons before the facial match, then the kept front is deleted', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages(undefined, portrait('jane')));
    expect(await keptParts(p.accountId)).toHaveLength(1);
    await p.agent.request(`${server.url}/verify/abandon`, { method: 'POST', form: {} });
    expect(await keptParts(p.accountId)).toEqual([]);
  });

  test('when the account is deleted before the facial match, then the kept front is deleted', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages(undefined, portrait('jane')));
    expect(await keptParts(p.accountId)).toHaveLength(1);
    expect(await runCli(server, ['accounts', 'delete', p.accountId, '--yes'])).toMatchObject({ code: 0 });
    expect(await keptParts(p.accountId)).toEqual([]);
  });

  test('when proofing completes with a facial match, then no photo is left and the profile says facial match', async () => {
    const p = await newPerson(server, agency);
    const uid = await facialMatchAsked(p.agent);
    await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator, returnUid: uid, front: portrait('jane'), selfie: portrait('jane') });
    expect(await keptParts(p.accountId)).toEqual([]);
    expect(await server.ds.getRepository(ProofingSession).countBy({ accountId: p.accountId })).toBe(0);
    expect(await server.ds.getRepository(VerifiedProfile).findOneByOrFail({ accountId: p.accountId })).toMatchObject({ facialMatch: true });
    expect(sent.map((s) => faceOf(s.documentFront))).toEqual(['jane']);
  });

  test('when an agency does not ask for a facial match, then no front is kept', async () => {
    const p = await newPerson(server, agency);
    await startVerification(p.agent, server);
    expect((await postDocument(p.agent, server, await documentImages(undefined, portrait('jane')))).status).toBe(303);
    expect(await keptParts(p.accountId)).toEqual([]);
  });
});

describe('a facial match without a kept front', () => {
  test('when an agency asks for a facial match after the document step was done without one, then the person adds their ID again (and what built on it) before the facial match', async () => {
    const p = await newPerson(server, agency);
    await startVerification(p.agent, server);
    await postDocument(p.agent, server, await documentImages(undefined, portrait('old')));
    await p.agent.page(`${server.url}/verify/ssn`);
    expect((await p.agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: '123-45-6789', dob_month: '04', dob_day: '12', dob_year: '1985' } })).status).toBe(303);
    expect(await next(p.agent)).toBe('/verify/records');

    const uid = await facialMatchAsked(p.agent);
    expect((await p.agent.request(`${server.url}/verify?return=${uid}`)).headers.get('location')).toBe('/verify/document');
    expect(JSON.parse((await server.ds.getRepository(ProofingSession).findOneByOrFail({ accountId: p.accountId })).stepsDone)).toEqual(['consent']);
    // The facial match cannot be reached before the document.
    expect((await p.agent.request(`${server.url}/verify/facial-match`)).headers.get('location')).toBe('/verify');
    const { html } = await p.agent.page(`${server.url}/verify/document`);
    expect(html).toContain('We keep the photo of the front of your ID, encrypted, until we compare it with the photo of your face, then we delete it.');
    await postDocument(p.agent, server, await documentImages(undefined, portrait('jane')));
    expect(await next(p.agent)).toBe('/verify/facial-match');
    expect((await postSelfie(p.agent, server, portrait('jane'))).status).toBe(303);
    expect(sent.map((s) => faceOf(s.documentFront))).toEqual(['jane']);
  });

  test('when the kept front is gone at the facial match, then nothing is compared and the person is sent back to add their ID', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages(undefined, portrait('jane')));
    await server.ds.getRepository(ProofingImage).delete({ accountId: p.accountId });
    const res = await postSelfie(p.agent, server, portrait('jane'));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/verify');
    expect(await next(p.agent)).toBe('/verify/document');
    expect(sent).toEqual([]);
  });
});
