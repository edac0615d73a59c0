// Rebuilds what is known of a saga from its log records: which steps started (in order), what
// each one's outcome is, which compensations finished, how often each was interrupted, and where
// to go next.
import type { SagaDefinition, StepOutcomeKind } from './define.js';
import type { ErrorInfo, Json, LogRecord, SagaStatus } from './log.js';

export interface StepState {
  outcome: StepOutcomeKind;
  attempts: number;
  output?: Json;
  error?: ErrorInfo;
  compensated: boolean;
  compensationAttempts: number;
  /** Attempts counted before the last operator retry: the retry budget starts from here. */
  budgetBase?: number;
  compensationBudgetBase?: number;
  /** Epoch ms of the first attempt, when the step's policy has a time budget. */
  since?: number;
  /** A start (forward or compensation) with no outcome after it: the owner stopped mid-attempt. */
  open?: boolean;
  compensationOpen?: boolean;
  /** How often an attempt of this step (or its compensation) was cut short by its owner stopping. */
  interrupted?: number;
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
  /** The most interrupted attempts of any one step or compensation since the last operator retry. */
  maxInterrupted: number;
}

export function replay(records: readonly LogRecord[], initialStatus: SagaStatus): ReplayedSaga {
  const state: ReplayedSaga = {
    status: initialStatus,
    started: [],
    steps: new Map(),
    rollingBack: false,
    reason: undefined,
    nextSeq: records.length,
    maxInterrupted: 0,
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
  const interrupt = (s: StepState): void => {
    s.interrupted = (s.interrupted ?? 0) + 1;
  };
  for (const r of records) {
    switch (r.type) {
      case 'step_started': {
        const s = stepOf(r.step);
        if (s.open) interrupt(s);
        s.open = true;
        s.attempts = Math.max(s.attempts, r.attempt);
        s.outcome = 'unknown';
        if (r.since !== undefined && s.since === undefined) s.since = r.since;
        break;
      }
      case 'step_succeeded': {
        const s = stepOf(r.step);
        s.open = false;
        s.outcome = 'succeeded';
        s.output = r.output;
        break;
      }
      case 'step_failed': {
        const s = stepOf(r.step);
        s.open = false;
        // A failure with a retry to follow leaves the step in doubt until its next attempt ends.
        s.outcome = r.willRetry ? 'unknown' : 'failed';
        s.error = r.error;
        break;
      }
      case 'compensation_started': {
        state.rollingBack = true;
        const s = stepOf(r.step);
        if (s.compensationOpen) interrupt(s);
        s.compensationOpen = true;
        s.compensationAttempts = Math.max(s.compensationAttempts, r.attempt);
        break;
      }
      case 'compensation_succeeded': {
        state.rollingBack = true;
        const s = stepOf(r.step);
        s.compensationOpen = false;
        s.compensated = true;
        break;
      }
      case 'compensation_failed':
        state.rollingBack = true;
        stepOf(r.step).compensationOpen = false;
        break;
      case 'status':
        state.status = r.status;
        if (r.status === 'compensating') state.rollingBack = true;
        if (r.reason) state.reason = r.reason;
        if (r.status === 'stuck') {
          // An operator retry starts with fresh budgets: attempts and interruptions count from here.
          for (const s of state.steps.values()) {
            s.budgetBase = s.attempts;
            s.compensationBudgetBase = s.compensationAttempts;
            s.interrupted = 0;
            s.since = undefined;
          }
        }
        break;
    }
  }
  for (const s of state.steps.values()) {
    // The attempt still open at the end was cut short too (this replay is a recovery).
    const n = (s.interrupted ?? 0) + (s.open || s.compensationOpen ? 1 : 0);
    state.maxInterrupted = Math.max(state.maxInterrupted, n);
  }
  return state;
}

export type ResumePlan =
  | { action: 'done' }
  | { action: 'complete' }
  | { action: 'forward'; fromStage: number }
  | { action: 'compensate'; reason: ErrorInfo }
  | { action: 'stuck'; reason: ErrorInfo };

/** True once the pivot has a durable `step_started`: from then on the saga can only go forward. */
export function pivotStarted(def: SagaDefinition, s: ReplayedSaga): boolean {
  const pivot = def.pivotStage >= 0 ? def.stages[def.pivotStage]?.steps[0] : undefined;
  return pivot !== undefined && s.steps.has(pivot.name);
}

/**
 * Where a non-final saga goes on resume. By default forward: steps whose outcome is unknown run
 * again (same idempotency key, attempt + 1) and the saga carries on. It compensates only when a
 * step really failed before the pivot, when it was already rolling back, or when the definition
 * (or the interrupted step) says `onInterrupt: 'compensate'`. After the pivot: always forward.
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
  const inDoubt = [...s.steps.entries()].filter(([, st]) => st.open === true);
  const compensateOnInterrupt = inDoubt.some(([name]) => (def.stepIndex.get(name)?.step.onInterrupt ?? def.onInterrupt) === 'compensate');
  if (compensateOnInterrupt) {
    return { action: 'compensate', reason: interrupted('before the pivot') };
  }
  const from = def.stages.findIndex((_, i) => !stageDone(i));
  return { action: 'forward', fromStage: Math.max(0, from) };
}

function interrupted(where: string): ErrorInfo {
  return { code: 'SAGA_INTERRUPTED', message: `the owner stopped ${where}; recovered` };
}
