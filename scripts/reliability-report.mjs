#!/usr/bin/env node
// Regenerates the figures section of docs/RELIABILITY.md from the result files the reliability
// tests write under test-artifacts/reliability/ (git-ignored): `npm run reliability:report`.
// Only the part between the two markers is replaced; the prose above it is kept as written.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dir = join(root, 'test-artifacts/reliability');
const doc = join(root, 'docs/RELIABILITY.md');
const BEGIN = '<!-- figures:begin (npm run reliability:report) -->';
const END = '<!-- figures:end -->';

const results = {};
if (existsSync(dir)) {
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    results[r.name] = r;
  }
}
const pct = (x) => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : '?');
const n = (x) => (typeof x === 'number' ? x.toLocaleString('en') : '?');
const when = (r) => `${r.at} (RELIABILITY_SCALE=${r.scale})`;

const sections = [];
const v = results['verify-scale'];
if (v)
  sections.push(`### verify at scale (${when(v)})

| documents | chunks each | page | verify time | store calls | peak heap growth | retained heap growth (after GC) | planted / found |
|---|---|---|---|---|---|---|---|
| ${n(v.documents)} | ${v.chunksPerDocument} | ${n(v.batch)} | ${n(v.verifyMs)} ms | ${n(v.storeCalls)} | ${v.peakHeapGrowthMb} MB | ${v.retainedHeapGrowthMb ?? 'not measured'}${v.retainedHeapGrowthMb === undefined ? '' : ' MB'} | ${v.violationsPlanted} / ${v.violationsFound} |

Calls by method: ${Object.entries(v.callsByMethod)
    .map(([k, c]) => `\`${k}\` ${n(c)}`)
    .join(', ')}. Seeding (not timed by verify): ${Object.entries(v.seedingMs)
    .map(([k, c]) => `${k.replace(/Ms$/, '')} ${n(c)} ms`)
    .join(', ')}.`);
const k = results['kill-campaign'];
if (k)
  sections.push(`### Random kill campaign (${when(k)}, seed ${k.seed})

| SIGKILLs | writers (after READY) | CLI runs | fleet workers | elapsed | fleet sagas queued | CLI re-runs (max time) | sagas completed / compensated | stuck at the recovery limit, retried | documents / committed | violations | stuck at the end |
|---|---|---|---|---|---|---|---|---|---|---|---|
| ${n(k.totalKills)} | ${n(k.kills.writers)} (${n(k.writerKillsAfterReady ?? 0)}) | ${n(k.kills.cli)} | ${n(k.kills.fleet)} | ${n(k.elapsedMs)} ms | ${n(k.fleetSagasQueued)} | ${n(k.cliReruns)} (${n(k.cliRerunMaxMs)} ms) | ${n(k.sagasCompleted)} / ${n(k.sagasCompensated)} | ${k.recoveryLimitRetried === undefined ? 'not counted' : n(k.recoveryLimitRetried)} | ${n(k.documents)} / ${n(k.committed)} | ${k.violations} | ${k.stuck} |${k.writerStartupMs ? `\n\nWriter start-up (spawn to READY): ${k.writerStartupMs}; of which opening the app: ${k.writerOpenAppMs}.` : ''}`);
const f = results['fault-rates'];
if (f) {
  const t = f.transient ?? {};
  const p = f.permanent ?? {};
  sections.push(`### Rates under faults (${when(f)}, seed ${f.seed}, ${f.concurrency} at a time)

2% transient failures per store call: ${n(t.sagas)} sagas, ${n(t.faultsInjected)} faults injected into ${n(t.sagasHit)} sagas; success ${pct(t.successRate)} (goal > 99.5%), compensation ${pct(t.compensationRate)} (goal < 0.5%), stuck ${t.stuck ?? '?'}; saga duration P50 ${n(t.p50Ms)} ms, P90 ${n(t.p90Ms)} ms, P99 ${n(t.p99Ms)} ms (goal P90 < 1 s; measured on a shared 2-core machine with other suites running); verify ${t.violations ?? '?'} violations.

