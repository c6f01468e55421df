import fs from 'node:fs';
import path from 'node:path';
import { LOCALES, localeForTag, translator, pickLocale, type Locale } from '../../../src/shared/i18n.js';
import { AUDIT_EVENT_TYPES } from '../../../src/audit/recordEvent.js';
import { KIND_NAMES } from '../../../src/delegation/representationKinds.js';

type Catalog = { [key: string]: string | Catalog };

const root = process.cwd();
const localesDir = path.resolve(root, 'views/locales');

function loadCatalog(locale: string): Catalog {
  return JSON.parse(fs.readFileSync(path.join(localesDir, `${locale}.json`), 'utf8')) as Catalog;
}

/** Flattens a nested catalog into `a.b.c` → string. */
function flatten(catalog: Catalog, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(catalog)) {
    const full = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(full, value);
    else for (const [k, v] of flatten(value, full)) out.set(k, v);
  }
  return out;
}

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*([^}]+?)\s*\}\}/g)].map((m) => m[1]!))].sort();
}

const en = flatten(loadCatalog('en'));
const others = LOCALES.filter((l) => l !== 'en');
const catalogs = new Map<Locale, Map<string, string>>(others.map((l) => [l, flatten(loadCatalog(l))]));

describe('message catalogs', () => {
  test('when views/locales is listed, then there is exactly one catalog per supported locale', () => {
    expect(fs.readdirSync(localesDir).filter((f) => f.endsWith('.json')).sort()).toEqual(LOCALES.map((l) => `${l}.json`).sort());
  });

  // Strict on purpose: plural forms (`_one`, `_other`) are the same keys in every catalog, even
  // in Chinese, whose plural rule only ever asks for `_other` (its `_one` is kept, translated).
  describe.each(others)('%s.json', (locale) => {
    const catalog = catalogs.get(locale)!;

    test('when compared with en.json, then it has every key English has', () => {
      expect([...en.keys()].filter((k) => !catalog.has(k))).toEqual([]);
    });

    test('when compared with en.json, then it has no key English does not have', () => {
      expect([...catalog.keys()].filter((k) => !en.has(k))).toEqual([]);
    });

    test('when each string is compared with its English counterpart, then it keeps the same {{placeholders}}', () => {
      const mismatches: Array<{ key: string; en: string[]; got: string[] }> = [];
      for (const [key, english] of en) {
        const text = catalog.get(key);
        if (text === undefined) continue; // reported by the key test
        const want = placeholders(english);
        const got = placeholders(text);
        if (want.join() !== got.join()) mismatches.push({ key, en: want, got });
      }
      expect(mismatches).toEqual([]);
    });

    test('when read, then no string is empty and none is left in English', () => {
      expect([...catalog].filter(([, v]) => v.trim() === '').map(([k]) => k)).toEqual([]);
      // The same text as English is a missed translation, unless it is a name, a word both languages share or a code.
      const same = [...catalog].filter(([k, v]) => v === en.get(k) && !SHARED.has(v) && !/^[A-Z0-9-]+$/.test(v)).map(([k]) => k);
      expect(same).toEqual([]);
    });
  });
});

/** Texts that are rightly the same as in English in some language. */
const SHARED = new Set(['OneDoor', 'Actions', 'Error']);

// ---- keys used by templates and code exist in en.json ------------------------------------------

const sections = Object.keys(loadCatalog('en'));
const KEY = `(?:${sections.join('|')})\\.[A-Za-z0-9_.]*`;

function filesUnder(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => path.join(e.parentPath, e.name));
}

const sources = [...filesUnder(path.join(root, 'views'), '.eta'), ...filesUnder(path.join(root, 'src'), '.ts')]
  .map((file) => ({ file: path.relative(root, file), text: fs.readFileSync(file, 'utf8') }));

/** A key as code names it: a message, a subtree it builds keys under, or a plural base (`_one`/`_other`). */
function known(key: string): boolean {
  if (en.has(key) || en.has(`${key}_one`) || en.has(`${key}_other`)) return true;
  const prefix = key.endsWith('.') ? key : `${key}.`;
  return [...en.keys()].some((k) => k.startsWith(prefix));
}

/**
 * Keys built at run time from a literal prefix and a value, and where the values come from. The
 * test fails on a prefix not listed here (say where its values come from) and on one that names
 * nothing in en.json.
 */
