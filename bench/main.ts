// `npm run bench -- engine --log sqlite --concurrency 64 --n 4000 [--json]`
import { parseArgs } from 'node:util';
import { benchEngine } from './engine.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    log: { type: 'string', default: 'sqlite' },
    'pg-url': { type: 'string' },
    concurrency: { type: 'string', short: 'c', default: '1' },
    n: { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
    thread: { type: 'boolean', default: false },
  },
});

const what = positionals[0] ?? 'engine';
if (what !== 'engine') {
  console.error(`unknown bench "${what}"; available: engine`);
  process.exit(2);
}
const row = await benchEngine({
  log: values.log ?? 'sqlite',
  pgUrl: values['pg-url'],
  concurrency: Number(values.concurrency),
  n: Number(values.n),
  thread: values.thread,
});
if (values.json) console.log(JSON.stringify(row));
else console.table([row]);
process.exit(0);
