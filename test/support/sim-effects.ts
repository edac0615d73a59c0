// "Every applied effect of a compensated saga is compensated exactly once, in reverse order"
// (issue 13), checked on the model stores of the simulation. Every write that carries a saga's
// WriteContext is recorded with whether it changed the store's content for that document (the
// model's digest: rows, versions, chunks, points, cache entries; not locks, fencing tokens or
// times). A repeat after a crash or a retry is therefore allowed exactly when it is idempotent:
// it changes nothing the second time. checkCompensations then reads each saga's end from the log.
import assert from 'node:assert/strict';
import type { SagaLog } from '../../src/saga/index.js';
import type { StoreName, StoreSet } from '../../src/stores/types.js';
import { MEMBER_CALL, memberOf } from './sim-batch.js';

export interface Effect {
  seq: number;
  sagaId: string;
  token: number;
  /** `store.method`, e.g. `neo4j.writeVersion`. */
  call: string;
  docId: string;
  /** The version the call names, when it names one (removeVersion). */
  sha: string | undefined;
  changed: boolean;
  /** Sent by an owner that had lost the saga (a newer fencing token existed): set by the caller. */
  stale: boolean;
  /** Members of the batched call (sim-batch.ts) this write was one of; 0: a call of its own. */
  batch: number;
  /** The chunking of the version a write carries, when not 1 (re-chunking worlds, sim-reindex.ts). */
  chunking?: number;
}

interface Digestible {
  digest(docId: string): string;
}

/** Which step a write belongs to, per saga: `F` its forward action, `C` its compensation. */
interface Role {
  step: string;
  stage: number;
  side: 'F' | 'C';
  onlyOwnSha?: boolean;
}
const ROLES: Record<string, Record<string, Role>> = {
  ingest: {
    'postgres.putPending': { step: 'postgres_pending', stage: 0, side: 'F' },
    'postgres.discardPending': { step: 'postgres_pending', stage: 0, side: 'C' },
    'neo4j.writeVersion': { step: 'neo4j_write', stage: 1, side: 'F' },
    // cleanup_previous (after the pivot) removes the replaced version: not a compensation.
    'neo4j.removeVersion': { step: 'neo4j_write', stage: 1, side: 'C', onlyOwnSha: true },
    'qdrant.writeVersion': { step: 'qdrant_write', stage: 1, side: 'F' },
    'qdrant.removeVersion': { step: 'qdrant_write', stage: 1, side: 'C', onlyOwnSha: true },
  },
  delete: {
    'postgres.markDeleting': { step: 'postgres_mark_deleting', stage: 0, side: 'F' },
    'postgres.unmarkDeleting': { step: 'postgres_mark_deleting', stage: 0, side: 'C' },
    'redis.remove': { step: 'redis_delete', stage: 1, side: 'F' },
    'redis.put': { step: 'redis_delete', stage: 1, side: 'C' },
    'neo4j.removeDocument': { step: 'neo4j_delete', stage: 1, side: 'F' },
    'neo4j.writeVersion': { step: 'neo4j_delete', stage: 1, side: 'C' },
    'qdrant.removeDocument': { step: 'qdrant_delete', stage: 1, side: 'F' },
    'qdrant.writeVersion': { step: 'qdrant_delete', stage: 1, side: 'C' },
  },
};

function docIdOf(args: unknown[]): string | undefined {
  const a = args[0];
  if (typeof a === 'string') return a;
  const d = (a as { docId?: unknown } | undefined)?.docId;
  return typeof d === 'string' ? d : undefined;
}

export class EffectLog {
  readonly effects: Effect[] = [];
  /** Vector collections dropped (`--finish`), by the label their writes carry, and when. */
  readonly drops: Array<{ seq: number; label: string }> = [];
  private seq = 0;
  /** Decides whether a write comes from an owner that lost its saga (the exhaustive scopes know). */
  isStale: (sagaId: string, token: number) => boolean = () => false;

