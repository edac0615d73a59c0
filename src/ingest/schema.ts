// The document schema: the shape every input must have (zod) and the limits it must respect.
// `validateDocument` is the single gate: the file/JSONL/stdin sources and the HTTP API all pass
// through it, so a document that reaches a saga can be written by every store.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DocumentError } from './errors.js';
import { resolveLimits, type IngestLimits } from './limits.js';

/** What a caller may send. Unknown fields are rejected so that a typo ("body") is not silently dropped. */
export const documentInputSchema = z.strictObject({
  id: z.string().optional(),
  title: z.string(),
  text: z.string(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export type DocumentInput = z.infer<typeof documentInputSchema>;

/** A document that passed validation: id resolved, title trimmed, metadata present. */
export interface ValidDocument {
  id: string;
  title: string;
  text: string;
  metadata: Record<string, unknown>;
}

export interface ValidateOptions {
  /** Where the input came from, for error messages ("docs.jsonl:17"). */
  source?: string;
  limits?: Partial<IngestLimits>;
  /** Id to use when the input has none (files: their relative path). Default: `idFromText(text)`. */
  defaultId?: string;
}

const ID_HEX_CHARS = 32;
// Postgres text and jsonb cannot hold NUL; other control characters make ids and titles unreadable.
const CONTROL_CHARS = /\p{Cc}/u;
// In unicode mode this class matches only *unpaired* surrogates, which UTF-8 cannot encode: a store
// would silently replace them, and the stored text would no longer match its hash.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Id of a document that came without one: a prefix of sha256(text), stable across runs. */
export function idFromText(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, ID_HEX_CHARS);
}

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Characters as a reader counts them (code points), not UTF-16 units. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Validates `raw` and returns the normalized document, or throws a DocumentError (code DOC_INVALID). */
export function validateDocument(raw: unknown, options: ValidateOptions = {}): ValidDocument {
  const limits = resolveLimits(options.limits);
  const source = options.source;
  const fail = (field: string, detail: { limit?: string; reason?: string; got?: number }): never => {
    throw new DocumentError({ field, ...detail, ...(source === undefined ? {} : { source }) });
  };

  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('document', { reason: 'expected a JSON object with title and text' });
  }
  const parsed = documentInputSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      return fail(String(issue.keys[0]), { reason: 'unknown field (allowed: id, title, text, metadata)' });
    }
    const field = issue?.path.map(String).join('.') || 'document';
    const missing = (raw as Record<string, unknown>)[field] === undefined;
    return fail(field, { reason: missing ? 'is required' : (issue?.message ?? 'invalid') });
  }
  const input = parsed.data;

  const id = input.id ?? options.defaultId ?? idFromText(input.text);
  checkId(id, limits, fail);

  const title = input.title.trim();
  const titleChars = codePoints(title);
  if (titleChars === 0) fail('title', { reason: 'must not be empty' });
  if (titleChars > limits.maxTitleChars) fail('title', { limit: `at most ${limits.maxTitleChars} characters`, got: titleChars });
  if (CONTROL_CHARS.test(title)) fail('title', { reason: 'must not contain control characters' });
  if (LONE_SURROGATE.test(title)) fail('title', { reason: 'contains an unpaired surrogate (not valid Unicode)' });

  const text = input.text;
  if (text.trim().length === 0) fail('text', { reason: 'must not be empty' });
  const textBytes = utf8Bytes(text);
  if (textBytes > limits.maxTextBytes) fail('text', { limit: `at most ${limits.maxTextBytes} bytes (UTF-8)`, got: textBytes });
  if (text.includes('\u0000')) fail('text', { reason: 'must not contain NUL characters' });
  if (LONE_SURROGATE.test(text)) fail('text', { reason: 'contains an unpaired surrogate (not valid Unicode)' });

  const metadata = input.metadata ?? {};
  checkMetadata(metadata, limits, fail);

  return { id, title, text, metadata };
}

type Fail = (field: string, detail: { limit?: string; reason?: string; got?: number }) => never;

function checkId(id: string, limits: IngestLimits, fail: Fail): void {
  const chars = codePoints(id);
  if (chars === 0) fail('id', { reason: 'must not be empty' });
  if (chars > limits.maxIdChars) fail('id', { limit: `at most ${limits.maxIdChars} characters`, got: chars });
  if (CONTROL_CHARS.test(id)) fail('id', { reason: 'must not contain control characters' });
  if (LONE_SURROGATE.test(id)) fail('id', { reason: 'contains an unpaired surrogate (not valid Unicode)' });
  if (id.trim() !== id) fail('id', { reason: 'must not start or end with whitespace' });
}

/**
 * Metadata must be plain JSON (it is stored as jsonb and in Redis), bounded in depth, width and size.
 * Walks iteratively so that hostile nesting cannot overflow the stack.
 */
function checkMetadata(metadata: Record<string, unknown>, limits: IngestLimits, fail: Fail): void {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: metadata, path: 'metadata', depth: 1 }];
  let maxDepth = 0;
  while (stack.length > 0) {
    const next = stack.pop();
    if (next === undefined) break;
    const { value, path, depth } = next;
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'string') {
      checkJsonString(value, path, fail);
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) fail(path, { reason: 'numbers must be finite' });
      continue;
    }
    if (Array.isArray(value)) {
      maxDepth = Math.max(maxDepth, depth);
      if (depth > limits.maxMetadataDepth) break;
      value.forEach((item, i) => stack.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    if (isPlainObject(value)) {
      maxDepth = Math.max(maxDepth, depth);
      if (depth > limits.maxMetadataDepth) break;
      const entries = Object.entries(value);
      if (entries.length > limits.maxMetadataKeys)
        fail(path, { limit: `at most ${limits.maxMetadataKeys} keys per object`, got: entries.length });
      for (const [key, item] of entries) {
        checkJsonString(key, `${path}.${key}`, fail);
        stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
      }
      continue;
    }
    fail(path, { reason: `must be JSON (got ${typeof value})` });
  }
  if (maxDepth > limits.maxMetadataDepth) {
    fail('metadata', { limit: `depth at most ${limits.maxMetadataDepth}`, got: measureDepth(metadata) });
  }
  const bytes = utf8Bytes(JSON.stringify(metadata));
  if (bytes > limits.maxMetadataBytes) fail('metadata', { limit: `at most ${limits.maxMetadataBytes} bytes serialized`, got: bytes });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkJsonString(s: string, path: string, fail: Fail): void {
  if (s.includes('\u0000')) fail(path, { reason: 'must not contain NUL characters' });
  if (LONE_SURROGATE.test(s)) fail(path, { reason: 'contains an unpaired surrogate (not valid Unicode)' });
}

/** Exact nesting depth of a JSON value (objects and arrays count), iteratively. */
function measureDepth(root: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const next = stack.pop();
    if (next === undefined) break;
    const [value, depth] = next;
    if (typeof value !== 'object' || value === null) continue;
    max = Math.max(max, depth);
    for (const item of Array.isArray(value) ? value : Object.values(value)) stack.push([item, depth + 1]);
  }
  return max;
}
