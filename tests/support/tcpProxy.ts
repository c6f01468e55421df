import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy the test controls, between OneDoor and its database: `cut()` destroys every
 * connection and refuses new ones (they are closed as soon as they arrive) until `restore()`.
 * `cutWhen(pattern)` cuts at the moment a client sends bytes matching the pattern (for MySQL,
 * the text of a query), before they reach the server — a database lost mid-transaction.
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  cutWhen(pattern: RegExp): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(opts: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let down = false;
  let trigger: { pattern: RegExp; fire: () => void } | undefined;

  const cut = () => {
    down = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };

  const server = net.createServer((client) => {
    if (down) { client.destroy(); return; }
    const upstream = net.connect({ host: opts.host, port: opts.port });
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (trigger && trigger.pattern.test(chunk.toString('latin1'))) {
        const { fire } = trigger;
        trigger = undefined;
        cut();
        fire();
        return;
      }
      if (!down) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => { if (!down) client.write(chunk); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    cut,
    restore() { down = false; },
    cutWhen(pattern) {
      return new Promise<void>((resolve) => { trigger = { pattern, fire: resolve }; });
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
