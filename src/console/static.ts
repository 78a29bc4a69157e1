// Serves the built console (console/dist) at /console/. Static files carry no data, so they are
// public (the access hook lets /console/* through without a token); the app's API calls carry the
// bearer token. Without a build, /console/ says how to make one instead of failing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** console/dist of the checkout this file is in (compiled to dist/src/console/). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Nothing is fetched from anywhere but this server (no CDN fonts or scripts). */
const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Margay console</title></head>
<body><main><h1>The console is not built</h1><p>This server has no <code>console/dist</code>. Build it with
<code>npm run build</code> (or <code>npx vite build console</code>) in the Margay checkout, then reload.</p>
<p>The API itself works: <code>kubectl</code> and <code>margay</code> commands are unaffected.</p></main></body></html>`;

export function mountConsole(app: FastifyInstance, dist = CONSOLE_DIST): void {
  const send = (reply: FastifyReply, file: string): FastifyReply => {
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    // Vite puts a content hash in every asset name, so they never change; index.html always may.
    const cache = file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply.code(200).header('content-type', type).header('cache-control', cache).header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').send(readFileSync(file));
  };
  app.get('/console', (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console/*', (req, reply) => {
    const index = join(dist, 'index.html');
    if (!existsSync(index)) return reply.code(503).header('content-type', 'text/html; charset=utf-8').send(NOT_BUILT);
    const rel = decodeURIComponent((req.params as { '*': string })['*'] ?? '');
    const path = normalize(join(dist, rel));
    // Only files under dist; anything else (and every unknown path) is the app, which routes by hash.
    if (rel !== '' && path.startsWith(dist) && existsSync(path) && statSync(path).isFile()) return send(reply, path);
    if (/\.[a-z0-9]+$/i.test(rel)) return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('not found');
    return send(reply, index);
  });
}
