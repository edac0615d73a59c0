// Promise.all that waits for every promise before it fails: a step that writes several stores side
// by side must not fail (and be retried or compensated) while one of its writes is still in flight,
// or that write could land after the compensation that should have undone it.

/** The values of all `promises` once every one has settled; the first rejection (in order) if any. */
export async function settleAll<T extends readonly unknown[]>(promises: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const outcomes = await Promise.allSettled(promises);
  for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
