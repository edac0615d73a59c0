// Overview (live numbers against the seed's targets, a chart of outcomes per minute) and the
// documents page (one id, its state in each of the four stores).
import { api } from './api.js';
import { h, ms, pct, time } from './dom.js';

const POLL_MS = 2000;

function card(label, value, { target, bad, testid } = {}) {
  return h(
    'div',
    { class: `card${bad ? ' bad' : ''}`, 'data-testid': testid },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    target ? h('div', { class: 'target' }, target) : null,
  );
}

export function showOverview({ main, onStop }) {
  const cards = h('div', { class: 'cards', 'data-testid': 'overview-cards' });
  const chartBox = h('div', { class: 'chart', 'data-testid': 'overview-chart' });
  const chartNote = h('p', { class: 'chart-note', 'data-testid': 'chart-note' });
  const verifyBtn = h('button', { 'data-testid': 'run-verify' }, 'Run verify now');
  const status = h('span', { class: 'muted' });
  main.append(
    h('h1', {}, 'Overview'),
    cards,
    h('h2', {}, 'Sagas ended per minute, and P90 latency'),
    chartBox,
    chartNote,
    h('p', {}, verifyBtn, ' ', status),
  );
  let plot;
  let cap = 0;
  let timer;
  let stopped = false;
  verifyBtn.addEventListener('click', async () => {
    status.textContent = 'verifying…';
    try {
      const { data } = await api('/v1/verify', { method: 'POST' });
      status.textContent = `verify: ${data.violations.length} violation(s) over ${data.documents} document(s)`;
      await refresh();
    } catch (e) {
      status.textContent = `verify failed: ${e.message}`;
    }
  });
  async function refresh() {
    const { data: o } = await api('/v1/overview');
    const t = o.targets;
    const drift = o.lastVerify ? `${o.lastVerify.violations} violation(s)` : 'never verified';
    cards.replaceChildren(
      card('Success rate', pct(o.successRate), {
        target: `target ≥ ${pct(t.successRate)}`,
        bad: o.successRate !== null && o.successRate < t.successRate,
        testid: 'success-rate',
      }),
      card('Compensation rate', pct(o.compensationRate), {
        target: `target ≤ ${pct(t.compensationRate)}`,
        bad: o.compensationRate !== null && o.compensationRate > t.compensationRate,
        testid: 'compensation-rate',
      }),
      card('P50', ms(o.latencyMs.p50), { testid: 'p50' }),
      card('P90', ms(o.latencyMs.p90), {
        target: `target < ${ms(t.p90Ms)}, alert > ${ms(t.p90AlertMs)}`,
        bad: o.latencyMs.p90 !== null && o.latencyMs.p90 > t.p90Ms,
        testid: 'p90',
      }),
      card('P99', ms(o.latencyMs.p99), { testid: 'p99' }),
      card('In flight', `${o.inFlight} running, ${o.pending} queued`, { testid: 'in-flight' }),
      card('Stuck', h('a', { href: '#/sagas?stuck=true' }, String(o.stuck)), { bad: o.stuck > 0, testid: 'stuck-count' }),
      card('Consistency window', `P50 ${ms(o.consistencyWindowMs.p50)} · P99 ${ms(o.consistencyWindowMs.p99)}`, {
        target: `${o.consistencyWindowMs.samples} sample(s), this server`,
        testid: 'consistency',
      }),
      vectorIndexCard(o.vectorIndex),
      card('Drift (last verify)', drift, {
        target: o.lastVerify ? time(o.lastVerify.at) : 'never verified by this server',
        bad: (o.lastVerify?.violations ?? 0) > 0,
        testid: 'drift',
      }),
    );
    document.getElementById('live').textContent =
      `${o.profile} · ${o.mode} mode · ${o.window.sagas} saga(s) · updated ${new Date().toLocaleTimeString()}`;
    drawChart(o.series, t.p90AlertMs);
  }
  // The vector index (docs/reindex.md): what serves reads, and a reindex in progress or not finished.
  function vectorIndexCard(v) {
    if (!v) return card('Vector index', 'unknown', { target: 'no index record', testid: 'vector-index' });
    const what = (t) => `${t.model}, dimension ${t.dimension} · ${t.collection}`;
    const target =
      v.phase === 'migrating'
        ? `reindex to ${what(v.next)} in progress (dual writes)`
        : v.phase === 'switched'
          ? `switched; previous ${what(v.previous)} kept until reindex --finish`
          : 'steady';
    return card('Vector index', what(v.active), {
      target: v.mismatch ? `MISMATCH: ${v.mismatch}` : target,
      bad: v.mismatch !== null,
      testid: 'vector-index',
    });
  }
  // The P90 axis is clipped so that a few outlier minutes (a saga retried after hours stuck ends
  // with a huge duration) cannot flatten everything else: the axis tops at the larger of 1.5 x the
  // alert threshold and 3 x the median of the minutes' P90s; minutes above it are drawn at the top
  // and counted under the chart.
  function clipMs(series, alertMs) {
    const vals = series
      .map((p) => p.p90Ms)
      .filter((v) => v !== null)
      .sort((a, b) => a - b);
    const median = vals.length ? vals[Math.floor((vals.length - 1) / 2)] : 0;
    const cap = Math.max(alertMs * 1.5, median * 3);
    const above = vals.filter((v) => v > cap).length;
    return { cap, above, max: vals.length ? vals[vals.length - 1] : 0 };
  }
  function drawChart(series, alertMs) {
    const clip = clipMs(series, alertMs);
    cap = clip.cap;
    chartNote.textContent = clip.above
      ? `P90 axis clipped at ${ms(clip.cap)}: ${clip.above} minute(s) above it (highest ${ms(clip.max)}), drawn at the top.`
      : '';
    const data = [
      series.map((p) => p.t / 1000),
      series.map((p) => p.completed),
      series.map((p) => p.compensated),
      series.map((p) => p.stuck),
      series.map((p) => (p.p90Ms === null ? null : Math.min(p.p90Ms, clip.cap))),
    ];
    if (plot) {
      plot.setScale('ms', { min: 0, max: clip.cap });
      plot.setData(data);
      return;
    }
    const opts = {
      width: Math.min(960, main.clientWidth || 960),
      height: 240,
      series: [
        {},
        { label: 'completed', stroke: '#2e7d32', width: 2 },
        { label: 'compensated', stroke: '#e65100', width: 2 },
        { label: 'stuck', stroke: '#c62828', width: 2 },
        { label: 'P90', stroke: '#1565c0', dash: [6, 4], scale: 'ms', value: (u, v) => (v === null ? '–' : ms(v)) },
      ],
      scales: { ms: { auto: false, range: () => [0, cap] } },
      // The unit is in each tick ("250 ms", "1.50 s"), not a rotated label that would overlap them.
      axes: [
        {},
        { label: 'sagas' },
        { side: 1, scale: 'ms', size: 70, grid: { show: false }, values: (u, ticks) => ticks.map((t) => ms(t)) },
      ],
    };
    plot = new window.uPlot(opts, data, chartBox);
  }
  const loop = async () => {
    try {
      await refresh();
    } catch (e) {
      status.textContent = e.message;
    }
    if (!stopped) timer = setTimeout(loop, POLL_MS);
  };
  loop();
  onStop(() => {
    stopped = true;
    clearTimeout(timer);
  });
}

