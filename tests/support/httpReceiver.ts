import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest { path: string; contentType: string; body: string }

/**
 * An agency's endpoints for OneDoor's outgoing calls (back-channel logout, security events) on
 * 127.0.0.1: records every request and answers with the next queued status for its path, or
 * `defaultStatus`.
 */
export interface HttpReceiver {
  url: string;
  received: ReceivedRequest[];
  /** Answers the next request to `path` with this status (and JSON body, if given). */
  respondNext(path: string, status: number, body?: unknown): void;
  close(): Promise<void>;
}

export async function startHttpReceiver(defaultStatus: Record<string, number> = {}): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  const queued = new Map<string, Array<{ status: number; body?: unknown }>>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, contentType: req.headers['content-type'] ?? '', body });
      const next = queued.get(path)?.shift() ?? { status: defaultStatus[path] ?? 200 };
      if (next.body !== undefined) {
        res.writeHead(next.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(next.body));
      } else {
        res.writeHead(next.status);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    respondNext(path, status, body) {
      const list = queued.get(path) ?? [];
      list.push({ status, body });
      queued.set(path, list);
    },
    close: () => { server.closeAllConnections(); return new Promise<void>((resolve) => server.close(() => resolve())); },
  };
}
