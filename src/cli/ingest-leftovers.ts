// Before `ingest` starts new sagas, it finishes the ones an interrupted run left behind: sagas
// whose owner process on this host is gone (taken at once) or whose lease has expired. They run to
// their end first (forward, from where they stopped), so the new run then writes on top of what
// they left, never beside or under them. Re-running a killed command is the first thing a user
// does after a crash; this makes it safe and fast (no waiting out leases, no `sagas recover`).
import type { App } from '../app.js';

export async function finishLeftovers(app: App): Promise<number> {
  let total = 0;
  for (;;) {
    const claimed = await app.engine.recover({ limit: 256 });
    if (claimed === 0) break;
    total += claimed;
    await app.engine.idle();
  }
  return total;
}
