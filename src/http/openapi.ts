// The OpenAPI 3.1 document: paths and schemas come from the zod schemas the routes validate with
// (route.ts registers both); this file adds what a client must know about saga semantics.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { readFileSync } from 'node:fs';
import type { ApiOptions } from './context.js';
import { ERROR_REGISTRY } from '../errors/registry.js';

const SEMANTICS = `
Every write (POST/PUT/DELETE of a document) runs as a **saga** across PostgreSQL, Neo4j, Qdrant and
Redis: all four stores end up with the write, or (after compensation) none of them do.

**Status codes of writes**
- **201**: the saga completed and a new document is committed in all four stores.
- **200**: the saga completed (update or delete), or no saga was needed (\`sagaStatus: skipped\`:
  the content is already committed).
- **202**: accepted; the saga has not ended within \`?wait=\` seconds (default 0): it is running,
  queued for a worker (fleet mode), or **stuck** (waiting for an operator). Poll the \`Location\`
  (\`/v1/sagas/{id}\`) or the document.
- **503 WRITE_COMPENSATED** (problem): a step failed and the saga rolled back; nothing of this write
  is visible. Safe to retry with a **new** Idempotency-Key (the same key returns the same saga).
- **409 WRITE_CONFLICT**: another writer committed this document first; read it, then decide.
- **4xx** for bad input: nothing is written to any store.

**What \`pending\` means to a reader.** A new document's PostgreSQL row is \`ingestion_status =
'pending'\` from the saga's first step until its pivot (the commit): during that window GET returns
it with \`ingestionStatus: pending\` and no text, and search does not return it. An update keeps the
previous version visible (\`committed\`) until the new one commits; \`pendingVersions\` names it.
The window lasts one saga (milliseconds normally); a stuck saga keeps it open until an operator acts.

**What a client should retry.** 503 (a store or the log unavailable, draining, compensated) and
network errors: retry with backoff and the **same** Idempotency-Key, except after
WRITE_COMPENSATED (new key). Never retry 400/401/404/409/413/415/422 unchanged.

**Idempotency-Key** maps to the saga id: repeating a request with the same key and body never runs
the saga twice and answers with that saga's state; the same key with another body is a 409
HTTP_IDEMPOTENCY_CONFLICT.

**Errors** are \`application/problem+json\` (RFC 9457) with a stable \`code\`; a 5xx problem
says in \`retryable\` whether the same request can succeed later.

**Changed (unreleased)**: these codes used to answer 500 INTERNAL: DOC_HELD (now 409, with
\`docId\` and the holding \`sagaId\`), EMBED_TRANSIENT (503), EMBED_PERMANENT (502), EMBED_CONFIG
(503), DOC_SOURCE (422), SAGA_FENCED and SAGA_CANCELLED (409), SAGA_INPUT_INVALID (422),
SAGA_DEADLINE, SAGA_LEASE_LOST, STEP_TIMEOUT, STEP_ABORTED, SAGA_INTERRUPTED, RECOVERY_LIMIT,
SAGA_UNKNOWN_DEFINITION, CONFIG_INVALID, DATA_DIR_LOCKED (503). STORE_FENCED answers 409 (was 503).
STORE_PERMANENT and STORE_INJECTED stay 503 but say \`retryable: false\` (was true); LOG_CLOSED and
SAGA_WAIT_TIMEOUT now carry \`retryable: true\`. See CHANGELOG.md.
`;

/** Status -> codes, from the one error registry (src/errors/registry.ts). */
function errorTable(): string {
  const byStatus = new Map<number, string[]>();
  for (const [code, t] of Object.entries(ERROR_REGISTRY)) {
    if (!t.expected || code.startsWith('CLI_') || code === 'SAGA_FAILED' || code === 'HTTP_UNSAFE_BIND') continue; // not sent by the API
    byStatus.set(t.http, [...(byStatus.get(t.http) ?? []), code]);
  }
  const rows = [...byStatus].sort(([a], [b]) => a - b).map(([status, codes]) => `- **${status}**: ${codes.join(', ')}`);
  return `**Error codes by status**\n${rows.join('\n')}\n- **500**: INTERNAL (a bug; the server log has the details)`;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function openApiDocument(api: OpenAPIHono, opts: ApiOptions) {
  return api.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Apex Memory API',
      version: version(),
      description: `${SEMANTICS.trim()}\n\n${errorTable()}\n\nThis server runs in **${opts.mode === 'run' ? 'run' : 'enqueue'}** mode: ${
        opts.mode === 'run'
          ? 'it runs the sagas itself.'
          : 'document writes are queued in the saga log and `apex-memory worker` processes run them.'
      }`,
    },
    security: [{ bearer: [] }],
    tags: [
      { name: 'documents', description: 'Write and read documents (writes run sagas).' },
      { name: 'sagas', description: 'Inspect and operate the saga log.' },
      { name: 'operations', description: 'Dashboard numbers and the cross-store check.' },
      { name: 'health', description: 'Probes and metrics.' },
    ],
  });
}
