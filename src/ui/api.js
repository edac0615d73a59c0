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

export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401) document.getElementById('auth').hidden = false;
  if (!res.ok && res.status !== 202) throw new ApiError(res.status, data);
  return { status: res.status, data };
}