0.5% permanent failures before the pivot: ${n(p.sagas)} sagas, ${n(p.faultsInjected)} faults into ${n(p.sagasHit)} sagas; ${n(p.compensated)} compensated (exactly the sagas hit), ${n(p.otherThanCompletedOrCompensated)} ended otherwise; verify ${p.violations ?? '?'} violations.`);
}
const s = results.simulation;
if (s)
  sections.push(`### Deterministic simulation (${when(s)}, first seed ${s.seed})

${n(s.sagas)} simulated sagas in ${n(s.worlds)} worlds, ${n(s.crashes)} crashes, ${n(s.faults)} transient faults${s.permanentFaults === undefined ? '' : `, ${n(s.permanentFaults)} permanent refusals; ${n(s.compensatedSagas)} sagas compensated, ${n(s.effectsUndone)} applied effects each undone exactly once, in reverse order`}, ${n(s.wallMs)} ms; violations ${s.violations}; replay hash of the first world ${s.replayHash} (equal on both runs).`);
const ri = results['simulation-reindex'];
if (ri)
  sections.push(`### Deterministic simulation with a reindex in progress (${when(ri)}, first seed ${ri.seed})

${n(ri.sagas)} simulated sagas in ${n(ri.worlds)} worlds (a third each \`migrating\`, \`switched\`, and started late), of them ${n(ri.reindexSagas)} reindex sagas (${n(ri.reindexCompleted)} completed); ${n(ri.crashes)} crashes, ${n(ri.faults)} transient faults, ${n(ri.permanentFaults)} permanent refusals, ${n(ri.compensatedSagas)} sagas compensated; the final reindex loop re-embedded ${n(ri.finalReindexed)} documents; ${n(ri.wallMs)} ms; violations ${ri.violations}; replay hash of the first world ${ri.replayHash} (equal on both runs).`);
const e = results['simulation-exhaustive'];
if (e)
  sections.push(`### Exhaustive small scopes (${when(e)})

Every execution of each scope within its bound was run and checked (the choices: which pending call completes next, and where the one fault happens: a crash, a lease expiry or a refused write of any process at any point). Preemption bound 0: every placement of the fault and every schedule in which a process runs until it waits; "every interleaving": all orders of the calls, those that differ only in swapping independent calls run once (sleep sets).

| scope | document before | sagas | faults | preemption bound | executions checked | cut short by sleep sets | longest choice sequence | time |
|---|---|---|---|---|---|---|---|---|
${e.scopes.map((r) => `| ${r.scope} | ${r.initial} | ${r.ops.join(', ')} | ${r.faults.length ? r.faults.join(', ') : 'none'} | ${r.preemptions ?? 'none (every interleaving)'} | ${n(r.executions)} | ${n(r.sleepBlocked)} | ${n(r.maxDepth)} | ${n(r.wallMs)} ms |`).join('\n')}

${n(e.scopes.reduce((a, r) => a + r.executions, 0))} executions in ${n(e.wallMs)} ms; violations ${e.violations}.`);
const z = results['fuzz-http'];
if (z)
  sections.push(`### HTTP fuzzing (${when(z)}, seed ${z.seed})

${n(z.requests)} hostile requests: ${n(z.accepted)} documents accepted and read back verbatim, ${n(z.refused)} bodies refused with a 4xx problem (${Object.entries(
    z.codes,
  )
    .map(([c, k]) => `\`${c}\` ${n(k)}`)
    .join(
      ', ',
    )}), the rest hostile ids on GET/DELETE of documents${z.sagaRequests === undefined ? '' : ` and ${n(z.sagaRequests)} on the saga routes (show, retry, cancel)`}; no 5xx, nothing partial written.`);
const cl = results['fuzz-cli'];
if (cl)
  sections.push(`### CLI fuzzing (${when(cl)}, seed ${cl.seed})

