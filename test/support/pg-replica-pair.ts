// Two private PostgreSQL 15 clusters that stream: a primary and a standby made from it with
// `pg_basebackup -R`, on their own loopback ports, for the failover tests (issue 24): the primary
// is stopped the hard way and the standby promoted with `pg_ctl promote` while an ingest runs.
// `synchronous: true` makes the standby synchronous (`synchronous_standby_names` names it, the
// start waits until pg_stat_replication says `sync`): every commit the primary acknowledges is on
// the standby. `false`: plain asynchronous streaming (a promote may lose the last commits).
// Binaries are Debian's postgresql-15, found where scripts/services.sh installs them. Trust auth
// on 127.0.0.1 only: throwaway test servers. The shared test servers are never touched.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PrivateProcess } from './private-process.js';

const PG_BIN = process.env.APEX_PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** The standby's name in the primary's synchronous_standby_names (its cluster_name, which the walreceiver reports). */
const STANDBY_NAME = 'apex_standby';
export const PAIR_DATABASE = 'apex';

export interface PgNode {
  port: number;
  data: string;
  proc: PrivateProcess;
  /** postgresql://postgres@127.0.0.1:<port>/apex */
  url: string;
}

export interface PgReplicaPair {
  primary: PgNode;
  standby: PgNode;
  /** Both hosts, primary first, `target_session_attrs=read-write` (the URL under test). */
  multiHostUrl: string;
  /** Immediate stop of the primary (SIGQUIT: no checkpoint, no goodbye to clients; crash recovery on a restart). */
  killPrimary(): Promise<void>;
  /**
   * Asynchronous pairs only: the WAL the primary sends from now on never reaches the standby (the
   * replication link, a small proxy in this process, stops reading from the primary, and drops
   * what it holds at the promote). Commits go on being acknowledged by the primary alone.
   * Returns the standby's replay position at the freeze, for the report.
   */
  freezeReplication(): Promise<string>;
  /** `pg_ctl promote -w` on the standby (a frozen link is cut first): returns once it accepts writes. */
  promoteStandby(): Promise<void>;
  close(): Promise<void>;
}

/** Ports handed out in this process: the OS may offer a released port again before its server binds it. */
const handedOut = new Set<number>();

/** A port the OS says is free now (bound to 127.0.0.1 and released), never the same one twice. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const addr = s.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        s.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** PostgreSQL refuses to run as root: as root the clusters belong to user 'postgres' (as in services.sh). */
function pgOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function runAsOwner(cmd: string, args: string[], owner: { uid: number; gid: number } | undefined, timeoutMs = 60_000): void {
  execFileSync(join(PG_BIN, cmd), args, { stdio: 'pipe', timeout: timeoutMs, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) });
}

/** Settings appended to postgresql.auto.conf (the last occurrence of a setting wins). */
function writeConf(data: string, lines: string[], owner: { uid: number; gid: number } | undefined): void {
  const file = join(data, 'postgresql.auto.conf');
  appendFileSync(file, `${lines.join('\n')}\n`);
  if (owner) chownSync(file, owner.uid, owner.gid);
}

function node(data: string, port: number, log: string, owner: { uid: number; gid: number } | undefined): PgNode {
  const proc = new PrivateProcess({
    name: `postgres:${port}`,
    command: join(PG_BIN, 'postgres'),
    args: ['-D', data],
    ready: /database system is ready to accept (read-only )?connections/,
    log,
    killSignal: 'SIGQUIT',
    ...(owner ?? {}),
  });
  return { port, data, proc, url: `postgresql://postgres@127.0.0.1:${port}/${PAIR_DATABASE}` };
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  // Bounded: a commit waiting for a synchronous standby that is not there would wait forever.
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 15_000 });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/**
 * A TCP relay for the standby's replication connection. `freeze` stops reading from the primary:
 * the WAL it sends waits in kernel buffers and `cut` (at the promote) destroys it, as a network
 * partition followed by the primary's death would. New connections after a freeze are refused.
 */
