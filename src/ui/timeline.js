// One saga: header, a timeline of steps and compensations as bars on a time axis (wall clock when
// this server ran it, else log order), one lane per step and phase so parallel steps sit side by
// side; retries are successive bars in a lane, failures red with their error; the input
// (size-limited), each step's output, fencing token and ownership events, and every record.
import { api } from './api.js';
import { badge, errText, h, ms, svg, time } from './dom.js';

const LANE = 26;
const LEFT = 190;
const WIDTH = 900;
const COLORS = { succeeded: '#2e7d32', failed: '#c62828', running: '#1565c0', unknown: '#9e9e9e' };

function timelineSvg(d) {
  const lanes = [];
  for (const b of d.bars) {
    const key = `${b.phase}:${b.step}`;
    if (!lanes.includes(key)) lanes.push(key);
  }
  const t0 = Math.min(...d.bars.map((b) => b.start));
  const t1 = Math.max(...d.bars.map((b) => b.end ?? b.start), t0 + 1);
  const span = t1 - t0;
  const x = (t) => LEFT + ((t - t0) / span) * (WIDTH - LEFT - 10);
  const height = lanes.length * LANE + 40;
  const root = svg('svg', { width: WIDTH, height, class: 'timeline', 'data-testid': 'timeline', 'data-axis': d.timeAxis });
  lanes.forEach((key, i) => {
    const [phase, step] = key.split(':');
    root.append(svg('text', { x: 4, y: i * LANE + 17, class: `lane-label ${phase}` }, `${phase === 'compensation' ? '↶ ' : ''}${step}`));
  });
  for (const b of d.bars) {
    const i = lanes.indexOf(`${b.phase}:${b.step}`);
    const x0 = x(b.start);
    const w = Math.max(3, x(b.end ?? b.start) - x0);
    const title = `${b.phase} ${b.step} attempt ${b.attempt}: ${b.outcome}${b.error ? ` ${errText(b.error)}` : ''}${d.timeAxis === 'wall' ? ` (${ms((b.end ?? b.start) - b.start)})` : ''}${b.operation ? `\n${b.operation}` : ''}`;
    const g = svg('g', { class: 'bar', 'data-step': b.step, 'data-phase': b.phase, 'data-outcome': b.outcome, 'data-attempt': b.attempt, 'data-stage': b.stage });
    g.append(svg('rect', { x: x0, y: i * LANE + 4, width: w, height: LANE - 8, rx: 3, fill: COLORS[b.outcome] ?? '#999', opacity: b.phase === 'compensation' ? 0.75 : 1 }, svg('title', {}, title)));
    if (b.outcome === 'failed') g.append(svg('text', { x: x0 + w + 2, y: i * LANE + 17, class: 'fail-mark' }, '✕'));
    if (b.attempt > 1) g.append(svg('text', { x: x0 + 2, y: i * LANE + 3 + LANE - 10, class: 'attempt-mark' }, `#${b.attempt}`));
    root.append(g);
  }
  // Fencing token changes (claims, takeovers, lost leases) where they happened, on wall-clock axes.
  if (d.timeAxis === 'wall') {
    for (const o of d.ownership) {
      if (o.at === null || o.at < t0 || o.at > t1 || o.event.startsWith('started')) continue;
      const mx = x(o.at);
      root.append(
        svg('g', { class: 'token-mark', 'data-token': o.fencingToken ?? '' },
          svg('line', { x1: mx, x2: mx, y1: 0, y2: height - 18, stroke: '#6a1b9a', 'stroke-dasharray': '4 3' }),
          svg('text', { x: mx + 3, y: height - 20, class: 'token-label' }, `token ${o.fencingToken ?? '?'}`),
          svg('title', {}, `${new Date(o.at).toLocaleTimeString()}: ${o.event}`)),
      );
    }
  }
  root.append(svg('text', { x: LEFT, y: height - 6, class: 'axis' }, d.timeAxis === 'wall' ? `0 ms` : 'seq 0'), svg('text', { x: WIDTH - 90, y: height - 6, class: 'axis' }, d.timeAxis === 'wall' ? ms(span) : `seq ${t1}`));
  return root;
}

