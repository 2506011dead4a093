// Browser tests of the explorer: real powchain nodes on loopback and Debian's
// Chromium, driven headless by playwright-core. Run by ctest (browser.explorer)
// with POWCHAIN_BINARY set; SCREENSHOT_DIR is where the screenshots go
// (docs/explorer.md shows copies of them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BINARY = process.env.POWCHAIN_BINARY;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || join(tmpdir(), 'powchain-explorer-shots');
// A regtest address (its key is nobody's): mined blocks pay it, so the
// chain has transactions to show.
const ADDRESS = 'powrt1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqpy0v33';

assert.ok(BINARY, 'POWCHAIN_BINARY must name the powchain binary');
mkdirSync(SHOTS, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'powchain-explorer-'));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function until(what, fn, ms = 20000, every = 50) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { if ((last = await fn())) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

class Node {
  static async start(name, extra = []) {
    const node = new Node();
    node.http = await freePort();
    node.p2p = await freePort();
    const log = openSync(join(work, `${name}.log`), 'w');
    node.proc = spawn(BINARY, ['node', '--network', 'regtest', '--http-port', String(node.http),
      '--p2p-port', String(node.p2p), '--data-dir', join(work, name), ...extra],
    { stdio: ['ignore', log, log] });
    node.url = `http://127.0.0.1:${node.http}`;
    await until(`${name} to answer`, async () => (await fetch(`${node.url}/status`)).ok);
    return node;
  }
  async get(path) {
    const res = await fetch(this.url + path);
    assert.ok(res.ok, `GET ${path}: ${res.status}`);
    return res.json();
  }
  async post(path, body) {
    const res = await fetch(this.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.ok(res.ok, `POST ${path}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  }
  mine(data) { return this.post('/mine', { data }); }
  stop() { this.proc.kill('SIGTERM'); }
}

let a;
let browser;
let page;
const consoleErrors = [];
const foreignRequests = [];

function watch(p, origin) {
  p.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  p.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  p.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(`${origin}/`) && !u.startsWith('data:')) foreignRequests.push(u);
  });
}

before(async () => {
  a = await Node.start('a', ['--miner-address', ADDRESS]);
  for (let i = 0; i < 3; i++) await a.mine({ n: i });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  watch(page, a.url);
});

after(async () => {
  await browser?.close();
  a?.stop();
  globalThis.b?.stop();
  rmSync(work, { recursive: true, force: true });
});

const cardText = (id) => page.locator(`#${id} .value`).innerText();

test('home shows the tip and follows new blocks live', async () => {
  await page.goto(`${a.url}/`);
  const status = await a.get('/status');
  await until('the height card', async () => (await cardText('c-height')) === String(status.height));
  assert.ok((await cardText('c-tip')).startsWith(status.tip.slice(0, 10)));
  await until('the live badge', async () => (await page.locator('#live').innerText()) === 'live', 5000);
  // A block mined by the test shows without reload within 2 s.
  const mined = await a.mine({ live: true });
  const t0 = Date.now();
  await until('the new height', async () => (await cardText('c-height')) === String(mined.height), 2000, 20);
  const took = Date.now() - t0;
  console.log(`# new block shown ${took} ms after POST /mine answered`);
  assert.ok((await page.locator('text=Latest blocks').count()) > 0);
  assert.ok(await page.locator(`a[href="#/block/${mined.hash}"]`).count() > 0);
  // The charts draw: three uPlot canvases.
  await until('three charts', async () => (await page.locator('#charts canvas').count()) >= 3, 5000);
  await page.screenshot({ path: join(SHOTS, 'explorer-home.png'), fullPage: true });
});

test('block, transaction and address pages', async () => {
  const block = await a.get('/blocks/2');
  await page.goto(`${a.url}/#/block/2`);
  await page.locator('h1', { hasText: 'Block 2' }).waitFor();
  assert.ok((await page.locator('dl.fields').innerText()).includes(block.hash));
  assert.ok((await page.locator('dl.fields').innerText()).includes(block.dataHash));
  await page.screenshot({ path: join(SHOTS, 'explorer-block.png'), fullPage: true });

  const [coinbase] = await a.get('/blocks/2/txids');
  await page.locator(`a[href="#/tx/${coinbase}"]`).click();
  await page.locator('h1', { hasText: 'Transaction' }).waitFor();
  assert.ok((await page.locator('dl.fields').first().innerText()).includes('confirmed in'));
  // The inclusion proof is checked in the browser.
  await page.locator('#proof-ok').waitFor({ timeout: 5000 });
  await page.screenshot({ path: join(SHOTS, 'explorer-tx.png'), fullPage: true });

  await page.locator(`a[href="#/address/${ADDRESS}"]`).first().click();
  await page.locator('h1', { hasText: 'Address' }).waitFor();
  const summary = await a.get(`/addresses/${ADDRESS}`);
  assert.ok(summary.balance > 0);
  assert.ok((await page.locator('#balance').innerText()).startsWith(String(summary.balance / 1e8)));
  assert.ok(await page.locator('tbody tr').count() >= 3);
  await page.screenshot({ path: join(SHOTS, 'explorer-address.png'), fullPage: true });
});

test('one search box for heights, hashes, txids and addresses, with a clear not found', async () => {
  await page.goto(`${a.url}/`);
  const block = await a.get('/blocks/1');
  const [txid] = await a.get('/blocks/1/txids');
  // With the keyboard only: the skip link comes first, the search box after the navigation.
  const search = async (q) => {
    await page.locator('#q').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(q);
    await page.keyboard.press('Enter');
  };
  await search('1');
  await until('block 1 by height', async () => page.url().endsWith('#/block/1'));
  await page.locator('h1', { hasText: 'Block 1' }).waitFor();
  await search(block.hash.toUpperCase());
  await until('block 1 by hash', async () => page.url().endsWith(`#/block/${block.hash}`));
  await page.locator('dl.fields', { hasText: block.hash }).waitFor();
  await search(txid);
  await until('the tx by txid', async () => page.url().endsWith(`#/tx/${txid}`));
  await page.locator('h1', { hasText: 'Transaction' }).waitFor();
  await search(ADDRESS);
  await until('the address', async () => page.url().endsWith(`#/address/${ADDRESS}`));
  await page.locator('h1', { hasText: 'Address' }).waitFor();
  for (const unknown of ['999999', 'ab'.repeat(32), 'not-a-thing', 'powrt1qqqqqqqqqqqq']) {
    await search(unknown);
    await page.locator('.notfound[role=alert]').waitFor({ timeout: 5000 });
    assert.ok((await page.locator('h1').innerText()).includes('Not found'), unknown);
  }
  await page.screenshot({ path: join(SHOTS, 'explorer-notfound.png') });
  // Tab order starts with the skip link.
  await page.goto(`${a.url}/`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip');
});

test('after a reorganization the block tree shows the side branch', async () => {
  const b = await Node.start('b');
  globalThis.b = b;
  const height = (await a.get('/status')).height;
  // B mines a longer branch of its own, then A learns of it.
  for (let i = 0; i < height + 3; i++) await b.mine({ b: i });
  await page.goto(`${a.url}/#/tree`);
  await page.locator('h1', { hasText: 'Block tree' }).waitFor();
  await a.post('/peers', { url: `ws://127.0.0.1:${b.p2p}` });
  await until('A to reorganize', async () => (await a.get('/reorgs')).length === 1);
  // Live: the tree redraws with A's old branch beside the active chain.
  await until('the side branch', async () => (await page.locator('#tree rect.blk.fork').count()) >= height, 5000);
  assert.ok(await page.locator('#tree rect.blk.active').count() >= height + 3);
  assert.ok(await page.locator('#tree text.reorg').count() >= 1);
  assert.ok((await page.locator('main').innerText()).includes('valid-fork'));
  await page.screenshot({ path: join(SHOTS, 'explorer-tree.png'), fullPage: true });
});

test('a 390 px wide screen needs no sideways scrolling', async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  watch(phone, a.url);
  for (const hash of ['#/', '#/block/1', '#/tree']) {
    await phone.goto(`${a.url}/${hash}`);
    await phone.locator('main h1').waitFor();
    await phone.waitForLoadState('networkidle').catch(() => {});
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${hash}: the page is ${width} px wide`);
  }
  await phone.goto(`${a.url}/`);
  await phone.locator('#c-height').waitFor();
  await phone.screenshot({ path: join(SHOTS, 'explorer-phone.png'), fullPage: true });
  await phone.close();
});

test('no console errors and no request leaves the node', async () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(foreignRequests, []);
});
