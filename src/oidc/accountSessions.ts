import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/loadConfig.js';
import { findDelegation } from '../delegation/findDelegation.js';
import { subjectIdOf } from '../delegation/policy.js';
import { logger } from '../shared/logger.js';
import { outgoingFailureOf } from '../shared/outgoingRequest.js';
import type { AccountSessions } from './createRedisAdapter.js';
import { delegationLinkOf } from './delegatedAuthorization.js';

/** The sessions' store (the database, or Redis when configured), listed by account. */
export function accountSessions(provider: Provider): AccountSessions {
  const adapter = (provider as unknown as { Session: { adapter: Partial<AccountSessions> } }).Session.adapter;
  if (typeof adapter.findByAccount !== 'function' || typeof adapter.destroyByAccount !== 'function') throw new Error('the Session adapter cannot list sessions by account');
  return adapter as AccountSessions;
}

export interface SignedInSession {
  uid: string;
  accountId: string;
  loginTs: number;
  amr: string[];
}

/**
 * OneDoor's own pages share the provider's session: the person signed in at /account is the
 * one agencies see. This reads it (and slides its idle timeout) outside the provider's routes.
 */
export async function readSession(opts: { provider: Provider; config: Config; req: IncomingMessage; res: ServerResponse; touch?: boolean }): Promise<SignedInSession | undefined> {
  const pctx = opts.provider.createContext(opts.req, opts.res);
  const session = await opts.provider.Session.get(pctx as never);
  if (!session.accountId || !session.loginTs) return undefined;
  if (Math.floor(Date.now() / 1000) - session.loginTs >= opts.config.session.maxSeconds) return undefined;
  if (opts.touch) {
    const left = session.loginTs + opts.config.session.maxSeconds - Math.floor(Date.now() / 1000);
    await session.save(Math.max(1, Math.min(opts.config.session.idleSeconds, left)));
  }
  return { uid: session.uid, accountId: session.accountId, loginTs: session.loginTs, amr: (session.amr as string[] | undefined) ?? [] };
}

/**
 * Whom an agency knows a session's authorization by: the account signed in, or — when a helper
 * signed in for someone (a delegated grant) — the person helped.
 */
async function subjectOfAuthorization(ds: DataSource | undefined, accountId: string, grantId: string | undefined): Promise<string> {
  if (!ds || !grantId) return accountId;
  const delegationId = await delegationLinkOf(ds, grantId);
  const d = delegationId ? await findDelegation({ db: ds.manager, id: delegationId }) : null;
  return (d && d.helperId === accountId ? subjectIdOf(d) : null) ?? accountId;
}

/**
 * Ends every session of an account (all devices), telling each agency that registered a
 * back-channel logout URI (OpenID Connect Back-Channel Logout 1.0 §2.5).
 */
export async function endAllSessions(opts: { provider: Provider; ds?: DataSource; accountId: string }): Promise<number> {
  // Listed and deleted in one step, so a session saved meanwhile is not deleted unannounced.
  const rows = await accountSessions(opts.provider).destroyByAccount(opts.accountId);
  const notices: Array<Promise<void>> = [];
  for (const row of rows) {
    const payload = row.payload as { authorizations?: Record<string, { sid?: string; grantId?: string }> };
    for (const [clientId, auth] of Object.entries(payload.authorizations ?? {})) {
      notices.push((async () => {
        const client = await opts.provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri || !auth.sid) return;
        const subject = await subjectOfAuthorization(opts.ds, opts.accountId, auth.grantId);
        await (client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }).backchannelLogout(subject, auth.sid);
      })().catch((err: Error) => { logger.warn({ clientId, error: err.name, reason: outgoingFailureOf(err) }, 'back-channel logout failed'); }));
    }
  }
  await Promise.all(notices);
  return rows.length;
}
