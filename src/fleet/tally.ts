// What a worker has done, counted from the engine's hooks: sagas claimed, how they ended, and
// how many this worker stopped because another owner took them over (fenced).
import type { SagaHooks } from '../saga/index.js';

export interface WorkerCounts {
  claimed: number;
  completed: number;
  compensated: number;
  stuck: number;
  fenced: number;
  /** Sagas running in this process now. */
  running: number;
  /** Consecutive failed claims (the saga log unreachable); 0 when healthy. */
  logFailures: number;
}

type Ended = Pick<WorkerCounts, 'claimed' | 'completed' | 'compensated' | 'stuck' | 'fenced'>;

export class WorkerTally {
  readonly counts: Ended = { claimed: 0, completed: 0, compensated: 0, stuck: 0, fenced: 0 };

  claimed(n: number): void {
    this.counts.claimed += n;
  }

  /** Hooks that count outcomes; `freed` runs whenever a saga stops running here. */
  hooks(freed: () => void): SagaHooks {
    return {
      // onSagaEnd fires on every path (fenced, suspended, shutdown too): one place frees the slot.
      onSagaEnd: (e) => {
        if (e.status === 'completed' || e.status === 'compensated' || e.status === 'stuck' || e.status === 'fenced')
          this.counts[e.status]++;
        else if (e.status === 'cancelled') this.counts.compensated++;
        freed();
      },
    };
  }
}

/** One status line, e.g. for the worker command's periodic report. */
export function statusLine(owner: string, c: WorkerCounts, concurrency: number): string {
  const log = c.logFailures > 0 ? `  saga log UNREACHABLE (${c.logFailures} failed claims)` : '';
  return (
    `worker ${owner}: running ${c.running}/${concurrency}  claimed ${c.claimed}  completed ${c.completed}  ` +
    `compensated ${c.compensated}  stuck ${c.stuck}  fenced ${c.fenced}${log}`
  );
}
