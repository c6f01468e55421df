import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { disconnectAgency, listConnectedAgencies } from '../../accounts/connectedAgencies.js';
import { getAccount } from '../../accounts/getAccount.js';
import { countUnusedRecoveryCodes, issueRecoveryCodes } from '../../accounts/recoveryCodes.js';
import { listEvents } from '../../audit/listEvents.js';
import { listOpenPhoneRequests } from '../../phone/listOpenPhoneRequests.js';
import { recordEvent } from '../../audit/recordEvent.js';
import { deleteVerifiedProfile, profileState, reactivateWithPersonalKey } from '../../proofing/verifiedProfiles.js';
import { isPersonalKeyShape } from '../../proofing/vault.js';
import { endAllSessions, type SignedInSession } from '../../oidc/accountSessions.js';
import { scopeDescriptionKey } from '../../oidc/claims.js';
import { ACCOUNT_CLIENT_ID } from '../../oidc/createProvider.js';
import { endAssuredGrants } from '../../oidc/endAssuredGrants.js';
import { finishAuthentication } from '../../passkeys/finishAuthentication.js';
import { finishRegistration } from '../../passkeys/finishRegistration.js';
import { meetsAal3 } from '../../passkeys/passkeyAssurance.js';
import { addPasskey, listPasskeys, passkeyExists, removePasskey, renamePasskey } from '../../passkeys/managePasskeys.js';
import { startAuthentication } from '../../passkeys/startAuthentication.js';
import { startRegistration } from '../../passkeys/startRegistration.js';
import { clock } from '../../shared/clock.js';
import { BadInput, Forbidden, NotFound } from '../../shared/errors.js';
import { randomId } from '../../shared/ids.js';
import { requireSignedIn } from '../requireSignedIn.js';
import type { HttpDeps } from '../deps.js';
import { field } from '../formFields.js';
import { createLimits } from '../limits.js';
import { parseAuthenticationResponse, parseRegistrationResponse } from '../parseWebAuthnResponse.js';
import { RedirectDone } from '../RedirectDone.js';
import { render, WEBAUTHN_SCRIPTS } from '../render.js';
import { returnablePath, returnFromState, stateWithReturn } from '../returnPath.js';

const NOTICES = ['passkey_added', 'passkey_renamed', 'passkey_removed', 'agency_disconnected', 'identity_deleted', 'identity_reactivated'];


/**
 * The person's own account pages. They sign in through the provider as the first-party
 * client `onedoor-account`, so the session here is the same one agencies rely on.
 * Removing a passkey and replacing recovery codes need a fresh passkey confirmation.
 */
