// 405 with `Allow` instead of 404 when the path exists under other methods: a client that used
// the wrong verb learns which ones the path takes. The route table is hono's own (app.routes);
// middleware (`use`, method ALL) is not a route.

const toRegExp = (path: string): RegExp =>
  new RegExp(
    `^${path
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\/:\w+/g, '/[^/]+')
      .replace(/\*/g, '.*')}$`,
  );

/** Methods registered for `path`, sorted; HEAD wherever GET is (hono answers HEAD with GET). */
export function allowedMethods(app: { routes: ReadonlyArray<{ method: string; path: string }> }, path: string): string[] {
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    if (toRegExp(r.path).test(path)) out.add(r.method);
  }
  if (out.has('GET')) out.add('HEAD');
  return [...out].sort();
}
