// Opens the saga log a config names: a PostgreSQL URL, `memory`, or else a SQLite file path.
// Backends load lazily so a SQLite user never loads `pg` and vice versa.
import type { SagaLog } from '../saga/log.js';
import type { PostgresSagaLogOptions } from './postgres.js';
import type { SqliteSagaLogOptions } from './sqlite.js';

export interface OpenSagaLogOptions {
  sqlite?: SqliteSagaLogOptions;
  postgres?: Omit<PostgresSagaLogOptions, 'connectionString'>;
  now?: () => number;
}

/** A SagaLog plus the durability it provides, in words the CLI prints. */
export type OpenedSagaLog = SagaLog & { readonly durability: string };

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

export async function openSagaLog(target: string, options: OpenSagaLogOptions = {}): Promise<OpenedSagaLog> {
  if (isPostgresUrl(target)) {
    const { PostgresSagaLog } = await import('./postgres.js');
    return PostgresSagaLog.open({ ...options.postgres, connectionString: target });
  }
  if (target === 'memory') {
    const { MemorySagaLog } = await import('./memory.js');
    return new MemorySagaLog(options.now ? { now: options.now } : {});
  }
  const { SqliteSagaLog } = await import('./sqlite.js');
  const sqliteOptions = { ...options.sqlite };
  if (options.now) sqliteOptions.now = options.now;
  return new SqliteSagaLog(target, sqliteOptions);
}
