import type { Context, Next } from 'koa';
import { DEFAULT_LOCALE, isLocale, pickLocale, translator } from '../../shared/i18n.js';

export const LOCALE_COOKIE = 'od_lang';

/**
 * Chooses the page language: a switch on the page (`?lang=`, remembered in a cookie), then the
 * cookie, then the agency's `ui_locales` (applied later by the interaction routes), then the
 * browser's Accept-Language.
 */
export function locale(opts: { secure: boolean }) {
  return async (ctx: Context, next: Next) => {
    const asked = ctx.query['lang'];
    let chosen = isLocale(asked) ? asked : undefined;
    if (chosen) ctx.cookies.set(LOCALE_COOKIE, chosen, { httpOnly: true, sameSite: 'lax', secure: opts.secure, maxAge: 365 * 24 * 3600 * 1000, signed: false });
    chosen ??= pickLocale(ctx.cookies.get(LOCALE_COOKIE));
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
