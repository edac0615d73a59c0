// One saga, live (polled with If-None-Match): what it is waiting for and what the operator can do
// (only the actions the server allows, and in words what Retry will do), who cancelled it and
// when, a timeline of steps and compensations as bars on a time axis (wall clock when this server
// ran it, else log order) that fits its box, errors collapsed ("x25, first ..., last ..."), the
// input (size-limited), each step's output, fencing token and ownership events, and every record.
import { api, poller } from './api.js';
import { badge, errText, h, ms, svg, time } from './dom.js';
import { copyButton } from './ids.js';

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
  // Room on the right for the failure mark and the axis label: nothing is drawn past WIDTH.
  const x = (t) => LEFT + ((t - t0) / span) * (WIDTH - LEFT - 24);
  const height = lanes.length * LANE + 40;
  // The viewBox scales the drawing to its box (width 100%), whatever the number of attempts.
  const root = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${height}`,
    width: '100%',
    preserveAspectRatio: 'xMinYMin meet',
    class: 'timeline',
    'data-testid': 'timeline',
    'data-axis': d.timeAxis,
  });
  lanes.forEach((key, i) => {
    const [phase, step] = key.split(':');
    root.append(svg('text', { x: 4, y: i * LANE + 17, class: `lane-label ${phase}` }, `${phase === 'compensation' ? '↶ ' : ''}${step}`));
  });
  for (const b of d.bars) {
    const i = lanes.indexOf(`${b.phase}:${b.step}`);
    const x0 = x(b.start);
    const w = Math.min(Math.max(3, x(b.end ?? b.start) - x0), WIDTH - 16 - x0);
    const title = `${b.phase} ${b.step} attempt ${b.attempt}: ${b.outcome}${b.error ? ` ${errText(b.error)}` : ''}${d.timeAxis === 'wall' ? ` (${ms((b.end ?? b.start) - b.start)})` : ''}${b.operation ? `\n${b.operation}` : ''}`;
    const g = svg('g', {
      class: 'bar',
      'data-step': b.step,
      'data-phase': b.phase,
      'data-outcome': b.outcome,
      'data-attempt': b.attempt,
      'data-stage': b.stage,
    });
    g.append(
      svg(
        'rect',
        {
          x: x0,
          y: i * LANE + 4,
          width: w,
          height: LANE - 8,
          rx: 3,
          fill: COLORS[b.outcome] ?? '#999',
          opacity: b.phase === 'compensation' ? 0.75 : 1,
        },
        svg('title', {}, title),
      ),
    );
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
        svg(
          'g',
          { class: 'token-mark', 'data-token': o.fencingToken ?? '' },
          svg('line', { x1: mx, x2: mx, y1: 0, y2: height - 18, stroke: '#6a1b9a', 'stroke-dasharray': '4 3' }),
          svg('text', { x: mx + 3, y: height - 20, class: 'token-label' }, `token ${o.fencingToken ?? '?'}`),
          svg('title', {}, `${new Date(o.at).toLocaleTimeString()}: ${o.event}`),
        ),
      );
    }
  }
  root.append(
    svg('text', { x: LEFT, y: height - 6, class: 'axis' }, d.timeAxis === 'wall' ? `0 ms` : 'seq 0'),
    svg('text', { x: WIDTH - 4, y: height - 6, class: 'axis', 'text-anchor': 'end' }, d.timeAxis === 'wall' ? ms(span) : `seq ${t1}`),
  );
  return root;
}

const STATUS_POLL_MS = 2000;

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

/** "x25 qdrant_write: [CODE] message, attempts 1-25 (first at ..., last at ...)" */
function errorLine(g) {
  const at =
    g.firstAt !== null ? ` · first at ${new Date(g.firstAt).toLocaleTimeString()}, last at ${new Date(g.lastAt).toLocaleTimeString()}` : '';
  const attempts = g.count > 1 ? ` · attempts ${g.firstAttempt}–${g.lastAttempt}` : ` · attempt ${g.firstAttempt}`;
  return h(
    'li',
    { class: 'error', 'data-testid': 'error-group', 'data-count': g.count },
    g.count > 1 ? h('strong', {}, `×${g.count} `) : '',
    `${g.phase === 'compensation' ? '↶ ' : ''}${g.step}: [${g.code}] ${g.message}${attempts}${at}`,
  );
}

function guide(d, act) {
  const a = d.actions;
  const box = h('div', { class: `guide s-box-${d.status}`, 'data-testid': 'saga-guide' });
  if (d.status === 'stuck')
    box.append(h('p', {}, h('strong', {}, 'Stuck: '), 'waiting for an operator. ', d.reason ? `Last failure: ${errText(d.reason)}.` : ''));
  if (d.waitingOn)
    box.append(
      h(
        'p',
        { 'data-testid': 'saga-waiting' },
        `Retrying ${d.waitingOn.step}${d.waitingOn.store ? ` (${d.waitingOn.store})` : ''}: next attempt #${d.waitingOn.nextAttempt}${d.waitingOn.nextAttemptAt ? ` at ${time(d.waitingOn.nextAttemptAt)}` : ''} after ${errText(d.waitingOn.error)}`,
      ),
    );
  if (a.retryText) box.append(h('p', { 'data-testid': 'retry-will', 'data-will': a.retryWill }, a.retryText));
  if (a.cancelText) box.append(h('p', { class: 'muted' }, a.cancelText));
  if (a.note) box.append(h('p', { class: 'muted', 'data-testid': 'actions-note' }, a.note));
  const buttons = [];
  if (a.allowed.includes('retry'))
    buttons.push(
      h(
        'button',
        { 'data-testid': 'saga-retry', onclick: (e) => act(e.target, 'retry') },
        a.retryWill === 'compensate' ? 'Retry: continue undoing' : 'Retry: go forward',
      ),
    );
  if (a.allowed.includes('cancel'))
    buttons.push(h('button', { 'data-testid': 'saga-cancel', onclick: (e) => act(e.target, 'cancel') }, 'Cancel (compensate)'));
  if (buttons.length) box.append(h('p', {}, ...buttons));
  return box.children.length ? box : '';
}

