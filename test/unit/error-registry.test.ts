// One error registry (src/errors/registry.ts): every code the code base throws has an HTTP status,
// a CLI exit code, whether it is expected (one line, no stack) and whether a retry can help; the
// HTTP API, the CLI and the fleet worker all read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { toProblem } from '../../src/http/problem.js';
import { DocumentHeldError, EmbedderError } from '../../src/ingest/errors.js';
import { ERROR_REGISTRY, isErrorCode } from '../../src/errors/registry.js';
import { describeError } from '../../src/cli/errors.js';
import { describeFailure } from '../../src/fleet/describe-error.js';
import { isStoreError, StoreError } from '../../src/stores/errors.js';
import { isApexError } from '../../src/lib/errors.js';
import { isFenced, SagaError } from '../../src/saga/index.js';

// The bug issue 20 reported: toProblem had no branch for DOC_HELD or EMBED_*, so the API answered
// an expected refusal (a stuck saga holds the document; the embedder is down) with 500 INTERNAL.
test('toProblem: DOC_HELD and EMBED_* are not 500 INTERNAL', () => {
  const held = toProblem(new DocumentHeldError('d1', 'saga-1', 'is stuck'));
  assert.equal(held.code, 'DOC_HELD');
  assert.equal(held.status, 409);
  for (const [code, status] of [
    ['EMBED_TRANSIENT', 503],
    ['EMBED_PERMANENT', 502],
    ['EMBED_CONFIG', 503],
  ] as const) {
    const p = toProblem(new EmbedderError(code, 'embedder said no'));
    assert.equal(p.code, code, code);
    assert.equal(p.status, status, code);
  }
});

