// One connection checked out of a pg pool for a piece of work, then given back. While it is
// checked out the pool no longer listens for its socket errors, and pg emits them as an 'error'
// event besides rejecting the query: unheard, that event crashes the process (the outage test saw
// `apex-memory ingest` die when the saga log's server stopped). A connection whose socket or
// statement failed is not handed out again, as pool.query does.
import type pg from 'pg';

export async function withConnection<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onSocketError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onSocketError);
  try {
    return await work(client);
  } catch (err) {
    broken ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off('error', onSocketError);
    client.release(broken);
  }
}
