// Where the real test servers are: from APEX_TEST_* variables, or else from the file that
// `bash scripts/services.sh up` writes (<repo>/.services/env). Tests that need servers call this
// and FAIL with a clear message when they are missing; they never skip.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface TestServices {
  databaseUrl: string;
  neo4jUrl: string;
  redisUrl: string;
  /** The Qdrant Edge front (services/qdrant-edge), not a Qdrant server. */
  qdrantUrl: string;
}

const ENV_FILE = fileURLToPath(new URL('../../.services/env', import.meta.url));

/** Parses `export NAME=value` lines (quotes optional), the format services.sh writes. */
export function parseEnvFile(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!match?.[1] || match[2] === undefined) continue;
    let value = match[2].trim();
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted?.[2] !== undefined) value = quoted[2];
    vars.set(match[1], value);
  }
  return vars;
}

function readEnvFile(path: string): Map<string, string> {
  return existsSync(path) ? parseEnvFile(readFileSync(path, 'utf8')) : new Map();
}

/** Reads one variable; the error names the variable only, never a value (URLs carry passwords). */
export function requireServiceVar(name: string, env: NodeJS.ProcessEnv = process.env, envFile: string = ENV_FILE): string {
  const fromProcess = env[name];
  if (fromProcess) return fromProcess;
  const fromFile = readEnvFile(envFile).get(name);
  if (fromFile) return fromFile;
  throw new Error(
    `${name} is not set and ${envFile} does not define it: run \`bash scripts/services.sh up\` ` +
      '(or export it to point at your own server)',
  );
}

export function testServices(env: NodeJS.ProcessEnv = process.env, envFile: string = ENV_FILE): TestServices {
  return {
    databaseUrl: requireServiceVar('APEX_TEST_DATABASE_URL', env, envFile),
    neo4jUrl: requireServiceVar('APEX_TEST_NEO4J_URL', env, envFile),
    redisUrl: requireServiceVar('APEX_TEST_REDIS_URL', env, envFile),
    qdrantUrl: requireServiceVar('APEX_TEST_QDRANT_URL', env, envFile),
  };
}

/** Superuser URL on the same PostgreSQL cluster, for tests and benches that create databases. */
export function testPgAdminUrl(env: NodeJS.ProcessEnv = process.env, envFile: string = ENV_FILE): string {
  return requireServiceVar('APEX_TEST_PG_ADMIN_URL', env, envFile);
}

/** The 6-node Redis Cluster of services.sh, as `redis+cluster://host:port,...` (the REDIS_URL format). */
export function testRedisClusterUrl(env: NodeJS.ProcessEnv = process.env, envFile: string = ENV_FILE): string {
  return requireServiceVar('APEX_TEST_REDIS_CLUSTER_URL', env, envFile);
}

/**
 * APEX_TEST_NAMESPACE: runs the store conformance suites inside a namespace (issue 24 item 5), e.g.
 * `APEX_TEST_NAMESPACE=conf_ns TEST_ONLY=stores-neo4j node scripts/run-tests.mjs conformance`.
 * Unset (CI): the suites run as before, without one.
 */
export function testNamespace(env: NodeJS.ProcessEnv = process.env): { namespace?: string } {
  const ns = env.APEX_TEST_NAMESPACE;
  return ns ? { namespace: ns } : {};
}
