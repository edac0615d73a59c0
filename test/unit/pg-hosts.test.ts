// Multi-host PostgreSQL URLs and read-write host selection (issue 24): the URL format, its errors
// (naming the setting and the limit, never the password), the selector's order, re-selection, and
// read_only_sql_transaction (25006) as a transient failure like admin_shutdown.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HostSelector, NoUsableHostError, parseMultiHostUrl, PgUrlError, type PgHost } from '../../src/lib/pg-hosts.js';
import { classifyPgError } from '../../src/stores/postgres/errors.js';
import { describePostgresUrl } from '../../src/stores/postgres/relational-store.js';
import { redactUrl } from '../../src/lib/redact.js';

const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

void describe('multi-host PostgreSQL URLs', () => {
  void it('parses hosts in order, default ports, IPv6, and drops target_session_attrs from what pg gets', () => {
    const p = parseMultiHostUrl('postgresql://u:s3cret@db1:5433,db2,[::1]:6000/apex?sslmode=disable&target_session_attrs=read-write');
    assert.deepEqual(p.hosts, [
      { host: 'db1', port: 5433 },
      { host: 'db2', port: 5432 },
      { host: '::1', port: 6000 },
    ]);
    assert.equal(p.target, 'read-write');
    assert.equal(p.selects, true);
    assert.equal(p.url, 'postgresql://u:s3cret@db1:5433/apex?sslmode=disable');
    assert.equal(parseMultiHostUrl('postgres://u@a:1,b:2/db').target, 'read-write', 'several hosts: read-write by default');
    assert.equal(parseMultiHostUrl('postgres://u@a:1,b:2/db?target_session_attrs=any').target, 'any');
    assert.equal(describePostgresUrl('postgresql://u:s3cret@db1:5433,db2/apex'), 'db1:5433,db2/apex');
    assert.equal(redactUrl('postgresql://u:s3cret@db1:5433,db2/apex?target_session_attrs=read-write'), 'postgresql://db1:5433,db2/apex');
  });

  void it('a single host without target_session_attrs goes to pg unchanged (no selection)', () => {
    const url = 'postgresql://u:p@db:5432/apex?sslmode=require';
    assert.deepEqual(parseMultiHostUrl(url), { hosts: [{ host: 'db', port: 5432 }], target: 'any', url, selects: false });
    const one = parseMultiHostUrl('postgresql://u:p@db/apex?target_session_attrs=read-write');
    assert.equal(one.selects, true, 'one host with read-write is still checked to be writable');
  });

  void it('refuses malformed host lists naming the setting and the limit, without the password', () => {
    const cases: Array<[string, RegExp]> = [
      ['postgresql://u:s3cret@a:0,b/db', /^SAGA_LOG_URL: port of host "a" must be from 1 to 65535, got "0"$/],
      ['postgresql://u:s3cret@a:70000,b/db', /port of host "a" must be from 1 to 65535, got "70000"/],
      ['postgresql://u:s3cret@a,,b/db', /host "" is not host, host:port or \[ipv6\]:port/],
      ['postgresql://u:s3cret@a,b/db?target_session_attrs=primary', /target_session_attrs must be read-write or any, got "primary"/],
      [`postgresql://u:s3cret@${Array.from({ length: 17 }, (_, i) => `h${i}`).join(',')}/db`, /at most 16 hosts, got 17/],
    ];
    for (const [url, message] of cases) {
      const err = (() => {
        try {
          parseMultiHostUrl(url, 'SAGA_LOG_URL');
        } catch (e) {
          return e;
        }
        return assert.fail(`accepted ${url}`);
      })();
      assert.ok(err instanceof PgUrlError);
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.equal(err.setting, 'SAGA_LOG_URL');
      assert.match(err.message, message);
      assert.ok(!err.message.includes('s3cret'));
    }
  });
});

void describe('HostSelector', () => {
  const hosts: PgHost[] = [
    { host: 'a', port: 1 },
    { host: 'b', port: 2 },
    { host: 'c', port: 3 },
  ];

  void it('keeps the first read-write host in order, skipping refused and read-only ones; probes once for concurrent callers', async () => {
    const probed: string[] = [];
    const selector = new HostSelector(hosts, 'read-write', (h) => {
      probed.push(h.host);
      if (h.host === 'a') return Promise.reject(pgError('ECONNREFUSED', 'connect ECONNREFUSED'));
      return Promise.resolve(h.host === 'b'); // b is a standby, c the primary
    });
    const chosen = await Promise.all([selector.current(), selector.current(), selector.current()]);
    assert.deepEqual(
      chosen.map((h) => h.host),
      ['c', 'c', 'c'],
    );
    assert.deepEqual(probed, ['a', 'b', 'c']);
    assert.equal((await selector.current()).host, 'c');
    assert.deepEqual(probed, ['a', 'b', 'c'], 'remembered: no new probe');
  });

  void it('a failed connection to the chosen host makes the next connection select again (failover)', async () => {
    let primary = 'a';
    const selector = new HostSelector(hosts, 'read-write', (h) => Promise.resolve(h.host !== primary));
    assert.equal((await selector.current()).host, 'a');
    primary = 'b'; // a is demoted, b promoted
    selector.failed({ host: 'b', port: 2 }); // not the chosen one: nothing changes
    assert.equal((await selector.current()).host, 'a');
    selector.failed({ host: 'a', port: 1 });
    assert.equal((await selector.current()).host, 'b');
  });

  void it('"any" takes the first host that answers, standby or not', async () => {
    const selector = new HostSelector(hosts, 'any', () => Promise.resolve(true));
    assert.equal((await selector.current()).host, 'a');
  });

  void it('no usable host: a connection-class error (08001) that the store classifies as transient', async () => {
    const selector = new HostSelector(hosts, 'read-write', (h) =>
      h.host === 'a' ? Promise.reject(pgError('ECONNREFUSED', 'refused')) : Promise.resolve(true),
    );
    const err = await selector.current().then(
      () => assert.fail('no host is read-write'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NoUsableHostError);
    assert.equal(err.code, '08001');
    assert.match(err.message, /a:1: refused; b:2 is read-only \(in recovery\); c:3 is read-only/);
    const classified = classifyPgError(err, 'putPending');
    assert.equal(classified.code, 'STORE_TRANSIENT');
    assert.equal(classified.retryable, true);
  });
});

void describe('PostgreSQL failover errors', () => {
  void it('read_only_sql_transaction (25006) is transient like admin_shutdown (57P01) and a refused connection', () => {
    for (const [code, message] of [
      ['25006', 'cannot execute INSERT in a read-only transaction'],
      ['57P01', 'terminating connection due to administrator command'],
      ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'],
    ] as const) {
      const e = classifyPgError(pgError(code, message), 'commit');
      assert.equal(e.code, 'STORE_TRANSIENT', code);
      assert.equal(e.retryable, true, code);
    }
    assert.equal(classifyPgError(pgError('23505', 'duplicate key'), 'commit').code, 'STORE_PERMANENT');
  });
});
