// The harness of the CLI fuzz test (reliability-fuzz-cli.test.ts): runs the CLI in process with
// its output captured or as a subprocess, writes generated inputs to disk with what each must give,
// and checks an `ingest --json` result against that. It keeps the figures (tally) and the documents
// that must be stored at the end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { BIN, ROOT, embeddedEnv } from '../support/cli.js';
import type { Expect, FileSpec, LineSpec } from './reliability-fuzz-cli-inputs.js';

export interface FuzzContext {
  /** Where generated inputs are written. */
  dir: string;
  /** The embedded data dir every CLI run uses. */
  dataDir: string;
}

/** id -> title of every document that must be stored at the end. */
export const stored = new Map<string, string>();
export const tally = {
  cliCalls: 0,
  subprocesses: 0,
  ingestRuns: 0,
  files: 0,
  jsonlLines: 0,
  accepted: 0,
  rejected: 0,
  byField: Object.create(null) as Record<string, number>,
  hostileIds: 0,
  badFlags: 0,
  exitCodes: {} as Record<string, number>,
};
const ctx: FuzzContext = { dir: '', dataDir: '' };

export function useContext(c: FuzzContext): void {
  Object.assign(ctx, c);
}

export interface Result {
  code: number;
  out: string;
  err: string;
}

/**
 * main() in this process with its output captured. Only string writes are captured: the CLI and
 * commander write strings, while the test runner's own reporting (Buffers) passes through.
 */
export async function cli(args: string[]): Promise<Result> {
  let out = '';
  let err = '';
  const ow = process.stdout.write;
  const ew = process.stderr.write;
  const capture = (orig: typeof ow, add: (s: string) => void): typeof ow =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      if (typeof chunk !== 'string') return (orig as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      add(chunk);
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    } as typeof ow;
  process.stdout.write = capture(ow, (s) => (out += s));
  process.stderr.write = capture(ew, (s) => (err += s));
  let code: number;
  try {
    code = await main(['node', 'apex-memory', '--data-dir', ctx.dataDir, ...args]);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  tally.cliCalls++;
  tally.exitCodes[code] = (tally.exitCodes[code] ?? 0) + 1;
  return { code, out, err };
}

/** Raw control characters other than newlines (which end lines) in text meant for a terminal. */
export const RAW_CONTROL = /(?!\n)\p{Cc}/u;

export function assertCleanErrors(r: Result, label: string): void {
  assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+/, `${label}: a stack trace on stderr:\n${r.err.slice(0, 1500)}`);
  assert.doesNotMatch(r.err, /\[INTERNAL\]/, `${label}: an error without a code:\n${r.err.slice(0, 1500)}`);
  assert.doesNotMatch(r.err, RAW_CONTROL, `${label}: a raw control character on stderr: ${JSON.stringify(r.err.slice(0, 500))}`);
}

interface Failure {
  kind: string;
  source: string;
  code: string;
  message: string;
  field?: string;
  limit?: string;
}
interface IngestJson {
  completed: number;
  rejected: number;
  compensated: number;
  stuck: number;
  errors: number;
  failures: Failure[];
}

