import type { Context } from 'koa';
import type { Account, Delegation } from '../../../entities/index.js';
import type { DelegationView } from '../../delegation/manageDelegations.js';
import { ALL_AGENCIES } from '../../delegation/policy.js';
import { clock } from '../../shared/clock.js';
import type { Translate } from '../../shared/i18n.js';

/*
 * How a delegation reads to a person on the helper pages: its state, agencies, what it releases
 * and its history, in plain words from the principal's or the helper's side.
 */

/** States in which a delegation can still be ended (or an invitation or request withdrawn). */
const OPEN = ['invited', 'requested', 'active'];

export type Perspective = 'principal' | 'helper';

/** A day in the person's language (UTC). */
export const fmtDate = (ctx: Context, d: Date) => new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'long', timeZone: 'UTC' }).format(d);
const fmtTime = (ctx: Context, d: Date) => `${new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(d)} UTC`;

/** A scope in plain words: the consent wording for the person's own data, "their …" for a helper. */
export function scopeWords(t: Translate, scope: string, perspective: Perspective): string {
  const key = scope.replace(':', '_');
  if (perspective === 'helper') return t(`helpers.their_scope.${key}`, { defaultValue: t(`consent.scope.${key}`, { defaultValue: scope }) });
  // Continued access is the helper's, until the delegation ends: say so to the principal.
  if (scope === 'offline_access') return t('helpers.principal_scope.offline_access');
  return t(`consent.scope.${key}`, { defaultValue: scope });
}

export function agencyWords(t: Translate, names: Map<string, string>, clientIds: string[]): string[] {
  return clientIds.map((c) => (c === ALL_AGENCIES ? t('helpers.every_agency') : (names.get(c) ?? c)));
}

/** The state as a person should read it: past its end (or its code's end) before housekeeping has run is expired. */
function stateOf(d: Delegation, active: boolean): string {
  if (d.status === 'active' && !active && d.endsAt.getTime() <= clock.nowMs()) return 'expired';
  if (d.status === 'invited' && d.inviteExpiresAt && d.inviteExpiresAt.getTime() <= clock.nowMs()) return 'invite_expired';
  return d.status;
}

/** A delegation as one card of the helper pages, from `me`'s side. */
export function describe(ctx: Context, v: DelegationView, me: Account, names: Map<string, string>, perspective: Perspective) {
  const t = ctx.state.t as Translate;
  const d = v.delegation;
  const who = (id: string | null) => {
    if (!id) return t('helpers.by_onedoor');
    if (id === me.id) return t('helpers.by_you');
    return id === d.principalId ? v.principalEmail : id === d.helperId ? v.helperEmail : t('helpers.by_someone');
  };
  const state = stateOf(d, v.active);
  // A legal authority: its kind and source, its review date; the represented person ends it only where its kind allows, the representative steps down.
  const authority = v.authority ? {
    basis: t('helpers.authority', { kind: t(`representation.kind.${d.basis}`), source: d.source === 'operator' ? t('helpers.source_operator') : names.get(d.source ?? '') ?? d.source ?? '' }),
    starts: fmtDate(ctx, d.startsAt), review: v.authority.reviewAt ? fmtDate(ctx, v.authority.reviewAt) : null,
    cannotEnd: perspective === 'principal' && !v.authority.principalMayEnd,
  } : null;
  return {
    ref: d.id,
    other: (perspective === 'principal' ? v.helperEmail : v.principalEmail) || t('actor.represented_unnamed'),
    authority,
    state,
    stateLabel: t(`helpers.state.${state}`, { defaultValue: state }),
    agencies: agencyWords(t, names, v.clientIds),
    scopes: v.scopes.map((s) => scopeWords(t, s, perspective)),
    until: fmtDate(ctx, d.endsAt),
    open: OPEN.includes(d.status) && !authority?.cannotEnd,
    endLabel: t(authority ? (perspective === 'helper' ? 'helpers.step_down' : 'helpers.end_authority') : d.status === 'invited' ? 'helpers.cancel_invitation' : d.status === 'requested' ? 'helpers.cancel_request' : 'helpers.end_access'),
    events: v.events.map((e) => {
      let details: { scopes?: unknown; clients?: unknown } = {};
      try { details = JSON.parse(e.details) as typeof details; } catch { /* an unreadable detail shows nothing */ }
      const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
      const scopes = strings(details.scopes);
      // A use names its agency; a change of terms (invited, requested, approved) names the agencies it covers.
      const where = e.clientId ? [e.clientId] : strings(details.clients);
      return {
        when: fmtTime(ctx, e.at),
        what: t(`helpers.event.${e.type}`, { defaultValue: e.type }),
        who: who(e.actorId),
        agency: agencyWords(t, names, where).join('; '),
        released: scopes.map((s) => scopeWords(t, s, perspective)).join('; '),
      };
    }),
  };
}
