// Worker threads do not inherit the tsx loader of the test process: register it, then load the
// TypeScript worker named in workerData.module (default sim-worker.ts).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData?.module ?? './sim-worker.ts');
