// Tiny DOM helpers. Text always goes in as text nodes (never innerHTML): saga inputs, errors and
// document titles are user data.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export const ms = (v) => (v === null || v === undefined ? '–' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(2)} s`);
export const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(2)} %`);
export const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '–');
export const badge = (status) => h('span', { class: `badge s-${status}`, 'data-status': status }, status);
export const errText = (e) => (e ? `[${e.code}] ${e.message}` : '');