${n(cl.cliCalls)} CLI runs in process and ${n(cl.subprocesses)} as subprocesses: ${n(cl.ingestRuns)} hostile ingest runs over ${n(cl.files)} files and ${n(cl.jsonlLines)} JSONL lines (plus stdin): ${n(cl.accepted)} documents written and read back verbatim, ${n(cl.rejected)} rejected naming their field (${Object.entries(
    cl.byField,
  )
    .map(([f, k]) => `\`${f}\` ${n(k)}`)
    .join(
      ', ',
    )}); ${n(cl.hostileIds)} hostile ids and ${n(cl.badFlags)} bad flag values refused with exit 2 before any store opened; exit codes ${Object.entries(
    cl.exitCodes,
  )
    .map(([c, k]) => `${c}: ${n(k)}`)
    .join(', ')}; no stack trace, no raw control character, nothing else stored, verify 0.`);
const o = results['outage-status'];
if (o) {
  const names = { postgres: 'PostgreSQL', neo4j: 'Neo4j', redis: 'Redis', qdrant: 'Qdrant Edge front', saga_log: 'saga log (PostgreSQL)' };
  const clip = (t) => (t.length > 90 ? `${t.slice(0, 90)}…` : t).replaceAll('|', '\\|');
  const rows = o.outages.map(
    (x) =>
      `| ${names[x.server] ?? x.server} | ${n(x.downMs)} ms (restart ${n(x.restartMs)} ms) | exit ${x.statusDown.code}: ${clip(x.statusDown.detail)} | ${x.readyzDown.status}: ${clip(x.readyzDown.detail)} | ${
        x.statusDown.waitingOnStore
          ? Object.entries(x.statusDown.waitingOnStore)
              .map(([s, c]) => `${s} ${c}`)
              .join(', ') || '0'
          : 'unknown (log down)'
      } | exit ${x.statusUp.code}, ${x.readyzUp.status} |`,
  );
  const i = o.ingest;
  sections.push(`### Outages of every store and of the saga log (${when(o)})

Each server really stopped (SIGKILL; PostgreSQL SIGQUIT) and started again on the same port and data during one \`apex-memory ingest\`; \`status --json\` and \`/readyz\` of a running \`serve\` polled until they reported it.

| server | down | \`status\` while down | \`/readyz\` while down | sagas waiting on it (status) | after restart (status, readyz) |
|---|---|---|---|---|---|
${rows.join('\n')}

Ingest of ${n(o.fed)} documents fed during the outages: exit ${i.exitCode}, ${n(i.completed)} completed, ${n(i.compensated)} compensated, ${n(i.stuck)} stuck (${n(o.stuckRetried)} retried by \`sagas retry\`), ${n(i.errors)} errors (${
    Object.entries(i.failures)
      .map(([k, c]) => `${k} ${n(c)}`)
      .join(', ') || 'none'
  }); waited on a store: ${
    Object.entries(i.waitedOnStore)
      .map(([s, c]) => `${s} ${n(c)}`)
      .join(', ') || 'none'
  }. Re-run of the same input: ${n(o.rerun.created)} written, ${n(o.rerun.unchanged)} unchanged; ${n(o.committed)} documents committed, verify ${o.violations} violations; ${n(o.wallMs)} ms in all.`);
}
if (sections.length === 0) sections.push('No result files yet: run the reliability tests (see above), then `npm run reliability:report`.');

const text = readFileSync(doc, 'utf8');
const a = text.indexOf(BEGIN);
const b = text.indexOf(END);
if (a < 0 || b < a) throw new Error(`${doc} lacks the figure markers`);
writeFileSync(doc, `${text.slice(0, a + BEGIN.length)}\n\n${sections.join('\n\n')}\n\n${text.slice(b)}`);
console.log(`docs/RELIABILITY.md: ${Object.keys(results).length} result file(s) from ${dir}`);
