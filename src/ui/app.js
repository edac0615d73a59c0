// The dashboard: hash routes, one view at a time; views that show live numbers poll while shown.
import { setToken } from './api.js';
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
