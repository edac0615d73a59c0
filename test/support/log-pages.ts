// Tests that need every saga of a (small) log: follows the operators' keyset pages to the end.
import type { LogFilter, SagaEntry, SagaLogQueries } from '../../src/saga/index.js';

export async function allSagas(
  log: Pick<SagaLogQueries, 'list'>,
  filter: LogFilter = {},
  order: 'desc' | 'asc' = 'asc',
): Promise<SagaEntry[]> {
  const out: SagaEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await log.list(filter, { limit: 1_000, order, ...(cursor !== null ? { cursor } : {}) });
    out.push(...page.sagas);
    cursor = page.next;
  } while (cursor !== null);
  return out;
}
