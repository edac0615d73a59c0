// Worker threads do not inherit the tsx loader of the test process: register it, then load the
// TypeScript worker (sim-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./sim-worker.ts');
