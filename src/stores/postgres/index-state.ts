// The active index record's SQL (table index_state, schema.ts; docs/reindex.md): one row whose
// version is compared and set by every change, so concurrent operators never both win.
import type { StoredIndexState } from '../types.js';
import type { SqlExecutor } from './sql-store.js';

interface Row {
  version: string | number;
  state: unknown;
  updated_at: Date | string;
}

export async function readIndexState(db: SqlExecutor): Promise<StoredIndexState | undefined> {
  const rows = await db.query<Row>('SELECT version, state, updated_at FROM index_state WHERE id = 1');
  const r = rows[0];
  return r ? { version: Number(r.version), state: r.state, updatedAt: new Date(r.updated_at) } : undefined;
}

export async function writeIndexState(db: SqlExecutor, expectedVersion: number, state: unknown): Promise<number | null> {
  const json = JSON.stringify(state);
  const rows =
    expectedVersion === 0
      ? await db.query<{ version: string | number }>(
          'INSERT INTO index_state (id, version, state) VALUES (1, 1, $1::jsonb) ON CONFLICT (id) DO NOTHING RETURNING version',
          [json],
        )
      : await db.query<{ version: string | number }>(
          `UPDATE index_state SET version = version + 1, state = $2::jsonb, updated_at = now()
            WHERE id = 1 AND version = $1::bigint RETURNING version`,
          [expectedVersion, json],
        );
  const r = rows[0];
  return r ? Number(r.version) : null;
}
