import fs from 'node:fs';
import path from 'node:path';
import { viewsDir } from './paths.js';
import i18next, { type TFunction } from 'i18next';

/**
 * Message catalogs (views/locales/<lang>.json) are the only place user-facing text lives.
 * Pages, mail and errors all translate through here. The four languages are Login.gov's.
 * `zh-Hans` is Chinese in Simplified characters: i18next keeps the script subtag as written
 * (its hierarchy for `zh-Hans` is zh-Hans → en), so the catalog's key is the BCP 47 tag.
 */
export const LOCALES = ['en', 'es', 'fr', 'zh-Hans'] as const;
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

/**
 * What a language tag's primary subtag means for OneDoor, and — for a language written in more
 * than one script — the script OneDoor's catalog is in. A tag in another script matches nothing.
 */
const BY_LANGUAGE: Record<string, { locale: Locale; script?: string }> = {
  en: { locale: 'en' },
  es: { locale: 'es' },
  fr: { locale: 'fr' },
  zh: { locale: 'zh-Hans', script: 'hans' },
};

/**
 * The script a tag without one implies (CLDR likely subtags, https://cldr.unicode.org/index/cldr-spec/language-tag-equivalences):
 * Chinese is Simplified by default and in mainland China and Singapore (zh, zh-CN, zh-SG), and
 * Traditional in Taiwan, Hong Kong and Macao. A Traditional reader is never silently given
 * Simplified: `zh-TW`, `zh-HK`, `zh-MO` and `zh-Hant` match nothing, so the next language they
 * prefer applies, or English (the switch on every page offers 简体中文).
 */
const LIKELY_SCRIPT: Record<string, string> = { zh: 'hans', 'zh-cn': 'hans', 'zh-sg': 'hans', 'zh-tw': 'hant', 'zh-hk': 'hant', 'zh-mo': 'hant' };

/** A language tag as BCP 47 allows it (after `_` → `-` and lower-casing); anything else is ignored. */
const TAG = /^[a-z]{2,8}(-[a-z0-9]{1,8})*$/;

interface Tag { language: string; script: string | undefined; region: string | undefined }

function parseTag(raw: string): Tag | undefined {
  const tag = raw.trim().toLowerCase().replace(/_/g, '-');
  if (tag.length > 64 || !TAG.test(tag)) return undefined;
  const [language, ...rest] = tag.split('-') as [string, ...string[]];
  return { language, script: rest.find((s) => /^[a-z]{4}$/.test(s)), region: rest.find((s) => /^([a-z]{2}|\d{3})$/.test(s)) };
}

/**
 * The script a tag is written in: its own, else its region's, else — for a bare language tag —
 * `bare` (see pickLocale), else the language's.
 */
function scriptOf(tag: Tag, bare?: string): string | undefined {
  if (tag.script) return tag.script;
  const regional = tag.region && LIKELY_SCRIPT[`${tag.language}-${tag.region}`];
  if (regional) return regional;
  return (!tag.region && bare) || LIKELY_SCRIPT[tag.language];
}

function localeOf(tag: Tag, bare?: string): Locale | undefined {
  const entry = BY_LANGUAGE[tag.language];
  if (!entry) return undefined;
  if (!entry.script) return entry.locale;
  return scriptOf(tag, bare) === entry.script ? entry.locale : undefined;
}

/** The supported locale one language tag asks for (case-insensitive: `ZH-hans-cn`, `fr-CA`, `es-419`), if any. */
export function localeForTag(raw: string): Locale | undefined {
  const tag = parseTag(raw);
  return tag && localeOf(tag);
}

/** More language ranges than any browser sends are not read (a header is not a workload). */
const MAX_RANGES = 32;

/**
 * The language tags of one list, most preferred first: an Accept-Language header (comma
 * separated, each with an optional `;q=` weight, RFC 9110 §12.5.4) or OIDC `ui_locales`
 * (space separated, in order of preference). Ranges with q=0 ("not acceptable") or a malformed
 * weight are dropped; equal weights keep their order.
 */
function preferences(list: string): string[] {
  const ranges: Array<{ tag: string; q: number }> = [];
  for (const part of list.split(',').slice(0, MAX_RANGES)) {
    const [tags = '', ...params] = part.split(';');
    let q = 1;
    for (const param of params) {
      if (!/^\s*q\s*=/i.test(param)) continue;
      const m = /^\s*q\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*$/i.exec(param);
      q = m ? Number(m[1]) : Number.NaN;
    }
    if (!(q > 0)) continue;
    for (const tag of tags.split(/\s+/).filter(Boolean).slice(0, MAX_RANGES)) ranges.push({ tag, q });
  }
  return ranges.sort((a, b) => b.q - a.q).map((r) => r.tag);
}

/**
 * The best supported locale from the first candidate that has one: each candidate is a list as
 * `preferences` reads it (`ui_locales`, an Accept-Language header, or a single tag).
 *
 * A bare language tag after a more specific one of the same language means that one's script:
 * Chrome in Taiwan sends `zh-TW,zh;q=0.9,en;q=0.8`, where `zh` is added by the browser and
 * still means Traditional, so that list gets English, not Simplified.
 */
export function pickLocale(...candidates: Array<string | undefined>): Locale | undefined {
  for (const c of candidates) {
    if (!c) continue;
    const scripts = new Map<string, string>();
    for (const raw of preferences(c)) {
      const tag = parseTag(raw);
      if (!tag) continue;
      const locale = localeOf(tag, scripts.get(tag.language));
      if (locale) return locale;
      const script = (tag.script || tag.region) && scriptOf(tag);
      if (script && !scripts.has(tag.language)) scripts.set(tag.language, script);
    }
  }
  return undefined;
}
