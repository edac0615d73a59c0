// Typed hooks: the engine reports what it does; metrics and tracing subscribe. The engine knows
// no metrics library. A hook that throws, or returns a promise that rejects, is ignored (it must
// never break a saga). Every onSagaStart is followed by exactly one onSagaEnd, whatever happens,
// so an in-flight gauge built on them never leaks.
import type { ErrorInfo, SagaMeta } from './log.js';

export interface SagaEventBase {
  sagaId: string;
  saga: string;
  version: number;
}

/**
 * How a run of a saga in this process ended. The first three are the saga's status in the log;
 * `cancelled` is a compensated saga whose reason is SAGA_CANCELLED; the others mean this process
 * stopped working on a saga that is not finished: `suspended` (a durable timer: it is claimed
 * again when due), `fenced` (another owner took it), `lease_lost` (the lease could not be renewed),
 * `shutdown` (engine.close), `error` (an unexpected error, e.g. the log failed).
 */
export type SagaEndStatus =
  | 'completed'
  | 'compensated'
  | 'stuck'
  | 'cancelled'
  | 'suspended'
  | 'fenced'
  | 'lease_lost'
  | 'shutdown'
  | 'error';

/** How this process came to own a saga it did not start. */
export type ClaimVia = 'recover' | 'settle' | 'retry' | 'cancel';

export interface SagaHooks {
  onSagaStart?(e: SagaEventBase & { resumed: boolean; meta?: SagaMeta }): void;
  onSagaEnd?(e: SagaEventBase & { status: SagaEndStatus; durationMs: number; reason?: ErrorInfo; meta?: SagaMeta }): void;
  onStepStart?(e: SagaEventBase & { step: string; attempt: number }): void;
  onStepEnd?(e: SagaEventBase & { step: string; attempt: number; ok: boolean; durationMs: number; error?: ErrorInfo }): void;
  onCompensationStart?(e: SagaEventBase & { step: string; attempt: number }): void;
  onCompensationEnd?(e: SagaEventBase & { step: string; attempt: number; ok: boolean; durationMs: number; error?: ErrorInfo }): void;
  onRetry?(
    e: SagaEventBase & {
      step: string;
      phase: 'forward' | 'compensation';
      attempt: number;
      delayMs: number;
      error: ErrorInfo;
      durable?: boolean;
    },
  ): void;
  /** This process claimed a saga (pending, expired, dead owner, stuck retry, cancel). */
  onClaim?(e: SagaEventBase & { via: ClaimVia; fencingToken: number; previousOwner: string | null }): void;
  /** The claim took a running saga from another owner: its lease expired, it died, or cancel forced it. */
  onTakeover?(e: SagaEventBase & { previousOwner: string; fencingToken: number; reason: 'lease_expired' | 'owner_dead' | 'cancel' }): void;
  /** The heartbeat could not renew this saga's lease before it ran out: this process stopped it. */
  onLeaseLost?(e: SagaEventBase & { fencingToken: number; error?: ErrorInfo }): void;
  /** The lease of a saga moved to another owner: this process stopped working on it. */
  onFenced?(e: SagaEventBase): void;
}

type HookName = keyof SagaHooks;
type HookArg<K extends HookName> = Parameters<NonNullable<SagaHooks[K]>>[0];

const ignore = (): void => undefined;

export class HookBus {
  private readonly hooks: SagaHooks[];
  constructor(hooks: SagaHooks | SagaHooks[] | undefined) {
    this.hooks = hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
  }
  get empty(): boolean {
    return this.hooks.length === 0;
  }
  add(h: SagaHooks): void {
    this.hooks.push(h);
  }
  emit<K extends HookName>(name: K, event: HookArg<K>): void {
    for (const h of this.hooks) {
      const fn = h[name] as ((e: HookArg<K>) => unknown) | undefined;
      if (!fn) continue;
      try {
        const r = fn.call(h, event);
        if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function')
          (r as Promise<unknown>).then(undefined, ignore);
      } catch {
        // Hooks are observers; their failures must not change a saga's outcome.
      }
    }
  }
}
