// Starts a private Qdrant Edge front (services/qdrant-edge/server.py in the venv services.sh made)
// on a free port with its own data directory, for tests that kill and restart it. The shared front
// on the services port is never killed by a test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PYTHON = fileURLToPath(new URL('../../.services/qdrant-edge/venv/bin/python', import.meta.url));
const SERVER = fileURLToPath(new URL('../../services/qdrant-edge/server.py', import.meta.url));

export interface EdgeFrontProcess {
  url: string;
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `port` 0 takes a free one; a restart passes the old port so clients keep their URL. */
export async function startEdgeFrontProcess(dataDir: string, port = 0): Promise<EdgeFrontProcess> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`bash scripts/services.sh up\` (it installs the Qdrant Edge front)`);
  const proc = spawn(PYTHON, [SERVER, '--port', String(port), '--data', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /^READY (127\.0\.0\.1:\d+) /m.exec(out);
      if (m?.[1]) resolve(`http://${m[1]}`);
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`the Qdrant Edge front exited (${code ?? signal}) before READY: ${stderr.slice(-2000)}`)),
    );
  });
  return { url, proc, exited };
}
