// Prepared statements for PGlite. PGlite's own query() sends each call as an unnamed statement in
// six protocol exchanges with the WebAssembly backend (Parse, Describe, Bind, Describe, Execute,
// Sync), so every call is parsed and planned again: 0.4-0.8 ms for a primary-key lookup on this
// machine. Here each statement text is parsed once into a named server-side prepared statement,
// and every call is one exchange (Bind + Describe + Execute + Sync in one message): 0.2-0.3 ms.
// The ingest path's five statements per document (postgres/sql-store.ts) all go through it.
//
// Same semantics as PGlite's query(): the same mutexes (so a call never runs inside another
// caller's transaction), the same parameter serializers and result parsers, errors thrown as
// PGlite's DatabaseError (SQLSTATE in `code`), and the backend is back at ReadyForQuery after an
// error because Sync travels in the same message. Parameters stay parameters (Bind), never text.
import { parse, protocol, type PGlite } from '@electric-sql/pglite';

/** Statement texts are fixed strings in this code base; the bound only guards against misuse. */
const MAX_PREPARED = 256;

interface Prepared {
  name: string;
  paramTypes: number[];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `query(sql, params)` with the statement prepared once per text; falls back to db.query past the bound. */
export function preparedQuery(db: PGlite): <R>(sql: string, params?: unknown[]) => Promise<R[]> {
  const prepared = new Map<string, Prepared>();
  const { serialize } = protocol;
  const exchange = (parts: Uint8Array[]) => db.execProtocolStream(concat(parts), { syncToFs: false });

  const prepare = async (sql: string): Promise<Prepared> => {
    const name = `apex_stmt_${prepared.size}`;
    const messages = await exchange([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]);
    const described = messages.find((m) => m.name === 'parameterDescription') as { dataTypeIDs?: number[] } | undefined;
    const p = { name, paramTypes: described?.dataTypeIDs ?? [] };
    prepared.set(sql, p);
    return p;
  };

  return async <R>(sql: string, params: unknown[] = []): Promise<R[]> => {
    if (!prepared.has(sql) && prepared.size >= MAX_PREPARED) return (await db.query<R>(sql, params)).rows;
    // The transaction mutex, then the query mutex: exactly what PGlite's query() takes.
    return db._runExclusiveTransaction(() =>
      db._runExclusiveQuery(async () => {
        const p = prepared.get(sql) ?? (await prepare(sql));
        const values = params.map((v, i) => {
          if (v === null || v === undefined) return null;
          const serializer = db.serializers[p.paramTypes[i] ?? 0];
          return serializer ? serializer(v) : String(v);
        });
        const messages = await exchange([
          serialize.bind({ statement: p.name, values }),
          serialize.describe({ type: 'P' }),
          serialize.execute({}),
          serialize.sync(),
        ]);
        await db.syncToFs();
        return (parse.parseResults(messages, db.parsers)[0]?.rows ?? []) as R[];
      }),
    );
  };
}
