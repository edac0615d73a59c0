// The saga list: every filter the API has, rows with status, name@version, duration, attempts and
// owner; stuck rows highlighted with a retry button; bulk retry shows its dry-run list first and
// then acts on exactly that list.
import { api } from './api.js';
import { badge, errText, h, ms, time } from './dom.js';

const FILTERS = ['status', 'name', 'version', 'stuck', 'retrying', 'failedStep', 'since', 'until'];
const STATUSES = ['', 'pending', 'running', 'compensating', 'completed', 'compensated', 'stuck'];

function filterForm(params) {
  const field = (name, el) => h('label', {}, name, ' ', el);
  const sel = (name, options) => h('select', { name, 'data-filter': name }, options.map((o) => h('option', { value: o, selected: params.get(name) === o }, o || 'any')));
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
    field('since', txt('since', 'ISO time', 18)),
    field('until', txt('until', 'ISO time', 18)),
    h('button', { 'data-testid': 'apply-filters' }, 'Apply'),
  );
}

export function showSagaList({ main, params }) {
  const form = filterForm(params);
  const tbody = h('tbody');
  const more = h('button', { hidden: true, 'data-testid': 'load-more' }, 'Load more');
  const note = h('p', { class: 'muted' });
  const bulk = h('div', { class: 'bulk', 'data-testid': 'bulk' });
  const title = params.get('stuck') === 'true' ? 'Stuck sagas' : 'Sagas';
  main.append(
    h('h1', {}, title),
    form,
    h('p', {}, h('button', { 'data-testid': 'bulk-dry-run', onclick: () => dryRun() }, 'Bulk retry stuck (dry run)…')),
    bulk,
    h('table', { class: 'sagas', 'data-testid': 'saga-table' }, h('thead', {}, h('tr', {}, ['saga', 'status', 'name@version', 'document', 'created', 'ran', 'attempts', 'owner', 'reason', ''].map((c) => h('th', {}, c)))), tbody),
    more,
    note,
  );
  const query = new URLSearchParams();
  for (const f of FILTERS) if (params.get(f)) query.set(f, params.get(f));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const el of form.querySelectorAll('[data-filter]')) if (el.value) q.set(el.name, el.value);
    location.hash = `#/sagas?${q}`;
  });

  async function load(cursor) {
    const q = new URLSearchParams(query);
    q.set('limit', '50');
    if (cursor) q.set('cursor', cursor);
    try {
      const { data } = await api(`/v1/sagas?${q}`);
      for (const s of data.sagas) tbody.append(row(s));
      more.hidden = !data.nextCursor;
      more.onclick = () => load(data.nextCursor);
      note.textContent = `${tbody.children.length} shown${typeof data.total === 'number' ? ` of ${data.total.toLocaleString('en-US')}${data.totalCapped ? '+' : ''}` : ''}`;
    } catch (e) {
      note.textContent = e.message;
      note.className = 'error';
    }
  }

  function row(s) {
    const retry = s.status === 'stuck' ? h('button', { class: 'retry', 'data-testid': 'retry', onclick: (e) => retryOne(e.target, s.sagaId) }, 'Retry') : '';
    return h(
      'tr',
      { class: s.status === 'stuck' ? 'stuck' : '', 'data-saga': s.sagaId, 'data-status': s.status },
      h('td', {}, h('a', { href: `#/sagas/${encodeURIComponent(s.sagaId)}`, 'data-testid': 'saga-link' }, s.sagaId.slice(0, 13))),
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

  async function retryOne(button, id) {
    button.disabled = true;
    button.textContent = 'retrying…';
    try {
      const { data } = await api(`/v1/sagas/${encodeURIComponent(id)}/retry?wait=20`, { method: 'POST' });
      const tr = button.closest('tr');
      tr.replaceWith(row({ ...(await api(`/v1/sagas/${encodeURIComponent(id)}`)).data }));
      note.textContent = `retry of ${id}: ${data.status}`;
    } catch (e) {
      button.textContent = e.code;
    }
  }

  async function dryRun() {
    const filter = {};
    for (const f of ['name', 'failedStep', 'since', 'until']) if (query.get(f)) filter[f] = query.get(f);
    if (query.get('version')) filter.version = query.get('version');
    if (query.get('retrying')) filter.retrying = query.get('retrying');
    bulk.replaceChildren(h('p', { class: 'muted' }, 'dry run…'));
    try {
      const { data } = await api('/v1/sagas/bulk-retry', { method: 'POST', body: { filter, dryRun: true } });
      const ids = data.sagas.map((s) => s.sagaId);
      const act = h('button', { 'data-testid': 'bulk-confirm', disabled: ids.length === 0 }, `Retry these ${ids.length}`);
      act.addEventListener('click', async () => {
        act.disabled = true;
        const { data: done } = await api('/v1/sagas/bulk-retry', { method: 'POST', body: { sagaIds: ids, dryRun: false } }).catch((e) => ({ data: { results: [{ sagaId: '-', status: null, error: { code: e.code, message: e.message } }] } }));
        bulk.append(h('ul', { 'data-testid': 'bulk-results' }, done.results.map((r) => h('li', {}, `${r.sagaId}: ${r.status ?? errText(r.error)}`))));
      });
      bulk.replaceChildren(
        h('p', { 'data-testid': 'bulk-dry-run-count' }, `Dry run: ${ids.length} stuck saga(s) would be retried. Nothing has been touched yet.`),
        h('ul', { 'data-testid': 'bulk-dry-run-list' }, data.sagas.map((s) => h('li', { 'data-saga': s.sagaId }, `${s.sagaId} ${s.name}@${s.version} ${errText(s.reason)}`))),
        act,
      );
    } catch (e) {
      bulk.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  }

  load();
}
