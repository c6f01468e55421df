import http from 'node:http';

/**
 * A lean HTTP/1.1 client for the load generator: keep-alive sockets, no redirects followed, a
 * cookie jar per simulated browser. It stays cheap so that the machine's cores go to the server
 * being measured, not to the client.
 */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class HttpClient {
  readonly agent: http.Agent;
  readonly base: URL;

  constructor(opts: { base: string; sockets: number }) {
    this.base = new URL(opts.base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.sockets, maxFreeSockets: opts.sockets });
  }

  request(opts: { method?: string; path: string; headers?: Record<string, string>; body?: string; jar?: CookieJar }): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const cookie = opts.jar?.header();
    if (cookie) headers['cookie'] = cookie;
    return new Promise((resolve, reject) => {
      const req = http.request({
        agent: this.agent, hostname: this.base.hostname, port: this.base.port, method: opts.method ?? 'GET', path: opts.path, headers,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          opts.jar?.store(res.headers['set-cookie']);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (opts.body !== undefined) req.write(opts.body);
      req.end();
    });
  }

  /** A form POST (application/x-www-form-urlencoded). */
  form(path: string, fields: Record<string, string>, extra: { headers?: Record<string, string>; jar?: CookieJar } = {}): Promise<HttpResponse> {
    return this.request({
      method: 'POST', path, jar: extra.jar, body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra.headers },
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Cookies of one simulated browser (name → value; attributes are not needed here). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  store(lines: string[] | undefined): void {
    for (const line of lines ?? []) {
      const pair = line.slice(0, line.indexOf(';') === -1 ? line.length : line.indexOf(';'));
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** The path (with query) of a Location header, resolved against the server's origin. */
export function locationOf(res: HttpResponse, base: URL): URL {
  const loc = res.headers.location;
  if (!loc || res.status < 300 || res.status >= 400) throw new Error(`expected a redirect, got ${res.status} ${textOf(res.body)}`);
  return new URL(loc, base);
}

/** A short plain-text excerpt of an error page or body, for the bench's error summary. */
function textOf(body: string): string {
  return body.replace(/<style[^]*<\/style>/, ' ').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Fails the iteration (counted as an error) unless the status is the expected one. */
export function expectStatus(res: HttpResponse, status: number, what: string): HttpResponse {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${textOf(res.body)}`);
  return res;
}
