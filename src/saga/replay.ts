// Rebuilds what is known of a saga from its log records: which steps started (in order), what
// each one's outcome is, which compensations finished, and where to go next.
import type { SagaDefinition, StepOutcomeKind } from './define.js';
import type { ErrorInfo, Json, LogRecord, SagaStatus } from './log.js';

export interface StepState {
  outcome: StepOutcomeKind;
  attempts: number;
  output?: Json;
  error?: ErrorInfo;
  compensated: boolean;
  compensationAttempts: number;
}

export interface ReplayedSaga {
  status: SagaStatus;
  /** Step names in the order they first started. */
  started: string[];
  steps: Map<string, StepState>;
  /** A compensation record or a `compensating` status exists: the saga is rolling back. */
  rollingBack: boolean;
  reason: ErrorInfo | undefined;
  nextSeq: number;
}

export function replay(records: readonly LogRecord[], initialStatus: SagaStatus): ReplayedSaga {
  const state: ReplayedSaga = {
    status: initialStatus,
    started: [],
    steps: new Map(),
    rollingBack: false,
    reason: undefined,
    nextSeq: records.length,
  };
  const stepOf = (name: string): StepState => {
    let s = state.steps.get(name);
    if (!s) {
      s = { outcome: 'unknown', attempts: 0, compensated: false, compensationAttempts: 0 };
      state.steps.set(name, s);
      state.started.push(name);
    }
    return s;
  };
  for (const r of records) {
    switch (r.type) {
      case 'step_started': {
        const s = stepOf(r.step);
        s.attempts = Math.max(s.attempts, r.attempt);
        s.outcome = 'unknown';
        break;
      }
      case 'step_succeeded': {
        const s = stepOf(r.step);
        s.outcome = 'succeeded';
        s.output = r.output;
        break;
      }
      case 'step_failed': {
        const s = stepOf(r.step);
        // A failure with a retry to follow leaves the step in doubt until its next attempt ends.
        s.outcome = r.willRetry ? 'unknown' : 'failed';
        s.error = r.error;
        break;
      }
      case 'compensation_started': {
        state.rollingBack = true;
        const s = stepOf(r.step);
        s.compensationAttempts = Math.max(s.compensationAttempts, r.attempt);
        break;
      }
      case 'compensation_succeeded':
        state.rollingBack = true;
        stepOf(r.step).compensated = true;
        break;
      case 'compensation_failed':
        state.rollingBack = true;
        break;
      case 'status':
        state.status = r.status;
        if (r.status === 'compensating') state.rollingBack = true;
        if (r.reason) state.reason = r.reason;
        break;
    }
  }
  return state;
}

export type ResumePlan =
  | { action: 'done' }
  | { action: 'complete' }
  | { action: 'forward'; fromStage: number }
  | { action: 'compensate'; reason: ErrorInfo };

/**
 * Where a non-final saga goes on resume. Before the pivot: roll back. A pivot that started with
 * no recorded outcome is run again (pivots are idempotent) to learn whether it applied. After the
 * pivot: roll forward, re-running steps whose outcome is unknown.
 */
export function planResume(def: SagaDefinition, s: ReplayedSaga): ResumePlan {
  if (s.status === 'completed' || s.status === 'compensated') return { action: 'done' };
  if (s.rollingBack) return { action: 'compensate', reason: s.reason ?? interrupted('during compensation') };
  const succeeded = (name: string): boolean => s.steps.get(name)?.outcome === 'succeeded';
  const stageDone = (i: number): boolean => def.stages[i]?.steps.every((st) => succeeded(st.name)) ?? false;

  if (s.started.length === 0) return { action: 'forward', fromStage: 0 };
  if (def.stages.every((_, i) => stageDone(i))) return { action: 'complete' };

  const failed = [...s.steps.entries()].find(([, st]) => st.outcome === 'failed');
  if (def.pivotStage >= 0) {
    const pivot = def.stages[def.pivotStage]?.steps[0];
    const pivotState = pivot ? s.steps.get(pivot.name) : undefined;
    if (pivotState?.outcome === 'succeeded') return { action: 'forward', fromStage: def.pivotStage + 1 };
    if (pivotState && pivotState.outcome === 'unknown' && !failed) return { action: 'forward', fromStage: def.pivotStage };
  }
  if (failed) return { action: 'compensate', reason: failed[1].error ?? interrupted(`step ${failed[0]} failed`) };
  return { action: 'compensate', reason: interrupted('before the pivot') };
}

function interrupted(where: string): ErrorInfo {
  return { code: 'SAGA_INTERRUPTED', message: `the owner stopped ${where}; recovered` };
}
