// Worker-thread entry of the SQLite saga log: owns the writing connection, commits the batches
// the log's thread posts, one at a time, in order. Running SQLite (and its fsync) here leaves the
// main thread to the engine: on 2 cores, the two run side by side.
import { parentPort, workerData } from 'node:worker_threads';
import type { SqliteStoreConfig, WireOp } from './store.js';
import { SqliteLogStore } from './store.js';

export type ToWorker = { kind: 'batch'; id: number; ops: WireOp[]; now: number } | { kind: 'close' };
export type FromWorker =
  | { kind: 'done'; id: number; results: ReturnType<SqliteLogStore['commit']> }
  | { kind: 'failed'; id: number; message: string }
  | { kind: 'fatal'; message: string }
  | { kind: 'closed' };

const port = parentPort;
if (port === null) throw new Error('sqlite/worker.ts must run as a worker thread');
const send = (msg: FromWorker): void => port.postMessage(msg);

let store: SqliteLogStore | undefined;
try {
  store = new SqliteLogStore(workerData as SqliteStoreConfig);
} catch (err) {
  send({ kind: 'fatal', message: (err as Error).message });
}

port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'close') {
    store?.close();
    store = undefined;
    send({ kind: 'closed' });
    port.close();
    return;
  }
  if (store === undefined) {
    send({ kind: 'failed', id: msg.id, message: 'the SQLite saga log worker could not open the file' });
    return;
  }
  try {
    send({ kind: 'done', id: msg.id, results: store.commit(msg.ops, msg.now) });
  } catch (err) {
    send({ kind: 'failed', id: msg.id, message: (err as Error).message });
  }
});
