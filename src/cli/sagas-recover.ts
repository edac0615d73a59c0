// `apex-memory sagas recover`: claims sagas whose owner stopped renewing its lease (a crashed or
// killed process) and finishes them: forward after the pivot, compensation before it. Loops until
// nothing is left to claim, bounded by --max-rounds so a misbehaving log cannot spin forever.
import type { Command } from 'commander';
import type { SagaLogQueries, SagaStatus, SagaSummary } from '../saga/index.js';
import { positiveInt } from './args.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { formatTime, renderPairs, renderTable, toJson } from './output.js';
import { withApp } from './runtime.js';

interface RecoverFlags {
  maxRounds: number;
  batch: number;
  includePending?: boolean;
  json?: boolean;
}

export function registerRecover(sagas: Command): void {
  sagas
    .command('recover')
    .description('finish sagas whose lease expired (their process died); exit 1 if any ends stuck')
    .option('--batch <n>', 'sagas claimed per round', positiveInt(1000), 32)
    .option('--max-rounds <n>', 'stop after this many claim rounds', positiveInt(10_000), 100)
    .option('--include-pending', 'also run queued (pending) sagas, as a worker would')
    .option('--json', 'print the outcome as JSON on stdout')
    .action(
      exiting((flags: RecoverFlags, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const ended: Record<'completed' | 'compensated' | 'stuck', string[]> = { completed: [], compensated: [], stuck: [] };
          app.engine.addHooks({
            onSagaEnd: (e) => {
              if (e.status === 'completed' || e.status === 'compensated' || e.status === 'stuck') ended[e.status].push(e.sagaId);
            },
          });
          let claimed = 0;
          let rounds = 0;
          while (rounds < flags.maxRounds) {
            rounds++;
            const n = await app.engine.recover({ limit: flags.batch, includePending: flags.includePending === true });
            if (n === 0) break;
            claimed += n;
            await app.engine.idle();
          }
          const waiting = await notFinalWithLiveLease(app.engine.log);
          const ok = ended.stuck.length === 0;
          if (io.json) {
            io.out(toJson({ ok, claimed, rounds, ...ended, leaseNotExpired: waiting }));
            return ok ? EXIT_OK : EXIT_FAILED;
          }
          io.out(
            `\n${renderPairs([
              ['claimed', claimed],
              ['completed', ended.completed.length],
              ['compensated', ended.compensated.length],
              ['stuck', ended.stuck.length ? `${ended.stuck.length}: ${ended.stuck.join(', ')} (see sagas show / sagas retry)` : 0],
              ['rounds', rounds],
            ])}`,
          );
          if (waiting.length > 0) {
            io.out(`\n${waiting.length} saga(s) still held by a live lease (claimable once it expires):`);
            io.out(
              renderTable(
                [{ header: 'saga' }, { header: 'status' }, { header: 'owner' }, { header: 'lease expires' }],
                waiting.map((s) => [s.sagaId, s.status, s.owner ?? '-', formatTime(s.leaseExpiresAt)]),
              ),
            );
          }
          return ok ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );
}

const IN_FLIGHT: readonly SagaStatus[] = ['running', 'compensating'];

/** Sagas another process still owns: recover cannot take them yet; the operator should know. */
async function notFinalWithLiveLease(log: Pick<SagaLogQueries, 'list'>): Promise<SagaSummary[]> {
  return (await log.list({ status: IN_FLIGHT }, { limit: 1000 })).sagas;
}
