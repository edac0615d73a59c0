// Calls the API with the bearer token the user gave (kept for this tab only), and turns problem
// responses into errors that carry their code.
const TOKEN_KEY = 'apex-token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? 'HTTP_ERROR';
    this.problem = problem;
  }
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export async function api(path, { method = 'GET', body, etag } = {}) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (etag) headers['if-none-match'] = etag;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  if (res.status === 304) return { status: 304, data: null, etag };
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401) document.getElementById('auth').hidden = false;
  if (!res.ok && res.status !== 202) throw new ApiError(res.status, data);
  return { status: res.status, data, etag: res.headers.get('etag') };
}

/**
 * Polls `path` every `ms` while the view is shown, with If-None-Match: `onData` runs only when the
 * answer changed (a 304 costs the server no body). `refresh()` polls at once (after an action).
 */
export function poller(path, ms, onData, onError = () => {}) {
  let tag;
  let timer;
  let stopped = false;
  let current = path;
  async function tick() {
    clearTimeout(timer);
    try {
      const r = await api(typeof current === 'function' ? current() : current, { etag: tag });
      if (r.status !== 304) {
        tag = r.etag ?? undefined;
        await onData(r.data);
      }
    } catch (e) {
      onError(e);
    }
    if (!stopped) timer = setTimeout(tick, ms);
  }
  return {
    start: () => tick(),
    refresh: () => {
      tag = undefined;
      return tick();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
