// The SQLite stand-ins (graph, vector, cache) against their conformance suites, each in its own
// file under a temporary directory. In-process engines have no connection to cut, so the mid-call
// drop case runs for the server adapters only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openSqliteCache } from '../../src/stores/embedded/sqlite-cache.js';
import { openSqliteGraph } from '../../src/stores/embedded/sqlite-graph.js';
import { openSqliteVector } from '../../src/stores/embedded/sqlite-vector.js';
import { cacheConformance, graphConformance, vectorConformance } from '../support/store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'apex-sqlite-stores-'));
after(() => rmSync(dir, { recursive: true, force: true }));

graphConformance({ label: 'sqlite-graph', open: () => openSqliteGraph(join(dir, 'graph.db')) });
vectorConformance({ label: 'sqlite-vector', open: () => openSqliteVector({ file: join(dir, 'vectors.db'), dimension: 16 }) });
cacheConformance({ label: 'sqlite-cache', open: () => openSqliteCache(join(dir, 'cache.db')) });
