// A TCP proxy on 127.0.0.1 that reads what PostgreSQL clients send (protocol 3.0, client to
// server only) on its way to a server or a pooler: each connection's startup parameters, the names
// of the statements it prepares (Parse), and the text of every query (simple Query and Parse). The
// pooler test uses it to check that nothing session-level reaches PgBouncer in transaction mode.
import net from 'node:net';

export interface WireLog {
  /** Startup parameter names of every connection (user, database, application_name, ...). */
  startupParams: string[][];
  /** Non-empty names of prepared statements (Parse); unnamed ones are not listed. */
  namedStatements: string[];
  /** Texts of simple queries and of parsed statements, in order. */
  queries: string[];
}

export interface WireSniffer {
  port: number;
  log: WireLog;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const GSS_REQUEST = 80877104;

function cstrings(buf: Buffer, from: number): string[] {
  const out: string[] = [];
  let i = from;
  while (i < buf.length) {
    const end = buf.indexOf(0, i);
    if (end < 0) break;
    out.push(buf.toString('utf8', i, end));
    i = end + 1;
  }
  return out;
}

export async function startWireSniffer(targetHost: string, targetPort: number): Promise<WireSniffer> {
  const log: WireLog = { startupParams: [], namedStatements: [], queries: [] };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    let pending = Buffer.alloc(0);
    let startup = true;
    client.on('data', (data: Buffer) => {
      upstream.write(data);
      pending = Buffer.concat([pending, data]);
      for (;;) {
        if (startup) {
          if (pending.length < 8) return;
          const len = pending.readInt32BE(0);
          if (pending.length < len) return;
          const code = pending.readInt32BE(4);
          // SSL/GSS negotiation comes before the real startup message; a cancel is its own connection.
          if (code !== SSL_REQUEST && code !== GSS_REQUEST && code !== CANCEL_REQUEST) {
            const kv = cstrings(pending.subarray(8, len), 0);
            log.startupParams.push(kv.filter((_, i) => i % 2 === 0 && kv[i] !== ''));
            startup = false;
          }
          pending = pending.subarray(len);
          continue;
        }
        if (pending.length < 5) return;
        const type = String.fromCharCode(pending[0] ?? 0);
        const len = pending.readInt32BE(1);
        if (pending.length < 1 + len) return;
        const body = pending.subarray(5, 1 + len);
        if (type === 'Q') log.queries.push(body.toString('utf8', 0, Math.max(0, body.length - 1)));
        if (type === 'P') {
          const [name = '', text = ''] = cstrings(body, 0);
          if (name !== '') log.namedStatements.push(name);
          log.queries.push(text);
        }
        pending = pending.subarray(1 + len);
      }
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('wire sniffer: no port');
  return {
    port: address.port,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What must not reach a transaction pooler: statements that outlive their transaction. */
export function sessionLevelStatements(queries: string[]): string[] {
  return queries.filter(
    (q) =>
      /^\s*SET\s+(?!LOCAL\b)/i.test(q) || /^\s*(LISTEN|UNLISTEN|PREPARE|DECLARE)\b/i.test(q) || /pg_(try_)?advisory_lock\s*\(/i.test(q),
  );
}