export function showDocuments({ main }, initialId) {
  const input = h('input', { id: 'doc-id', 'data-testid': 'doc-id', placeholder: 'document id', value: initialId, size: 40 });
  const out = h('div', { 'data-testid': 'doc-result' });
  const form = h('form', {}, input, ' ', h('button', {}, 'Look up'));
  main.append(h('h1', {}, 'Documents'), form, out);
  async function lookup(id) {
    out.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
    try {
      const { data: s } = await api(`/v1/documents/${encodeURIComponent(id)}/stores`);
      const v = (list) =>
        list.length === 0 ? 'nothing' : list.map((x) => `${x.contentSha256.slice(0, 12)}… (${x.chunkCount} chunks)`).join(', ');
      const rows = [
        [
          'PostgreSQL',
          `${s.postgres.ingestionStatus}${s.postgres.contentSha256 ? ` · ${s.postgres.contentSha256.slice(0, 12)}… (${s.postgres.chunks} chunks)` : ''}${s.postgres.pendingVersions.length ? ` · ${s.postgres.pendingVersions.length} version(s) in flight` : ''}`,
        ],
        ['Neo4j', v(s.neo4j.versions)],
        ['Qdrant', v(s.qdrant.versions)],
        ['Redis', s.redis.contentSha256 ? `${s.redis.contentSha256.slice(0, 12)}… (${s.redis.chunkCount} chunks)` : 'nothing'],
      ];
      if (!s.exists) {
        out.replaceChildren(
          h(
            'p',
            {},
            h('span', { class: 'badge', 'data-testid': 'doc-consistent', 'data-state': 'not-found' }, 'not found'),
            ` no store holds anything for "${id}"`,
          ),
        );
        return;
      }
      out.replaceChildren(
        h(
          'p',
          {},
          h(
            'span',
            {
              class: `badge ${s.consistent ? 's-completed' : 's-stuck'}`,
              'data-testid': 'doc-consistent',
              'data-state': s.consistent ? 'consistent' : 'differ',
            },
            s.consistent ? 'consistent' : 'stores differ',
          ),
          s.postgres.sagaId ? [' last saga ', h('a', { href: `#/sagas/${encodeURIComponent(s.postgres.sagaId)}` }, s.postgres.sagaId)] : '',
        ),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'store'), h('th', {}, 'holds'))),
          h(
            'tbody',
            {},
            rows.map(([k, val]) => h('tr', { 'data-store': k }, h('td', {}, k), h('td', {}, val))),
          ),
        ),
      );
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/documents/${encodeURIComponent(input.value.trim())}`;
  });
  if (initialId) lookup(initialId);
}
