// Saga ids on the page: UUIDv7 ids share their first 13 characters for every saga started in the
// same millisecond, so a fixed cut repeats. Each id is shown by its shortest prefix that no other
// id on the page shares (8 characters at least), the full id in its title, with a copy button.
import { h } from './dom.js';

export function shortestUniquePrefixes(ids, min = 8) {
  const sorted = [...new Set(ids)].sort();
  const out = new Map();
  sorted.forEach((id, i) => {
    const common = (a, b) => {
      let n = 0;
      while (n < a.length && n < b.length && a[n] === b[n]) n++;
      return n;
    };
    const need = Math.max(i > 0 ? common(id, sorted[i - 1]) : 0, i < sorted.length - 1 ? common(id, sorted[i + 1]) : 0) + 1;
    out.set(id, id.slice(0, Math.max(min, need)));
  });
  return out;
}

export function copyButton(text, label = 'copy') {
  const b = h('button', { class: 'copy', type: 'button', title: `copy ${text}`, 'data-copy': text, 'data-testid': 'copy-id' }, label);
  b.addEventListener('click', async (e) => {
    e.preventDefault();
    e.stopPropagation();
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'copied';
    } catch {
      // No clipboard (an insecure origin): select the id so the operator can copy it by hand.
      window.prompt('Saga id', text);
    }
    setTimeout(() => (b.textContent = label), 1200);
  });
  return b;
}

export function idCell(id, prefix) {
  const shown = prefix && prefix.length < id.length ? `${prefix}…` : id;
  return [
    h('a', { href: `#/sagas/${encodeURIComponent(id)}`, 'data-testid': 'saga-link', title: id, class: 'id' }, shown),
    ' ',
    copyButton(id),
  ];
}
