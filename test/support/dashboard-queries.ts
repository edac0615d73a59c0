// The PromQL of every panel of the committed Grafana dashboard (for the dashboard tests and the
// Prometheus acceptance test, which runs each one against a real Prometheus).
import { readFileSync } from 'node:fs';
import { DASHBOARD_PATH } from '../../scripts/grafana-dashboard.js';

export interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string; refId?: string; datasource?: { uid: string } }>;
}

export function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const d = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { panels: Panel[] };
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/** Grafana's template variables, as Grafana would expand them for "All" sagas. */
export function expandVariables(expr: string, rateInterval = '1m'): string {
  return expr.replaceAll('$saga', '.*').replaceAll('$__rate_interval', rateInterval);
}
