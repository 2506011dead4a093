// Time to first render of the explorer's home page, and the API calls it
// makes, for docs/performance.md.
//
// Usage: node explorer/bench/first_render.mjs BINARY DATA_DIR [runs]
//
// Starts BINARY on DATA_DIR (a regtest chain, e.g. one written by
// `sync_bench make-chain DIR 100000 1`; the node adds nothing to it), then
// loads / in Debian's Chromium `runs` times (default 5), each in a fresh
// browser context (empty cache). For each load: ms from navigation start to
// the tip's height on screen ("first render"), to the three charts drawn,
// and each request the page made with its time and size. As a reference
// measured the same way in the same run: a fresh context loading GET
// /health (a tiny JSON document), until its body is there. Prints one line
// per load and the medians.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

const [binary, dataDir, runsText] = process.argv.slice(2);
if (!binary || !dataDir) {
  console.error('usage: first_render.mjs BINARY DATA_DIR [runs]');
  process.exit(2);
}
const runs = Number(runsText ?? 5);

const freePort = () => new Promise((resolve) => {
  const srv = createServer();
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

const http = await freePort();
const node = spawn(binary, ['node', '--network', 'regtest', '--http-port', String(http),
  '--p2p-port', String(await freePort()), '--data-dir', dataDir, '--log-level', 'warn'], { stdio: 'ignore' });
const url = `http://127.0.0.1:${http}`;
let status;
for (let i = 0; i < 1200 && !status; i++) {
  try { status = await (await fetch(`${url}/status`)).json(); } catch { await new Promise((r) => setTimeout(r, 50)); }
}
if (!status) { node.kill(); throw new Error('node did not start'); }

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const renders = [];
const chartTimes = [];
const references = [];
const domReady = [];
const perPath = new Map();
try {
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const requests = [];
    page.on('requestfinished', async (req) => {
      const t = req.timing();
      const res = await req.response();
      const body = res ? await res.body().catch(() => Buffer.alloc(0)) : Buffer.alloc(0);
      requests.push({ path: new URL(req.url()).pathname + new URL(req.url()).search, ms: t.responseEnd, bytes: body.length });
    });
    await page.goto(`${url}/`, { waitUntil: 'commit' });
    await page.waitForFunction((h) => document.querySelector('#c-height .value')?.textContent === h.toLocaleString('en-US'), status.height, { polling: 'raf', timeout: 60000 });
    const render = await page.evaluate(() => performance.now());
    await page.waitForFunction(() => document.querySelectorAll('#charts canvas').length >= 3, null, { polling: 'raf', timeout: 60000 });
    const charts = await page.evaluate(() => performance.now());
    const dom = await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd);
    await page.waitForTimeout(200); // let requestfinished handlers finish
    domReady.push(dom);
    renders.push(render);
    chartTimes.push(charts);
    const api = requests.filter((r) => !r.path.startsWith('/explorer/') && r.path !== '/' && r.path !== '/events');
    for (const r of requests) {
      const key = r.path.replace(/[0-9a-f]{64}/g, '{hash}').replace(/from=\d+/, 'from=H');
      if (!perPath.has(key)) perPath.set(key, { ms: [], bytes: r.bytes });
      perPath.get(key).ms.push(r.ms);
    }
    await context.close();
    const refContext = await browser.newContext();
    const ref = await refContext.newPage();
    await ref.goto(`${url}/health`, { waitUntil: 'commit' });
    await ref.waitForFunction(() => document.body?.textContent.includes('status'), null, { polling: 'raf' });
    const reference = await ref.evaluate(() => performance.now());
    references.push(reference);
    await refContext.close();
    console.log(`load ${run + 1}: DOM ready ${dom.toFixed(0)} ms, tip on screen ${render.toFixed(0)} ms, ` +
      `charts ${charts.toFixed(0)} ms (reference: /health shown ${reference.toFixed(0)} ms), ` +
      `${requests.length} requests (${api.length} API): ` +
      api.map((r) => `${r.path} ${r.ms.toFixed(1)} ms ${r.bytes} B`).join('; '));
  }
  console.log(`height ${status.height}: medians of ${runs} loads: DOM ready ${median(domReady).toFixed(0)} ms, ` +
    `tip on screen ${median(renders).toFixed(0)} ms, charts drawn ${median(chartTimes).toFixed(0)} ms; ` +
    `reference /health shown ${median(references).toFixed(0)} ms`);
  for (const [path, { ms, bytes }] of perPath) {
    console.log(`  ${path}: median ${median(ms).toFixed(1)} ms, ${bytes} bytes`);
  }
} finally {
  await browser.close();
  node.kill('SIGTERM');
}
