import type { Context, Next } from 'koa';
import { DEFAULT_LOCALE, type Locale, localeForTag, pickLocale, translator } from '../../shared/i18n.js';

export const LOCALE_COOKIE = 'od_lang';

/**
 * Chooses the page language: a switch on the page (`?lang=`, remembered in a cookie), then the
 * cookie, then the agency's `ui_locales` (applied later by the interaction routes), then the
 * browser's Accept-Language (by its q-values). Each is matched as `localeForTag` reads a
 * language tag (`fr-CA` → fr, `zh-CN` → zh-Hans, `zh-TW` → nothing).
 */
export function locale(opts: { secure: boolean }) {
  return async (ctx: Context, next: Next) => {
    // A switch on the page is remembered at once; the rest is worked out when something reads
    // the language (pages, mail, errors), not on the token, JWKS or discovery requests that never do.
    const asked = ctx.querystring.includes('lang=') ? ctx.query['lang'] : undefined;
    const switched = typeof asked === 'string' ? localeForTag(asked) : undefined;
    if (switched) ctx.cookies.set(LOCALE_COOKIE, switched, { httpOnly: true, sameSite: 'lax', secure: opts.secure, maxAge: 365 * 24 * 3600 * 1000, signed: false });
    let chosen: { locale: Locale; fixed: boolean } | undefined;
    let t: ReturnType<typeof translator> | undefined;
    const resolve = () => {
      if (!chosen) {
        const remembered = ctx.cookies.get(LOCALE_COOKIE);
        const fixed = switched ?? (remembered ? localeForTag(remembered) : undefined);
        chosen = { locale: fixed ?? pickLocale(ctx.get('accept-language')) ?? DEFAULT_LOCALE, fixed: !!fixed };
      }
      return chosen;
    };
    Object.defineProperties(ctx.state, {
      locale: { enumerable: true, configurable: true, get: () => resolve().locale, set: (v: Locale) => { resolve().locale = v; t = undefined; } },
      localeFixed: { enumerable: true, configurable: true, get: () => resolve().fixed, set: (v: boolean) => { resolve().fixed = v; } },
      t: { enumerable: true, configurable: true, get: () => (t ??= translator(resolve().locale)), set: (v: ReturnType<typeof translator>) => { t = v; } },
    });
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
