import type { Context, Next } from 'koa';
import { DEFAULT_LOCALE, localeForTag, pickLocale, translator } from '../../shared/i18n.js';

export const LOCALE_COOKIE = 'od_lang';

/**
 * Chooses the page language: a switch on the page (`?lang=`, remembered in a cookie), then the
 * cookie, then the agency's `ui_locales` (applied later by the interaction routes), then the
 * browser's Accept-Language (by its q-values). Each is matched as `localeForTag` reads a
 * language tag (`fr-CA` → fr, `zh-CN` → zh-Hans, `zh-TW` → nothing).
 */
export function locale(opts: { secure: boolean }) {
  return async (ctx: Context, next: Next) => {
    const asked = ctx.query['lang'];
    let chosen = typeof asked === 'string' ? localeForTag(asked) : undefined;
    if (chosen) ctx.cookies.set(LOCALE_COOKIE, chosen, { httpOnly: true, sameSite: 'lax', secure: opts.secure, maxAge: 365 * 24 * 3600 * 1000, signed: false });
    const remembered = ctx.cookies.get(LOCALE_COOKIE);
    chosen ??= remembered ? localeForTag(remembered) : undefined;
    ctx.state.localeFixed = !!chosen;
    ctx.state.locale = chosen ?? pickLocale(ctx.get('accept-language')) ?? DEFAULT_LOCALE;
    ctx.state.t = translator(ctx.state.locale);
    await next();
  };
}

/** Lets the agency's `ui_locales` decide when the person has not picked a language. */
export function applyUiLocales(ctx: Context, uiLocales: unknown): void {
  if (ctx.state.localeFixed || typeof uiLocales !== 'string') return;
  const l = pickLocale(uiLocales);
  if (l) {
    ctx.state.locale = l;
    ctx.state.t = translator(l);
  }
}
