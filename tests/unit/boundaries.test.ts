import fs from 'node:fs';
import path from 'node:path';

// DESIGN.md: main → app → http → {oidc, passkeys, accounts, proofing, delegation, audit} → entities.
// Domain modules never import koa or oidc-provider; oidc/ may call domain modules, not the
// reverse; entities/ import nothing from src/. Checked here on every run.
const root = path.resolve(process.cwd());

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"\n]*?from\s+['"]([^'"]+)['"]/g), ...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
}

const DOMAIN = ['passkeys', 'accounts', 'proofing', 'delegation', 'audit', 'phone'];

test('when domain modules import, then never koa, oidc-provider, the http layer or the oidc layer', () => {
  const bad: string[] = [];
  for (const mod of DOMAIN) {
    for (const f of files(path.join(root, 'src', mod))) {
      for (const spec of imports(f)) {
        if (/^(koa|@koa\/|oidc-provider)/.test(spec) || /\/(http|oidc)\//.test(spec) || /^\.\.\/(http|oidc)\b/.test(spec)) bad.push(`${path.relative(root, f)} → ${spec}`);
      }
    }
  }
  expect(bad).toEqual([]);
});

test('when entities import, then nothing from src/', () => {
  const bad = files(path.join(root, 'entities')).flatMap((f) => imports(f).filter((s) => s.includes('/src/') || s.startsWith('../src')).map((s) => `${path.relative(root, f)} → ${s}`));
  expect(bad).toEqual([]);
});

test('when config and shared import, then only each other and libraries (they are leaves)', () => {
  const bad: string[] = [];
  for (const mod of ['config', 'shared']) {
    for (const f of files(path.join(root, 'src', mod))) {
      for (const spec of imports(f)) if (spec.startsWith('..') && !/^\.\.\/(config|shared)\//.test(spec)) bad.push(`${path.relative(root, f)} → ${spec}`);
    }
  }
  expect(bad).toEqual([]);
});

test('when anything outside src/config reads the environment, then the test names it', () => {
  const bad = files(path.join(root, 'src')).filter((f) => !f.includes(`${path.sep}config${path.sep}`) && /process\.env\b/.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(root, f));
  expect(bad).toEqual([]);
});

// DESIGN.md: routes are thin (parse → call a domain operation → render/redirect). What reads or
// writes the database is a domain operation; a route hands it `ds.manager` or a transaction's
// manager and never queries through it itself.
const ROUTE_DB_ACCESS = /getRepository|createQueryBuilder|\.query\(|\.manager\./;

test('when route files are read, then none reaches into TypeORM (repositories, query builders, raw queries, the manager)', () => {
  const bad: string[] = [];
  for (const f of files(path.join(root, 'src', 'http', 'routes'))) {
    fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (ROUTE_DB_ACCESS.test(line)) bad.push(`${path.relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  expect(bad).toEqual([]);
});
