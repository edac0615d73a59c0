// One-shot CLI runs (ingest, verify) push their metrics to a Prometheus Pushgateway at the end,
// the Prometheus convention for batch jobs. PUT replaces the job's previous push, so the gateway
// always holds the last run of each command.
import { Pushgateway } from 'prom-client';
import { redactCredentials } from '../lib/redact.js';
import type { ApexMetrics } from './registry.js';

export async function pushMetrics(m: ApexMetrics, url: string, job: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const parsed = new URL(url); // throws on a malformed URL before anything is sent
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`pushgateway URL must be http(s), got ${parsed.protocol}`);
  await m.refresh();
  const gateway = new Pushgateway(url.replace(/\/+$/, ''), { timeout: opts.timeoutMs ?? 5_000 }, m.registry);
  const { resp } = await gateway.push({ jobName: job });
  const status = (resp as { statusCode?: number } | undefined)?.statusCode;
  if (status !== undefined && (status < 200 || status >= 300)) throw new Error(`pushgateway answered HTTP ${status}`);
}

/** For CLI commands: push, and on failure one stderr line (the command's own result stands). */
export async function pushOrWarn(m: ApexMetrics, url: string, job: string, err: (line: string) => void): Promise<void> {
  try {
    await pushMetrics(m, url, job);
  } catch (e) {
    err(`pushgateway: metrics not pushed (${describe(e)})`);
  }
}

function describe(e: unknown): string {
  return redactCredentials(e instanceof Error ? e.message : 'unknown error');
}
