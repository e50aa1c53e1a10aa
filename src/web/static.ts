/**
 * The nurse station's pages and assets: plain HTML, CSS and JavaScript from `src/web/public`
 * (no build step) and uPlot from node_modules. Pages need a session (the access guard
 * redirects to /signin); assets hold no patient data and are open. Every answer carries
 * headers that keep the pages from being framed, sniffed or fed foreign scripts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Content-Security-Policy: only this origin's scripts, styles, images and connections. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Where the page files are: beside this module in src/, or back in src/ from the built dist/. */
export function publicDir(): string {
  const here = import.meta.dirname;
  const candidates = [join(here, 'public'), resolve(here, '../../../src/web/public')];
  const found = candidates.find((d) => existsSync(join(d, 'ward.html')));
  if (!found) throw new Error(`nurse station pages not found (looked in ${candidates.join(', ')})`);
  return found;
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

function loadAssets(): Map<string, Asset> {
  const dir = publicDir();
  const assets = new Map<string, Asset>();
  for (const f of readdirSync(dir)) {
    const type = TYPES[extname(f)];
    if (type) assets.set(f, { type, body: readFileSync(join(dir, f)) });
  }
  const shell = readFileSync(join(dir, 'page.html'), 'utf8');
  for (const [, name, title, head] of SHELL_PAGES) {
    assets.set(`${name}.html`, { type: TYPES['.html']!, body: Buffer.from(shell.replaceAll('{{name}}', name).replaceAll('{{title}}', title).replace('{{head}}', head ?? '')) });
  }
  const require = createRequire(import.meta.url);
  assets.set('uplot.js', { type: TYPES['.js']!, body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')) });
  assets.set('uplot.css', { type: TYPES['.css']!, body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) });
  return assets;
}

/** Page routes and the HTML file each serves. */
const PAGES: ReadonlyArray<[string, string]> = [
  ['/signin', 'signin.html'],
  ['/ward', 'ward.html'],
];

/** Pages made from the plain page shell (`page.html`): route, script name (also the element it fills), title, more for the head. */
const SHELL_PAGES: ReadonlyArray<[string, string, string, string?]> = [
  ['/patients/:id', 'patient', 'Patient', '\n  <link rel="stylesheet" href="/static/uplot.css">\n  <script src="/static/uplot.js"></script>'],
  ['/census', 'census', 'Census'],
  ['/assignments', 'assignments', 'Assignments'],
  ['/audit', 'audit', 'Audit log'],
];

export function staticRoutes(): (app: FastifyInstance) => void {
  const assets = loadAssets();
  return (app) => {
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('x-frame-options', 'DENY');
      if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('content-security-policy', CSP);
      return payload;
    });
    app.get('/', async (_req, reply) => reply.redirect('/ward', 303));
    app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
    for (const [url, file] of [...PAGES, ...SHELL_PAGES.map(([u, name]) => [u, `${name}.html`] as const)]) {
      const page = assets.get(file);
      if (!page) throw new Error(`nurse station page ${file} missing`);
      app.get(url, async (_req, reply) => reply.type(page.type).header('cache-control', 'no-store').send(page.body));
    }
    app.get<{ Params: { file: string } }>('/static/:file', async (req, reply) => {
      const a = assets.get(req.params.file);
      if (!a) return reply.code(404).send({ error: 'no such file' });
      return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
    });
  };
}