/** Checks an `ingest --json` result against what each source must give; records the accepted. */
export function checkIngest(r: Result, expected: Map<string, Expect>, label: string): void {
  assertCleanErrors(r, label);
  let json: IngestJson;
  try {
    json = JSON.parse(r.out) as IngestJson;
  } catch {
    assert.fail(`${label}: stdout is not JSON (exit ${r.code}):\n${r.out.slice(0, 800)}\n${r.err.slice(0, 800)}`);
  }
  const ok = [...expected.values()].filter((e) => e.ok);
  const bad = [...expected.entries()].filter(([, e]) => !e.ok);
  assert.equal(r.code, bad.length > 0 ? 1 : 0, `${label}: exit code (${bad.length} bad inputs)`);
  assert.deepEqual(
    { completed: json.completed, rejected: json.rejected, compensated: json.compensated, stuck: json.stuck, errors: json.errors },
    { completed: ok.length, rejected: bad.length, compensated: 0, stuck: 0, errors: 0 },
    `${label}: ${JSON.stringify(json.failures.slice(0, 5))}`,
  );
  const bySource = new Map(json.failures.map((f) => [f.source, f]));
  for (const [source, e] of bad) {
    if (e.ok) continue;
    const f = bySource.get(source);
    assert.ok(f, `${label}: no failure reported for ${JSON.stringify(source)}`);
    assert.equal(f.kind, 'rejected', `${label} ${source}`);
    assert.equal(f.code, 'DOC_INVALID', `${label} ${source}: ${f.message}`);
    const fieldOk = e.field.endsWith('.') ? f.field?.startsWith(e.field) === true : f.field === e.field;
    assert.ok(fieldOk, `${label} ${JSON.stringify(source)}: field ${JSON.stringify(f.field)}, expected ${e.field} (${f.message})`);
    assert.ok(f.message.startsWith(`${f.field ?? ''}:`), `${label}: the message names the field: ${f.message}`);
    if (e.limit !== undefined) {
      assert.ok(
        f.limit?.includes(e.limit) === true && f.message.includes(e.limit),
        `${label} ${source}: limit ${JSON.stringify(f.limit)} / ${f.message}, expected ${e.limit}`,
      );
    }
    const key = f.field?.startsWith('metadata.') === true ? 'metadata.<key>' : (f.field ?? '?');
    tally.byField[key] = (tally.byField[key] ?? 0) + 1;
  }
  for (const f of json.failures) assert.ok(expected.get(f.source)?.ok === false, `${label}: unexpected failure ${JSON.stringify(f)}`);
  for (const e of ok) if (e.ok) stored.set(e.id, e.title);
  tally.accepted += ok.length;
  tally.rejected += bad.length;
}

let lineNo = 0;
/** Writes `lines` as JSONL bytes and returns each line's expectation by its source. */
export function jsonlExpectations(
  lines: Array<(n: number) => LineSpec>,
  source: (k: number) => string,
): { bytes: Buffer; expected: Map<string, Expect> } {
  const expected = new Map<string, Expect>();
  const parts: Buffer[] = [];
  lines.forEach((make, k) => {
    const spec = make(lineNo++);
    parts.push(spec.bytes, Buffer.from('\n'));
    if (spec.expect !== 'blank') expected.set(source(k + 1), spec.expect);
    tally.jsonlLines++;
  });
  return { bytes: Buffer.concat(parts), expected };
}

let runNo = 0;
/** A fresh run number (inputs of different runs never share ids). */
export const nextRun = (): number => runNo++;
/** Writes one run's files under a fresh root; returns the root and each source's expectation. */
export function writeRun(files: FileSpec[]): { root: string; expected: Map<string, Expect> } {
  const run = runNo++;
  const root = join(ctx.dir, `in${run}`);
  const base = join(root, `r${run}`);
  const expected = new Map<string, Expect>();
  files.forEach((spec, i) => {
    // A dot-file keeps its leading dot (it must be skipped as one).
    const name = spec.name.startsWith('.') ? `.${i}-${spec.name.slice(1)}` : `${i}-${spec.name}`;
    const path = join(base, name);
    mkdirSync(dirname(path), { recursive: true });
    tally.files++;
    if (spec.kind === 'md' || spec.kind === 'txt') {
      writeFileSync(path, spec.kind === 'md' ? `# ${spec.title}\n\n${spec.text}\n` : spec.text);
      expected.set(path, { ok: true, id: `r${run}/${name}`, title: spec.kind === 'md' ? spec.title : name });
    } else if (spec.kind === 'bytes') {
      writeFileSync(path, spec.bytes);
      expected.set(path, spec.limit === undefined ? { ok: false, field: spec.field } : { ok: false, field: spec.field, limit: spec.limit });
    } else if (spec.kind === 'huge') {
      writeFileSync(path, Buffer.alloc(spec.size, 0x61));
      expected.set(path, { ok: false, field: 'text', limit: 'at most 1048576 bytes' });
    } else if (spec.kind === 'skipped') {
      writeFileSync(path, '# Skipped\nnot a document');
    } else if (spec.kind === 'jsonl') {
      const j = jsonlExpectations(spec.lines, (k) => `${path}:${k}`);
      writeFileSync(path, j.bytes);
      for (const [k, v] of j.expected) expected.set(k, v);
    }
  });
  return { root, expected };
}

/** The real CLI in a subprocess (bytes on stdin allowed). */
export function subprocess(args: string[], input?: Buffer): Result {
  const r = spawnSync(process.execPath, [BIN, '--data-dir', ctx.dataDir, ...args], {
    cwd: ROOT,
    env: embeddedEnv(),
    input,
    timeout: 120_000,
  });
  tally.subprocesses++;
  return { code: r.status ?? -1, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}
