// Times every claim a saga log answers (the fleet benches' claim p50/p99): wraps `log.claim` in place.
import type { SagaLog } from '../src/saga/index.js';

/** Pushes each claim's milliseconds (2 decimals) into `sink`; returns the log for chaining. */
export function timeClaims<L extends Pick<SagaLog, 'claim'>>(log: L, sink: number[]): L {
  const claim = log.claim.bind(log);
  log.claim = async (req) => {
    const t0 = performance.now();
    try {
      return await claim(req);
    } finally {
      sink.push(Number((performance.now() - t0).toFixed(2)));
    }
  };
  return log;
}
