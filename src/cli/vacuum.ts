// `apex-memory vacuum`: after deletes, reclaims the space and the bytes of deleted rows
// (docs/erasure.md), and removes the Neo4j fence nodes of sagas that ended long ago (docs/stores.md). Removes staged saga content no saga needs any more (sagas that ended), then
// VACUUMs PostgreSQL's content tables (PGlite: and a CHECKPOINT), the SQLite stand-ins and, on the
// embedded profile, the SQLite saga log (VACUUM + WAL truncation). A delete already zeroes the
// SQLite stand-ins' bytes and truncates their WAL itself; this is for PGlite/PostgreSQL files,
// the saga log after `sagas prune`, and anything a crash kept from finishing.
import type { Command } from 'commander';
import { isPostgresUrl } from '../log/open.js';
import { sweepStagedInputs } from '../ingest/staged-sweep.js';
import { FENCE_SWEEP_LEASES, sweepFences } from '../ingest/fence-sweep.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { renderTable, toJson } from './output.js';
import { withApp } from './runtime.js';

interface Step {
  target: string;
  done: string;
  ok: boolean;
}

/**
 * A WAL another process kept from truncating still holds the deleted rows' old page images: the
 * erasure is not done, so the step failed (exit 1) and the user runs vacuum again once that
 * process has let go (src/stores/sqlite/file.ts vacuumFile, src/log/sqlite/vacuum.ts say so).
 */
const notTruncated = (done: string): boolean => done.includes('WAL NOT truncated');

export function registerVacuum(program: Command): void {
  program
    .command('vacuum')
    .description(
      "reclaim the space and bytes of deleted documents: sweep ended sagas' staged content and old Neo4j fences, VACUUM PostgreSQL/PGlite and the SQLite files, truncate WALs",
    )
    .option('--full', 'PostgreSQL: VACUUM FULL (rewrites the tables; takes an exclusive lock on each meanwhile)')
    .option('--json', 'print what was done as JSON on stdout')
    .action(
      exiting((flags: { full?: boolean; json?: boolean }, cmd: Command) => {
        let sqliteLog: string | undefined;
        const steps: Step[] = [];
        return withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const attempt = async (target: string, work: () => Promise<string>): Promise<void> => {
            try {
              const done = await work();
              steps.push({ target, done, ok: !notTruncated(done) });
            } catch (err) {
              steps.push({ target, done: err instanceof Error ? err.message : String(err), ok: false });
            }
          };
          await attempt(
            'saga_inputs',
            async () => `removed the staged content of ${await sweepStagedInputs(app.stores, app.engine.log)} ended saga(s)`,
          );
          // Neo4j fences of sagas that ended more than FENCE_SWEEP_LEASES leases ago (fence-sweep.ts).
          if (app.stores.neo4j.scanFences) {
            await attempt('neo4j fences', async () => {
              const r = await sweepFences(app.stores.neo4j, app.engine.log, { leaseMs: app.leaseMs });
              return `removed ${r.removed} of ${r.scanned} fence node(s) (sagas ended > ${FENCE_SWEEP_LEASES} leases of ${app.leaseMs} ms ago)`;
            });
          }
          for (const store of [app.stores.postgres, app.stores.neo4j, app.stores.qdrant, app.stores.redis]) {
            const reclaim = store.reclaim?.bind(store);
            if (reclaim) await attempt(`${store.name} (${store.backend})`, () => reclaim({ full: flags.full === true }));
          }
          // "sqlite <path>" (profile.ts describe): a SQLite log file, vacuumed below once closed.
          const logTarget = io.profile.sagaLog.slice('sqlite '.length);
          if (io.profile.sagaLog.startsWith('sqlite ') && !isPostgresUrl(logTarget) && logTarget !== 'memory') sqliteLog = logTarget;
          return EXIT_OK;
        }).then(async (code) => {
          // The saga log is vacuumed once the app has closed it (the checkpoint needs no reader).
          if (sqliteLog !== undefined) {
            const file = sqliteLog;
            const { vacuumSqliteLog } = await import('../log/sqlite/vacuum.js');
            try {
              const done = vacuumSqliteLog(file);
              steps.push({ target: `saga log (sqlite ${file})`, done, ok: !notTruncated(done) });
            } catch (err) {
              steps.push({ target: `saga log (sqlite ${file})`, done: err instanceof Error ? err.message : String(err), ok: false });
            }
          }
          const ok = code === EXIT_OK && steps.every((s) => s.ok);
          if (flags.json === true) process.stdout.write(`${toJson({ ok, steps })}\n`);
          else
            process.stdout.write(
              `\n${renderTable(
                [{ header: 'target' }, { header: 'done' }],
                steps.map((s) => [s.target, s.ok ? s.done : `FAILED: ${s.done}`]),
              )}\n`,
            );
          return ok ? EXIT_OK : EXIT_FAILED;
        });
      }),
    );
}