  /**
   * A batched call: every member applies in the call's synchronous run (sim-batch.ts), and no two
   * members name one document, so each document's change is its member's, recorded as if the
   * member had made its own call (`neo4j.writeVersion`, ...), with the batch's size.
   */
  private batch(name: string, member: string, model: Digestible, items: unknown[], apply: () => unknown): unknown {
    const members = items.map(memberOf);
    const before = members.map((m) => (m ? model.digest(m.docId) : ''));
    const out = apply();
    members.forEach((m, i) => {
      if (!m?.ctx) return;
      this.effects.push({
        seq: this.seq++,
        sagaId: m.ctx.sagaId,
        token: m.ctx.fencingToken,
        call: `${name}.${member}`,
        docId: m.docId,
        sha: m.sha,
        changed: model.digest(m.docId) !== before[i],
        stale: this.isStale(m.ctx.sagaId, m.ctx.fencingToken),
        batch: items.length,
      });
    });
    return out;
  }

  /**
   * The stores, with every saga write recorded. Model calls are atomic (no await before they change
   * anything). `collection`: the one `stores.qdrant` is bound to, so that a process started after a
   * switch (bound to the other one) names it as the others do.
   */
  wrap(stores: StoreSet, collection?: string): StoreSet {
    // `label`: the store's name, or `qdrant@<collection>` for another collection of the vector
    // store (withCollection: the other target of a reindex), whose writes are its own effects.
    const view = <T extends object>(name: StoreName, target: T, label: string = name): T =>
      new Proxy(target, {
        get: (t, prop, recv) => {
          const v: unknown = Reflect.get(t, prop, recv);
          if (typeof v !== 'function' || typeof prop !== 'string' || prop === 'digest') return v;
          if (prop === 'withCollection')
            return (n: string, d: number): unknown =>
              view(name, (v as (n: string, d: number) => object).call(t, n, d), n === collection ? name : `${name}@${n}`);
          const model = t as unknown as Digestible;
          if (prop === 'dropCollection')
            return (n: string): unknown => {
              const out = (v as (n: string) => unknown).call(t, n);
              this.drops.push({ seq: this.seq++, label: n === collection ? name : `${name}@${n}` });
              return out;
            };
          const member = MEMBER_CALL[prop];
          if (member !== undefined)
            return (items: unknown[]): unknown =>
              this.batch(label, member, model, items, () => (v as (i: unknown[]) => unknown).call(t, items));
          return (...args: unknown[]): unknown => {
            const ctx = args.find(
              (a): a is { sagaId: string; fencingToken: number } =>
                typeof a === 'object' && a !== null && typeof (a as { sagaId?: unknown }).sagaId === 'string',
            );
            const docId = docIdOf(args);
            if (!ctx || docId === undefined) return (v as (...a: unknown[]) => unknown).apply(t, args);
            const before = model.digest(docId);
            const out = (v as (...a: unknown[]) => unknown).apply(t, args);
            const changed = model.digest(docId) !== before;
            const sha = typeof args[1] === 'string' ? args[1] : undefined;
            const k = (args[0] as { chunking?: unknown } | undefined)?.chunking;
            this.effects.push({
              ...(typeof k === 'number' && k !== 1 ? { chunking: k } : {}),
              seq: this.seq++,
              sagaId: ctx.sagaId,
              token: ctx.fencingToken,
              call: `${label}.${prop}`,
              docId,
              sha,
              changed,
              stale: this.isStale(ctx.sagaId, ctx.fencingToken),
              batch: 0,
            });
            return out;
          };
        },
      });
    return {
      postgres: view('postgres', stores.postgres),
      neo4j: view('neo4j', stores.neo4j),
      qdrant: view('qdrant', stores.qdrant),
      redis: view('redis', stores.redis),
    };
  }
}

export interface CompensationFigures {
  /** Sagas that ended compensated. */
  compensatedSagas: number;
  /** Forward effects (content changes) of those sagas, each undone exactly once. */
  effectsUndone: number;
  /** Forward writes of a lost owner that landed after the new owner compensated (Qdrant: unfenced). */
  lateStaleWrites: number;
  /** Forward writes undone by the drop of their collection (`--finish`), not by a compensation. */
  droppedWithCollection: number;
}

