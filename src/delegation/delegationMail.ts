import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';
import type { DelegationDeps } from './manageDelegations.js';

/**
 * Mails a person in their language: an account's own; for an address, its account's if it has
 * one, else the sender's (someone invited by a French speaker most likely reads French). The
 * sender never sees the mail, so its language tells them nothing about the address.
 */
export async function mailTo(deps: DelegationDeps, to: { accountId: string | null } | { email: string; senderLocale: string }, key: string, params: Record<string, unknown>): Promise<void> {
  const accounts = deps.db.getRepository(Account);
  let email: string;
  let locale: string;
  if ('accountId' in to) {
    const a = to.accountId ? await accounts.findOneBy({ id: to.accountId }) : null;
    if (!a) return;
    email = a.email;
    locale = a.locale;
  } else {
    email = to.email;
    locale = (await accounts.findOneBy({ email: to.email.trim().toLowerCase() }))?.locale ?? to.senderLocale;
  }
  const t = deps.t(locale);
  await deps.mailer.send({ to: email, subject: t(`mail.${key}.subject`, params), text: t(`mail.${key}.body`, { ...params, url: `${deps.issuer}/helpers` }) });
}

/** How delegation pages and mail name an account: its email address (`fallback` when there is none). */
export async function nameOf(db: EntityManager, accountId: string | null, fallback = ''): Promise<string> {
  if (!accountId) return fallback;
  return (await db.getRepository(Account).findOneBy({ id: accountId }))?.email ?? fallback;
}

