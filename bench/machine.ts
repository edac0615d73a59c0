// The machine and the versions a run measured, as one row (BENCHMARKS.md states them).
import { cpus, totalmem, release } from 'node:os';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function pkgVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      try {
        const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (p.name === name) return p.version ?? '?';
      } catch {
        // keep climbing
      }
    }
  } catch {
    // not installed
  }
  return 'absent';
}

export async function machineRow(env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  const row: Record<string, unknown> = {
    name: 'machine',
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memory_gb: +(totalmem() / 2 ** 30).toFixed(1),
    kernel: release(),
    node: process.version,
    pglite: pkgVersion('@electric-sql/pglite'),
    'better-sqlite3': pkgVersion('better-sqlite3'),
  };
  try {
    const { default: Database } = await import('better-sqlite3');
    row.sqlite = (new Database(':memory:').prepare('select sqlite_version() v').get() as { v: string }).v;
  } catch {
    row.sqlite = '?';
  }
  const pgUrl = env.APEX_TEST_DATABASE_URL;
  if (pgUrl) {
    try {
      const { default: pg } = await import('pg');
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      row.postgresql = ((await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?').split(' ')[0];
      await c.end();
    } catch {
      row.postgresql = 'unreachable';
    }
  }
  if (env.APEX_TEST_NEO4J_URL) {
    try {
      const { default: neo4j } = await import('neo4j-driver');
      const d = neo4j.driver(env.APEX_TEST_NEO4J_URL);
      const info = await d.getServerInfo();
      row.neo4j = info.agent ?? '?';
      await d.close();
    } catch {
      row.neo4j = 'unreachable';
    }
  }
  if (env.APEX_TEST_REDIS_URL) {
    try {
      const { Redis } = await import('ioredis');
      const r = new Redis(env.APEX_TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await r.connect();
      row.redis = /redis_version:([^\r\n]+)/.exec(await r.info('server'))?.[1] ?? '?';
      r.disconnect();
    } catch {
      row.redis = 'unreachable';
    }
  }
  if (env.APEX_TEST_QDRANT_URL) {
    try {
      const body = (await (await fetch(env.APEX_TEST_QDRANT_URL)).json()) as { result?: { version?: string; title?: string } };
      const edge = /qdrant-edge-py==(\S+)/.exec(readFileSync('services/qdrant-edge/requirements.txt', 'utf8'))?.[1] ?? '?';
      row.qdrant = `${body.result?.version ?? '?'} on qdrant-edge-py ${edge} (not the Qdrant server)`;
    } catch {
      row.qdrant = 'unreachable';
    }
  }
  return row;
}
