import fs from 'node:fs';
import path from 'node:path';
import { projectRoot as root } from '../shared/paths.js';
import type { Context, Next } from 'koa';

const modules = path.join(root, 'node_modules');
const uswdsDist = path.join(modules, '@uswds/uswds/dist');
const webauthnBundle = path.join(modules, '@simplewebauthn/browser/dist/bundle/index.umd.min.js');

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.ico': 'image/x-icon',
};

/** Mount points under /assets → folders on disk. Everything is served locally (no CDN). */
const MOUNTS: Array<[string, string]> = [
  ['/assets/uswds/', uswdsDist],
  ['/assets/js/', path.join(root, 'views/assets/js')],
  ['/assets/css/', path.join(root, 'views/assets/css')],
];

export function staticAssets() {
  return async (ctx: Context, next: Next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !ctx.path.startsWith('/assets/')) return next();
    let file: string | undefined;
    if (ctx.path === '/assets/vendor/simplewebauthn-browser.umd.min.js') file = webauthnBundle;
    for (const [prefix, dir] of MOUNTS) {
      if (file || !ctx.path.startsWith(prefix)) continue;
      const rel = decodeURIComponent(ctx.path.slice(prefix.length));
      const candidate = path.resolve(dir, rel);
      if (candidate.startsWith(dir + path.sep)) file = candidate;
    }
    const type = file ? TYPES[path.extname(file)] : undefined;
    if (!file || !type) return next();
    const stat = await fs.promises.stat(file).catch(() => undefined);
    if (!stat?.isFile()) return next();
    ctx.type = type;
    ctx.length = stat.size;
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = fs.createReadStream(file);
  };
}