function cancelled(d) {
  if (!d.cancellation) return '';
  const c = d.cancellation;
  return h(
    'div',
    { class: 'guide', 'data-testid': 'saga-cancellation' },
    h('p', {}, h('strong', {}, 'Cancelled '), `by ${c.by} at ${when(c.at)}: “${c.message}”.`),
    d.reason && d.reason.code !== 'SAGA_CANCELLED'
      ? h('p', { 'data-testid': 'original-reason' }, `Original failure (kept as the reason): ${errText(d.reason)}`)
      : '',
  );
}

function render(main, d, act, status) {
  const running = d.status === 'running' || d.status === 'compensating';
  const stepsRun = d.bars.filter((b) => b.phase === 'forward').length;
  const pairs = [
    ['status', badge(d.status)],
    ['definition', `${d.name}@${d.version}`],
    ['document', d.docId ? h('a', { href: `#/documents/${encodeURIComponent(d.docId)}` }, d.docId) : '–'],
    ['reason', errText(d.reason) || '–'],
    ['owner', running ? (d.owner ?? '–') : 'none (not running)'],
    ['fencing token', String(d.fencingToken)],
    ['created', `${when(d.createdAt)} · last change ${when(d.updatedAt)}`],
    [
      'steps',
      stepsRun === 0
        ? d.cancellation
          ? 'none ran: cancelled before its first step'
          : 'none yet'
        : `${stepsRun} attempt(s), highest attempt ${d.attempts}`,
    ],
  ];
  main.replaceChildren(
    h('h1', {}, 'Saga ', h('code', { 'data-testid': 'saga-id' }, d.sagaId), ' ', copyButton(d.sagaId)),
    h(
      'table',
      { class: 'pairs', 'data-testid': 'saga-header' },
      pairs.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { 'data-field': k }, v))),
    ),
    cancelled(d),
    guide(d, act),
    status,
    h('h2', {}, `Timeline (${d.timeAxis === 'wall' ? 'wall clock' : 'log order: this server did not run it'})`),
    d.bars.length
      ? h('div', { class: 'timeline-box' }, timelineSvg(d))
      : h('p', { class: 'muted' }, d.cancellation ? 'no steps: cancelled before any ran' : 'no steps yet'),
    h(
      'p',
      { class: 'legend' },
      ['succeeded', 'failed', 'running', 'unknown'].map((k) =>
        h('span', { class: 'key' }, h('i', { style: `background:${COLORS[k]}` }), k),
      ),
    ),
    h('h2', {}, `Errors (${d.errorGroups.reduce((n, g) => n + g.count, 0)})`),
    h('ul', { 'data-testid': 'saga-errors' }, d.errorGroups.map(errorLine)),
    h('h2', {}, 'Steps and the store operation each did'),
    h(
      'table',
      { class: 'steps', 'data-testid': 'saga-steps' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['phase', 'step', 'attempt', 'outcome', 'store operation', 'duration'].map((c) => h('th', {}, c)),
        ),
      ),
      d.bars.map((b) =>
        h(
          'tr',
          { class: b.outcome === 'failed' ? 'err' : '' },
          h('td', {}, b.phase),
          h('td', {}, b.step),
          h('td', {}, String(b.attempt)),
          h('td', {}, b.outcome),
          h('td', {}, b.operation ?? '–'),
          h('td', {}, d.timeAxis === 'wall' && b.end !== null ? ms(b.end - b.start) : '–'),
        ),
      ),
    ),
    h('h2', {}, 'Ownership and fencing'),
    h(
      'ul',
      { 'data-testid': 'ownership' },
      d.ownership.length
        ? d.ownership.map((o) =>
            h(
              'li',
              {},
              `${o.at ? new Date(o.at).toLocaleTimeString() : 'now'}: ${o.event}${o.fencingToken !== null ? ` · token ${o.fencingToken}` : ''}${o.owner ? ` · ${o.owner}` : ''}`,
            ),
          )
        : h('li', { class: 'muted' }, running ? 'no events seen by this server' : 'no current lease (the saga is not running)'),
    ),
    h('h2', {}, `Input${d.inputTruncated ? ' (truncated)' : ''}`),
    h('pre', { class: 'json', 'data-testid': 'saga-input' }, typeof d.input === 'string' ? d.input : JSON.stringify(d.input, null, 2)),
    h('h2', {}, 'Step outputs'),
    h(
      'table',
      {},
      Object.entries(d.outputs).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, h('code', {}, JSON.stringify(v))))),
    ),
    h('h2', {}, `Log records (${d.records.length})`),
    h(
      'table',
      { class: 'records' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['seq', 'record', 'step', 'attempt', 'detail'].map((c) => h('th', {}, c)),
        ),
      ),
      d.records.map((r) =>
        h(
          'tr',
          { class: r.error ? 'err' : '' },
          h('td', {}, String(r.seq)),
          h('td', {}, r.type),
          h('td', {}, r.step ?? ''),
          h('td', {}, r.attempt ?? ''),
          h('td', {}, [r.status, errText(r.error), r.willRetry ? '(will retry)' : ''].filter(Boolean).join(' ')),
        ),
      ),
    ),
  );
}

