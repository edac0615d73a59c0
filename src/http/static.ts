// Static files of the dashboard (src/ui) and of the API reference page (swagger-ui-dist), served
// from disk by this process: the pages load nothing from a CDN. Only files in an explicit list
// are served, so no request path ever reaches the file system.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';

const require = createRequire(import.meta.url);
const pkgDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));
// src/http and dist/http are both two levels below the package root, like src/ui.
const UI_DIR = fileURLToPath(new URL('../../src/ui/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

interface Asset {
  file: string;
  type: string;
}

function asset(file: string): Asset {
  const ext = /\.[a-z]+$/.exec(file)?.[0] ?? '';
  return { file, type: TYPES[ext] ?? 'application/octet-stream' };
}

/** URL path -> file. */
function assets(): Map<string, Asset> {
  const swagger = pkgDir('swagger-ui-dist');
  const uplot = pkgDir('uplot');
  const m = new Map<string, Asset>();
  for (const f of ['index.html', 'app.js', 'api.js', 'dom.js', 'views.js', 'sagas.js', 'timeline.js', 'ids.js', 'app.css'])
    m.set(`/ui/${f}`, asset(join(UI_DIR, f)));
  m.set('/ui/', asset(join(UI_DIR, 'index.html')));
  m.set('/ui/vendor/uPlot.iife.min.js', asset(join(uplot, 'dist', 'uPlot.iife.min.js')));
  m.set('/ui/vendor/uPlot.min.css', asset(join(uplot, 'dist', 'uPlot.min.css')));
  m.set('/docs', asset(join(UI_DIR, 'docs.html')));
  m.set('/docs/init.js', asset(join(UI_DIR, 'docs-init.js')));
  for (const f of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui.css', 'favicon-32x32.png'])
    m.set(`/docs/${f}`, asset(join(swagger, f)));
  return m;
}

// Pages may load scripts and styles from this origin only; no inline scripts.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export function registerStatic(app: OpenAPIHono): void {
  const files = assets();
  const cache = new Map<string, Buffer>();
  app.get('/ui', (c) => c.redirect('/ui/', 302));
  for (const [path, a] of files) {
    app.get(path, (c) => {
      let body = cache.get(a.file);
      if (!body) {
        body = readFileSync(a.file);
        cache.set(a.file, body);
      }
      return c.body(new Uint8Array(body), 200, {
        'content-type': a.type,
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
      });
    });
  }
}