export function accountRouter(deps: HttpDeps): Router {
  const { provider, ds, config, keys, rp } = deps;
  const router = new Router({ prefix: '/account' });
  const limits = createLimits(deps);

  /** Someone else's passkey is forbidden (403) — to a helper above all; an unknown one is 404. */
  async function notMine(passkeyId: string): Promise<never> {
    if (await passkeyExists({ db: ds.manager, passkeyId })) throw new Forbidden();
    throw new NotFound();
  }

  const requireSession = async (ctx: Context): Promise<SignedInSession> => (await requireSignedIn(deps, ctx)).session;


  function fmt(ctx: Context, d: Date | null): string {
    if (!d) return ctx.state.t('common.never');
    return `${new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(d)} UTC`;
  }

  router.get('/signin', async (ctx) => {
    // The code is never redeemed: the account pages read the provider session directly.
    const verifier = randomId(32);
    const url = new URL(`${config.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: `${config.issuer}/account/callback`,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      state: stateWithReturn(randomId(16), returnablePath(ctx.query['return'])), ui_locales: ctx.state.locale,
    }).toString();
    ctx.status = 303;
    ctx.redirect(url.toString());
  });

  router.get('/callback', async (ctx) => {
    ctx.status = 303;
    ctx.redirect(ctx.query['error'] ? '/' : (returnFromState(ctx.query['state']) ?? '/account'));
  });

  router.get('/', async (ctx) => {
    const session = await requireSession(ctx);
    const account = await getAccount({ db: ds.manager, accountId: session.accountId });
    const t = ctx.state.t;
    const [passkeys, codesLeft, agencies, events, profile, phoneRequests] = await Promise.all([
      listPasskeys({ db: ds.manager, accountId: account.id }),
      countUnusedRecoveryCodes({ db: ds.manager, accountId: account.id }),
      listConnectedAgencies({ db: ds.manager, accountId: account.id, hiddenClientIds: [ACCOUNT_CLIENT_ID] }),
      listEvents({ db: ds.manager, accountId: account.id, limit: 30 }),
      profileState({ db: ds.manager, accountId: account.id }),
      listOpenPhoneRequests({ db: ds.manager, accountId: account.id }),
    ]);
    const names = new Map(agencies.map((a) => [a.clientId, a.clientName]));
    // Agencies in the history that are not connected (a phone request declined, a consent withdrawn) are named too.
    for (const clientId of new Set([...events, ...phoneRequests].map((e) => e.clientId))) {
      if (clientId && !names.has(clientId)) names.set(clientId, (await provider.Client.find(clientId))?.clientName ?? clientId);
    }
    const notice = typeof ctx.query['notice'] === 'string' && NOTICES.includes(ctx.query['notice']) ? t(`account.notice.${ctx.query['notice']}`) : undefined;
    const error = typeof ctx.query['error'] === 'string' && ['rename_invalid', 'last_passkey', 'personal_key_wrong', 'personal_key_format'].includes(ctx.query['error']) ? t(`account.${ctx.query['error']}`) : undefined;
    render(ctx, 'account', {
      title: t('account.page_title'),
      email: account.email,
      notice, error,
      // An agency's phone agent waits for these (CIBA): first on the page.
      phoneRequests: phoneRequests.map((r) => ({
        url: `/phone/${r.id}`, client: names.get(r.clientId) ?? r.clientId,
        until: `${new Intl.DateTimeFormat(ctx.state.locale, { timeStyle: 'short', timeZone: 'UTC' }).format(r.expiresAt)} UTC`,
      })),
      // Which passkeys an agency asking for a security key (AAL3) accepts.
      passkeys: passkeys.map((p) => ({ ref: p.id, name: p.name, added: fmt(ctx, p.createdAt), lastUsed: fmt(ctx, p.lastUsedAt), aal3: meetsAal3({ passkey: p, trust: deps.attestationTrust }) })),
      codesLeft,
      agencies: agencies.map((a) => ({
        ref: a.grantId, name: a.clientName,
        receives: a.scopes.map((s) => { const k = scopeDescriptionKey(s); return k ? t(k) : s; }).join('; '),
      })),
      history: events.map((e) => {
        const client = e.clientId ? (names.get(e.clientId) ?? e.clientId) : '';
        const key = e.type === 'signed_in' && e.clientId && e.clientId !== ACCOUNT_CLIENT_ID ? 'history.signed_in_at' : `history.${e.type}`;
        // Outcome and channel codes are shown in words; a failed records check never says why.
        const details: Record<string, unknown> = { ...e.details };
        if (typeof details['outcome'] === 'string') details['outcome'] = t(`history.outcome.${['no_match', 'deceased'].includes(details['outcome'] as string) ? 'failed' : details['outcome']}`, { defaultValue: t('history.outcome.failed') });
        if (typeof details['channel'] === 'string') details['channel'] = t(`history.channel.${details['channel']}`, { defaultValue: '' });
        return { when: fmt(ctx, e.at), what: t(key, { ...details, client, defaultValue: e.type }) };
      }),
      identity: profile.status
        ? { status: profile.status, verifiedAt: fmt(ctx, profile.verifiedAt ?? null), facialMatch: profile.facialMatch }
        : { status: 'none' },
      signOutUrl: `/session/end?client_id=${ACCOUNT_CLIENT_ID}&post_logout_redirect_uri=${encodeURIComponent(`${config.issuer}/`)}`,
    });
  });

  // ---- add a passkey ---------------------------------------------------------------------
  const createPage = (ctx: Context, extra: Record<string, unknown> = {}, status = 200) => render(ctx, 'passkey-create', {
    title: ctx.state.t('passkey.add_title'), heading: ctx.state.t('passkey.add_title'), scripts: WEBAUTHN_SCRIPTS,
    actions: { submit: '/account/passkeys', options: '/account/passkeys/options', cancel: '/account' }, langPath: '/account/passkeys/new', ...extra,
  }, status);

  router.get('/passkeys/new', async (ctx) => {
    await requireSession(ctx);
    createPage(ctx);
  });

  router.post('/passkeys/options', async (ctx) => {
    const session = await requireSession(ctx);
    const account = await getAccount({ db: ds.manager, accountId: session.accountId });
    ctx.body = await startRegistration({ db: ds.manager, rp, bindingId: session.uid, accountId: account.id, userName: account.email, userDisplayName: account.email });
  });

  router.post('/passkeys', async (ctx) => {
    const session = await requireSession(ctx);
    const response = parseRegistrationResponse(field(ctx, 'response', 65536));
    const name = field(ctx, 'name', 200).trim().slice(0, 64) || ctx.state.t('passkey.default_name', { date: clock.now().toISOString().slice(0, 10) });
    const reg = response ? await finishRegistration({ db: ds.manager, rp, bindingId: session.uid, response, name, trust: deps.attestationTrust }) : undefined;
    if (!reg?.ok || reg.accountId !== session.accountId) return createPage(ctx, { error: ctx.state.t('passkey.failed') }, 400);
    await ds.transaction((db) => addPasskey({ db, passkey: reg.passkey }));
    ctx.status = 303;
    ctx.redirect('/account?notice=passkey_added');
  });

  router.post('/passkeys/:id/rename', async (ctx) => {
    const session = await requireSession(ctx);
    const result = await renamePasskey({ db: ds.manager, accountId: session.accountId, passkeyId: String(ctx.params['id']), name: field(ctx, 'name', 200) });
    if (!result.ok && result.reason === 'not_found') await notMine(String(ctx.params['id']));
    ctx.status = 303;
    ctx.redirect(result.ok ? '/account?notice=passkey_renamed' : '/account?error=rename_invalid');
  });

  // ---- actions that need a fresh passkey confirmation ------------------------------------
  router.post('/reauth/options', async (ctx) => {
    const session = await requireSession(ctx);
    ctx.body = await startAuthentication({ db: ds.manager, rp, bindingId: session.uid, accountId: session.accountId });
  });

  async function reauthenticated(ctx: Context, session: SignedInSession): Promise<boolean> {
    const response = parseAuthenticationResponse(field(ctx, 'response', 65536));
    if (!response) return false;
    const result = await finishAuthentication({ db: ds.manager, rp, bindingId: session.uid, response });
    // A failed assertion counts against its source, never the account (src/http/limits.ts).
    if (!result.ok && result.reason !== 'disabled') await limits.passkeyFailureSource.consume(ctx.ip);
    return result.ok && result.accountId === session.accountId;
  }

  const reauthPage = (ctx: Context, lead: string, submit: string, error?: string) => render(ctx, 'reauth', {
    title: ctx.state.t('reauth.title'), lead, scripts: WEBAUTHN_SCRIPTS, error, langPath: submit.endsWith('/remove') ? submit : '/account/recovery-codes/new',
    actions: { submit, options: '/account/reauth/options' },
  }, error ? 400 : 200);

  /** The passkey's name; sends the person back to the account page when it is their only one. */
  async function removablePasskeyName(ctx: Context, accountId: string, id: string): Promise<string> {
    const mine = await listPasskeys({ db: ds.manager, accountId });
    const p = mine.find((x) => x.id === id);
    if (!p) return notMine(id);
    if (mine.length < 2) {
      ctx.status = 303;
      ctx.redirect('/account?error=last_passkey');
      throw new RedirectDone();
    }
    return p.name;
  }

  router.get('/passkeys/:id/remove', async (ctx) => {
    const session = await requireSession(ctx);
    const id = String(ctx.params['id']);
    const name = await removablePasskeyName(ctx, session.accountId, id);
    reauthPage(ctx, ctx.state.t('reauth.remove_passkey', { name }), `/account/passkeys/${encodeURIComponent(id)}/remove`);
  });

  router.post('/passkeys/:id/remove', async (ctx) => {
    const session = await requireSession(ctx);
    const id = String(ctx.params['id']);
    const name = await removablePasskeyName(ctx, session.accountId, id);
    if (!(await reauthenticated(ctx, session))) {
      return reauthPage(ctx, ctx.state.t('reauth.remove_passkey', { name }), `/account/passkeys/${encodeURIComponent(id)}/remove`, ctx.state.t('reauth.failed'));
    }
    const result = await ds.transaction((db) => removePasskey({ db, accountId: session.accountId, passkeyId: id }));
    if (!result.ok && result.reason === 'not_found') throw new NotFound();
    ctx.status = 303;
    ctx.redirect(result.ok ? '/account?notice=passkey_removed' : '/account?error=last_passkey');
  });

  router.get('/recovery-codes/new', async (ctx) => {
    await requireSession(ctx);
    reauthPage(ctx, ctx.state.t('reauth.regenerate_codes'), '/account/recovery-codes');
  });

  router.post('/recovery-codes', async (ctx) => {
    const session = await requireSession(ctx);
    if (!(await reauthenticated(ctx, session))) {
      return reauthPage(ctx, ctx.state.t('reauth.regenerate_codes'), '/account/recovery-codes', ctx.state.t('reauth.failed'));
    }
    const codes = await ds.transaction(async (db) => {
      const issued = await issueRecoveryCodes({ db, pepper: keys.secrets.pepper, accountId: session.accountId });
      await recordEvent({ db, accountId: session.accountId, type: 'recovery_codes_regenerated' });
      return issued;
    });
    render(ctx, 'recovery-codes', { title: ctx.state.t('codes.title'), codes, continueUrl: '/account' });
  });

  // ---- verified identity ---------------------------------------------------------------
  router.post('/identity/delete', async (ctx) => {
    const session = await requireSession(ctx);
    if (field(ctx, 'confirm', 8) !== 'yes') throw new BadInput('bad_request', 'confirm');
    const deleted = await ds.transaction((db) => deleteVerifiedProfile({ db, accountId: session.accountId }));
    // What agencies received at IAL2 ends with the identity (tokens are checked at every use too).
    if (deleted) await endAssuredGrants({ provider, ds, accountId: session.accountId });
    ctx.status = 303;
    ctx.redirect('/account?notice=identity_deleted');
  });

  router.post('/identity/reactivate', async (ctx) => {
    const session = await requireSession(ctx);
    const personalKey = field(ctx, 'personal_key', 64);
    // What cannot be a personal key guesses nothing: refused before it counts.
    if (!isPersonalKeyShape(personalKey)) {
      ctx.status = 303;
      ctx.redirect('/account?error=personal_key_format');
      return;
    }
    // Personal keys carry 80 bits, but guesses still cost: a few an hour per account and per source.
    await limits.personalKeySource.consume(ctx.ip);
    await limits.personalKeyAccount.consume(session.accountId);
    const result = await ds.transaction((db) => reactivateWithPersonalKey({ db, kek: keys.kek, accountId: session.accountId, personalKey }));
    if (!result.ok) {
      ctx.status = 303;
      ctx.redirect('/account?error=personal_key_wrong');
      return;
    }
    render(ctx, 'verify-personal-key', { title: ctx.state.t('verify.personal_key_title'), personalKey: result.personalKey, continueUrl: '/account?notice=identity_reactivated', reactivated: true });
  });

  // ---- agencies and sessions -------------------------------------------------------------
  router.post('/agencies/:grantId/disconnect', async (ctx) => {
    const session = await requireSession(ctx);
    const grantId = String(ctx.params['grantId']);
    const result = await ds.transaction((db) => disconnectAgency({ db, accountId: session.accountId, grantId }));
    if (!result.ok) throw result.reason === 'not_theirs' ? new Forbidden() : new NotFound();
    ctx.status = 303;
    ctx.redirect('/account?notice=agency_disconnected');
  });

  router.post('/sign-out-everywhere', async (ctx) => {
    const session = await requireSession(ctx);
    await endAllSessions({ provider, ds, accountId: session.accountId });
    await recordEvent({ db: ds.manager, accountId: session.accountId, type: 'signed_out_everywhere' });
    ctx.status = 303;
    ctx.redirect('/');
  });

  return router;
}
