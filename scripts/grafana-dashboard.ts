// Generates the Grafana dashboard (deploy/grafana/dashboards/apex-memory.json) from code with the
// typed builder of @grafana/grafana-foundation-sdk. Run `node --import tsx scripts/grafana-dashboard.ts`
// after changing a panel; test/unit/deploy-grafana.test.ts fails when the committed JSON differs
// from what this produces, and the Prometheus acceptance test runs every query in it.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardCursorSync,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

export const DASHBOARD_PATH = fileURLToPath(new URL('../deploy/grafana/dashboards/apex-memory.json', import.meta.url));
/** The datasource uid the provisioning file gives Prometheus. */
export const DATASOURCE = { type: 'prometheus', uid: 'apex-prometheus' };
const S = 'saga=~"$saga"';

interface Line {
  value: number;
  color: string;
}

function query(expr: string, legend: string): DataqueryBuilder {
  return new DataqueryBuilder().datasource(DATASOURCE).expr(expr).legendFormat(legend);
}

const REF_IDS = 'ABCDEFGH';

/** A time series panel; `lines` draws the seed's targets as dashed threshold lines. */
function graph(
  title: string,
  unit: string,
  queries: DataqueryBuilder[],
  opts: { lines?: Line[]; description?: string; min?: number; max?: number } = {},
): TimeseriesPanel {
  const p = new TimeseriesPanel()
    .title(title)
    .unit(unit)
    .datasource(DATASOURCE)
    .height(8)
    .span(12)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  queries.forEach((q, i) => p.withTarget(q.refId(REF_IDS[i] ?? `Q${i}`)));
  if (opts.description) p.description(opts.description);
  if (opts.min !== undefined) p.min(opts.min);
  if (opts.max !== undefined) p.max(opts.max);
  const lines = opts.lines ?? [];
  p.thresholds(
    new ThresholdsConfigBuilder()
      .mode(ThresholdsMode.Absolute)
      .steps([{ value: null, color: 'green' }, ...lines.map((l) => ({ value: l.value, color: l.color }))]),
  );
  p.thresholdsStyle(
    new common.GraphThresholdsStyleConfigBuilder().mode(
      lines.length > 0 ? common.GraphThresholdsStyleMode.Dashed : common.GraphThresholdsStyleMode.Off,
    ),
  );
  return p;
}

/** A single number; `steps` colour it (the first step is the base colour). */
function stat(title: string, unit: string, q: DataqueryBuilder, steps: Array<{ value: number | null; color: string }>): StatPanel {
  return new StatPanel()
    .title(title)
    .unit(unit)
    .datasource(DATASOURCE)
    .height(8)
    .span(6)
    .withTarget(q.refId('A'))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps));
}

