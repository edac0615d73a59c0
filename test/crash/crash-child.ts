// Child process of the crash test. `run <log> <effects> <scenario> <n>` starts n sagas on the
// SQLite saga log and prints "REACHED <sagaId>" when a saga reaches the scenario's kill point;
// the parent SIGKILLs it there. `recover <log> <effects>` resumes everything left and prints
// "RECOVERED <count>". Step effects go to a second SQLite file, durably, so the parent can check
// exactly what is applied after the crash. The engine's owner id names this host and pid, so the
// recovering process takes the dead process's sagas at once (no lease wait).
// Scenario 'poison': step a SIGKILLs its own process every time it runs (the recovery limit test).
// Randomness (the 'load' jitter) comes from CRASH_SEED, so a printed seed replays the run.
import Database from 'better-sqlite3';
import { SqliteSagaLog } from '../../src/log/sqlite/index.js';
import { SagaEngine, defineSaga, seededRandom } from '../../src/saga/index.js';
import { allSagas } from '../support/log-pages.js';

const [mode, logPath, effectsPath, scenario = 'none', count = '1'] = process.argv.slice(2);
if (!mode || !logPath || !effectsPath) throw new Error('usage: crash-child run|recover <log> <effects> [scenario] [n]');
const random = seededRandom(Number(process.env.CRASH_SEED ?? 1) + (mode === 'recover' ? 1 : 0));

const fx = new Database(effectsPath);
fx.pragma('journal_mode = WAL');
fx.pragma('synchronous = FULL');
fx.pragma('busy_timeout = 5000');
fx.exec(`CREATE TABLE IF NOT EXISTS effects (saga TEXT, step TEXT, PRIMARY KEY (saga, step));
         CREATE TABLE IF NOT EXISTS calls (saga TEXT, step TEXT, kind TEXT, pid INTEGER)`);
const apply = fx.prepare('INSERT OR IGNORE INTO effects VALUES (?, ?)');
const undo = fx.prepare('DELETE FROM effects WHERE saga = ? AND step = ?');
const call = fx.prepare('INSERT INTO calls VALUES (?, ?, ?, ?)');

const recovering = mode === 'recover';
const hang = (): Promise<never> => new Promise<never>(() => {});
/** In the first process, stop at the kill point and tell the parent; recovery never stops. */
async function killPoint(sagaId: string, point: string): Promise<void> {
  if (recovering || scenario !== point) return;
  process.stdout.write(`REACHED ${sagaId}\n`);
  await hang();
}

/** Under 'load', steps take 0-4 ms so that a kill lands in the middle of many sagas. */
function jitter(): Promise<void> {
  if (scenario !== 'load') return Promise.resolve();
  return new Promise((r) => setTimeout(r, Math.floor(random() * 5)));
}

function effect(step: string, opts: { failFirst?: boolean } = {}) {
  return {
    name: step,
    run: async (ctx: { sagaId: string; attempt: number; input: { k: number } }) => {
      call.run(ctx.sagaId, step, 'run', process.pid);
      if (scenario === 'poison' && step === 'a') process.kill(process.pid, 'SIGKILL');
      await killPoint(ctx.sagaId, `before:${step}`);
      await jitter();
      apply.run(ctx.sagaId, step);
      await killPoint(ctx.sagaId, `after:${step}`);
      // 'comp:*' scenarios fail every saga at c; under 'load' one saga in three fails there.
      const fails = scenario.startsWith('comp') || (scenario === 'load' && ctx.input.k % 3 === 0);
      if (opts.failFirst && fails && !recovering) throw Object.assign(new Error(`${step} fails`), { code: 'CRASH_TEST' });
      return step;
    },
    compensate: async (ctx: { sagaId: string }) => {
      call.run(ctx.sagaId, step, 'comp', process.pid);
      await killPoint(ctx.sagaId, `comp:${step}`);
      await jitter();
      undo.run(ctx.sagaId, step);
    },
  };
}

const saga = defineSaga<{ k: number }>('crash', 1)
  .step(effect('a'))
  .parallel((g) => g.step(effect('b')).step(effect('c', { failFirst: true })))
  .step({ ...effect('p'), kind: 'pivot', compensate: undefined })
  .step({ ...effect('r'), kind: 'retriable', compensate: undefined })
  .build();

const log = new SqliteSagaLog(logPath);
// A long lease on purpose: the recovering process must not need it to lapse (crash-fast takeover).
const engine = new SagaEngine({ log, leaseMs: 60_000, recoveryLimit: Number(process.env.CRASH_RECOVERY_LIMIT ?? 10) });
engine.register(saga);

if (mode === 'run') {
  const n = Number(count);
  await Promise.all(
    Array.from({ length: n }, (_, k) =>
      engine.execute(saga, { k }, { sagaId: `${scenario}-${k}` }).then((o) => process.stdout.write(`DONE ${o.sagaId} ${o.status}\n`)),
    ),
  );
  process.stdout.write('ALL DONE\n');
} else {
  // Every unfinished saga belongs to the killed process: recover() claims them at once (its owner
  // is on this host and gone); settle() then covers anything recover() did not take.
  const claimed = await engine.recover({ limit: 10_000 });
  await engine.idle();
  const open = [...(await allSagas(log, { status: 'running' })), ...(await allSagas(log, { status: 'compensating' }))];
  await Promise.all(open.map((s) => engine.settle(s.sagaId, { timeoutMs: 30_000 })));
  process.stdout.write(`RECOVERED ${claimed + open.length}\n`);
}
await engine.close();
await log.close();
fx.close();
process.exit(0);
