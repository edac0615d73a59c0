// DNS rebinding and cross-site writes (issue 21, item 7): a loopback server answers only loopback
// Host names (and APEX_HTTP_ALLOWED_HOSTS), anything else 421; a write from a foreign Origin is
// 403 unless --cors-origin allows it; the dashboard's own (same-origin) writes still work. Checked
// on a real socket, with the requests of the issue (rebinding name, attacker Origin).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { hostAllowed, hostName, parseAllowedHosts } from '../../src/http/host-guard.js';
import { openHttpHarness, type HttpHarness } from '../support/http-harness.js';

interface Raw {
  status: number;
  type: string;
  body: string;
}

/** A request with exactly these headers (fetch would not let a test set Host). */
function raw(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('host names: parsing, loopback bind, configured names, off-loopback bind', () => {
  assert.equal(hostName('LocalHost:8080'), 'localhost');
  assert.equal(hostName('[::1]:80'), '::1');
  assert.equal(hostName('a b'), undefined);
  const loop = { bindHost: '127.0.0.1', allowedHosts: [], corsOrigins: [] };
  for (const h of ['localhost', 'localhost:18666', '127.0.0.1:18666', '[::1]:18666', '127.0.0.1'])
    assert.equal(hostAllowed(h, loop), true, h);
  for (const h of ['attacker.example:18666', 'attacker.example', '127.0.0.1.nip.io', '', 'user@localhost'])
    assert.equal(hostAllowed(h, loop), false, h);
  const named = { ...loop, allowedHosts: parseAllowedHosts(' memory.internal , Box.LAN') };
  assert.equal(hostAllowed('memory.internal:8080', named), true);
  assert.equal(hostAllowed('box.lan', named), true);
  assert.equal(hostAllowed('attacker.example', named), false);
  assert.equal(
    hostAllowed('anything.example', { ...loop, bindHost: '0.0.0.0' }),
    true,
    'off loopback the token protects; no list, no check',
  );
  assert.equal(hostAllowed('anything.example', { ...named, bindHost: '0.0.0.0' }), false, 'off loopback with a list: only the list');
  assert.throws(() => parseAllowedHosts('http://x.example'), /APEX_HTTP_ALLOWED_HOSTS/);
  assert.throws(() => parseAllowedHosts('x.example:80'), /APEX_HTTP_ALLOWED_HOSTS/);
});

describe("a loopback server with no token (the issue's setup)", () => {
  let h: HttpHarness;
  let base: string;
  let port: string;
  before(async () => {
    h = await openHttpHarness({}, { listen: true });
    base = h.server?.url ?? '';
    port = new URL(base).port;
    await h.app.writer.ingest({ id: 'priv-1', title: 'Private', text: 'A private memory.', metadata: {} });
  });
  after(async () => {
    await h.close();
  });

  test('a rebinding name gets 421 problem+json and not the document', async () => {
    const r = await raw(base, 'GET', '/v1/documents/priv-1', { host: `attacker.example:${port}` });
    assert.equal(r.status, 421);
    assert.equal(r.type, 'application/problem+json');
    assert.equal((JSON.parse(r.body) as { code: string }).code, 'HTTP_HOST_NOT_ALLOWED');
    assert.doesNotMatch(r.body, /private memory/i);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const ok = await raw(base, 'GET', '/v1/documents/priv-1', { host });
      assert.equal(ok.status, 200, host);
    }
  });

  test('a DELETE with a foreign Origin is refused (403) and deletes nothing; a rebinding DELETE is 421', async () => {
    const foreign = await raw(base, 'DELETE', '/v1/documents/priv-1', {
      host: `127.0.0.1:${port}`,
      origin: `http://attacker.example:${port}`,
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.type, 'application/problem+json');
    assert.equal((JSON.parse(foreign.body) as { code: string }).code, 'HTTP_FOREIGN_ORIGIN');
    const rebound = await raw(base, 'DELETE', '/v1/documents/priv-1', {
      host: `attacker.example:${port}`,
      origin: `http://attacker.example:${port}`,
    });
    assert.equal(rebound.status, 421);
    const nullOrigin = await raw(base, 'POST', '/v1/verify', { host: `127.0.0.1:${port}`, origin: 'null' });
    assert.equal(nullOrigin.status, 403);
    const crossSite = await raw(base, 'POST', '/v1/verify', { host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.status, 403, 'no Origin but the browser says cross-site');
    assert.equal((await h.app.stores.postgres.getDocument('priv-1'))?.ingestionStatus, 'committed', 'still there');
    assert.equal((await h.app.engine.log.list({ name: 'delete' }, { limit: 10 })).sagas.length, 0, 'no delete saga started');
  });

  test("the dashboard's own (same-origin) write works; so does a client without Origin (curl)", async () => {
    const same = await raw(base, 'POST', '/v1/verify', {
      host: `localhost:${port}`,
      origin: `http://localhost:${port}`,
      'sec-fetch-site': 'same-origin',
    });
    assert.equal(same.status, 200, same.body);
    const curl = await raw(base, 'POST', '/v1/verify', { host: `127.0.0.1:${port}` });
    assert.equal(curl.status, 200, curl.body);
  });
});

test('--cors-origin allows that origin to write; configured host names are answered', async () => {
  const h = await openHttpHarness({ corsOrigins: ['https://ops.example'], allowedHosts: ['memory.internal'] }, { listen: true });
  try {
    const base = h.server?.url ?? '';
    const allowed = await raw(base, 'POST', '/v1/verify', { host: 'memory.internal:8080', origin: 'https://ops.example' });
    assert.equal(allowed.status, 200, allowed.body);
    const other = await raw(base, 'POST', '/v1/verify', { host: 'memory.internal:8080', origin: 'https://evil.example' });
    assert.equal(other.status, 403);
  } finally {
    await h.close();
  }
});
