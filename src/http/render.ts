import { Eta } from 'eta';
import type { Context } from 'koa';
import { viewsDir } from '../shared/paths.js';
import { LOCALES, type Locale, type Translate } from '../shared/i18n.js';

const eta = new Eta({ views: viewsDir, cache: true, autoEscape: true, defaultExtension: '.eta' });

export interface PageState {
  locale: Locale;
  t: Translate;
  csrf: string;
}

/** Each language in its own name, as a person looking for it would recognise it. */
const LANGUAGE_LABELS: Record<Locale, string> = { en: 'English', es: 'Español', fr: 'Français', 'zh-Hans': '简体中文' };

/**
 * Links that switch language (`?lang=`), for the header. They reload the current page when it
 * was a GET; a page answering a form post names the GET page to reload (`langPath`), or shows
 * no switch at all when reloading would lose what it shows (recovery codes).
 */
function languages(ctx: Context, current: Locale, langPath: string | undefined) {
  const base = ctx.method === 'GET' ? ctx.originalUrl : langPath;
  if (!base) return [];
  return LOCALES.map((code) => {
    const url = new URL(base, 'http://x');
    url.searchParams.set('lang', code);
    return { code, label: LANGUAGE_LABELS[code], current: code === current, href: `${url.pathname}${url.search}` };
  });
}

/** Renders `views/pages/<page>.eta` inside the layout, in the request's language. */
export function render(ctx: Context, page: string, data: Record<string, unknown> & { title: string }, status = 200): void {
  const state = ctx.state as PageState;
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = eta.render(`pages/${page}`, {
    ...data,
    t: state.t,
    locale: state.locale,
    csrf: state.csrf ?? '',
    languages: languages(ctx, state.locale, data['langPath'] as string | undefined),
    scripts: data['scripts'] ?? [],
  });
}

export const WEBAUTHN_SCRIPTS = ['/assets/vendor/simplewebauthn-browser.umd.min.js', '/assets/js/webauthn.js'];
