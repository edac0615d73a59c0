// Child process of the crash test. `run <log> <effects> <scenario> <n>` starts n sagas on the
// SQLite saga log and prints "REACHED <sagaId>" when a saga reaches the scenario's kill point;
// the parent SIGKILLs it there. `recover <log> <effects>` resumes everything left and prints
// "RECOVERED <count>". Step effects go to a second SQLite file, durably, so the parent can check
// exactly what is applied after the crash.
import Database from 'better-sqlite3';
import { SqliteSagaLog } from '../../src/log/sqlite.js';
import { SagaEngine, defineSaga } from '../../src/saga/index.js';

const [mode, logPath, effectsPath, scenario = 'none', count = '1'] = process.argv.slice(2);
if (!mode || !logPath || !effectsPath) throw new Error('usage: crash-child run|recover <log> <effects> [scenario] [n]');

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
  return new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5)));
}

function effect(step: string, opts: { failFirst?: boolean } = {}) {
  return {
    name: step,
    run: async (ctx: { sagaId: string; attempt: number; input: { k: number } }) => {
      call.run(ctx.sagaId, step, 'run', process.pid);
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
// A short lease so the recovering process may take over soon after the kill.
const engine = new SagaEngine({ log, owner: `pid-${process.pid}`, leaseMs: 400, heartbeatMs: 100 });
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
  let total = 0;
  for (let round = 0; round < 200; round++) {
    const claimed = await engine.recover({ limit: 64 });
    total += claimed;
    await engine.idle();
    const open = (await log.list()).filter((s) => s.status === 'running' || s.status === 'compensating' || s.status === 'pending');
    if (open.length === 0) break;
    await new Promise((r) => setTimeout(r, 100)); // wait for leases of the killed owner to lapse
  }
  process.stdout.write(`RECOVERED ${total}\n`);
}
await engine.close();
await log.close();
fx.close();
process.exit(0);