/**
 * For every saga that ended compensated: each forward step whose write changed a store is undone
 * by exactly one compensation write that changes it (repeats change nothing), no compensation
 * changes anything for a step whose forward write changed nothing, and the compensations of a
 * later stage come before those of an earlier one (steps of one parallel group in any order).
 * A completed saga changed nothing through a compensation.
 */
export async function checkCompensations(log: SagaLog, effects: EffectLog, label: string): Promise<CompensationFigures> {
  const bySaga = new Map<string, Effect[]>();
  for (const e of effects.effects) bySaga.set(e.sagaId, [...(bySaga.get(e.sagaId) ?? []), e]);
  const figures: CompensationFigures = { compensatedSagas: 0, effectsUndone: 0, lateStaleWrites: 0, droppedWithCollection: 0 };
  for (const [sagaId, list] of bySaga) {
    const saga = await log.load(sagaId);
    assert.ok(saga, `effects of unknown saga ${sagaId} (${label})`);
    const roles = ROLES[saga.name];
    if (!roles) continue; // the seed's plan (ingest_adr) and the reindex saga have no roles here
    const input = saga.input as { sha?: string };
    const roleOf = (e: Effect): Role | undefined => {
      // An ingest's dual write to another target (qdrant@<collection>, sim-reindex.ts) is checked
      // as a step of its own: written once, undone exactly once. Not a delete's: its compensation
      // writes the committed version into every target, also one that did not hold it yet (the
      // reindex had not reached the document), which is right and changes that target.
      const at = /^(\w+)@([^.]+)\.(\w+)$/.exec(e.call);
      const r = at ? (saga.name === 'ingest' ? roles[`${at[1]}.${at[3]}`] : undefined) : roles[e.call];
      if (!r || (r.onlyOwnSha && e.sha !== input.sha)) return undefined;
      return at ? { ...r, step: `${r.step}@${at[2]}` } : r;
    };
    const comps = list.filter((e) => roleOf(e)?.side === 'C' && e.changed);
    if (saga.status === 'completed') {
      assert.deepEqual(
        comps.map((e) => e.call),
        [],
        `${sagaId} completed but a compensation changed a store (${label})`,
      );
      continue;
    }
    if (saga.status !== 'compensated') continue;
    figures.compensatedSagas++;
    const undone: Array<{ stage: number; seq: number; step: string }> = [];
    const steps = [...Object.values(roles), ...list.flatMap((e) => roleOf(e) ?? [])].map((r) => r.step);
    for (const step of new Set(steps)) {
      const mine = list.filter((e) => roleOf(e)?.step === step);
      const firstComp = mine.find((e) => roleOf(e)?.side === 'C');
      const forward = mine.filter((e) => roleOf(e)?.side === 'F' && e.changed);
      // A lost owner's write that lands after the compensation began: stale by its token, and only
      // where the store cannot refuse it (the stale-write sweep removes it; verify checks that).
      const late = forward.filter((e) => firstComp !== undefined && e.seq > firstComp.seq);
      for (const e of late) {
        assert.ok(
          e.stale && e.call.startsWith('qdrant.'),
          `${sagaId}: ${e.call} changed a store after its compensation began (token ${e.token}) (${label})`,
        );
      }
      figures.lateStaleWrites += late.length;
      const applied = forward.length - late.length;
      const undoing = mine.filter((e) => roleOf(e)?.side === 'C' && e.changed);
      // Undone by `--finish`: a write to a collection the record stopped naming before the
      // compensation ran (which then skips it), dropped with that collection afterwards.
      const where = (e: Effect): string => e.call.slice(0, e.call.lastIndexOf('.'));
      const dropped =
        undoing.length === 0 &&
        forward.length > 0 &&
        forward.every((f) => effects.drops.some((d) => d.label === where(f) && d.seq > f.seq));
      if (dropped) {
        figures.droppedWithCollection++;
        continue;
      }
      const what = `${sagaId} ${step}: ${applied} forward change(s), ${undoing.length} compensating change(s): ${mine.map((e) => `${e.call}${e.changed ? '*' : ''}@${e.token}`).join(' ')}`;
      // Once per chunking: a delete's compensation writes the committed version back in every live
      // chunking (re-chunking worlds), one write each; every other undo is one call.
      const perChunking = new Map<number, number>();
      for (const e of undoing) perChunking.set(e.chunking ?? 1, (perChunking.get(e.chunking ?? 1) ?? 0) + 1);
      if (applied > 0)
        assert.ok(
          undoing.length > 0 && [...perChunking.values()].every((n) => n === 1),
          `not compensated exactly once: ${what} (${label})`,
        );
      else assert.equal(undoing.length, 0, `a compensation changed a store its step never changed: ${what} (${label})`);
      const c = undoing[0];
      if (c) {
        undone.push({ stage: roleOf(c)?.stage ?? -1, seq: c.seq, step });
        figures.effectsUndone++;
      }
    }
    undone.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < undone.length; i++) {
      const [prev, cur] = [undone[i - 1], undone[i]];
      if (prev && cur)
        assert.ok(
          prev.stage >= cur.stage,
          `${sagaId}: ${prev.step} (stage ${prev.stage}) compensated before ${cur.step} (stage ${cur.stage}): not reverse order (${label})`,
        );
    }
  }
  return figures;
}

