// What the failover tests share (test/crash/pg-sync-promote, pg-async-promote,
// redis-cluster-master-kill): a folder of small one-chunk documents for a CLI ingest long enough to
// fail a server over in, the committed ids read straight from one PostgreSQL server, and the checks
// of an ingest that rode a failover out (exit 0, nothing compensated or stuck, all completed).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import pg from 'pg';

/** `count` markdown files in a new folder; ids are the file names (a file's id is its path there). */
export function smallDocuments(count: number, prefix: string, line: (i: number) => string): { dir: string; ids: string[] } {
  const dir = mkdtempSync(join(tmpdir(), `apex-${prefix}-docs-`));
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `doc-${String(i).padStart(4, '0')}.md`;
    writeFileSync(join(dir, name), `# Note ${i}\n\n${line(i)}\n`);
    ids.push(name);
  }
  return { dir, ids };
}

/** Ids of the committed documents on one server (empty before the schema exists). */
export async function committedIds(url: string): Promise<Set<string>> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000, query_timeout: 10_000 });
  await c.connect();
  try {
    const res = await c.query<{ id: string }>("SELECT id FROM documents WHERE ingestion_status = 'committed'");
    return new Set(res.rows.map((r) => r.id));
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return new Set(); // documents not created yet
    throw err;
  } finally {
    await c.end();
  }
}

/** The ingest's summary lines as a diagnostic, then: exit 0, 0 compensated, 0 stuck, `docs` completed. */
export function assertRodeOut(t: TestContext, output: string, code: number | null, docs: number): void {
  t.diagnostic(
    output
      .split('\n')
      .filter((l) => /completed|compensated|stuck|errors|waited|wall time/.test(l))
      .join('\n'),
  );
  assert.equal(code, 0, output);
  assert.match(output, /compensated\s+0\n/, output);
  assert.match(output, /stuck\s+0\n/, output);
  assert.match(output, new RegExp(`completed\\s+${docs} `), output);
}

/** The CLI's environment for the servers profile, with documents and saga log on `pgUrl`. */
export function serversEnv(
  config: { dataDir: string; neo4jUrl?: string; qdrantUrl?: string; redisUrl?: string },
  pgUrl: string,
): Record<string, string> {
  return {
    APEX_DATA_DIR: config.dataDir,
    DATABASE_URL: pgUrl,
    SAGA_LOG_URL: pgUrl,
    NEO4J_URL: config.neo4jUrl ?? '',
    QDRANT_URL: config.qdrantUrl ?? '',
    REDIS_URL: config.redisUrl ?? '',
  };
}