// Literals shaped like codes that are not ours to throw: settings (environment variables) and the
// driver / Node codes adapters read. Anything else shaped like a code must be registered.
const NOT_CODES = new Set([
  'APEX_INJECT_FAULTS',
  'APEX_LEASE_MS',
  'APEX_SAGA_LOG_SYNC',
  'APEX_STORE_OUTAGE_BUDGET_MS',
  'APEX_STORE_TIMEOUT_MS',
  'EMBEDDING_DIMENSION',
  'EMBEDDING_TIMEOUT_MS',
  'NEO4J_PASSWORD',
  'OPENAI_API_KEY',
  'QDRANT_API_KEY',
  // Settings named by ConfigError (the field of a configuration problem), not codes.
  'QDRANT_SHARDS',
  'QDRANT_REPLICATION_FACTOR',
  'QDRANT_WRITE_CONSISTENCY',
  'REDIS_URL',
  'DATABASE_URL',
  'SAGA_LOG_URL',
  'SQLITE_BUSY',
  'SQLITE_IOERR',
  'SQLITE_LOCKED',
  'EAI_AGAIN',
  'HPE_HEADER_OVERFLOW',
  'ERR_HTTP_REQUEST_TIMEOUT',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

test('every code literal in src/ and packages/saga/src/ has a registry entry', () => {
  // The app and the engine's package (packages/saga: its own SagaError codes).
  // (Not packages/saga/src/testing: the conformance suite's steps throw made-up codes on purpose.)
  const files = [join(import.meta.dirname, '../../src'), join(import.meta.dirname, '../../packages/saga/src')]
    .flatMap(sourceFiles)
    .filter((f) => !f.includes(`${join('saga', 'src', 'testing')}`));
  assert.ok(files.length > 100, 'the sources were found');
  const seen = new Map<string, string>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    // 'SOME_CODE' anywhere (unions, `readonly code = ...`, `new StoreError(..., 'X', ...)`), and
    // `code = 'WORD'` / `code: 'WORD'` for codes without an underscore.
    for (const m of text.matchAll(/'([A-Z][A-Z0-9]*_[A-Z0-9_]+)'|\bcode\s*[:=]\s*'([A-Z][A-Z0-9_]+)'/g)) {
      const code = m[1] ?? m[2] ?? '';
      // APEX_* is the settings namespace (environment variables): never an error code.
      if (!NOT_CODES.has(code) && !code.startsWith('APEX_') && !seen.has(code)) seen.set(code, relative(process.cwd(), f));
    }
  }
  assert.ok(seen.size >= 50, `found ${seen.size} codes`);
  const missing = [...seen].filter(([code]) => !isErrorCode(code)).map(([code, f]) => `${code} (${f})`);
  assert.deepEqual(missing, []);
  // And the other way round: an entry nobody can throw is dead weight.
  const unused = Object.keys(ERROR_REGISTRY).filter((code) => !seen.has(code));
  assert.deepEqual(unused, []);
});

test('no expected error answers 500, every unexpected one does; exit codes are 1 or 2', () => {
  for (const [code, t] of Object.entries(ERROR_REGISTRY)) {
    assert.equal(t.http === 500, !t.expected, `${code}: 500 exactly when unexpected`);
    assert.ok(t.exit === 1 || t.exit === 2, code);
    if (t.retryable) assert.ok(t.http >= 500, `${code}: a retryable code is a 5xx`);
  }
});

test('toProblem, describeError and describeFailure read the same entry', () => {
  for (const [code, t] of Object.entries(ERROR_REGISTRY)) {
    const err = Object.assign(new Error(`m ${code}`), { code });
    const p = toProblem(err);
    assert.equal(p.status, t.http, code);
    assert.equal(p.code, t.expected ? code : 'INTERNAL', code);
    if (t.http >= 500 && t.expected) assert.equal(p.extensions.retryable, t.retryable, code);
    const d = describeError(err);
    assert.equal(d.expected, t.expected, code);
    assert.equal(d.exitCode, t.exit, code);
    assert.equal(describeFailure(err).startsWith(t.expected ? `${code}: ` : `${code} (unexpected`), true, code);
  }
  // An error's own flag wins over its code's default: a StoreError marked not retryable.
  const permanent = new StoreError('redis', 'STORE_TRANSIENT', 'x', { retryable: false });
  assert.equal(toProblem(permanent).extensions.retryable, false);
  // Unregistered codes: 500 INTERNAL over HTTP, a stack in the CLI, exit 1.
  const unknown = Object.assign(new Error('boom'), { code: 'ENOENT' });
  assert.deepEqual([toProblem(unknown).status, toProblem(unknown).code], [500, 'INTERNAL']);
  assert.deepEqual([describeError(unknown).code, describeError(unknown).expected, describeError(unknown).exitCode], ['ENOENT', false, 1]);
});

test('error identity survives a second copy of the package (brand, not instanceof)', () => {
  // A SagaError / StoreError built by another copy: same name, code and Symbol.for brand, but a
  // different class. Simulated with a fresh class that brands itself the way every copy does.
  class OtherCopySagaError extends Error {
    readonly code = 'SAGA_FENCED';
    constructor() {
      super('fenced elsewhere');
      this.name = 'SagaError';
      Object.defineProperty(this, Symbol.for('apex-memory.error'), { value: true });
    }
  }
  const foreign = new OtherCopySagaError();
  assert.equal(foreign instanceof SagaError, false);
  assert.equal(isFenced(foreign), true);
  assert.equal(isFenced(new SagaError('SAGA_FENCED', 'here')), true);
  // Same code without the brand (any object that happens to say SAGA_FENCED) is not ours.
  assert.equal(isFenced(Object.assign(new Error('x'), { code: 'SAGA_FENCED' })), false);
  assert.equal(isFenced(new SagaError('SAGA_LEASE_LOST', 'x')), false);
  const store = new StoreError('neo4j', 'STORE_BUSY', 'held');
  assert.equal(isApexError(store), true);
  assert.equal(isStoreError(store), true);
  assert.equal(isStoreError(Object.assign(new Error('x'), { name: 'StoreError', code: 'STORE_BUSY' })), false);
  // The brand is invisible to JSON and to object spreads (it never reaches a log line).
  assert.equal(JSON.stringify(Object.keys(store)).includes('apex'), false);
});