/**
 * "Last completed saga wins", from the effects: on each document the last pivot that changed
 * PostgreSQL (a commit or a delete) belongs to a saga that completed, and the document holds what
 * that pivot left (its version committed, or no committed row); and no saga's pivot changed the
 * store twice (a repeat after a crash must find its work done, not redo it over later sagas').
 * Why not test/support/last-writer.ts here: it takes documents.saga_id for the committer, but an
 * update's first write stamps the committed row with its own saga id, and when that update then
 * compensates the row names a compensated saga although its content is the last committer's.
 */
export async function checkLastPivot(log: SagaLog, effects: EffectLog, stores: StoreSet, label: string): Promise<number> {
  const pivots = effects.effects.filter((e) => e.changed && (e.call === 'postgres.commit' || e.call === 'postgres.deleteDocument'));
  const seen = new Set<string>();
  for (const e of pivots) {
    assert.ok(!seen.has(e.sagaId), `${e.sagaId}: its pivot ${e.call} changed ${e.docId} twice (${label})`);
    seen.add(e.sagaId);
  }
  const last = new Map<string, Effect>();
  for (const e of pivots) last.set(e.docId, e);
  for (const [docId, e] of last) {
    const saga = await log.load(e.sagaId);
    assert.equal(saga?.status, 'completed', `${docId}: the last pivot was ${e.sagaId}'s, which ended ${saga?.status ?? '?'} (${label})`);
    const row = await stores.postgres.getDocument(docId);
    if (e.call === 'postgres.commit') {
      const sha = (saga?.input as { sha?: string } | undefined)?.sha;
      assert.equal(
        row?.ingestionStatus,
        'committed',
        `${docId}: ${e.sagaId} committed last but the row is ${row?.ingestionStatus ?? 'absent'} (${label})`,
      );
      assert.equal(row?.contentSha256, sha, `${docId}: the committed content is not that of ${e.sagaId}, which committed last (${label})`);
    } else {
      assert.notEqual(row?.ingestionStatus, 'committed', `${docId}: ${e.sagaId} deleted it last but it is committed (${label})`);
    }
  }
  return last.size;
}

/**
 * A lost owner's Qdrant write that landed late (stalls: Qdrant is unfenced by design) is what the
 * product's stale-write sweep removes (src/ingest/sweep.ts): done here for those documents, on
 * Qdrant only. Not with sweepDocument, which also sweeps Neo4j: Neo4j is fenced, so a stale
 * version there is a violation verify must still see.
 */
export async function sweepLateQdrant(stores: StoreSet, effects: EffectLog): Promise<void> {
  const docs = new Set(effects.effects.filter((e) => e.stale && e.changed && e.call.startsWith('qdrant.')).map((e) => e.docId));
  for (const docId of docs) {
    const row = await stores.postgres.getDocument(docId);
    const committed = row?.ingestionStatus === 'committed' ? row.contentSha256 : null;
    for (const v of await stores.qdrant.listVersions(docId))
      if (v.contentSha256 !== committed) await stores.qdrant.removeVersion(docId, v.contentSha256);
  }
}
