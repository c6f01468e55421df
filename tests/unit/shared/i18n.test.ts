import fs from 'node:fs';
import path from 'node:path';
import { translator, pickLocale } from '../../../src/shared/i18n.js';

type Catalog = { [key: string]: string | Catalog };

const localesDir = path.resolve(process.cwd(), 'views/locales');

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
const es = flatten(loadCatalog('es'));

describe('message catalogs', () => {
  test('when en.json and es.json are flattened, then they have exactly the same keys', () => {
    expect([...es.keys()].sort()).toEqual([...en.keys()].sort());
  });

  test('when an es.json string is compared with its English counterpart, then it keeps the same {{placeholders}}', () => {
    const mismatches: Array<{ key: string; en: string[]; es: string[] }> = [];
    for (const [key, english] of en) {
      const spanish = es.get(key);
      if (spanish === undefined) continue; // reported by the key test
      const want = placeholders(english);
      const got = placeholders(spanish);
      if (want.join() !== got.join()) mismatches.push({ key, en: want, es: got });
    }
    expect(mismatches).toEqual([]);
  });

  test('when es.json is read, then no string is empty', () => {
    expect([...es].filter(([, v]) => v.trim() === '').map(([k]) => k)).toEqual([]);
  });
});

describe('pickLocale', () => {
  test('when Accept-Language prefers es-MX, then it picks es', () => {
    expect(pickLocale('es-MX,en;q=0.8')).toBe('es');
  });

  test('when the first candidate is unsupported, then it falls back to the next candidate', () => {
    expect(pickLocale('fr', 'en')).toBe('en');
  });

  test('when no candidate is given, then it returns undefined', () => {
    expect(pickLocale(undefined)).toBeUndefined();
  });

  test('when ui_locales is space separated, then it picks the first supported locale', () => {
    expect(pickLocale('es en')).toBe('es');
  });
});

describe('translator', () => {
  test('when login.title is translated to es, then it differs from the English text', () => {
    const english = translator('en')('login.title');
    const spanish = translator('es')('login.title');
    expect(spanish).not.toBe(english);
    expect(spanish).not.toBe('login.title');
  });

  test('when a plural key is translated to es with a count, then the count is interpolated', () => {
    expect(translator('es')('account.codes_left', { count: 1 })).toBe(es.get('account.codes_left_one')!.replace('{{count}}', '1'));
    expect(translator('es')('account.codes_left', { count: 3 })).toBe(es.get('account.codes_left_other')!.replace('{{count}}', '3'));
  });
});