export function buildDashboard(): unknown {
  const d = new DashboardBuilder('Apex Memory: sagas and stores')
    .uid('apex-memory')
    .description(
      'Saga outcomes and latency against the seed targets, steps, compensations, the consistency window, cross-store drift and store latency.',
    )
    .tags(['apex-memory', 'sagas'])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(
      new QueryVariableBuilder('saga')
        .label('saga')
        .datasource(DATASOURCE)
        .query('label_values(apex_saga_finished_total, saga)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    );

  d.withRow(new RowBuilder('Targets: success > 99.5 %, compensation < 0.5 %, P90 < 1 s (alert at 2 s)'));
  d.withPanel(
    graph('Success rate (5 m)', 'percentunit', [query(`apex:saga_success_ratio:rate5m{${S}}`, '{{saga}}')], {
      lines: [{ value: 0.995, color: 'red' }],
      description: 'Completed / ended sagas. Target above 99.5 % (the dashed line).',
      max: 1,
    }),
  );
  d.withPanel(
    graph('Compensation rate (5 m)', 'percentunit', [query(`apex:saga_compensation_ratio:rate5m{${S}}`, '{{saga}}')], {
      lines: [{ value: 0.005, color: 'red' }],
      description: 'Compensated / ended sagas. Target below 0.5 % (the dashed line).',
      min: 0,
    }),
  );
  d.withPanel(
    graph(
      'Saga latency P50 / P90 / P99 (5 m)',
      's',
      [
        query(`apex:saga_duration_seconds:p50_5m{${S}}`, 'P50 {{saga}}'),
        query(`apex:saga_duration_seconds:p90_5m{${S}}`, 'P90 {{saga}}'),
        query(`apex:saga_duration_seconds:p99_5m{${S}}`, 'P99 {{saga}}'),
      ],
      {
        lines: [
          { value: 1, color: 'orange' },
          { value: 2, color: 'red' },
        ],
        description: 'Target P90 below 1 s (orange); the alert fires when P90 stays above 2 s for 5 minutes (red).',
      },
    ),
  );
  d.withPanel(
    stat('Stuck sagas', 'short', query(`sum(max by (saga) (apex_sagas_stuck{${S}}))`, 'stuck'), [
      { value: null, color: 'green' },
      { value: 1, color: 'red' },
    ]),
  );
  d.withPanel(
    stat('Workers reporting', 'short', query('count(apex_worker_heartbeat_timestamp_seconds)', 'workers'), [
      { value: null, color: 'red' },
      { value: 1, color: 'green' },
    ]),
  );

  d.withRow(new RowBuilder('Throughput'));
  d.withPanel(
    graph('Sagas ended per second, by outcome', 'ops', [
      query(`sum by (saga, outcome) (rate(apex_saga_finished_total{${S}}[$__rate_interval]))`, '{{saga}} {{outcome}}'),
    ]),
  );
  d.withPanel(graph('Sagas in flight', 'short', [query(`sum by (saga) (apex_sagas_in_flight{${S}})`, '{{saga}}')]));

  d.withRow(new RowBuilder('Steps and compensations'));
  d.withPanel(
    graph('Step latency P90, by step and phase', 's', [
      query(
        `histogram_quantile(0.9, sum by (saga, step, phase, le) (rate(apex_saga_step_duration_seconds_bucket{${S}}[$__rate_interval])))`,
        '{{saga}} {{step}} {{phase}}',
      ),
    ]),
  );
  d.withPanel(
    graph('Retries per second, by step', 'ops', [
      query(`sum by (saga, step, phase) (rate(apex_saga_step_retries_total{${S}}[$__rate_interval]))`, '{{saga}} {{step}} {{phase}}'),
    ]),
  );
  d.withPanel(
    graph('Compensations per second, by step and outcome', 'ops', [
      query(`sum by (saga, step, outcome) (rate(apex_saga_compensations_total{${S}}[$__rate_interval]))`, '{{saga}} {{step}} {{outcome}}'),
    ]),
  );
  d.withPanel(
    graph('Stuck sagas (from the saga log)', 'short', [query(`max by (saga) (apex_sagas_stuck{${S}})`, '{{saga}}')], {
      lines: [{ value: 1, color: 'red' }],
    }),
  );

  d.withRow(new RowBuilder('Consistency window and drift'));
  d.withPanel(
    graph(
      'Consistency window: pending -> committed (P50 / P90)',
      's',
      [
        query(
          `histogram_quantile(0.5, sum by (saga, le) (rate(apex_consistency_window_seconds_bucket{${S}}[$__rate_interval])))`,
          'P50 {{saga}}',
        ),
        query(`apex:consistency_window_seconds:p90_5m{${S}}`, 'P90 {{saga}} (5 m)'),
      ],
      {
        lines: [{ value: 1, color: 'red' }],
        description: 'How long readers see a document as pending. The seed names about 800 ms; the alert fires above 1 s (P90).',
      },
    ),
  );
  d.withPanel(
    graph('Pending documents (PostgreSQL)', 'short', [
      query('max(apex_documents_pending)', 'pending'),
      query('max(apex_documents_pending_oldest_age_seconds)', 'oldest age (s)'),
    ]),
  );
  d.withPanel(
    graph('Cross-store drift: violations by kind (last verify)', 'short', [query('max by (kind) (apex_drift_violations)', '{{kind}}')], {
      lines: [{ value: 1, color: 'red' }],
      description:
        'From `apex-memory worker --verify-every` or `apex-memory verify --pushgateway`. not_final and leftover_version are normal while sagas run. No series until a verify ran: "never verified", not 0.',
    }).noValue('never verified'),
  );
  d.withPanel(
    stat('Last verify', 'dateTimeFromNow', query('max(apex_verify_last_run_timestamp_seconds) * 1000', 'last verify'), [
      { value: null, color: 'text' },
    ])
      .noValue('never verified')
      .description('When the last verify that fed the drift panel ended. Absent (never verified) until one ran.'),
  );

  d.withRow(new RowBuilder('Stores and saga log'));
  d.withPanel(
    graph('Store latency P90, by store and operation', 's', [
      query(
        'histogram_quantile(0.9, sum by (store, operation, le) (rate(apex_store_request_duration_seconds_bucket[$__rate_interval])))',
        '{{store}} {{operation}}',
      ),
    ]),
  );
  d.withPanel(
    graph('Store errors per second, by store and outcome', 'ops', [
      query(
        'sum by (store, outcome) (rate(apex_store_request_duration_seconds_count{outcome!="ok"}[$__rate_interval]))',
        '{{store}} {{outcome}}',
      ),
    ]),
  );
  d.withPanel(
    graph('Fenced writes and lease events per second', 'ops', [
      query('sum by (store) (rate(apex_store_fenced_writes_total[$__rate_interval]))', 'fenced {{store}}'),
      query('sum by (event) (rate(apex_saga_lease_events_total[$__rate_interval]))', 'lease {{event}}'),
    ]),
  );
  d.withPanel(
    graph('Saga log: commit latency P90 and group-commit size (median)', 's', [
      query('histogram_quantile(0.9, sum by (le) (rate(apex_saga_log_commit_duration_seconds_bucket[$__rate_interval])))', 'commit P90'),
      query(
        'histogram_quantile(0.5, sum by (le) (rate(apex_saga_log_commit_sagas_bucket[$__rate_interval])))',
        'sagas per commit (median)',
      ),
    ]),
  );
  return d.build();
}

/** The file's exact text: stable key order from the builder, two-space indent, final newline. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DASHBOARD_PATH, dashboardJson());
  process.stdout.write(`wrote ${DASHBOARD_PATH}\n`);
}
