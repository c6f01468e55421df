/**
 * A minimal cookie-keeping HTTP client, standing in for a browser in integration tests:
 * follows nothing by itself (tests see every redirect), keeps cookies per host, and reads the
 * CSRF token from pages.
 */
export class Agent {
  private jar = new Map<string, string>();
  csrf = '';

  /** A cookie as this browser holds it (undefined when it has none). */
  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  /** Puts a cookie in this browser, as another site sharing the parent domain could (cookie tossing). */
  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  cookieHeader(): string {
    return [...this.jar.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(url: string, init: RequestInit & { form?: Record<string, string>; json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', this.cookieHeader());
    let body = init.body;
    if (init.form) {
      body = new URLSearchParams({ _csrf: this.csrf, ...init.form }).toString();
      headers.set('content-type', 'application/x-www-form-urlencoded');
    } else if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set('content-type', 'application/json');
      headers.set('accept', 'application/json');
      headers.set('x-csrf-token', this.csrf);
    }
    const res = await fetch(url, { ...init, headers, body, redirect: 'manual' });
    this.store(res);
    return res;
  }

  /** GET a page, remember its CSRF token, return status, final URL and HTML. */
  async page(url: string): Promise<{ status: number; html: string; res: Response }> {
    const res = await this.request(url);
    const html = await res.text();
    const m = html.match(/<meta name="csrf-token" content="([^"]*)">/);
    if (m) this.csrf = m[1]!;
    return { status: res.status, html, res };
  }

  /** Follows redirects (GET) until a non-redirect or a URL outside `origin`; returns that URL. */
  async follow(url: string, origin: string, max = 10): Promise<{ url: string; res: Response }> {
    let current = url;
    for (let i = 0; i < max; i += 1) {
      if (!current.startsWith(origin)) return { url: current, res: new Response(null, { status: 302 }) };
      const res = await this.request(current);
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc) {
        current = new URL(loc, current).toString();
        continue;
      }
      return { url: current, res };
    }
    throw new Error('too many redirects');
  }
}
