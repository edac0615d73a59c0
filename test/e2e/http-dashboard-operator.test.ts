// The operator's dashboard pages in real Chromium (issue 21, "Done when"): the stuck view refreshes
// by itself after another operator's retry and after a bulk retry from the page; a saga stuck
// after its pivot says Retry goes forward, offers no Cancel and shows its 25 errors as one line;
// a saga cancelled from its page shows who cancelled, when and why; the "retrying now" view shows
// the step and store a saga waits on; an unknown document says "not found"; ids are the shortest
// unique prefixes with copy buttons. Screenshots go to test-artifacts/dashboard/ (the ones in
// docs/images/ were taken by this test).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { submitIngest } from '../../src/fleet/submit.js';
import { afterPivotSaga, durableWaitSaga, register, type Switch } from '../support/drill-sagas.js';
import { jsonInit, openHttpHarness, type HttpHarness } from '../support/http-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/dashboard');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('operator pages in Chromium', () => {
  let h: HttpHarness;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let base: string;
  const sw: Switch = { failing: true };
  const stuck: string[] = [];
  let afterPivot = '';

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/browser.sh (npm test does)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await openHttpHarness({}, { listen: true });
    base = h.server?.url ?? '';
    register(h.app.engine, afterPivotSaga(sw), durableWaitSaga());
    // Three sagas stuck before their pivot (Qdrant refuses, Neo4j cannot undo until the faults stop).
    h.faults.qdrant.schedule({ method: 'writeVersion', when: 'before', retryable: false, times: 3 });
    h.faults.neo4j.schedule({ method: 'removeVersion', when: 'before', retryable: true, times: 10_000 });
    const answers = await Promise.all(
      ['s-1', 's-2', 's-3'].map((id) =>
        h.request('/v1/documents?wait=60', jsonInit('POST', { id, title: id, text: `${id} is stuck in Oslo.` })),
      ),
    );
    for (const res of answers) {
      const b = (await res.json()) as { sagaId: string; sagaStatus: string };
      assert.equal(b.sagaStatus, 'stuck');
      stuck.push(b.sagaId);
    }
    h.faults.neo4j.disable();
    const def = h.app.engine.definition('drill_after_pivot', 1);
    assert.ok(def);
    const out = await h.app.engine.execute(def, { docId: 'after-pivot' });
    assert.equal(out.status, 'stuck');
    afterPivot = out.sagaId;
    profileDir = mkdtempSync(join(tmpdir(), 'apex-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => void d.accept());
  });

  after(async () => {
    await context?.close();
    await h?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  test('live: another operator retries a stuck saga, the stuck view drops it by itself; a bulk retry from the page empties it', async () => {
    await page.goto(`${base}/ui/#/sagas?stuck=true`);
    for (const id of [...stuck, afterPivot]) await page.locator(`tr[data-saga="${id}"]`).waitFor();
    // Full ids behind the shortest unique prefixes, each with a copy button.
    const link = page.locator(`tr[data-saga="${stuck[0]}"] [data-testid="saga-link"]`);
    assert.equal(await link.getAttribute('title'), stuck[0]);
    assert.equal(await page.locator(`tr[data-saga="${stuck[0]}"] [data-testid="copy-id"]`).getAttribute('data-copy'), stuck[0]);
    const shown = await page.locator('[data-testid="saga-link"]').allTextContents();
    assert.equal(new Set(shown).size, shown.length, 'no two rows show the same id text');
    await page.screenshot({ path: join(ARTIFACTS, 'stuck-view.png') });
    // Out of band (curl, another operator): the page is not touched, it refreshes itself.
    const r = await h.request(`/v1/sagas/${stuck[0]}/retry?wait=20`, { method: 'POST' });
    assert.equal(((await r.json()) as { status: string }).status, 'compensated');
    await page.locator(`tr[data-saga="${stuck[0]}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    // Bulk retry from the page, then the table no longer shows those rows.
    sw.failing = false;
    await page.getByTestId('bulk-dry-run').click();
    await page.locator('[data-testid="bulk-dry-run-list"] li').first().waitFor();
    await page.getByTestId('bulk-confirm').click();
    await page.locator('[data-testid="bulk-results"] li').first().waitFor({ timeout: 30_000 });
    for (const id of [stuck[1], stuck[2], afterPivot])
      await page.locator(`tr[data-saga="${id}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.locator('table.sagas tbody tr').count(), 0);
  });

  test('stuck after the pivot: Retry goes forward, in words; no Cancel; 25 errors on one line', async () => {
    sw.failing = true;
    const def = h.app.engine.definition('drill_after_pivot', 1);
    assert.ok(def);
    const out = await h.app.engine.execute(def, { docId: 'after-pivot-2' });
    await page.goto(`${base}/ui/#/sagas/${out.sagaId}`);
    await page.getByTestId('retry-will').waitFor();
    assert.equal(await page.getByTestId('retry-will').getAttribute('data-will'), 'forward');
    assert.match((await page.getByTestId('retry-will').textContent()) ?? '', /passed its pivot/);
    assert.equal(await page.getByTestId('saga-cancel').count(), 0, 'no Cancel the server would refuse');
    assert.equal(await page.getByTestId('saga-retry').count(), 1);
    const groups = page.getByTestId('error-group');
    assert.equal(await groups.count(), 1);
    assert.equal(await groups.first().getAttribute('data-count'), '25');
    assert.match((await groups.first().textContent()) ?? '', /×25/);
    // The timeline fits its box: the drawing is no wider than its container.
    const fit = await page
      .getByTestId('timeline')
      .evaluate((el) => el.getBoundingClientRect().right <= (el.parentElement?.getBoundingClientRect().right ?? 0) + 1);
    assert.ok(fit, 'the timeline is no wider than its box');
    assert.match((await page.locator('[data-field="owner"]').textContent()) ?? '', /not running/);
    await page.screenshot({ path: join(ARTIFACTS, 'stuck-after-pivot.png') });
    sw.failing = false;
    await page.getByTestId('saga-retry').click();
    await page.locator('[data-field="status"] [data-status="completed"]').waitFor({ timeout: 20_000 });
  });

  test('a saga cancelled from its page shows who cancelled, when and why', async () => {
    const q = await submitIngest(h.app, { id: 'to-cancel', title: 'C', text: 'Queued, then cancelled.', metadata: {} });
    await page.goto(`${base}/ui/#/sagas/${q.sagaId ?? ''}`);
    await page.getByTestId('saga-cancel').click();
    await page.getByTestId('saga-cancellation').waitFor({ timeout: 20_000 });
    assert.match(
      (await page.getByTestId('saga-cancellation').textContent()) ?? '',
      /Cancelled by http-api at .*cancelled through the HTTP API/,
    );
    assert.equal(await page.getByTestId('saga-cancel').count(), 0, 'nothing left to cancel');
    await page.screenshot({ path: join(ARTIFACTS, 'cancelled.png') });
  });

  test('"retrying now" shows the step and store a saga waits on, and its next attempt', async () => {
    const def = h.app.engine.definition('drill_waiting', 1);
    assert.ok(def);
    const id = '0190f000-0000-7000-8000-0000000e2e01';
    h.app.engine.execute(def, { docId: 'waiting' }, { sagaId: id }).catch(() => undefined);
    await page.goto(`${base}/ui/#/retrying`);
    const row = page.locator(`tr[data-saga="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.match((await row.textContent()) ?? '', /postgres_commit \(PostgreSQL\).*next: #2/);
    await page.screenshot({ path: join(ARTIFACTS, 'retrying-now.png') });
  });

  test('an unknown document id says "not found", not "consistent"', async () => {
    await page.goto(`${base}/ui/#/documents/no-such-document`);
    const badge = page.getByTestId('doc-consistent');
    await badge.waitFor();
    assert.equal(await badge.getAttribute('data-state'), 'not-found');
    assert.equal(await badge.textContent(), 'not found');
    await page.screenshot({ path: join(ARTIFACTS, 'unknown-document.png') });
  });
});
