// A light cancellation scope. Why not AbortController everywhere: creating an AbortSignal and
// listening on it costs more than a no-op step itself, and most steps never look at their signal.
// A scope makes its AbortSignal only when someone asks for it (ctx.signal), and cancels its
// children (a saga's steps, a parallel group's members) through plain callbacks.

export class CancelScope {
  private _cancelled = false;
  private _reason: unknown;
  private controller: AbortController | undefined;
  private listeners: Set<(reason: unknown) => void> | undefined;

  get cancelled(): boolean {
    return this._cancelled;
  }

  get reason(): unknown {
    return this._reason;
  }

  /** An AbortSignal mirroring this scope, created on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this._cancelled) this.controller.abort(this._reason);
    }
    return this.controller.signal;
  }

  cancel(reason: unknown): void {
    if (this._cancelled) return;
    this._cancelled = true;
    this._reason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) l(reason);
  }

  /** Calls `fn` when the scope is cancelled; returns the unsubscribe function. */
  onCancel(fn: (reason: unknown) => void): () => void {
    if (this._cancelled) {
      fn(this._reason);
      return noop;
    }
    (this.listeners ??= new Set()).add(fn);
    return () => this.listeners?.delete(fn);
  }

  /** A child scope cancelled with this one; `dispose` detaches it when its work is done. */
  child(): { scope: CancelScope; dispose: () => void } {
    const scope = new CancelScope();
    const dispose = this.onCancel((r) => scope.cancel(r));
    return { scope, dispose };
  }
}

const noop = (): void => {};
