// The dashboard in real Chromium (Debian's package, driven by playwright-core; nothing downloads
// a browser). Documents go in through the API with one injected failure and two stuck sagas;
// the test finds the compensated saga through the list filters, opens its timeline and checks
// the bars and the error, retries a stuck saga from the page and sees it finish, and runs a bulk
// retry dry run, then acts on exactly that list. Screenshots of the overview, the list and a
// timeline go to test-artifacts/dashboard/ (gitignored).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
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

describe('dashboard in Chromium', () => {
  let h: HttpHarness;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let base: string;
  const ids: { compensated?: string; stuck: string[] } = { stuck: [] };
  const external: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/browser.sh (npm test does)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await openHttpHarness({}, { listen: true });
    base = h.server?.url ?? '';
    const docs: Array<[string, string]> = [
      ['alpha', 'Alice met Bob in Paris to plan the Apex launch.'],
      ['beta', 'Dave moved to Berlin and joined Neo4j Graphs.'],
      ['gamma', 'Erin wrote about Redis Cluster in Lisbon.'],
    ];
    for (const [id, text] of docs) {
      const res = await h.request('/v1/documents?wait=10', jsonInit('POST', { id, title: id.toUpperCase(), text }));
      assert.equal(res.status, 201, await res.text());
    }
    // One injected failure: Qdrant refuses the write, the saga compensates.
    h.faults.qdrant.schedule({ method: 'writeVersion', when: 'before', retryable: false, times: 1 });
    const failed = await h.request(
      '/v1/documents?wait=10',
      jsonInit('POST', { id: 'delta', title: 'DELTA', text: 'Frank fails in Rome.' }),
    );
    assert.equal(failed.status, 503);
    ids.compensated = ((await failed.json()) as { sagaId: string }).sagaId;
    // Two stuck sagas: Qdrant fails, then Neo4j cannot undo its write until the faults stop.
    h.faults.qdrant.schedule({ method: 'writeVersion', when: 'before', retryable: false, times: 2 });
    h.faults.neo4j.schedule({ method: 'removeVersion', when: 'before', retryable: true, times: 1_000 });
    const stuck = await Promise.all(
      ['epsilon', 'zeta'].map((id) =>
        h.request('/v1/documents?wait=30', jsonInit('POST', { id, title: id.toUpperCase(), text: `${id} is stuck in Oslo.` })),
      ),
    );
    for (const res of stuck) {
      const body = (await res.json()) as { sagaId: string; sagaStatus: string };
      assert.equal(res.status, 202);
      assert.equal(body.sagaStatus, 'stuck');
      ids.stuck.push(body.sagaId);
    }
    h.faults.neo4j.disable();

    profileDir = mkdtempSync(join(tmpdir(), 'apex-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // The page must load nothing from anywhere but this server.
    page.on('request', (req) => {
      if (!req.url().startsWith(base) && !req.url().startsWith('data:')) external.push(req.url());
    });
  });

  after(async () => {
    await context?.close();
    await h?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  test('overview shows live numbers and a chart', async () => {
    await page.goto(`${base}/ui/#/overview`);
    await page.getByTestId('stuck-count').getByText('2').waitFor();
    assert.match((await page.getByTestId('compensation-rate').textContent()) ?? '', /%/);
    await page.locator('[data-testid="overview-chart"] canvas').first().waitFor();
    // The vector index (docs/reindex.md): what serves reads, steady outside a reindex.
    const index = (await page.getByTestId('vector-index').textContent()) ?? '';
    assert.match(index, /hashing, dimension \d+ · apex_chunks/);
    assert.match(index, /steady/);
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
  });

  test('the compensated saga is found through the filters; its timeline shows the bars and the error', async () => {
    await page.goto(`${base}/ui/#/sagas`);
    await page.locator('select[name="status"]').selectOption('compensated');
    await page.locator('input[name="failedStep"]').fill('qdrant_write');
    await page.getByTestId('apply-filters').click();
    const rows = page.locator('table.sagas tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-saga'), ids.compensated);
    await page.screenshot({ path: join(ARTIFACTS, 'list.png'), fullPage: true });
    await rows.first().getByTestId('saga-link').click();
    await page.getByTestId('timeline').waitFor();
    assert.equal(await page.getByTestId('timeline').getAttribute('data-axis'), 'wall');
    const failedBar = page.locator('g.bar[data-step="qdrant_write"][data-phase="forward"][data-outcome="failed"]');
    assert.equal(await failedBar.count(), 1);
    assert.equal(
      (await page.locator('g.bar[data-phase="compensation"][data-outcome="succeeded"]').count()) >= 2,
      true,
      'compensations drawn',
    );
    // neo4j_write and qdrant_write ran in parallel: same stage.
    const stages = await page
      .locator('g.bar[data-phase="forward"][data-step$="_write"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
    assert.equal(new Set(stages).size, 1);
    assert.match((await page.getByTestId('saga-errors').textContent()) ?? '', /STORE_INJECTED.*qdrant/);
    await page.screenshot({ path: join(ARTIFACTS, 'timeline.png'), fullPage: true });
  });

  test('a stuck saga is highlighted; retrying it from the page finishes it and it leaves the stuck view', async () => {
    await page.goto(`${base}/ui/#/sagas?stuck=true`);
    const row = page.locator(`tr[data-saga="${ids.stuck[0]}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('class'), 'stuck');
    await row.getByTestId('retry').click();
    await row.waitFor({ state: 'detached', timeout: 25_000 });
    const saga = (await (await h.request(`/v1/sagas/${ids.stuck[0]}`)).json()) as { status: string; fencingToken: number };
    assert.equal(saga.status, 'compensated');
    // The operator retry claimed the saga with a new fencing token: the timeline marks where.
    await page.goto(`${base}/ui/#/sagas/${ids.stuck[0]}`);
    const mark = page.locator(`g.token-mark[data-token="${saga.fencingToken}"]`);
    await mark.waitFor();
    assert.ok(saga.fencingToken > 1);
    assert.match((await page.getByTestId('ownership').textContent()) ?? '', /claimed \(retry\)/);
  });

  test('bulk retry: the dry run lists exactly the stuck sagas, then acts on that list', async () => {
    await page.goto(`${base}/ui/#/sagas?stuck=true`);
    await page.getByTestId('bulk-dry-run').click();
    const items = page.locator('[data-testid="bulk-dry-run-list"] li');
    await items.first().waitFor();
    assert.deepEqual(await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-saga'))), [ids.stuck[1]]);
    const stillStuck = (await (await h.request(`/v1/sagas/${ids.stuck[1]}`)).json()) as { status: string };
    assert.equal(stillStuck.status, 'stuck', 'the dry run touched nothing');
    await page.getByTestId('bulk-confirm').click();
    await page.locator('[data-testid="bulk-results"] li').first().waitFor({ timeout: 25_000 });
    assert.match((await page.getByTestId('bulk-results').textContent()) ?? '', /compensated/);
  });

  test('documents page shows each store; nothing was loaded from outside the server', async () => {
    await page.goto(`${base}/ui/#/documents/alpha`);
    await page.getByTestId('doc-consistent').waitFor();
    assert.equal(await page.getByTestId('doc-consistent').textContent(), 'consistent');
    assert.equal(await page.locator('tr[data-store]').count(), 4);
    await page.goto(`${base}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor();
    assert.deepEqual(external, []);
  });
});
