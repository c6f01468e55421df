import dnsCallbacks, { type LookupAddress } from 'node:dns';
import dns from 'node:dns/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import { jest } from '@jest/globals';
import { parseOutboundAllow } from '../../../src/config/parseOutboundAllow.js';
import { providerFetch } from '../../../src/oidc/providerFetch.js';
import type { OutboundPolicy } from '../../../src/shared/checkOutgoingUrl.js';
import { classifyAddress } from '../../../src/shared/classifyAddress.js';
import { OUTGOING_MAX_RESPONSE_BYTES, outgoingRequest } from '../../../src/shared/outgoingRequest.js';

// Security review (issue 16, finding 7): one helper for every outgoing request.
const policy = (opts: { localhost: boolean; allow?: string }): OutboundPolicy => {
  const allow = parseOutboundAllow(opts.allow);
  if (!allow.ok) throw new Error(`bad allow-list ${allow.entry}`);
  return { insecureTransport: opts.localhost, outboundAllow: allow.allow };
};
const DEV = policy({ localhost: true });
const PRODUCTION = policy({ localhost: false });

/** A TCP listener on 127.0.0.1 that only counts who connects (and hangs up on them). */
async function listener() {
  let connections = 0;
  const server = net.createServer((socket) => { connections += 1; socket.destroy(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() { return connections; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An HTTP server on 127.0.0.1 whose handler the test gives; records every request path. */
async function httpServer(handler: http.RequestListener) {
  const paths: string[] = [];
  const server = http.createServer((req, res) => { paths.push(req.url ?? ''); handler(req, res); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    close: () => { server.closeAllConnections(); return new Promise<void>((resolve) => server.close(() => resolve())); },
  };
}

let tcp: Awaited<ReturnType<typeof listener>>;
beforeEach(async () => { tcp = await listener(); });
afterEach(async () => { await tcp.close(); });

describe('outgoingRequest refuses private and special-use addresses', () => {
  test.each([
    ['https://127.0.0.1:PORT/jwks', 'address_not_allowed'],
    ['https://localhost:PORT/jwks', 'address_not_allowed'],
    ['https://api.localhost:PORT/jwks', 'address_not_allowed'],
    ['https://[::1]:PORT/', 'address_not_allowed'],
    ['https://[::ffff:127.0.0.1]:PORT/', 'address_not_allowed'],
    ['https://2130706433:PORT/', 'address_not_allowed'],
    ['https://0x7f.1:PORT/', 'address_not_allowed'],
    ['https://0.0.0.0:PORT/', 'address_not_allowed'],
    ['http://127.0.0.1:PORT/', 'scheme_not_allowed'],
    ['ftp://127.0.0.1:PORT/', 'invalid_url'],
    ['https://user:pass@127.0.0.1:PORT/', 'invalid_url'],
  ])('when OneDoor runs over https and the URL is %s, then it is refused (%s) and nothing connects', async (template, reason) => {
    const result = await outgoingRequest({ url: template.replace('PORT', String(tcp.port)), policy: PRODUCTION });
    expect(result).toEqual({ ok: false, reason });
    expect(tcp.connections).toBe(0);
  });

  test('when a host name resolves to a loopback or private address, then it is refused and nothing connects', async () => {
    // This machine's own name resolves to one of its own addresses (127.0.1.1, a container's 172.17.x.x…).
    const name = os.hostname().toLowerCase();
    const addresses = await dns.lookup(name, { all: true });
    expect(addresses.map((a) => classifyAddress(a.address)).some((use) => use !== 'public')).toBe(true);
    const result = await outgoingRequest({ url: `https://${name}:${tcp.port}/jwks`, policy: PRODUCTION });
    expect(result).toMatchObject({ ok: false, reason: 'address_not_allowed' });
    expect(tcp.connections).toBe(0);
  });

  test('when DNS answers an allowed address first and another afterwards (rebinding), then the connection goes to the address checked, and the name is resolved once', async () => {
    // The first answer passes the check (OUTBOUND_ALLOW lists it; nothing listens there); the
    // second is where the listener waits.
    const answers: LookupAddress[][] = [[{ address: '127.0.0.2', family: 4 }], [{ address: '127.0.0.1', family: 4 }]];
    const lookup = jest.spyOn(dnsCallbacks, 'lookup').mockImplementation(((_host: string, _opts: unknown, cb: (err: null, a: LookupAddress[]) => void) => { cb(null, answers.shift() ?? [{ address: '127.0.0.1', family: 4 }]); }) as never);
    try {
      const result = await outgoingRequest({ url: `https://rebinding.example:${tcp.port}/jwks`, policy: policy({ localhost: false, allow: '127.0.0.2' }), timeoutMs: 500 });
      expect(result.ok).toBe(false);
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(tcp.connections).toBe(0);
    } finally {
      lookup.mockRestore();
    }
  });

  test('when a host name does not resolve, then the request is not made', async () => {
    expect(await outgoingRequest({ url: 'https://no-such-host.invalid/jwks', policy: PRODUCTION })).toEqual({ ok: false, reason: 'name_not_resolved' });
  });

  test('when OneDoor runs on localhost, then plain http to localhost stays allowed, but not https, other hosts, or private addresses', async () => {
    const site = await httpServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"keys":[]}'); });
    try {
      const port = new URL(site.url).port;
      for (const host of ['127.0.0.1', 'localhost']) {
        const result = await outgoingRequest({ url: `http://${host}:${port}/jwks?x=1`, policy: DEV });
        if (!result.ok) throw new Error(result.reason);
        expect(result.response.status).toBe(200);
        expect(await result.response.json()).toEqual({ keys: [] });
      }
      expect(site.paths).toEqual(['/jwks?x=1', '/jwks?x=1']);
      expect(await outgoingRequest({ url: `https://127.0.0.1:${tcp.port}/`, policy: DEV })).toEqual({ ok: false, reason: 'address_not_allowed' });
      expect(await outgoingRequest({ url: `http://10.0.0.1:${tcp.port}/`, policy: DEV })).toEqual({ ok: false, reason: 'scheme_not_allowed' });
      expect(await outgoingRequest({ url: `http://[::ffff:127.0.0.1]:${tcp.port}/`, policy: DEV })).toEqual({ ok: false, reason: 'scheme_not_allowed' });
      expect(tcp.connections).toBe(0);
    } finally {
      await site.close();
    }
  });
});

describe('OUTBOUND_ALLOW', () => {
  test.each([
    ['127.0.0.1', `https://127.0.0.1:PORT/`],
    ['127.0.0.0/8', `https://127.0.0.1:PORT/`],
    ['localhost', `https://localhost:PORT/`],
    ['10.0.0.0/8, 127.0.0.1/32', `https://127.0.0.1:PORT/`],
  ])('when OUTBOUND_ALLOW is "%s", then %s is called (the connection is made)', async (allow, template) => {
    const result = await outgoingRequest({ url: template.replace('PORT', String(tcp.port)), policy: policy({ localhost: false, allow }) });
    // The listener hangs up before TLS: the connection was made, the answer is a failure.
    expect(result).toEqual({ ok: false, reason: 'connection_failed' });
    expect(tcp.connections).toBe(1);
  });

  test('when OUTBOUND_ALLOW lists other addresses, then loopback is still refused', async () => {
    const result = await outgoingRequest({ url: `https://127.0.0.1:${tcp.port}/`, policy: policy({ localhost: false, allow: '10.0.0.0/8, staging.internal' }) });
    expect(result).toEqual({ ok: false, reason: 'address_not_allowed' });
    expect(tcp.connections).toBe(0);
  });

  test('when OUTBOUND_ALLOW lists a host, then plain http to it is still refused', async () => {
    const result = await outgoingRequest({ url: `http://localhost:${tcp.port}/`, policy: policy({ localhost: false, allow: 'localhost' }) });
    expect(result).toEqual({ ok: false, reason: 'scheme_not_allowed' });
  });
});

describe('limits: time, size, redirects', () => {
  test('when the other side never answers, then the request gives up with timeout', async () => {
    const site = await httpServer(() => { /* never answers */ });
    try {
      expect(await outgoingRequest({ url: `${site.url}/slow`, policy: DEV, timeoutMs: 300 })).toEqual({ ok: false, reason: 'timeout' });
    } finally {
      await site.close();
    }
  });

  test('when the answer starts but its body never ends, then the request gives up with timeout', async () => {
    const site = await httpServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.write('{"keys":['); });
    try {
      expect(await outgoingRequest({ url: `${site.url}/trickle`, policy: DEV, timeoutMs: 300 })).toEqual({ ok: false, reason: 'timeout' });
    } finally {
      await site.close();
    }
  });

  test('when the caller aborts (as oidc-provider does after 2.5 s), then the request ends', async () => {
    const site = await httpServer(() => { /* never answers */ });
    try {
      const controller = new AbortController();
      const pending = outgoingRequest({ url: `${site.url}/slow`, policy: DEV, signal: controller.signal });
      controller.abort();
      expect(await pending).toEqual({ ok: false, reason: 'timeout' });
    } finally {
      await site.close();
    }
  });

  test('when the answer is larger than the limit, declared or not, then it is dropped', async () => {
    const big = Buffer.alloc(OUTGOING_MAX_RESPONSE_BYTES + 1, 0x61);
    const site = await httpServer((req, res) => {
      if (req.url === '/declared') res.writeHead(200, { 'content-length': String(big.length) });
      else res.writeHead(200); // chunked: no length up front
      res.end(big);
    });
    try {
      expect(await outgoingRequest({ url: `${site.url}/declared`, policy: DEV })).toEqual({ ok: false, reason: 'response_too_large' });
      expect(await outgoingRequest({ url: `${site.url}/chunked`, policy: DEV })).toEqual({ ok: false, reason: 'response_too_large' });
      const small = await outgoingRequest({ url: `${site.url}/chunked`, policy: DEV, maxResponseBytes: big.length });
      expect(small.ok).toBe(true);
    } finally {
      await site.close();
    }
  });

  test('when the answer is a redirect, then it is returned as is and never followed', async () => {
    const target = await httpServer((_req, res) => { res.end('followed'); });
    const site = await httpServer((_req, res) => { res.writeHead(302, { location: `${target.url}/internal` }); res.end(); });
    try {
      const result = await outgoingRequest({ url: `${site.url}/jwks`, policy: DEV, method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      if (!result.ok) throw new Error(result.reason);
      expect(result.response.status).toBe(302);
      expect(target.paths).toEqual([]);
    } finally {
      await site.close();
      await target.close();
    }
  });
});

describe("oidc-provider's fetch hook", () => {
  test('when a call is refused, then it rejects with the reason code and never the URL, its query or a token', async () => {
    const fetchHook = providerFetch({ policy: PRODUCTION });
    const err = await fetchHook(`https://169.254.169.254/latest/meta-data?token=s3cr3t-value`, { method: 'GET', signal: AbortSignal.timeout(2500) }).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'OutgoingRequestError', code: 'address_not_allowed' });
    expect(JSON.stringify({ message: (err as Error).message, stack: (err as Error).stack })).not.toMatch(/169\.254|s3cr3t|meta-data/);
  });

  test('when a call is allowed, then oidc-provider gets a fetch Response (status, headers, body) and its form body is sent', async () => {
    let received = '';
    const site = await httpServer((req, res) => {
      req.on('data', (c: Buffer) => { received += c.toString(); });
      req.on('end', () => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('ok'); });
    });
    try {
      const res = await providerFetch({ policy: DEV })(`${site.url}/logout`, { method: 'POST', headers: new Headers({ 'content-type': 'application/x-www-form-urlencoded', 'user-agent': '' }), body: new URLSearchParams({ logout_token: 'abc' }) });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('max-age=60');
      expect(await res.text()).toBe('ok');
      expect(received).toBe('logout_token=abc');
    } finally {
      await site.close();
    }
  });
});
