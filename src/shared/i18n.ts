import fs from 'node:fs';
import path from 'node:path';
import { viewsDir } from './paths.js';
import i18next, { type TFunction } from 'i18next';

/**
 * Message catalogs (views/locales/<lang>.json) are the only place user-facing text lives.
 * Pages, mail and errors all translate through here.
 */
export const LOCALES = ['en', 'es'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

const localesDir = path.join(viewsDir, 'locales');

const instance = i18next.createInstance();
await instance.init({
  lng: DEFAULT_LOCALE,
  fallbackLng: DEFAULT_LOCALE,
  supportedLngs: [...LOCALES],
  initAsync: false,
  interpolation: { escapeValue: false }, // templates escape on output
  resources: Object.fromEntries(LOCALES.map((l) => [l, { translation: JSON.parse(fs.readFileSync(path.join(localesDir, `${l}.json`), 'utf8')) }])),
  returnNull: false,
});

export type Translate = TFunction;

const translators = new Map<Locale, Translate>();

/** The translate function for a locale (one per locale, made once: every request asks). */
export function translator(locale: Locale): Translate {
  let t = translators.get(locale);
  if (!t) {
    t = instance.getFixedT(locale);
    translators.set(locale, t);
  }
  return t;
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The best supported locale from `ui_locales` (space separated) or an Accept-Language header. */
export function pickLocale(...candidates: Array<string | undefined>): Locale | undefined {
  for (const c of candidates) {
    if (!c) continue;
    const tags = c.split(/[ ,]/).map((t) => t.split(';')[0]!.trim().toLowerCase()).filter(Boolean);
    for (const tag of tags) {
      const base = tag.split('-')[0];
      if (isLocale(base)) return base;
    }
  }
  return undefined;
}
