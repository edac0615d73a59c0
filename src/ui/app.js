// The dashboard: hash routes, one view at a time; views that show live numbers poll while shown.
import { api, setToken } from './api.js';
import { h } from './dom.js';
import { showDocuments, showOverview } from './views.js';
import { showSagaList } from './sagas.js';
import { showSaga } from './timeline.js';

const main = document.getElementById('main');
let stopCurrent = () => {};

function route() {
  stopCurrent();
  stopCurrent = () => {};
  const hash = location.hash.replace(/^#/, '') || '/overview';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean);
  const nav = parts[0] === 'sagas' && params.get('stuck') === 'true' ? 'stuck' : parts[0];
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
  main.replaceChildren();
  const ctx = { main, params, onStop: (fn) => (stopCurrent = fn) };
  try {
    if (parts[0] === 'sagas' && parts[1]) showSaga(ctx, decodeURIComponent(parts[1]));
    else if (parts[0] === 'sagas') showSagaList(ctx);
    else if (parts[0] === 'retrying') showSagaList(ctx, 'retrying');
    else if (parts[0] === 'documents') showDocuments(ctx, parts[1] ? decodeURIComponent(parts[1]) : '');
    else showOverview(ctx);
  } catch (err) {
    main.append(h('p', { class: 'error' }, String(err)));
  }
}

document.getElementById('auth-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(document.getElementById('token').value);
  document.getElementById('auth').hidden = true;
  route();
});
window.addEventListener('hashchange', route);
route();

// A fault drill (APEX_INJECT_FAULTS) is announced on every page, so that a rehearsal's failures
// are never mistaken for an outage (and a forgotten drill is noticed). /readyz names it.
const DRILL_POLL_MS = 15_000;
function showDrill(ready) {
  const banner = document.getElementById('drill');
  const stores = ready?.faultDrill?.stores ?? [];
  banner.hidden = stores.length === 0;
  banner.textContent = stores.length
    ? `Fault drill: APEX_INJECT_FAULTS injects failures into ${stores.join(', ')}. Failures on this server are rehearsed, not real.`
    : '';
}
async function drillBanner() {
  try {
    showDrill((await api('/readyz')).data);
  } catch (e) {
    // 503 (a store down) still carries the readiness body; a 401 shows the token form.
    if (e.status === 503) showDrill(e.problem);
  }
  setTimeout(drillBanner, DRILL_POLL_MS);
}
drillBanner();
