// Typed hooks: the engine reports what it does; metrics and tracing subscribe. The engine knows
// no metrics library. A hook that throws is ignored (it must never break a saga).
import type { ErrorInfo, SagaStatus } from './log.js';

export interface SagaEventBase {
  sagaId: string;
  saga: string;
}

export interface SagaHooks {
  onSagaStart?(e: SagaEventBase & { resumed: boolean }): void;
  onSagaEnd?(e: SagaEventBase & { status: SagaStatus; durationMs: number; reason?: ErrorInfo }): void;
  onStepStart?(e: SagaEventBase & { step: string; attempt: number }): void;
  onStepEnd?(e: SagaEventBase & { step: string; attempt: number; ok: boolean; durationMs: number; error?: ErrorInfo }): void;
  onCompensationStart?(e: SagaEventBase & { step: string; attempt: number }): void;
  onCompensationEnd?(e: SagaEventBase & { step: string; attempt: number; ok: boolean; durationMs: number; error?: ErrorInfo }): void;
  onRetry?(e: SagaEventBase & { step: string; phase: 'forward' | 'compensation'; attempt: number; delayMs: number; error: ErrorInfo }): void;
  /** The lease of a saga moved to another owner: this process stopped working on it. */
  onFenced?(e: SagaEventBase): void;
}

type HookName = keyof SagaHooks;
type HookArg<K extends HookName> = Parameters<NonNullable<SagaHooks[K]>>[0];

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
      const fn = h[name] as ((e: HookArg<K>) => void) | undefined;
      if (!fn) continue;
      try {
        fn.call(h, event);
      } catch {
        // Hooks are observers; their failures must not change a saga's outcome.
      }
    }
  }
}
