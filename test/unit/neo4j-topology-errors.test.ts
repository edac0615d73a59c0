// Neo4j cluster topology errors (issue 24) are retryable: a write that met a leader election or a
// read-only member must ride it out, not compensate the document. The errors are the real
// driver's: Neo4jError of the driver's own class (Neo4jError) with the server's codes, the driver's
// routing rewrite of them (SessionExpired), and a routing driver that finds no router at all.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import neo4j from 'neo4j-driver';
import { classifyNeo4jError } from '../../src/stores/neo4j/graph-store.js';

const classify = (err: unknown): { code: string; retryable: boolean } => {
  const e = classifyNeo4jError(err, 'writeVersion');
  return { code: e.code, retryable: e.retryable };
};
const TRANSIENT = { code: 'STORE_TRANSIENT', retryable: true };

/** The driver's own error class, as its connection code builds it from a server FAILURE. */
function serverError(message: string, code: string, cause?: Error): InstanceType<typeof neo4j.Neo4jError> {
  return new neo4j.Neo4jError(
    message,
    code,
    '50N42',
    `error: general processing exception - unexpected error. ${message}`,
    undefined,
    cause,
  );
}

void describe('Neo4j topology errors', () => {
  void it('NotALeader, ForbiddenOnReadOnlyDatabase and Cluster.Routing from the server are retryable', () => {
    for (const code of [
      'Neo.ClientError.Cluster.NotALeader',
      'Neo.ClientError.General.ForbiddenOnReadOnlyDatabase',
      'Neo.ClientError.Cluster.Routing',
    ]) {
      const err = serverError(`server said ${code}`, code);
      assert.equal(err.retryable, false, `the driver alone calls ${code} not retryable; we must not`);
      assert.deepEqual(classify(err), TRANSIENT, code);
    }
  });

  void it("the routing driver's rewrite of a write failure (SessionExpired) and lost routers (ServiceUnavailable) are retryable", () => {
    const notLeader = serverError('not a leader', 'Neo.ClientError.Cluster.NotALeader');
    const rewritten = serverError('No longer possible to write to server at 10.0.0.1:7687', neo4j.error.SESSION_EXPIRED, notLeader);
    assert.deepEqual(classify(rewritten), TRANSIENT);
    const discovery = serverError('Could not perform discovery. No routing servers available.', neo4j.error.SERVICE_UNAVAILABLE);
    assert.deepEqual(classify(discovery), TRANSIENT);
    assert.deepEqual(classify(serverError('db unavailable', 'Neo.TransientError.General.DatabaseUnavailable')), TRANSIENT);
  });

  void it('a routing driver with no reachable router fails with a retryable error', async () => {
    const driver = neo4j.driver('neo4j://127.0.0.1:1', undefined, { connectionTimeout: 1_000, maxTransactionRetryTime: 0 });
    const session = driver.session();
    try {
      const err = await session
        .executeWrite((tx) => tx.run('RETURN 1'))
        .then(
          () => assert.fail('no server listens on port 1'),
          (e: unknown) => e,
        );
      assert.deepEqual(classify(err), TRANSIENT, String(err));
    } finally {
      await session.close();
      await driver.close();
    }
  });

  void it('errors in the request stay permanent', () => {
    for (const code of [
      'Neo.ClientError.Statement.SyntaxError',
      'Neo.ClientError.Schema.ConstraintValidationFailed',
      'Neo.ClientError.Database.DatabaseNotFound',
    ]) {
      assert.deepEqual(classify(serverError(code, code)), { code: 'STORE_PERMANENT', retryable: false }, code);
    }
  });
});