const DYNAMIC_PREFIXES: Record<string, string> = {
  'errors.': 'AppError codes and OAuth error codes; a code without a message falls back to errors.generic / errors.invalid_request (defaultValue)',
  'history.': 'AUDIT_EVENT_TYPES (checked below), history.outcome.* and history.channel.* from event details, with a defaultValue',
  'history.outcome.': 'proofing outcomes recorded in audit details; unknown ones fall back to history.outcome.failed',
  'history.channel.': 'sms | letter, from audit details; unknown ones render empty',
  'account.': 'account.<error> from ?error= on /account, one of the account page errors; unknown values are not shown',
  'phone.outcome.': 'the outcome of a phone request (src/http/routes/phoneRouter.ts): approved, denied, not_me, unmet, expired and the like, each with a title and text',
  'account.notice.': '?notice= on /account; unknown values are not shown',
  'helpers.': 'helpers.<mode>.* with mode invite | request | approve (helpers-form)',
  'helpers.state.': 'delegation states (src/delegation)',
  'helpers.event.': 'delegation event types (src/delegation)',
  'representation.kind.': 'kinds of legal authority (REPRESENTATION_KINDS, checked below)',
  'helpers.notice.': '?notice= on /helpers; unknown values are not shown',
  'helpers.error.': 'delegation Problem codes, and ?error= on /helpers',
  'helpers.their_scope.': 'delegable scopes (src/delegation), with consent.scope.* as fallback',
  'consent.scope.': 'scope names with ":" as "_" (src/oidc/claims.ts)',
  'verify.step.': 'proofing step ids (src/proofing steps table)',
  'verify.error.': 'proofing step failure reasons (src/proofing)',
  'mail.': 'mail.<template> from the mail table of src/delegation/manageDelegations.ts',
};

describe('keys used in views/ and src/', () => {
  test('when every literal key in a template or source file is looked up, then en.json has it', () => {
    const missing: string[] = [];
    const literal = new RegExp(`(['"\`])(${KEY})\\1`, 'g');
    for (const { file, text } of sources) {
      for (const m of text.matchAll(literal)) if (!known(m[2]!)) missing.push(`${file}: ${m[2]}`);
    }
    expect(missing).toEqual([]);
  });

  test('when a key is built from a literal prefix, then the prefix is listed with where its values come from and names a part of en.json', () => {
    // `prefix.${value}` in a template literal, or 'prefix.' + value in a template.
    const built = new RegExp(`\`(${KEY})\\$\\{|(['"])(${KEY})\\2\\s*\\+`, 'g');
    const found = new Set<string>();
    for (const { text } of sources) for (const m of text.matchAll(built)) found.add((m[1] ?? m[3])!);
    expect([...found].filter((p) => !(p in DYNAMIC_PREFIXES)).sort()).toEqual([]);
    expect([...found].filter((p) => !known(p)).sort()).toEqual([]);
    expect(found.size).toBeGreaterThan(5); // the scan itself works
  });

  test('when the chooser names a kind of legal authority, then every kind has its name', () => {
    expect(KIND_NAMES.filter((kind) => !en.has(`representation.kind.${kind}`))).toEqual([]);
  });

  test('when a person\'s history lists an event, then every event type has its message', () => {
    expect(AUDIT_EVENT_TYPES.filter((type) => !en.has(`history.${type}`))).toEqual([]);
  });
});

// ---- choosing the language ------------------------------------------------------------------------

describe('localeForTag', () => {
  test.each([
    ['en', 'en'], ['en-GB', 'en'], ['es-MX', 'es'], ['es-419', 'es'], ['fr', 'fr'], ['fr-CA', 'fr'], ['fr-FR', 'fr'], ['FR-ca', 'fr'],
    ['zh', 'zh-Hans'], ['zh-CN', 'zh-Hans'], ['zh-SG', 'zh-Hans'], ['zh-Hans', 'zh-Hans'], ['zh-Hans-CN', 'zh-Hans'],
    ['ZH-HANS', 'zh-Hans'], ['zh-hans-cn', 'zh-Hans'], ['zh_CN', 'zh-Hans'], ['zh-Hans-TW', 'zh-Hans'],
  ])('when the tag is %s, then the locale is %s', (tag, locale) => {
    expect(localeForTag(tag)).toBe(locale);
  });

  test.each(['zh-TW', 'zh-HK', 'zh-MO', 'zh-Hant', 'zh-Hant-TW', 'zh-Hant-CN', 'ZH-tw', 'de', 'pt-BR', '*', '', 'zh-', '<script>', 'x'.repeat(100), 'en;q=1'])(
    'when the tag is %j, then no locale matches (Traditional Chinese is not given Simplified)', (tag) => {
      expect(localeForTag(tag)).toBeUndefined();
    },
  );
});