async function startReplicationLink(primaryPort: number): Promise<{ port: number; freeze(): void; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let frozen = false;
  const server = createServer((standbySide) => {
    if (frozen) {
      standbySide.destroy();
      return;
    }
    const primarySide = connect(primaryPort, '127.0.0.1');
    sockets.add(standbySide).add(primarySide);
    upstreams.add(primarySide);
    standbySide.pipe(primarySide);
    primarySide.pipe(standbySide);
    const drop = (): void => {
      standbySide.destroy();
      primarySide.destroy();
      sockets.delete(standbySide);
      sockets.delete(primarySide);
      upstreams.delete(primarySide);
    };
    for (const s of [standbySide, primarySide]) s.on('close', drop).on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('replication link has no TCP address');
  return {
    port: addr.port,
    freeze: () => {
      frozen = true;
      for (const u of upstreams) {
        u.unpipe();
        u.pause();
      }
    },
    cut: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      upstreams.clear();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Starts the pair (primary, database `apex`, base backup, standby) and waits for streaming (and `sync`). */
export async function startPgReplicaPair(opts: { synchronous: boolean }): Promise<PgReplicaPair> {
  if (!existsSync(join(PG_BIN, 'postgres')))
    throw new Error(`PostgreSQL 15 is missing (${PG_BIN}): run \`bash scripts/services.sh up\`, which installs it`);
  const owner = pgOwner();
  const dir = mkdtempSync(join(tmpdir(), 'apex-pg-pair-'));
  chmodSync(dir, 0o755);
  if (owner) chownSync(dir, owner.uid, owner.gid); // user 'postgres' creates its clusters inside
  const primaryData = join(dir, 'primary');
  const standbyData = join(dir, 'standby');
  const [p1, p2] = [await freePort(), await freePort()];
  const primary = node(primaryData, p1, join(dir, 'primary.log'), owner);
  const standby = node(standbyData, p2, join(dir, 'standby.log'), owner);
  // Asynchronous pairs stream through a link this process can freeze (see freezeReplication).
  const link = opts.synchronous ? undefined : await startReplicationLink(p1);
  const close = async (): Promise<void> => {
    link?.cut();
    await link?.close();
    await Promise.all([primary.proc.kill(), standby.proc.kill()]);
    if (process.env.APEX_PG_PAIR_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  };
  try {
    // initdb's default pg_hba.conf trusts replication connections from 127.0.0.1 with --auth=trust.
    runAsOwner('initdb', ['-D', primaryData, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth=trust', '-N'], owner);
    // fsync off: the failure here is a process stop (SIGQUIT), not a power cut; the OS keeps what
    // was written, and fsync on a loaded 2-core machine only slows the test down.
    const common = [`listen_addresses = '127.0.0.1'`, `unix_socket_directories = ''`, 'fsync = off', 'max_connections = 100'];
    writeConf(primaryData, [...common, `port = ${p1}`, 'wal_level = replica', 'max_wal_senders = 4', 'synchronous_commit = on'], owner);
    await primary.proc.start();
    await query(primary.url.replace(`/${PAIR_DATABASE}`, '/postgres'), `CREATE DATABASE ${PAIR_DATABASE}`);
    runAsOwner(
      'pg_basebackup',
      ['-h', '127.0.0.1', '-p', String(p1), '-U', 'postgres', '-D', standbyData, '-R', '--checkpoint=fast'],
      owner,
    );
    // The copied configuration says "primary": the standby gets its own port and name, and no
    // synchronous standby of its own (after the promote nobody would acknowledge its commits).
    writeConf(standbyData, [`port = ${p2}`, `cluster_name = '${STANDBY_NAME}'`, "synchronous_standby_names = ''"], owner);
    if (link) writeConf(standbyData, [`primary_conninfo = 'host=127.0.0.1 port=${link.port} user=postgres'`], owner);
    await standby.proc.start();
    // Only now: with a synchronous standby named but not connected, every commit (CREATE DATABASE
    // above included) would wait for it forever. ALTER SYSTEM writes the primary's own auto.conf.
    if (opts.synchronous) {
      await query(primary.url, `ALTER SYSTEM SET synchronous_standby_names = '${STANDBY_NAME}'`);
      await query(primary.url, 'SELECT pg_reload_conf()');
    }
    const want = opts.synchronous ? 'sync' : 'async';
    for (let i = 0; ; i++) {
      const rows = await query<{ state: string; sync_state: string }>(
        primary.url,
        `SELECT state, sync_state FROM pg_stat_replication WHERE application_name = '${STANDBY_NAME}'`,
      );
      if (rows[0]?.state === 'streaming' && rows[0].sync_state === want) break;
      if (i >= 150) throw new Error(`the standby is not streaming (${want}) after 15 s: ${JSON.stringify(rows)}\n${standby.proc.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    primary,
    standby,
    multiHostUrl: `postgresql://postgres@127.0.0.1:${p1},127.0.0.1:${p2}/${PAIR_DATABASE}?target_session_attrs=read-write`,
    killPrimary: () => primary.proc.kill(),
    freezeReplication: async () => {
      if (!link) throw new Error('freezeReplication: a synchronous primary would stop acknowledging commits');
      link.freeze();
      const rows = await query<{ lsn: string }>(standby.url, 'SELECT pg_last_wal_replay_lsn()::text AS lsn');
      return rows[0]?.lsn ?? '?';
    },
    promoteStandby: async () => {
      link?.cut();
      runAsOwner('pg_ctl', ['promote', '-D', standbyData, '-w', '-t', '30'], owner, 40_000);
    },
    close,
  };
}
