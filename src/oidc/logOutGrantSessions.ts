import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { logger } from '../shared/logger.js';
import { accountSessions } from './accountSessions.js';

/**
 * For grants that just ended: every session of `sessionAccountId` in which an agency holds one of
 * them gets an OpenID Connect Back-Channel Logout (§2.5) at that agency, naming the subject the
 * agency knew the session by (`subjectAccountId`: the principal for a delegated session).
 */
export async function logOutGrantSessions(opts: { provider: Provider; ds?: DataSource; sessionAccountId: string; subjectAccountId: string; grants: ReadonlyMap<string, string> }): Promise<void> {
  if (!opts.grants.size) return;
  const sessions = await accountSessions(opts.provider).findByAccount(opts.sessionAccountId);
  const notices: Array<Promise<void>> = [];
  for (const row of sessions) {
    const payload = row.payload as { authorizations?: Record<string, { sid?: string; grantId?: string }> };
    for (const [clientId, auth] of Object.entries(payload.authorizations ?? {})) {
      if (!auth.grantId || opts.grants.get(auth.grantId) !== clientId || !auth.sid) continue;
      notices.push((async () => {
        const client = await opts.provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri) return;
        await (client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }).backchannelLogout(opts.subjectAccountId, auth.sid!);
      })().catch((err: Error) => { logger.warn({ clientId, error: err.name }, 'back-channel logout failed'); }));
    }
  }
  await Promise.all(notices);
}
