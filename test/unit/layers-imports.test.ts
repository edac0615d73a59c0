// The floors of the house (docs/ARCHITECTURE.md), checked: each folder of src/ imports only the
// folders below it, and a database driver only from the adapter named after it. A new import that
// climbs a floor fails here with the file and the import. src/saga has its own, stricter test
// (the engine package imports nothing outside itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = join(import.meta.dirname, '../../src');

/** Folder -> the folders of ours it may import ('.' is src/ itself: app.ts, wiring.ts, index.ts). */
const FLOORS: Record<string, readonly string[]> = {
  saga: [],
  lib: [],
  config: ['lib'],
  stores: ['lib'],
  log: ['lib', 'saga'],
  ingest: ['lib', 'saga', 'stores'],
  tracing: ['lib', 'saga'],
  logging: ['lib', 'saga'],
  errors: ['lib', 'saga', 'stores', 'ingest', 'config'],
  metrics: ['lib', 'saga', 'stores', 'ingest', 'tracing'],
  fleet: ['lib', 'saga', 'config', 'stores', 'ingest', 'errors'],
  '.': ['lib', 'saga', 'config', 'stores', 'log', 'ingest', 'fleet'],
  http: ['lib', 'saga', 'stores', 'ingest', 'errors', 'fleet', '.'],
  cli: ['lib', 'saga', 'config', 'stores', 'log', 'ingest', 'errors', 'fleet', 'http', 'logging', 'metrics', '.'],
};

/** Packages each folder may import (drivers further limited by DRIVERS below). */
const PACKAGES: Record<string, readonly string[]> = {
  saga: ['@apex-memory/saga'], // src/saga only re-exports the engine's package (packages/saga)
  lib: [],
  config: [],
  stores: ['pg', 'neo4j-driver', 'ioredis', 'cluster-key-slot', '@qdrant/js-client-rest', 'better-sqlite3', '@electric-sql/pglite', 'uuid'],
  log: ['pg', 'better-sqlite3', '@apex-memory/saga'], // the log kit and the memory log
  ingest: ['zod'],
  tracing: ['@opentelemetry/api'],
  logging: ['pino'],
  errors: [],
  metrics: ['prom-client', 'commander'],
  fleet: [],
  '.': [],
  http: ['hono', '@hono/node-server', '@hono/zod-openapi'],
  cli: ['commander', 'cli-progress'],
};

/** A driver is imported only by a file whose path names it (the adapter, after any folder move). */
const DRIVERS: Record<string, RegExp> = {
  pg: /postgres|pg-/,
  'neo4j-driver': /neo4j/,
  ioredis: /redis/,
  'cluster-key-slot': /redis/,
  '@qdrant/js-client-rest': /qdrant/,
  'better-sqlite3': /sqlite/,
  '@electric-sql/pglite': /pglite/,
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

function folderOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? (parts[0] ?? '.') : '.';
}

function packageOf(spec: string): string {
  const parts = spec.split('/');
  return (spec.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

test('every folder of src/ imports only the floors below it, and drivers only from their adapters', () => {
  const files = tsFiles(SRC);
  const bad: string[] = [];
  const folders = new Set<string>();
  for (const file of files) {
    const from = folderOf(file);
    folders.add(from);
    const allowed = FLOORS[from];
    if (allowed === undefined) {
      bad.push(`${relative(SRC, file)}: folder "${from}" has no floor in this test (add it, and to docs/ARCHITECTURE.md)`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? '';
      const where = `${relative(SRC, file)}: ${spec}`;
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) {
        const target = folderOf(resolve(dirname(file), spec));
        if (target !== from && !allowed.includes(target))
          bad.push(`${where} (${from} may import ${allowed.join(', ') || 'nothing of ours'})`);
        continue;
      }
      const pkg = packageOf(spec);
      if (!(PACKAGES[from] ?? []).includes(pkg)) bad.push(`${where} (package not allowed in ${from})`);
      const adapter = DRIVERS[pkg];
      if (adapter && !adapter.test(relative(SRC, file))) bad.push(`${where} (driver outside its adapter)`);
    }
  }
  assert.ok(files.length > 100 && folders.has('lib') && folders.has('saga'), 'the sources were found');
  assert.deepEqual(bad, []);
});
