// APEX_STORE_OUTAGE_BUDGET_STEPS: per-step outage budgets from the environment, e.g.
// `redis_write=3000,delete.neo4j_delete=20000` (a step of every saga, or `saga.step`). Until now
// only code could set them (openApp({ outage: { steps } })); an operator (and the outage test,
// issue 22) may want a step after the pivot to give up sooner and end `stuck`, an operator's case,
// rather than retry through a long outage.
import { ConfigError, intSetting } from './numeric.js';
import type { IntRange } from '../lib/int-range.js';

const NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/;
const SETTING = 'APEX_STORE_OUTAGE_BUDGET_STEPS';

/** Parses `step=ms[,step=ms...]`; undefined when unset or blank. */
export function outageStepsFromEnv(env: Record<string, string | undefined>, range: IntRange): Record<string, number> | undefined {
  const raw = env[SETTING];
  if (raw === undefined || raw.trim() === '') return undefined;
  const steps: Record<string, number> = {};
  for (const part of raw.split(',')) {
    const [name, value, ...rest] = part.trim().split('=');
    if (name === undefined || value === undefined || rest.length > 0 || !NAME.test(name)) {
      throw new ConfigError(
        SETTING,
        `${SETTING}: expected step=milliseconds[,step=milliseconds] (step: a step name or saga.step, lower case), got ${JSON.stringify(part.trim()).slice(0, 80)}`,
      );
    }
    steps[name] = intSetting(`${SETTING} (${name})`, value, range);
  }
  return steps;
}
