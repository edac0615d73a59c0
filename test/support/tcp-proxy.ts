// A TCP proxy on 127.0.0.1 that tests can cut: when a chosen byte pattern passes from the client
// (e.g. the text of a query), every connection is destroyed before that data reaches the server,
// and later connections are refused (a network drop in the middle of a store call); or, with
// stallOn, that connection silently stops forwarding (a partition: only timeouts can end the call).
import net from 'node:net';

export interface CuttableProxy {
  port: number;
  /** Arms the cut; resolves once it has happened. */
  cutOn(pattern: string): Promise<void>;
  /** Arms a stall: from the matching data on, that connection forwards nothing more (a silent
   * network partition); resolves once it has happened. */
  stallOn(pattern: string): Promise<void>;
  /** Cuts every connection now and refuses new ones until `restore` (an outage). */
  cutNow(): void;
  /** Ends an outage: new connections are accepted again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<net.Socket>();
  let pattern: Buffer | undefined;
  let mode: 'cut' | 'stall' = 'cut';
  let cut = false;
  let onCut: (() => void) | undefined;

  const cutAll = (): void => {
    cut = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
    onCut?.();
  };

  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    let tail = Buffer.alloc(0); // the pattern may straddle two reads
    let stalled = false;
    client.on('data', (data: Buffer) => {
      if (stalled) return;
      const window = Buffer.concat([tail, data]);
      if (pattern && window.includes(pattern)) {
        if (mode === 'cut') {
          cutAll();
        } else {
          stalled = true;
          pattern = undefined;
          onCut?.();
        }
        return;
      }
      tail = window.subarray(Math.max(0, window.length - 256));
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => client.write(data));
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');

  return {
    port: address.port,
    cutOn(text: string): Promise<void> {
      mode = 'cut';
      pattern = Buffer.from(text, 'utf8');
      return new Promise<void>((resolve) => {
        onCut = resolve;
      });
    },
    stallOn(text: string): Promise<void> {
      mode = 'stall';
      pattern = Buffer.from(text, 'utf8');
      return new Promise<void>((resolve) => {
        onCut = resolve;
      });
    },
    cutNow(): void {
      cutAll();
    },
    restore(): void {
      cut = false;
      pattern = undefined;
    },
    close(): Promise<void> {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The same URL with its port (and host) pointing at the proxy. */
export function viaProxy(url: string, proxy: CuttableProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
