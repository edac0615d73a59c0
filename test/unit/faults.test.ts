// The fault wrapper: deterministic schedules, before/after timing, retryable flag, seeded replay.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../../src/stores/errors.js';
import { seededRandom } from '../../src/saga/index.js';
import { withFaults } from '../../src/stores/faults.js';
import { mulberry32 } from '../../src/lib/random.js';
import { ctxFor, makeVersion } from '../support/conformance/fixtures.js';
import { SimVector } from '../support/sim-stores.js';

class CounterStore {
  readonly name = 'redis' as const;
  applied: string[] = [];
  async put(key: string): Promise<string> {
    this.applied.push(key);
    return `ok:${key}`;
  }
  async get(): Promise<number> {
    return this.applied.length;
  }
}

async function outcome(p: Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; err: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, err };
  }
}

void describe('withFaults', () => {
  void it('passes calls through untouched when no fault is due', async () => {
    const inner = new CounterStore();
    const { store } = withFaults(inner, {});
    assert.equal(await store.put('a'), 'ok:a');
    assert.equal(await store.get(), 1);
    assert.equal(store.name, 'redis');
  });

  void it("'before' fails without applying; 'after' applies and still fails", async () => {
    const inner = new CounterStore();
    const { store, faults } = withFaults(inner, {
      failOn: [{ method: 'put', when: 'before', retryable: true, times: 1 }],
    });
    const first = await outcome(store.put('x'));
    assert.ok(
      !first.ok && isStoreError(first.err) && first.err.code === 'STORE_INJECTED' && first.err.retryable && first.err.store === 'redis',
    );
    assert.deepEqual(inner.applied, []);
    faults.schedule({ method: 'put', when: 'after', retryable: false });
    const second = await outcome(store.put('y'));
    assert.ok(!second.ok && isStoreError(second.err) && !second.err.retryable);
    assert.deepEqual(inner.applied, ['y']);
    assert.equal(await store.put('z'), 'ok:z');
    assert.deepEqual(
      faults.injected().map((f) => `${f.when}:${f.method}:${f.call}:${f.retryable}`),
      ['before:put:1:true', 'after:put:2:false'],
    );
  });

  void it('skip and times select exactly which calls fail; other methods are untouched', async () => {
    const { store, faults } = withFaults(new CounterStore(), {
      failOn: [{ method: 'put', when: 'before', retryable: true, skip: 2, times: 2 }],
    });
    const results: boolean[] = [];
    for (let i = 0; i < 6; i += 1) results.push((await outcome(store.put(String(i)))).ok);
    assert.deepEqual(results, [true, true, false, false, true, true]);
    assert.equal(await store.get(), 4);
    faults.disable();
  });

  void it('random faults replay exactly from the seed', async () => {
    const seed = Number(process.env.FAULTS_SEED ?? 12345);
    console.log(`faults seed ${seed} (replay with FAULTS_SEED=${seed})`);
    const pattern = async (): Promise<string> => {
      const { store } = withFaults(new CounterStore(), {
        random: { seed, rate: 0.3, methods: ['put'], when: 'either', retryableShare: 0.5 },
      });
      let out = '';
      for (let i = 0; i < 200; i += 1) {
        const r = await outcome(store.put(String(i)));
        out += r.ok ? '.' : isStoreError(r.err) && r.err.retryable ? 't' : 'p';
      }
      return out;
    };
    const a = await pattern();
    assert.equal(await pattern(), a);
    const failures = [...a].filter((c) => c !== '.').length;
    assert.ok(failures > 20 && failures < 110, `about 30% of 200 calls should fail, got ${failures}`);
    assert.ok(a.includes('t') && a.includes('p'));
  });

  void it('mulberry32 is deterministic and in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    for (let i = 0; i < 100; i += 1) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
    }
  });

  void it("mulberry32 gives the engine's seededRandom sequence (fault seeds replay the same way)", () => {
    for (const seed of [0, 1, 7, 2 ** 31, 4294967295]) {
      const stores = mulberry32(seed);
      const engine = seededRandom(seed);
      for (let i = 0; i < 1000; i += 1) assert.equal(stores(), engine(), `seed ${seed}, draw ${i}`);
    }
  });
});

void describe('withFaults on a vector store with collections (issue 25)', () => {
  void it('withCollection stays synchronous and its store shares the schedule and the log', async () => {
    const { store, faults } = withFaults(new SimVector(4), {
      failOn: [{ method: 'writeVersion', when: 'after', retryable: true }],
    });
    await store.ensureCollection('next', 8);
    const next = store.withCollection('next', 8);
    assert.equal(typeof (next as unknown as { then?: unknown }).then, 'undefined', 'a store, not a promise');
    assert.equal(next.dimension, 8);
    const v = makeVersion({ docId: 'd', body: 'into the new collection', chunkCount: 2, dimension: 8 });
    const first = await outcome(next.writeVersion(v, ctxFor('s')));
    assert.ok(!first.ok && isStoreError(first.err) && first.err.code === 'STORE_INJECTED');
    assert.deepEqual(
      faults.injected().map((f) => [f.method, f.when]),
      [['writeVersion', 'after']],
    );
    // 'after': it applied in the new collection only; the next call is not scheduled to fail.
    assert.deepEqual(await next.listVersions('d'), [{ docId: 'd', contentSha256: v.contentSha256, chunkCount: 2 }]);
    assert.deepEqual(await store.listVersions('d'), []);
    await next.writeVersion(v, ctxFor('s'));
  });
});
