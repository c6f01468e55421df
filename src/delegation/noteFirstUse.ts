import { Account, Delegation } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import type { DelegationDeps } from './manageDelegations.js';

/** The principal gets a mail the first time a helper uses a delegation (only one caller can mark it first). */
export async function noteFirstUse(deps: DelegationDeps, opts: { delegationId: string; principalId: string; helperId: string; clientName: string }): Promise<void> {
  const res = await deps.db.getRepository(Delegation).createQueryBuilder().update().set({ firstUsedAt: clock.now() })
    .where('id = :id AND first_used_at IS NULL', { id: opts.delegationId }).execute();
  if (!res.affected) return;
  const accounts = deps.db.getRepository(Account);
  const principal = await accounts.findOneByOrFail({ id: opts.principalId });
  const helper = await accounts.findOneByOrFail({ id: opts.helperId });
  const t = deps.t(principal.locale);
  const params = { helper: helper.email, client: opts.clientName, url: `${deps.issuer}/helpers` };
  await deps.mailer.send({ to: principal.email, subject: t('mail.delegation_used.subject', params), text: t('mail.delegation_used.body', params) });
}