export async function showSaga({ main }, id) {
  main.append(h('p', { class: 'muted' }, 'loading…'));
  let d;
  try {
    d = (await api(`/v1/sagas/${encodeURIComponent(id)}`)).data;
  } catch (e) {
    main.replaceChildren(h('p', { class: 'error' }, e.message));
    return;
  }
  const retryBtn = d.status === 'stuck' ? h('button', { 'data-testid': 'saga-retry' }, 'Retry this stuck saga') : '';
  const retryOut = h('span', { 'data-testid': 'saga-retry-result' });
  if (retryBtn) {
    retryBtn.addEventListener('click', async () => {
      retryBtn.disabled = true;
      retryOut.textContent = 'retrying…';
      try {
        const { data } = await api(`/v1/sagas/${encodeURIComponent(id)}/retry?wait=20`, { method: 'POST' });
        retryOut.textContent = `retry: ${data.status}`;
        main.replaceChildren();
        showSaga({ main }, id);
      } catch (e) {
        retryOut.textContent = `${e.code}: ${e.message}`;
      }
    });
  }
  const cancelBtn = ['pending', 'running', 'stuck'].includes(d.status) ? h('button', { 'data-testid': 'saga-cancel' }, 'Cancel (compensate)') : '';
  if (cancelBtn) {
    cancelBtn.addEventListener('click', async () => {
      if (!window.confirm('Cancel this saga? Before its pivot it is compensated; after it the server refuses.')) return;
      cancelBtn.disabled = true;
      try {
        const { data } = await api(`/v1/sagas/${encodeURIComponent(id)}/cancel?wait=20`, { method: 'POST' });
        retryOut.textContent = `cancel: ${data.status}`;
        main.replaceChildren();
        showSaga({ main }, id);
      } catch (e) {
        retryOut.textContent = `${e.code}: ${e.message}`;
      }
    });
  }
  const errors = d.bars.filter((b) => b.error);
  const pairs = [
    ['status', badge(d.status)],
    ['definition', `${d.name}@${d.version}`],
    ['document', d.docId ? h('a', { href: `#/documents/${encodeURIComponent(d.docId)}` }, d.docId) : '–'],
    ['reason', errText(d.reason) || '–'],
    ['owner', d.owner ?? '–'],
    ['fencing token', String(d.fencingToken)],
    ['created', `${time(d.createdAt)} · queued ${ms(d.queuedMs)} · ran ${d.runningMs === null ? '–' : ms(d.runningMs)} · ${d.attempts} max attempt(s)`],
  ];
  main.replaceChildren(
    h('h1', {}, 'Saga ', h('code', { 'data-testid': 'saga-id' }, d.sagaId)),
    h('table', { class: 'pairs', 'data-testid': 'saga-header' }, pairs.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { 'data-field': k }, v)))),
    h('p', {}, retryBtn, ' ', cancelBtn, ' ', retryOut),
    h('h2', {}, `Timeline (${d.timeAxis === 'wall' ? 'wall clock' : 'log order: this server did not run it'})`),
    d.bars.length ? timelineSvg(d) : h('p', { class: 'muted' }, 'no steps yet'),
    h('p', { class: 'legend' }, ['succeeded', 'failed', 'running', 'unknown'].map((k) => h('span', { class: 'key' }, h('i', { style: `background:${COLORS[k]}` }), k))),
    h('h2', {}, 'Steps and the store operation each did'),
    h('table', { class: 'steps', 'data-testid': 'saga-steps' }, h('thead', {}, h('tr', {}, ['phase', 'step', 'attempt', 'outcome', 'store operation', 'duration'].map((c) => h('th', {}, c)))), d.bars.map((b) => h('tr', { class: b.outcome === 'failed' ? 'err' : '' }, h('td', {}, b.phase), h('td', {}, b.step), h('td', {}, String(b.attempt)), h('td', {}, b.outcome), h('td', {}, b.operation ?? '–'), h('td', {}, d.timeAxis === 'wall' && b.end !== null ? ms(b.end - b.start) : '–')))),
    h('h2', {}, `Errors (${errors.length})`),
    h('ul', { 'data-testid': 'saga-errors' }, errors.map((b) => h('li', { class: 'error' }, `${b.phase} ${b.step} attempt ${b.attempt}: ${errText(b.error)}`))),
    h('h2', {}, 'Ownership and fencing'),
    h('ul', { 'data-testid': 'ownership' }, d.ownership.map((o) => h('li', {}, `${o.at ? new Date(o.at).toLocaleTimeString() : 'now'}: ${o.event}${o.fencingToken !== null ? ` · token ${o.fencingToken}` : ''}${o.owner ? ` · ${o.owner}` : ''}`))),
    h('h2', {}, `Input${d.inputTruncated ? ' (truncated)' : ''}`),
    h('pre', { class: 'json', 'data-testid': 'saga-input' }, typeof d.input === 'string' ? d.input : JSON.stringify(d.input, null, 2)),
    h('h2', {}, 'Step outputs'),
    h('table', {}, Object.entries(d.outputs).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, h('code', {}, JSON.stringify(v)))))),
    h('h2', {}, `Log records (${d.records.length})`),
    h('table', { class: 'records' }, h('thead', {}, h('tr', {}, ['seq', 'record', 'step', 'attempt', 'detail'].map((c) => h('th', {}, c)))), d.records.map((r) => h('tr', { class: r.error ? 'err' : '' }, h('td', {}, String(r.seq)), h('td', {}, r.type), h('td', {}, r.step ?? ''), h('td', {}, r.attempt ?? ''), h('td', {}, [r.status, errText(r.error), r.willRetry ? '(will retry)' : ''].filter(Boolean).join(' '))))),
  );
}
