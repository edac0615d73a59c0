// The erasure scenario of issue 23, shared by both profiles (test/integration/erasure-*.test.ts):
// documents with unique tokens in text, title and metadata, updated over several versions, some
// deleted. Tokens are random per run so that a leftover of an earlier run can never pass for one
// of this run (and `git grep` of a test artifact never finds a stale one).
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import type { App } from '../../src/app.js';
import type { ValidDocument } from '../../src/ingest/schema.js';

export const VERSIONS = 3;

export interface ErasureDocs {
  /** Documents the scenario deletes, and those it keeps. */
  deleted: string[];
  kept: string[];
  /** Every token each document carried in any version (text, title, metadata). */
  tokens: Map<string, string[]>;
}

export function tokenDoc(docId: string, tag: string, v: number): ValidDocument {
  return {
    id: docId,
    // Capitalized mid-sentence: the extractor makes the text token an Entity too.
    text: `Erasure notes, version ${v}: the customer Zq${tag}T${v} asked us to forget the account. More about Zq${tag}T${v} later.`,
    title: `Title Zq${tag}H${v}`,
    metadata: { secret: `Zq${tag}M${v}`, nested: { deep: [`Zq${tag}N${v}`] } },
  };
}

export function tokensOf(tag: string): string[] {
  const out: string[] = [];
  for (let v = 0; v < VERSIONS; v++) out.push(`Zq${tag}T${v}`, `Zq${tag}H${v}`, `Zq${tag}M${v}`, `Zq${tag}N${v}`);
  return out;
}

/** Ingests each document, updates it VERSIONS-1 times, then deletes the first `deleteCount`. */
export async function runScenario(app: App, prefix: string, count = 3, deleteCount = 2): Promise<ErasureDocs> {
  const docs: ErasureDocs = { deleted: [], kept: [], tokens: new Map() };
  for (let i = 0; i < count; i++) {
    const docId = `${prefix}-${i}`;
    const tag = randomBytes(6).toString('hex');
    docs.tokens.set(docId, tokensOf(tag));
    for (let v = 0; v < VERSIONS; v++) {
      const r = await app.writer.ingest(tokenDoc(docId, tag, v));
      assert.equal(r.status, 'completed', `${docId} v${v}: ${JSON.stringify(r.reason)}`);
    }
    (i < deleteCount ? docs.deleted : docs.kept).push(docId);
  }
  for (const docId of docs.deleted) {
    const r = await app.writer.delete(docId);
    assert.equal(r.status, 'completed', `delete ${docId}: ${JSON.stringify(r.reason)}`);
  }
  return docs;
}

export function deletedTokens(docs: ErasureDocs): string[] {
  return docs.deleted.flatMap((d) => docs.tokens.get(d) ?? []);
}

/** Tokens of the last version of each kept document (what must still be readable). */
export function keptTokens(docs: ErasureDocs): string[] {
  return docs.kept.flatMap((d) => (docs.tokens.get(d) ?? []).slice(-4));
}

/** Every saga in the log, as JSON: new sagas hold ids and hashes only, never content. */
export async function sagaLogText(app: App): Promise<string> {
  const parts: string[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await app.engine.log.list({}, { limit: 1_000, ...(cursor === undefined ? {} : { cursor }) });
    for (const s of page.sagas) parts.push(JSON.stringify(await app.engine.log.load(s.sagaId)));
    if (page.next === null) break;
    cursor = page.next;
  }
  return parts.join('\n');
}

export function found(haystack: string | Buffer, tokens: readonly string[]): string[] {
  return tokens.filter((t) => haystack.includes(t));
}
