// The saga list in real Chromium on a log of 5,000 sagas (issue 21, "Done when": a filter that
// matches only on a later page). The sagas are inserted straight into the embedded app's SQLite
// log file (one transaction, the schema the log itself created; the same rows as
// test/conformance/log-queries-scale.test.ts), not run: running 5,000 sagas would take minutes.
// One saga, far below the first page of the unfiltered list (rank RANK, page 10 of 50 rows), is
// the only one with reason code RARE_CODE and failed step rare_step. Through the page's own filter
// form, each filter shows it on its first page with a total of 1; the unfiltered list, paged with
// "Load more", reaches it with every saga in between once, in order (no gap, no repeat).
// Screenshot: test-artifacts/dashboard/large-log-filter.png (docs/images/ has a copy).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { openHttpHarness, type HttpHarness } from '../support/http-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/dashboard');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'];
const N = 5_000;
/** The match's place in the unfiltered list, newest first (1-based): page 10 of 50 rows. */
const RANK = 480;
const MATCH = N - RANK;
const PAGE = 50;
// Recent times (one saga a second, ending now), so that retention never prunes them mid-test.
const BASE = Date.now() - N * 1_000;

/** UUIDv7-shaped ids: creation ms in front, like the engine's, unique by the index at the end. */
function idOf(i: number): string {
  const t = (BASE + i * 1_000).toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** Saga i completed (the one match: stuck with RARE_CODE after rare_step failed), one second apart. */
function seedLog(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    const insSaga = db.prepare(
      `INSERT INTO sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, key, ended_at, reason)
       VALUES (?, 'ingest', 1, ?, '{}', 'w-1', 1, 0, ?, ?, ?, ?, ?)`,
    );
    const insRec = db.prepare('INSERT INTO saga_records (saga_rid, first_seq, n, records, at) VALUES (?, ?, 1, ?, ?)');
    const insFailed = db.prepare('INSERT INTO saga_failed_steps (step, saga_rid) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < N; i++) {
        const created = BASE + i * 1_000;
        const match = i === MATCH;
        const rid = Number(
          insSaga.run(
            idOf(i),
            match ? 'stuck' : 'completed',
            created,
            created + 400,
            `large-${i}`,
            match ? null : created + 400,
            match ? '{"code":"RARE_CODE","message":"the one saga this filter matches"}' : null,
          ).lastInsertRowid,
        );
        insRec.run(rid, 0, '[[0,"s",1]]', created + 10);
        if (match) {
          insRec.run(rid, 1, '[[2,"rare_step",1,{"code":"RARE_CODE","message":"m"},false]]', created + 300);
          insFailed.run('rare_step', rid);
        }
      }
    })();
  } finally {
    db.close();
  }
}

describe('a filter on a 5,000-saga log in Chromium', () => {
  let h: HttpHarness;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let base: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/browser.sh (npm test does)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const t0 = performance.now();
    h = await openHttpHarness({}, { listen: true });
    base = h.server?.url ?? '';
    const t1 = performance.now();
    seedLog(join(h.dir, 'saga-log.db'));
    const t2 = performance.now();
    assert.equal(await h.app.engine.log.count(), N, 'the app reads the seeded log');
    profileDir = mkdtempSync(join(tmpdir(), 'apex-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    const ms = (a: number, b: number): string => `${Math.round(b - a)} ms`;
    console.log(`app ${ms(t0, t1)}, ${N} sagas seeded ${ms(t1, t2)}, Chromium ${ms(t2, performance.now())}`);
  });

  after(async () => {
    await context?.close();
    await h?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  const rowIds = async (p: Page): Promise<string[]> =>
    p.locator('table.sagas tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-saga') ?? ''));

  for (const [label, field, value] of [
    ['reason code', 'reasonCode', 'RARE_CODE'],
    ['failed step', 'failedStep', 'rare_step'],
  ] as const) {
    test(`the ${label} filter, typed into the form, shows the one match (rank ${RANK}) on its first page`, async () => {
      await page.goto(`${base}/ui/#/sagas`);
      await page.locator(`tr[data-saga="${idOf(N - 1)}"]`).waitFor();
      assert.equal((await rowIds(page)).length, PAGE);
      assert.ok(!(await rowIds(page)).includes(idOf(MATCH)), 'not on the unfiltered first page');
      await page.locator(`[data-filter="${field}"]`).fill(value);
      await page.getByTestId('apply-filters').click();
      const row = page.locator(`tr[data-saga="${idOf(MATCH)}"]`);
      await row.waitFor({ timeout: 10_000 });
      assert.deepEqual(await rowIds(page), [idOf(MATCH)], 'only the match');
      assert.equal(await row.getAttribute('data-status'), 'stuck');
      assert.match((await page.getByTestId('list-note').textContent()) ?? '', /^1 shown of 1 ·/);
      assert.equal(await page.getByTestId('load-more').isHidden(), true, 'no later page');
      if (field === 'reasonCode') await page.screenshot({ path: join(ARTIFACTS, 'large-log-filter.png') });
    });
  }

  test(`the unfiltered list, paged with "Load more", reaches the match at rank ${RANK}: every saga once, in order`, async () => {
    await page.goto(`${base}/ui/#/sagas`);
    await page.locator(`tr[data-saga="${idOf(N - 1)}"]`).waitFor();
    assert.match((await page.getByTestId('list-note').textContent()) ?? '', /^50 shown of 5,000 ·/);
    const more = page.getByTestId('load-more');
    const t0 = performance.now();
    for (let shown = PAGE; shown < RANK; shown += PAGE) {
      await more.click();
      await page
        .locator('table.sagas tbody tr')
        .nth(shown + PAGE - 1)
        .waitFor();
    }
    console.log(`${Math.ceil(RANK / PAGE) - 1} "Load more" clicks in ${Math.round(performance.now() - t0)} ms`);
    const ids = await rowIds(page);
    const pages = Math.ceil(RANK / PAGE);
    assert.equal(ids.length, pages * PAGE);
    // Newest first, one second apart: exactly sagas N-1, N-2, ... (no gap, no repeat).
    assert.deepEqual(
      ids,
      Array.from({ length: pages * PAGE }, (_, k) => idOf(N - 1 - k)),
    );
    assert.equal(ids.indexOf(idOf(MATCH)), RANK - 1, `the match is row ${RANK}`);
    assert.equal(await page.locator(`tr[data-saga="${idOf(MATCH)}"]`).getAttribute('data-status'), 'stuck');
  });
});
