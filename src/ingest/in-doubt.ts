// A saga whose log could not be written for good (the saga log's database down past the outage
// budget; issue 22). Its writes may be in the stores and its pivot may even be logged: whoever
// claims it once its lease expires (`serve`, a worker, `apex-memory sagas recover`) finishes it,
// forward or back. So the document is neither written nor failed: it is `unknown`, and the caller
// is told the saga's id and the command that settles it, never "not written".
export class SagaInDoubtError extends Error {
  readonly code = 'SAGA_IN_DOUBT' as const;
  readonly retryable = true;
  constructor(
    readonly sagaId: string,
    readonly docId: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `saga ${sagaId} of ${JSON.stringify(docId)} may still commit (its log could not be written: ${why}); ` +
        `\`apex-memory sagas recover\` finishes it once its lease expires, \`apex-memory sagas show ${sagaId}\` tells its outcome`,
      { cause },
    );
    this.name = 'SagaInDoubtError';
  }
}

/** The log's own failure (retryable: the database was down or answered nothing). */
export function isLogOutage(err: unknown): boolean {
  const e = err as { code?: unknown; retryable?: unknown };
  return e.code === 'LOG_FAILURE' && e.retryable === true;
}
