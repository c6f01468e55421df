/**
 * The small web helpers of the demo agency (plain node:http): cookies, bodies, headers, HTML.
 * In your site, your framework does this.
 */
import type http from 'node:http';

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

export async function readBody(req: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('body too large');
  }
  return body;
}

/** Only an error's code or class: messages can carry request data. */
export function errorCode(err: unknown): string {
  const e = err as { error?: unknown; code?: unknown; name?: unknown };
  return String(e?.error ?? e?.code ?? e?.name ?? 'error');
}

export function securityHeaders(res: http.ServerResponse, issuerOrigin: string): void {
  // The sign-in form redirects to OneDoor, so OneDoor's origin is an allowed form target.
  res.setHeader('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${issuerOrigin}; frame-ancestors 'none'; base-uri 'none'`);
  res.setHeader('x-content-type-options', 'nosniff');
  // The callback URL carries the authorization code: never send it on as a Referer.
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cache-control', 'no-store');
}

export function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(303, { location }).end();
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A page of the demo agency; `head` adds to the document head (e.g. a refresh while waiting). */
export function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Demo Benefits Agency</title>${head}
<style>
  body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem; color: #1b1b1b; line-height: 1.5; }
  header { border-bottom: 4px solid #2e6f40; margin-bottom: 1.5rem; }
  header p { margin: 0 0 .5rem; color: #555; }
  pre { background: #f4f4f4; padding: 1rem; overflow-x: auto; border-radius: 4px; }
  button, .button { font: inherit; background: #2e6f40; color: #fff; border: 0; border-radius: 4px; padding: .6rem 1.2rem; cursor: pointer; text-decoration: none; display: inline-block; }
  label { display: block; font-weight: 600; margin-bottom: .25rem; }
  select, input { font: inherit; padding: .3rem; margin-bottom: 1rem; max-width: 100%; }
  .code { font-family: ui-monospace, monospace; font-size: 2rem; font-weight: bold; letter-spacing: .1em; border: 2px solid #1b1b1b; padding: .3rem .8rem; display: inline-block; }
  nav a { margin-right: 1rem; }
</style>
</head>
<body>
<header><h1>Demo Benefits Agency</h1><p>A sample agency site that signs people in with OneDoor.</p><nav><a href="/">Sign in</a><a href="/phone">Phone agent</a></nav></header>
<main>
${body}
</main>
</body>
</html>`;
}