export function showSaga({ main, onStop }, id) {
  main.append(h('p', { class: 'muted' }, 'loading…'));
  const status = h('p', { 'data-testid': 'saga-retry-result' });
  let poll;
  async function act(button, action) {
    if (action === 'cancel' && !window.confirm('Cancel this saga? Every step that ran is undone (compensated).')) return;
    button.disabled = true;
    status.textContent = action === 'retry' ? 'retrying…' : 'cancelling…';
    try {
      const { data } = await api(`/v1/sagas/${encodeURIComponent(id)}/${action}?wait=20`, { method: 'POST' });
      status.textContent = `${action}: ${data.status}`;
    } catch (e) {
      status.textContent = `${e.code}: ${e.message}`;
    }
    await poll.refresh();
  }
  poll = poller(
    `/v1/sagas/${encodeURIComponent(id)}`,
    STATUS_POLL_MS,
    (d) => render(main, d, act, status),
    (e) => {
      if (e.status === 404) {
        poll.stop();
        main.replaceChildren(
          h('h1', {}, 'Saga ', h('code', {}, id)),
          h('p', { class: 'error', 'data-testid': 'saga-not-found' }, `not found: ${e.message}`),
        );
      } else status.textContent = e.message;
    },
  );
  poll.start();
  onStop(() => poll.stop());
}
