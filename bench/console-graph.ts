// The console's service graph at cluster scale, in real Chromium: layout and first render of a
// synthetic graph (workloads in namespaces of 50, ~2 edges each) at 500, 5,000 and 50,000 nodes,
// for the grouped layout drawn by sigma (WebGL, what the console uses), the same drawn by cytoscape
// (canvas), and ForceAtlas2 (50 iterations) drawn by sigma. Chromium runs with --disable-gpu, so
// WebGL is SwiftShader's software rendering: absolute times are pessimistic, ratios hold.
// `npm run bench -- console-graph [--sizes 500,5000] [--renderers sigma,cytoscape]`
import Fastify from 'fastify';
import { existsSync } from 'node:fs';
import { CONSOLE_DIST, mountConsole } from '../src/console/index.js';
import { openBrowser } from '../test/console/browser.js';
import { emit } from './calc-common.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const sizes = (arg('sizes') ?? '500,5000,50000').split(',').map(Number);
const renderers = (arg('renderers') ?? 'sigma,cytoscape,sigma-fa2').split(',');
const TIMEOUT_MS = 180_000;

interface Result { n: number; edges: number; renderer: string; layoutMs: number; renderMs: number; frameMs: number; error?: string }

async function main(): Promise<void> {
  if (!existsSync(`${CONSOLE_DIST}bench.html`)) throw new Error('console/dist/bench.html is missing: npm run build');
  const app = Fastify();
  mountConsole(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  const browser = await openBrowser({ width: 1280, height: 800 });
  try {
    for (const n of sizes) {
      for (const renderer of renderers) {
        const { page } = browser;
        await page.goto('about:blank');
        await page.goto(`http://127.0.0.1:${port}/console/bench.html?n=${n}&renderer=${renderer}`);
        let r: Result;
        try {
          await page.waitForFunction('window.__bench !== undefined', undefined, { timeout: TIMEOUT_MS, polling: 200 });
          r = (await page.evaluate('window.__bench')) as Result;
        } catch {
          emit('console-graph', `${renderer}.timeout`, TIMEOUT_MS, 'ms', { nodes: n, note: 'did not finish' });
          continue;
        }
        if (r.error !== undefined) {
          emit('console-graph', `${renderer}.error`, 0, 'count', { nodes: n, error: r.error });
          continue;
        }
        emit('console-graph', `${renderer}.layout`, r.layoutMs, 'ms', { nodes: n, edges: r.edges });
        emit('console-graph', `${renderer}.render`, r.renderMs, 'ms', { nodes: n, edges: r.edges });
        // Cytoscape redraws a zoom from its cached layers on a later animation frame: not comparable.
        if (renderer !== 'cytoscape') emit('console-graph', `${renderer}.frame`, r.frameMs, 'ms', { nodes: n, edges: r.edges, what: 'zoom and redraw' });
      }
    }
  } finally {
    await browser.close();
    await app.close();
  }
}

await main();
