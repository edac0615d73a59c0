// Private, really stoppable servers for the outage test (test/crash/outage-status.test.ts): two
// PostgreSQL clusters (the documents, and the saga log on its own so that it can fail alone), a
// redis-server, a Neo4j launcher process and a Qdrant Edge front, each on its own loopback port
// with its data in a temp dir. `kill` stops one the hard way (SIGKILL; PostgreSQL SIGQUIT, its
// immediate stop that leaves crash recovery to the next start); `start` brings it back on the
// same port and data. The binaries are found the way scripts/services.sh finds and installs them
// (it must have run: `bash scripts/services.sh up`). The shared servers are never touched.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PrivateProcess, portInUse } from './private-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** scripts/services.sh: PG_BIN (Debian's postgresql-15). */
const PG_BIN = process.env.APEX_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const NEO4J_JAR = join(ROOT, 'neo4j-launcher/target/neo4j-launcher.jar');
const NEO4J_LIB = join(ROOT, 'neo4j-launcher/target/lib');
const QDRANT_PYTHON = join(ROOT, '.services/qdrant-edge/venv/bin/python');
const QDRANT_SERVER = join(ROOT, 'services/qdrant-edge/server.py');

export type ServerName = 'postgres' | 'neo4j' | 'redis' | 'qdrant' | 'saga_log';

export interface PrivateServer {
  name: ServerName;
  url: string;
  proc: PrivateProcess;
}

export interface PrivateServers {
  servers: Record<ServerName, PrivateServer>;
  dir: string;
  close(): Promise<void>;
}

function need(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`${what} is missing (${path}): run \`bash scripts/services.sh up\`, which installs it`);
}

/** PostgreSQL refuses to run as root: as root the cluster belongs to user 'postgres' (as in services.sh). */
function pgOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** A fresh cluster (trust on loopback only: a throwaway test server) run in the foreground. */
function postgres(name: 'postgres' | 'saga_log', dir: string, port: number): PrivateServer {
  need(join(PG_BIN, 'postgres'), 'PostgreSQL 15');
  const owner = pgOwner();
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  if (owner) chownSync(dir, owner.uid, owner.gid);
  execFileSync(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth=trust', '-N'], {
    stdio: 'ignore',
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
  });
  // fsync off: an immediate stop (not a power cut) loses nothing the OS has; the test is about
  // the server going away, and fsync on a loaded 2-core machine would only slow it down.
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = ''`,
    'fsync = off',
    'max_connections = 100',
    "log_min_messages = 'warning'",
  ];
  writeFileSync(join(data, 'postgresql.auto.conf'), `${conf.join('\n')}\n`);
  if (owner) chownSync(join(data, 'postgresql.auto.conf'), owner.uid, owner.gid);
  const proc = new PrivateProcess({
    name,
    command: join(PG_BIN, 'postgres'),
    args: ['-D', data],
    ready: /database system is ready to accept connections/,
    log: join(dir, 'postgres.log'),
    killSignal: 'SIGQUIT',
    ...(owner ?? {}),
  });
  return { name, url: `postgresql://postgres@127.0.0.1:${port}/postgres`, proc };
}

function redis(dir: string, port: number): PrivateServer {
  mkdirSync(dir, { recursive: true });
  // An append-only file, so that the restarted server has the cache it had (same data dir).
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--protected-mode',
    'yes',
  ];
  const proc = new PrivateProcess({
    name: 'redis',
    command: 'redis-server',
    args,
    ready: /Ready to accept connections/,
    log: join(dir, 'redis.log'),
  });
  return { name: 'redis', url: `redis://127.0.0.1:${port}/0`, proc };
}

/** The launcher services.sh builds, with the JVM flags services.sh passes (smaller heap). */
function neo4j(dir: string, port: number): PrivateServer {
  need(NEO4J_JAR, 'the Neo4j launcher');
  mkdirSync(dir, { recursive: true });
  const args = [
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    '-Djava.net.preferIPv4Stack=true',
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dlog4j2.disable.jmx=true',
    '--add-opens=java.base/java.nio=ALL-UNNAMED',
    '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '-cp',
    `${NEO4J_JAR}:${NEO4J_LIB}/*`,
    'apex.neo4j.Neo4jLauncher',
    join(dir, 'home'),
    String(port),
    '128',
  ];
  const proc = new PrivateProcess({
    name: 'neo4j',
    command: 'java',
    args,
    ready: /^READY /m,
    log: join(dir, 'neo4j.log'),
    readyTimeoutMs: 180_000,
  });
  return { name: 'neo4j', url: `bolt://127.0.0.1:${port}`, proc };
}

function qdrant(dir: string, port: number): PrivateServer {
  need(QDRANT_PYTHON, 'the Qdrant Edge front venv');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const proc = new PrivateProcess({
    name: 'qdrant',
    command: QDRANT_PYTHON,
    args: [QDRANT_SERVER, '--port', String(port), '--data', join(dir, 'data')],
    ready: /^READY 127\.0\.0\.1:/m,
    log: join(dir, 'qdrant.log'),
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return { name: 'qdrant', url: `http://127.0.0.1:${port}`, proc };
}

/**
 * Creates and starts all five, in parallel. Ports are `base+1` .. `base+5` (helper X's range by
 * default; APEX_OUTAGE_PORT_BASE moves them); a port already taken fails at once.
 */
export async function startPrivateServers(base = Number(process.env.APEX_OUTAGE_PORT_BASE ?? 58200)): Promise<PrivateServers> {
  const ports = { postgres: base + 1, saga_log: base + 2, redis: base + 3, neo4j: base + 4, qdrant: base + 5 };
  for (const [name, port] of Object.entries(ports)) {
    if (await portInUse(port))
      throw new Error(`port ${port} (for ${name}) is taken: a leftover server? (APEX_OUTAGE_PORT_BASE moves the ports)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'apex-outage-'));
  chmodSync(dir, 0o755); // user 'postgres' must reach its cluster inside
  const servers: Record<ServerName, PrivateServer> = {
    postgres: postgres('postgres', join(dir, 'pg'), ports.postgres),
    saga_log: postgres('saga_log', join(dir, 'pg-log'), ports.saga_log),
    redis: redis(join(dir, 'redis'), ports.redis),
    neo4j: neo4j(join(dir, 'neo4j'), ports.neo4j),
    qdrant: qdrant(join(dir, 'qdrant'), ports.qdrant),
  };
  const all = Object.values(servers);
  const close = async (): Promise<void> => {
    await Promise.all(all.map((s) => s.proc.kill()));
    if (process.env.APEX_OUTAGE_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(all.map((s) => s.proc.start()));
  } catch (err) {
    await close();
    throw err;
  }
  return { servers, dir, close };
}
