// A private 6-node Redis Cluster (3 masters, 3 replicas) on free loopback ports, for a test that
// SIGKILLs a master: the services' cluster (APEX_TEST_REDIS_CLUSTER_URL) is shared by the other
// Redis Cluster tests and is never killed. Built like scripts/services.sh builds that one
// (Debian's redis-server, `redis-cli --cluster create --cluster-replicas 1`), with a shorter
// cluster-node-timeout so that a dead master is replaced within a couple of seconds.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './pg-replica-pair.js';
import { PrivateProcess } from './private-process.js';

/** cluster-node-timeout: how long a master must be silent before its replica takes over. */
export const NODE_TIMEOUT_MS = 1_000;

export interface ClusterNode {
  port: number;
  proc: PrivateProcess;
}

export interface PrivateRedisCluster {
  nodes: ClusterNode[];
  /** redis+cluster://127.0.0.1:p1,...  (the REDIS_URL format) */
  url: string;
  /** Ports of the nodes that are masters now, by CLUSTER NODES of a live node. */
  masters(): Promise<number[]>;
  /**
   * Resolves once every live node reports cluster_state:ok and sees 3 masters serving slots, none
   * of them `notMaster` (a killed master: until its replica is elected, nodes still list it).
   */
  waitOk(opts?: { notMaster?: number; timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

async function onNode<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Master ports serving slots, from one node's CLUSTER NODES (flags without `fail`). */
function mastersOf(nodesText: string): number[] {
  const out: number[] = [];
  for (const line of nodesText.split('\n')) {
    const f = line.split(' ');
    const addr = f[1] ?? '';
    const flags = f[2] ?? '';
    if (!flags.split(',').includes('master') || flags.includes('fail') || f.length < 9) continue; // f[8]: slot ranges
    out.push(Number(addr.split('@')[0]?.split(':')[1]));
  }
  return out.sort((a, b) => a - b);
}

export async function startPrivateRedisCluster(): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'apex-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.proc.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  const live = (): ClusterNode[] => nodes.filter((n) => n.proc.running);
  const masters = async (): Promise<number[]> => {
    const first = live()[0];
    if (!first) return [];
    return mastersOf(await onNode(first.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>));
  };
  const waitOk = async ({ notMaster, timeoutMs = 15_000 }: { notMaster?: number; timeoutMs?: number } = {}): Promise<void> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        live().map((n) =>
          onNode(n.port, async (r) => {
            const info = String(await r.call('CLUSTER', 'INFO'));
            const ms = mastersOf(String(await r.call('CLUSTER', 'NODES')));
            return /cluster_state:ok/.test(info) && ms.length === 3 && (notMaster === undefined || !ms.includes(notMaster));
          }).catch(() => false),
        ),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > until) throw new Error(`the private Redis Cluster is not ok after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    for (let i = 0; i < 6; i++) {
      const [port, bus] = [await freePort(), await freePort()];
      const d = join(dir, String(port));
      mkdirSync(d);
      const args = ['--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(bus)];
      args.push('--cluster-config-file', join(d, 'nodes.conf'), '--cluster-node-timeout', String(NODE_TIMEOUT_MS));
      args.push('--dir', d, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes');
      nodes.push({
        port,
        proc: new PrivateProcess({
          name: `redis-cluster:${port}`,
          command: 'redis-server',
          args,
          ready: /Ready to accept connections/,
          log: join(d, 'redis.log'),
        }),
      });
    }
    await Promise.all(nodes.map((n) => n.proc.start()));
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      {
        stdio: 'pipe',
        timeout: 30_000,
      },
    );
    await waitOk();
    await waitReplicasSynced(nodes);
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes, url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`, masters, waitOk, close };
}

/**
 * Until every replica has finished its first sync with its master. `cluster_state:ok` comes before
 * that, and a replica that never synced refuses to fail over (its data counts as too old): on a
 * quiet machine the test killed a master 3.6 s after the cluster said ok, and no replica took over.
 */
async function waitReplicasSynced(nodes: ClusterNode[], timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const synced = await Promise.all(
      nodes.map((n) =>
        onNode(n.port, async (r) => {
          const info = String(await r.call('INFO', 'replication'));
          return /role:master/.test(info) || (/master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info));
        }).catch(() => false),
      ),
    );
    if (synced.every(Boolean)) return;
    if (Date.now() > until) throw new Error(`the private Redis Cluster's replicas did not sync within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
