// The main thread's handle on the SQLite log worker: posts batches, matches replies, and turns a
// dead worker into LOG_FAILURE for every batch it still owed. The worker is ref'ed only while it
// owes replies, so an idle open log does not keep the process alive.
import { Worker } from 'node:worker_threads';
import type { SqliteStoreConfig, WireOp, WireResult } from './store.js';
import type { FromWorker, ToWorker } from './worker.js';

interface Owed {
  resolve(results: WireResult[]): void;
  reject(err: Error): void;
}

export class SqliteWorkerHandle {
  private readonly worker: Worker;
  private readonly owed = new Map<number, Owed>();
  private nextId = 0;
  private dead: Error | undefined;
  private closing: (() => void) | undefined;

  constructor(config: SqliteStoreConfig) {
    this.worker = startWorker(config);
    this.worker.unref();
    this.worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      this.fail(new Error(`the SQLite saga log worker exited (code ${code})`));
      this.closing?.();
    });
  }

  commit(ops: WireOp[], now: number): Promise<WireResult[]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    if (this.owed.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.owed.set(id, { resolve, reject });
      this.post({ kind: 'batch', id, ops, now });
    });
  }

  close(): Promise<void> {
    if (this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      this.closing = resolve;
      this.worker.ref();
      this.post({ kind: 'close' });
    });
  }

  private post(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  private onMessage(msg: FromWorker): void {
    if (msg.kind === 'fatal') {
      this.fail(new Error(msg.message));
      return;
    }
    if (msg.kind === 'closed') return;
    const owed = this.owed.get(msg.id);
    if (owed === undefined) return;
    this.owed.delete(msg.id);
    if (this.owed.size === 0) this.worker.unref();
    if (msg.kind === 'done') owed.resolve(msg.results);
    else owed.reject(new Error(msg.message));
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const owed of this.owed.values()) owed.reject(err);
    this.owed.clear();
  }
}

const SOURCE_CONDITION_HOOK =
  'export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "apex-memory-source"] }); }';

/**
 * Compiled builds start worker.js directly. Run from TypeScript sources (tests, tsx), the
 * worker first registers tsx's loader, because a worker does not inherit the parent's --import.
 */
function startWorker(config: SqliteStoreConfig): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  // A compiled build started under the test runner's source condition (NODE_OPTIONS, inherited by
  // the worker) resolves @apex-memory/saga to its .ts sources: it needs tsx in the worker too.
  const sourceCondition = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes('apex-memory-source');
  if (!fromSource && !sourceCondition) return new Worker(entry, { workerData: config });
  const tsx = import.meta.resolve('tsx/esm/api');
  // The worker also needs @apex-memory/saga's "apex-memory-source" export condition (run-tests
  // passes it in NODE_OPTIONS, which workers inherit; bin/apex-memory.mjs adds it with a hook,
  // which they do not): this hook adds it after tsx's loader is registered.
  const hook = `data:text/javascript,${encodeURIComponent(SOURCE_CONDITION_HOOK)}`;
  const boot =
    `import(${JSON.stringify(tsx)}).then(async (m) => { m.register(); (await import('node:module')).register(${JSON.stringify(hook)}); ` +
    `return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData: config });
}
