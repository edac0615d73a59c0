// A real Prometheus (Debian package `prometheus`, installed by scripts/obs-tools.sh) for tests:
// bound to 127.0.0.1 on a free port, a temporary data directory, a short scrape and rule interval.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const PROM_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'prometheus');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<PromSample[]>;
  stop(): Promise<void>;
  output(): string;
}

/** Starts Prometheus scraping `targets` every second, with deploy/prometheus's rules evaluated every second. */
export async function startPrometheus(dir: string, targets: string[], opts: { intervalS?: number } = {}): Promise<RunningPrometheus> {
  const interval = `${opts.intervalS ?? 1}s`;
  // The rules as shipped, but evaluated at the test's interval instead of 15 s.
  const rules = readFileSync(join(PROM_DIR, 'rules.yml'), 'utf8').replace(/interval: 15s/g, `interval: ${interval}`);
  writeFileSync(join(dir, 'rules.yml'), rules);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'rule_files:',
      `  - ${join(dir, 'rules.yml')}`,
      `  - ${join(PROM_DIR, 'alerts.yml')}`,
      'scrape_configs:',
      '  - job_name: apex-worker',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let out = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited at start:\n${out}`);
    const ready = await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    output: () => out,
    async query(expr: string): Promise<PromSample[]> {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
      if (body.status !== 'success') throw new Error(`query failed: ${expr}: ${body.error ?? res.status}`);
      if (body.data?.resultType !== 'vector') throw new Error(`query ${expr}: expected a vector, got ${body.data?.resultType}`);
      return body.data.result;
    },
    async stop(): Promise<void> {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