describe('pickLocale', () => {
  test('when Accept-Language prefers es-MX, then it picks es', () => {
    expect(pickLocale('es-MX,en;q=0.8')).toBe('es');
  });

  test('when Accept-Language lists a language first with a lower q-value, then the higher q-value wins', () => {
    expect(pickLocale('en;q=0.5, fr;q=0.9')).toBe('fr');
    expect(pickLocale('de, en;q=0.3, zh-CN;q=0.7')).toBe('zh-Hans');
    expect(pickLocale('es; q=0.2, fr-CA ; q=0.8')).toBe('fr');
  });

  test('when two languages have the same q-value, then the first listed wins', () => {
    expect(pickLocale('es;q=0.5,fr;q=0.5')).toBe('es');
  });

  test('when a language has q=0 (not acceptable) or a malformed weight, then it is not chosen', () => {
    expect(pickLocale('fr;q=0, es;q=0.1')).toBe('es');
    expect(pickLocale('fr;q=2, es;q=0.1')).toBe('es');
    expect(pickLocale('fr;q=abc')).toBeUndefined();
  });

  test('when a range has other parameters, then only q weighs', () => {
    expect(pickLocale('en;level=1;q=0.1, fr;level=2')).toBe('fr');
  });

  test('when the first candidate has no supported language, then it falls back to the next candidate', () => {
    expect(pickLocale('de', 'fr')).toBe('fr');
  });

  test('when no candidate is given, then it returns undefined', () => {
    expect(pickLocale(undefined)).toBeUndefined();
  });

  test('when ui_locales is space separated, then it picks the first supported locale', () => {
    expect(pickLocale('es en')).toBe('es');
    expect(pickLocale('de zh-Hans-CN en')).toBe('zh-Hans');
  });

  test('when a Traditional Chinese reader\'s browser also sends bare zh (Chrome in Taiwan), then they get their next language, not Simplified', () => {
    expect(pickLocale('zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7')).toBe('en');
    expect(pickLocale('zh-HK,zh;q=0.9,es;q=0.8')).toBe('es');
    expect(pickLocale('zh-Hant zh fr')).toBe('fr');
    expect(pickLocale('zh-TW,zh;q=0.9')).toBeUndefined();
  });

  test('when a Traditional reader also lists Simplified explicitly, then Simplified is their choice', () => {
    expect(pickLocale('zh-TW,zh-CN;q=0.9,en;q=0.8')).toBe('zh-Hans');
    expect(pickLocale('zh-Hant, zh-Hans;q=0.5')).toBe('zh-Hans');
  });

  test('when a mainland browser sends zh-CN,zh, then it gets Simplified Chinese', () => {
    expect(pickLocale('zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh-Hans');
    expect(pickLocale('zh;q=0.9,en;q=0.8')).toBe('zh-Hans');
  });

  test('when the header is huge or full of junk, then it answers from what it can read without throwing', () => {
    expect(pickLocale(`${'xx-YY;q=0.9,'.repeat(5000)}fr`)).toBeUndefined(); // past the ranges it reads
    expect(pickLocale(';;;,,,q=1,fr')).toBe('fr');
  });
});

describe('translator', () => {
  test.each(others)('when login.title is translated to %s, then it differs from the English text', (locale) => {
    const english = translator('en')('login.title');
    const text = translator(locale)('login.title');
    expect(text).not.toBe(english);
    expect(text).toBe(catalogs.get(locale)!.get('login.title'));
  });

  test('when Chinese (zh-Hans, with its script subtag) is asked for, then i18next renders the Chinese catalog, not English', () => {
    expect(translator('zh-Hans')('login.title')).toBe('登录');
    expect(translator('zh-Hans')('login.lead', { client: 'Example Agency' })).toBe('请使用您的 OneDoor 通行密钥登录，以继续前往 Example Agency。');
    expect(translator('zh-Hans')('mail.confirm_email.subject', { code: '123456' })).toBe('您的 OneDoor 验证码：123456');
  });

  test('when a plural key is translated with a count, then the count is interpolated in each language\'s plural form', () => {
    for (const locale of others) {
      const catalog = catalogs.get(locale)!;
      expect(translator(locale)('account.codes_left', { count: 3 })).toBe(catalog.get('account.codes_left_other')!.replace('{{count}}', '3'));
    }
    expect(translator('es')('account.codes_left', { count: 1 })).toBe(catalogs.get('es')!.get('account.codes_left_one')!.replace('{{count}}', '1'));
    expect(translator('fr')('account.codes_left', { count: 1 })).toBe('Il vous reste 1 code de récupération inutilisé.');
    // French counts 0 as singular (CLDR): "0 code … inutilisé".
    expect(translator('fr')('account.codes_left', { count: 0 })).toBe('Il vous reste 0 code de récupération inutilisé.');
    expect(translator('zh-Hans')('account.codes_left', { count: 1 })).toBe('您还有 1 个未使用的恢复码。');
  });
});
