// Opens the saga log a config names: a PostgreSQL URL, `memory`, or else a SQLite file path.
// Backends load lazily so a SQLite user never loads `pg` and vice versa.
import type { SagaLogBackend } from '../saga/index.js';
import type { PostgresSagaLogOptions } from './postgres/index.js';
import type { SqliteSagaLogOptions } from './sqlite/index.js';

export interface OpenSagaLogOptions {
  sqlite?: SqliteSagaLogOptions;
  postgres?: Omit<PostgresSagaLogOptions, 'connectionString'>;
  now?: () => number;
}

/** A SagaLogBackend plus the durability it provides, in words the CLI prints. */
export type OpenedSagaLog = SagaLogBackend & { readonly durability: string };

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

export async function openSagaLog(target: string, options: OpenSagaLogOptions = {}): Promise<OpenedSagaLog> {
  if (isPostgresUrl(target)) {
    const { PostgresSagaLog } = await import('./postgres/index.js');
    return PostgresSagaLog.open({ ...options.postgres, connectionString: target });
  }
  if (target === 'memory') {
    const { MemorySagaLog } = await import('./memory.js');
    return new MemorySagaLog(options.now ? { now: options.now } : {});
  }
  const { SqliteSagaLog } = await import('./sqlite/index.js');
  const sqliteOptions = { ...options.sqlite };
  if (options.now) sqliteOptions.now = options.now;
  return new SqliteSagaLog(target, sqliteOptions);
}
