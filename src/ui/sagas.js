// The saga list (and the stuck and "retrying now" views): every filter the API has (document,
// reason code and owner included; the log answers each from its indexes, so a match far down a
// large log is on the first page); rows with the saga id (shortest unique prefix, copy button),
// status, name@version, duration, attempts, owner; stuck rows highlighted with a Retry button. The
// list is live: it polls with If-None-Match (a 304 costs nothing) and refreshes at once after any
// action, so a retried saga leaves the stuck view.
// Bulk retry shows its dry-run list first and then acts on exactly that list.
import { api, poller } from './api.js';
import { badge, errText, h, ms, time } from './dom.js';
import { idCell, shortestUniquePrefixes } from './ids.js';

const FILTERS = ['status', 'name', 'version', 'stuck', 'retrying', 'failedStep', 'reasonCode', 'docId', 'owner', 'since', 'until'];
const STATUSES = ['', 'pending', 'running', 'compensating', 'completed', 'compensated', 'stuck'];
const POLL_MS = 3000;
const PAGE = 50;

function filterForm(params) {
  const field = (name, el) => h('label', {}, name, ' ', el);
  const sel = (name, options) =>
    h(
      'select',
      { name, 'data-filter': name },
      options.map((o) => h('option', { value: o, selected: params.get(name) === o }, o || 'any')),
    );
  const txt = (name, placeholder, size = 12) => h('input', { name, 'data-filter': name, value: params.get(name) ?? '', placeholder, size });
  return h(
    'form',
    { class: 'filters', 'data-testid': 'saga-filters' },
    field('status', sel('status', STATUSES)),
    field('name', txt('name', 'ingest')),
    field('version', txt('version', '1', 3)),
    field('stuck', sel('stuck', ['', 'true', 'false'])),
    field('retrying', sel('retrying', ['', 'true', 'false'])),
    field('failed step', txt('failedStep', 'qdrant_write')),
    field('reason code', txt('reasonCode', 'SAGA_CANCELLED', 14)),
    field('document', txt('docId', 'document id')),
    field('owner', txt('owner', 'worker id')),
    field('since', txt('since', 'ISO time', 18)),
    field('until', txt('until', 'ISO time', 18)),
    h('button', { 'data-testid': 'apply-filters' }, 'Apply'),
  );
}

export function showSagaList({ main, params, onStop }, mode = 'list') {
  const retryingNow = mode === 'retrying';
  const form = filterForm(params);
  const tbody = h('tbody');
  const more = h('button', { hidden: true, 'data-testid': 'load-more' }, 'Load more');
  const note = h('p', { class: 'muted', 'data-testid': 'list-note' });
  const bulk = h('div', { class: 'bulk', 'data-testid': 'bulk' });
  const title = retryingNow ? 'Retrying now' : params.get('stuck') === 'true' ? 'Stuck sagas' : 'Sagas';
  const head = retryingNow
    ? ['saga', 'status', 'name@version', 'document', 'waits on', 'attempt', 'next attempt', 'last error']
    : ['saga', 'status', 'name@version', 'document', 'created', 'ran', 'attempts', 'owner', 'reason', ''];
  main.append(
    h('h1', {}, title),
    retryingNow
      ? h(
          'p',
          { class: 'muted' },
          'Running sagas whose last attempt of a step failed and will be retried: the step and store they wait on, the next attempt, and its time when the log has it.',
        )
      : form,
    retryingNow ? '' : h('p', {}, h('button', { 'data-testid': 'bulk-dry-run', onclick: () => dryRun() }, 'Bulk retry stuck (dry run)…')),
    bulk,
    h(
      'table',
      { class: 'sagas', 'data-testid': 'saga-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((c) => h('th', {}, c)),
        ),
      ),
      tbody,
    ),
    more,
    note,
  );
  const query = new URLSearchParams();
  if (!retryingNow) for (const f of FILTERS) if (params.get(f)) query.set(f, params.get(f));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const el of form.querySelectorAll('[data-filter]')) if (el.value) q.set(el.name, el.value);
    location.hash = `#/sagas?${q}`;
  });

  // Page 1 is polled (as many rows as are shown); "Load more" appends later pages by cursor.
  let shown = PAGE;
  let extra = [];
  let first = [];
  let cursor = null;
  const url = () => {
    const q = new URLSearchParams(query);
    // Retrying now: the running sagas (few, normally) whose last attempt of a step failed.
    q.set('limit', String(retryingNow ? 200 : Math.min(shown, 200)));
    if (retryingNow) q.set('status', 'running');
    return `/v1/sagas?${q}`;
  };
  function render(page) {
    first = page.sagas;
    cursor = page.nextCursor;
    const rows = retryingNow ? first.filter((s) => s.waitingOn) : [...first, ...extra];
    const prefixes = shortestUniquePrefixes(rows.map((s) => s.sagaId));
    tbody.replaceChildren(...rows.map((s) => (retryingNow ? retryRow(s, prefixes.get(s.sagaId)) : row(s, prefixes.get(s.sagaId)))));
    more.hidden = retryingNow || !cursor;
    const total =
      typeof page.total === 'number' ? ` of ${page.totalCapped ? `${page.total.toLocaleString()}+` : page.total.toLocaleString()}` : '';
    note.className = 'muted';
    note.textContent = `${rows.length} shown${total}${cursor && !retryingNow ? ' · more on later pages' : ''} · live, updated ${new Date().toLocaleTimeString()}`;
  }
  const poll = poller(url, POLL_MS, render, (e) => {
    note.textContent = e.message;
    note.className = 'error';
  });
  more.addEventListener('click', async () => {
    const q = new URLSearchParams(query);
    q.set('limit', String(PAGE));
    q.set('cursor', cursor);
    const { data } = await api(`/v1/sagas?${q}`);
    extra = [...extra, ...data.sagas];
    render({ ...data, sagas: first, nextCursor: data.nextCursor });
  });
  poll.start();
  onStop(() => poll.stop());

  function row(s, prefix) {
    const retry =
      s.status === 'stuck'
        ? h('button', { class: 'retry', 'data-testid': 'retry', onclick: (e) => retryOne(e.target, s.sagaId) }, 'Retry')
        : '';
    return h(
      'tr',
      { class: s.status === 'stuck' ? 'stuck' : '', 'data-saga': s.sagaId, 'data-status': s.status },
      h('td', { class: 'idcell' }, idCell(s.sagaId, prefix)),
      h('td', {}, badge(s.status)),
      h('td', {}, `${s.name}@${s.version}`),
      h('td', {}, s.docId ? h('a', { href: `#/documents/${encodeURIComponent(s.docId)}` }, s.docId) : ''),
      h('td', {}, time(s.createdAt)),
      h('td', { title: `queued ${ms(s.queuedMs)}` }, s.runningMs === null ? 'queued' : ms(s.runningMs)),
      h('td', { class: s.retrying ? 'warn' : '' }, String(s.attempts)),
      h('td', { class: 'owner' }, s.owner ?? '–'),
      h('td', { class: 'reason' }, errText(s.reason)),
      h('td', {}, retry),
    );
  }

  function retryRow(s, prefix) {
    const w = s.waitingOn;
    return h(
      'tr',
      { 'data-saga': s.sagaId, 'data-status': s.status, 'data-testid': 'retrying-row' },
      h('td', { class: 'idcell' }, idCell(s.sagaId, prefix)),
      h('td', {}, badge(s.status)),
      h('td', {}, `${s.name}@${s.version}`),
      h('td', {}, s.docId ?? ''),
      h('td', {}, `${w.phase === 'compensation' ? '↶ ' : ''}${w.step}${w.store ? ` (${w.store})` : ''}`),
      h('td', { 'data-field': 'attempt' }, `next: #${w.nextAttempt}`),
      h('td', {}, w.nextAttemptAt ? time(w.nextAttemptAt) : w.retryInMs !== null ? `in ${ms(w.retryInMs)}` : 'now (in process)'),
      h('td', { class: 'reason' }, errText(w.error)),
    );
  }

  async function retryOne(button, id) {
    button.disabled = true;
    button.textContent = 'retrying…';
    try {
      const { data } = await api(`/v1/sagas/${encodeURIComponent(id)}/retry?wait=20`, { method: 'POST' });
      note.textContent = `retry of ${id}: ${data.status}`;
    } catch (e) {
      button.textContent = e.code;
    }
    await poll.refresh();
  }

  async function dryRun() {
    const filter = {};
    for (const f of ['name', 'failedStep', 'reasonCode', 'docId', 'owner', 'since', 'until']) if (query.get(f)) filter[f] = query.get(f);
    if (query.get('version')) filter.version = query.get('version');
    if (query.get('retrying')) filter.retrying = query.get('retrying');
    bulk.replaceChildren(h('p', { class: 'muted' }, 'dry run…'));
    try {
      const { data } = await api('/v1/sagas/bulk-retry', { method: 'POST', body: { filter, dryRun: true } });
      const ids = data.sagas.map((s) => s.sagaId);
      const act = h('button', { 'data-testid': 'bulk-confirm', disabled: ids.length === 0 }, `Retry these ${ids.length}`);
      act.addEventListener('click', async () => {
        act.disabled = true;
        const { data: done } = await api('/v1/sagas/bulk-retry', { method: 'POST', body: { sagaIds: ids, dryRun: false } }).catch((e) => ({
          data: { results: [{ sagaId: '-', status: null, error: { code: e.code, message: e.message } }] },
        }));
        bulk.append(
          h(
            'ul',
            { 'data-testid': 'bulk-results' },
            done.results.map((r) => h('li', {}, `${r.sagaId}: ${r.status ?? errText(r.error)}`)),
          ),
        );
        await poll.refresh();
      });
      bulk.replaceChildren(
        h(
          'p',
          { 'data-testid': 'bulk-dry-run-count' },
          `Dry run: ${ids.length} stuck saga(s) would be retried. Nothing has been touched yet.`,
        ),
        h(
          'ul',
          { 'data-testid': 'bulk-dry-run-list' },
          data.sagas.map((s) => h('li', { 'data-saga': s.sagaId }, `${s.sagaId} ${s.name}@${s.version} ${errText(s.reason)}`)),
        ),
        act,
      );
    } catch (e) {
      bulk.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  }
}
