// The powchain block explorer: one page, routed by the URL's hash, that
// reads the node's own HTTP API (docs/api.md) and follows GET /events to
// stay live. Everything it loads comes from the node that serves it.

const COIN = 100000000;
const CHART_BLOCKS = 100; // blocks behind the charts
const LATEST = 10; // rows in the home page's lists
const TREE_WINDOW = 24; // active blocks the block tree shows
const PAGE = 20; // an address's transactions per page

const main = document.getElementById('main');
const liveBadge = document.getElementById('live');

// --- Small helpers ------------------------------------------------------

// An element with attributes and children (strings become text nodes, so
// nothing the node returns is ever parsed as HTML).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const short = (hash, n = 10) => (hash ? `${hash.slice(0, n)}…${hash.slice(-4)}` : '');
const coins = (units) => `${(units / COIN).toLocaleString('en-US', { maximumFractionDigits: 8 })}`;
const blockLink = (id, text) => h('a', { href: `#/block/${id}`, class: 'hash' }, text ?? short(String(id)));
const txLink = (txid, text) => h('a', { href: `#/tx/${txid}`, class: 'hash' }, text ?? short(txid));
const addrLink = (a) => h('a', { href: `#/address/${a}`, class: 'hash' }, short(a, 14));

function age(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

function rate(hps) {
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s'];
  let i = 0;
  while (hps >= 1000 && i < units.length - 1) { hps /= 1000; i++; }
  return `${hps.toFixed(hps < 10 ? 2 : 1)} ${units[i]}`;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!res.ok) {
    let message = `${res.status}`;
    try { message = (await res.json()).error ?? message; } catch { /* not JSON */ }
    throw new ApiError(res.status, message);
  }
  return res.json();
}

// The node's answer, or null when it is a 404 or 400 (unknown or not this
// kind of id).
async function lookup(path) {
  try { return await api(path); } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 400)) return null;
    throw e;
  }
}

function table(head, rows) {
  return h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, head.map(([t, num]) => h('th', { class: num ? 'num' : null, scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}
const td = (content, num) => h('td', { class: num ? 'num' : null }, content);

// Expected hashes of a block of `difficulty` leading zero bits.
const work = (difficulty) => 2 ** difficulty;

// Hash rate over a run of blocks: the work they prove over the time they took.
function hashRate(blocks) {
  if (blocks.length < 2) return 0;
  const span = (blocks[blocks.length - 1].timestamp - blocks[0].timestamp) / 1000;
  if (span <= 0) return 0;
  let sum = 0;
  for (const b of blocks.slice(1)) sum += work(b.difficulty);
  return sum / span;
}

// --- Live events ----------------------------------------------------------

const listeners = new Set();
let events;

function connectEvents() {
  events = new EventSource('/events');
  events.onopen = () => { liveBadge.textContent = 'live'; liveBadge.className = 'live on'; };
  events.onerror = () => { liveBadge.textContent = 'reconnecting'; liveBadge.className = 'live off'; };
  for (const type of ['tip', 'reorg', 'tx', 'peer']) {
    events.addEventListener(type, (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch { return; }
      for (const fn of listeners) fn(type, data);
    });
  }
}

// Runs `fn` at most once per `ms`, the last call winning.
function throttle(fn, ms) {
  let timer = null;
  let again = false;
  return () => {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(function tick() {
      timer = null;
      if (again) { again = false; fn(); timer = setTimeout(tick, ms); }
    }, ms);
  };
}

// --- Charts ---------------------------------------------------------------

const charts = [];
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

function chart(title, series, data, extra = {}) {
  const box = h('div', { class: 'chart' }, h('h3', {}, title));
  requestAnimationFrame(() => {
    const width = Math.max(260, box.clientWidth - 16);
    const opts = {
      width, height: 180,
      scales: { x: { time: false } },
      // Heights are whole numbers: ticks at whole steps only.
      axes: [{ stroke: '#8b97a3', grid: { stroke: '#26313b' }, incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000] },
             { stroke: '#8b97a3', grid: { stroke: '#26313b' }, size: 56,
               values: (u, splits) => splits.map((v) => compact.format(v)) }],
      series: [{ label: 'height' }, ...series],
      legend: { live: false },
      ...extra,
    };
    charts.push(new uPlot(opts, data, box));
  });
  return box;
}

function destroyCharts() {
  while (charts.length) charts.pop().destroy();
}

// --- Pages ---------------------------------------------------------------

const pages = [
  [/^$/, home],
  [/^block\/([0-9a-fA-F]{64}|\d{1,20}|tip)$/, blockPage],
  [/^tx\/([0-9a-fA-F]{64})$/, txPage],
  [/^address\/([A-Za-z0-9]{1,120})(?:\/(\d+))?$/, addressPage],
  [/^tree$/, treePage],
  [/^search\/(.*)$/, searchPage],
];

let generation = 0; // bumped per navigation: late answers of old pages are dropped

async function route() {
  const path = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const gen = ++generation;
  listeners.clear();
  destroyCharts();
  for (const [re, page] of pages) {
    const m = path.match(re);
    if (!m) continue;
    try {
      const view = await page(gen, ...m.slice(1));
      if (gen !== generation || !view) return;
      main.replaceChildren(view);
    } catch (e) {
      if (gen !== generation) return;
      main.replaceChildren(h('h1', {}, 'Something went wrong'),
        h('p', { class: 'notfound', role: 'alert' }, String(e.message || e)));
    }
    return;
  }
  main.replaceChildren(notFound(path));
}

function notFound(what) {
  return h('div', {}, h('h1', {}, 'Not found'),
    h('p', { class: 'notfound', role: 'alert' },
      `Nothing on this chain matches “${what}”. Search for a block height, a block hash, a txid or an address.`));
}

// Home: the tip and the node, the latest blocks and transactions, charts.
async function home(gen) {
  const view = h('div', {});
  let painted = false;
  const render = async () => {
    const status = await api('/status');
    if (!painted && gen === generation) {
      // The first time, the node's cards go up at once; the lists and
      // charts follow when their blocks arrive.
      painted = true;
      view.replaceChildren(...homeView(status, null, null, [], []));
      main.replaceChildren(view);
    }
    const from = Math.max(0, status.height - (CHART_BLOCKS - 1));
    const [blocks, mempool] = await Promise.all([
      api(`/blocks?from=${from}&limit=${CHART_BLOCKS}`),
      api(`/mempool?limit=${LATEST}`),
    ]);
    // The newest blocks' txids, for the latest confirmed transactions.
    const recent = blocks.slice(-LATEST).reverse();
    const withTxs = recent.filter((b) => b.txs.length > 0).slice(0, 3);
    const txids = await Promise.all(withTxs.map((b) => api(`/blocks/${b.hash}/txids`)));
    if (gen !== generation) return;
    destroyCharts();
    view.replaceChildren(...homeView(status, blocks, mempool, withTxs, txids));
  };
  await render();
  const again = throttle(() => render().catch(() => {}), 500);
  listeners.add(() => again());
  return view;
}

// `blocks` and `mempool` are null while they are being read.
function homeView(status, blocks, mempool, withTxs, txids) {
  const loading = blocks === null;
  blocks = blocks ?? [];
  // Genesis carries a fixed timestamp from the network's parameters, not
  // one of mining: intervals and hash rates start after it.
  const mined = blocks.filter((b) => b.height > 0);
  const tail = mined.slice(-11);
  const recent = blocks.slice(-LATEST).reverse();
  const card = (label, value, id) => h('div', { class: 'card', id },
    h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
  const cards = h('section', { class: 'cards', 'aria-label': 'The node' },
    card('Height', h('a', { href: `#/block/${status.height}` }, status.height.toLocaleString('en-US')), 'c-height'),
    card('Tip', blockLink(status.tip), 'c-tip'),
    card('Difficulty', `${status.difficulty} bits`, 'c-difficulty'),
    card('Hash rate', loading ? '…' : rate(hashRate(tail)), 'c-hashrate'),
    card('Peers', String(status.peers), 'c-peers'),
    card('Mempool', `${mempool?.count ?? status.mempool.count} tx · ${((mempool?.bytes ?? status.mempool.bytes) / 1000).toFixed(1)} kB`, 'c-mempool'));

  const blockRows = recent.map((b) => h('tr', {},
    td(h('a', { href: `#/block/${b.height}` }, b.height), true),
    td(blockLink(b.hash)), td(age(b.timestamp)), td(b.txs.length, true), td(b.difficulty, true)));

  const txRows = [];
  for (const p of mempool?.txs ?? []) {
    txRows.push(h('tr', {}, td(txLink(p.txid)), td(h('span', { class: 'muted' }, 'unconfirmed')),
      td(`fee ${coins(p.fee)}`, true)));
  }
  withTxs.forEach((b, i) => {
    txids[i].forEach((txid, j) => {
      if (txRows.length >= LATEST) return;
      txRows.push(h('tr', {}, td(txLink(txid)), td(h('a', { href: `#/block/${b.hash}` }, `block ${b.height}`)),
        td(coins(b.txs[j].outputs.reduce((s, o) => s + o.amount, 0)), true)));
    });
  });

  // Charts: difficulty, block interval against the mine rate, hash rate.
  const heights = mined.slice(1).map((b) => b.height);
  const difficulty = mined.slice(1).map((b) => b.difficulty);
  const interval = mined.slice(1).map((b, i) => (b.timestamp - mined[i].timestamp) / 1000);
  const target = heights.map(() => status.mineRate / 1000);
  const rates = mined.slice(1).map((_, i) => hashRate(mined.slice(Math.max(0, i - 9), i + 2)));
  const stroke = (c) => ({ stroke: c, width: 2 });
  const charts = loading ? [h('p', { class: 'muted' }, 'Loading…')]
    : heights.length < 2 ? [h('p', { class: 'muted' }, 'Charts appear once the chain has a few blocks.')]
    : [chart('Difficulty (bits)', [{ label: 'difficulty', ...stroke('#f0a93b') }], [heights, difficulty]),
      chart('Block interval (s), mine rate dashed',
        [{ label: 'interval', ...stroke('#7cc4ff') }, { label: 'mine rate', stroke: '#57c78a', dash: [6, 4] }],
        [heights, interval, target]),
      chart('Hash rate (H/s, 10-block window)', [{ label: 'hash rate', ...stroke('#b48cff') }], [heights, rates])];

  return [
    h('h1', {}, `${status.network} chain`),
    cards,
    h('div', { class: 'grid2' },
      h('section', { 'aria-label': 'Latest blocks' }, h('h2', {}, 'Latest blocks'),
        loading ? h('p', { class: 'muted' }, 'Loading…')
          : table([['Height', 1], ['Hash'], ['Age'], ['Txs', 1], ['Difficulty', 1]], blockRows)),
      h('section', { 'aria-label': 'Latest transactions' }, h('h2', {}, 'Latest transactions'),
        loading ? h('p', { class: 'muted' }, 'Loading…')
          : txRows.length ? table([['Txid'], ['Where'], ['Value or fee', 1]], txRows)
            : h('p', { class: 'muted' }, 'No transactions yet.'))),
    h('h2', {}, loading ? 'Charts' : `The last ${heights.length} blocks`),
    h('section', { class: 'grid2', id: 'charts', 'aria-label': 'Charts' }, charts),
  ];
}

async function blockPage(gen, id) {
  const block = await lookup(`/blocks/${id}`);
  if (!block) return notFound(id);
  const status = await api('/status');
  const [txids, atHeight] = await Promise.all([
    block.txs.length ? api(`/blocks/${block.hash}/txids`) : [],
    block.height <= status.height ? api(`/blocks/${block.height}`) : null,
  ]);
  const active = atHeight && atHeight.hash === block.hash;
  const rows = block.txs.map((tx, i) => h('tr', {}, td(i, true), td(txLink(txids[i])),
    td(tx.coinbase !== undefined ? 'coinbase' : `${tx.inputs.length} in`),
    td(`${tx.outputs.length} out`), td(coins(tx.outputs.reduce((s, o) => s + o.amount, 0)), true)));
  const data = JSON.stringify(block.data, null, 2);
  return h('div', {},
    h('h1', {}, `Block ${block.height}`),
    active ? null : h('p', { class: 'notice' }, 'This block is not on the active chain: it is on a side branch.'),
    h('dl', { class: 'fields' },
      h('dt', {}, 'Hash'), h('dd', {}, block.hash),
      h('dt', {}, 'Previous'), h('dd', {}, block.height > 0 ? blockLink(block.lastHash, block.lastHash) : '—'),
      h('dt', {}, 'Merkle root (dataHash)'), h('dd', {}, block.dataHash),
      h('dt', {}, 'Time'), h('dd', {}, `${new Date(block.timestamp).toISOString()} (${age(block.timestamp)})`),
      h('dt', {}, 'Difficulty'), h('dd', {}, `${block.difficulty} bits`),
      h('dt', {}, 'Nonce'), h('dd', {}, String(block.nonce)),
      h('dt', {}, 'Version'), h('dd', {}, String(block.version)),
      h('dt', {}, 'Confirmations'), h('dd', {}, active ? String(status.height - block.height + 1) : '0 (side branch)')),
    h('nav', { class: 'pager', 'aria-label': 'Neighbouring blocks' },
      block.height > 0 ? h('a', { href: `#/block/${block.height - 1}` }, '← previous') : null,
      active && block.height < status.height ? h('a', { href: `#/block/${block.height + 1}` }, 'next →') : null),
    h('h2', {}, 'Data'), h('pre', {}, data),
    h('h2', {}, `Transactions (${block.txs.length})`),
    block.txs.length ? table([['#', 1], ['Txid'], ['Inputs'], ['Outputs'], ['Value', 1]], rows)
      : h('p', { class: 'muted' }, 'This block holds data only.'));
}

// The Merkle root a proof leads to (docs/api.md, GET /transactions/{txid}/proof),
// computed with the browser's SHA-256; null where it has none (an insecure context).
async function rootFromProof(leafHex, index, count, proof) {
  if (!globalThis.crypto?.subtle) return null;
  const bytes = (hex) => Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const sides = []; // true: the path went right at this split, top first
  let lo = 0;
  let n = count;
  while (n > 1) {
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (index - lo < k) { sides.push(false); n = k; } else { sides.push(true); lo += k; n -= k; }
  }
  if (sides.length !== proof.length) return 'mismatch';
  let node = bytes(leafHex);
  for (let i = 0; i < proof.length; i++) {
    const right = sides[sides.length - 1 - i];
    const sib = bytes(proof[i]);
    const msg = new Uint8Array(65);
    msg[0] = 1;
    msg.set(right ? sib : node, 1);
    msg.set(right ? node : sib, 33);
    node = new Uint8Array(await crypto.subtle.digest('SHA-256', msg));
  }
  return hex(node);
}

async function txPage(gen, txid) {
  const t = await lookup(`/transactions/${txid}`);
  if (!t) return notFound(txid);
  const confirmed = t.status.confirmed;
  const inputs = t.tx.inputs.map((i, n) => h('tr', {}, td(n, true), td(txLink(i.txid)), td(i.vout, true)));
  const outputs = t.tx.outputs.map((o, n) => h('tr', {}, td(n, true), td(addrLink(o.address)), td(coins(o.amount), true)));
  const view = h('div', {},
    h('h1', {}, 'Transaction'),
    h('dl', { class: 'fields' },
      h('dt', {}, 'Txid'), h('dd', {}, t.txid),
      h('dt', {}, 'Status'), h('dd', {}, confirmed
        ? h('span', {}, `confirmed in `, blockLink(t.blockHash, `block ${t.height}`), `, ${t.confirmations} confirmation${t.confirmations === 1 ? '' : 's'}`)
        : 'unconfirmed, in the mempool'),
      h('dt', {}, 'Fee'), h('dd', {}, `${coins(t.fee)} (${t.fee} units, ${(t.fee / t.size).toFixed(2)} per byte)`),
      h('dt', {}, 'Size'), h('dd', {}, `${t.size} bytes`),
      h('dt', {}, 'Kind'), h('dd', {}, t.tx.coinbase !== undefined ? `coinbase of block ${t.tx.coinbase}` : 'transfer')),
    h('h2', {}, `Inputs (${t.tx.inputs.length})`),
    inputs.length ? table([['#', 1], ['Spends txid'], ['Output', 1]], inputs) : h('p', { class: 'muted' }, 'A coinbase has no inputs.'),
    h('h2', {}, `Outputs (${t.tx.outputs.length})`),
    table([['#', 1], ['Address'], ['Amount', 1]], outputs));
  if (confirmed) {
    const p = await api(`/transactions/${t.txid}/proof`);
    const root = await rootFromProof(p.leaf, p.index, p.leafCount, p.proof);
    const verdict = root === null ? h('span', { class: 'muted' }, 'not checked here (the browser offers SHA-256 only on a secure origin)')
      : root === p.dataHash ? h('span', { class: 'ok', id: 'proof-ok' }, '✓ checked in this browser: the proof leads to the block\'s dataHash')
        : h('span', { class: 'notfound' }, '✗ the proof does not lead to the block\'s dataHash');
    view.append(h('h2', {}, 'Inclusion proof'),
      h('dl', { class: 'fields' },
        h('dt', {}, 'Leaf'), h('dd', {}, `${p.index} of ${p.leafCount}`),
        h('dt', {}, 'Siblings'), h('dd', {}, p.proof.length ? p.proof.map((s) => h('div', {}, s)) : '—'),
        h('dt', {}, 'Root'), h('dd', {}, p.dataHash),
        h('dt', {}, 'Check'), h('dd', {}, verdict)));
  }
  return view;
}

async function addressPage(gen, address, pageText) {
  const page = Number(pageText ?? 0);
  const summary = await lookup(`/addresses/${address}`);
  if (!summary) return notFound(address);
  const list = await api(`/addresses/${address}/txs?offset=${page * PAGE}&limit=${PAGE}`);
  const rows = list.txs.map((t) => h('tr', {}, td(txLink(t.txid)), td(blockLink(t.blockHash, t.height), true)));
  const pages = Math.max(1, Math.ceil(summary.txCount / PAGE));
  return h('div', {},
    h('h1', {}, 'Address'),
    h('dl', { class: 'fields' },
      h('dt', {}, 'Address'), h('dd', {}, summary.address),
      h('dt', {}, 'Balance'), h('dd', { id: 'balance' }, `${coins(summary.balance)} coins`),
      h('dt', {}, 'Unconfirmed'), h('dd', {}, `${summary.unconfirmed >= 0 ? '+' : ''}${coins(summary.unconfirmed)} coins`),
      h('dt', {}, 'Unspent coins'), h('dd', {}, String(summary.coinCount)),
      h('dt', {}, 'Transactions'), h('dd', {}, String(summary.txCount))),
    h('h2', {}, 'History'),
    rows.length ? table([['Txid'], ['Block', 1]], rows) : h('p', { class: 'muted' }, 'No confirmed transactions.'),
    h('nav', { class: 'pager', 'aria-label': 'History pages' },
      page > 0 ? h('a', { href: `#/address/${summary.address}/${page - 1}` }, '← newer') : null,
      h('span', { class: 'muted' }, `page ${page + 1} of ${pages}`),
      page + 1 < pages ? h('a', { href: `#/address/${summary.address}/${page + 1}` }, 'older →') : null));
}

// One search box for every kind of id: the node says what `q` names
// (GET /search), in one request.
async function searchPage(gen, q) {
  q = q.trim();
  const found = /^[A-Za-z0-9]{1,200}$/.test(q) ? await api(`/search?q=${q}`) : { kind: 'none' };
  if (gen !== generation) return null;
  const where = { block: 'block', transaction: 'tx', address: 'address' }[found.kind];
  // A height stays a height in the address bar: it names the active block there.
  const id = found.kind === 'block' && /^\d+$/.test(q) ? String(Number(q)) : found.id;
  if (where) { location.replace(`#/${where}/${id}`); return null; }
  return notFound(q);
}

// --- The block tree ---------------------------------------------------------

// The active chain near the tip with every side branch that forks within
// the window, and where reorganizations happened.
async function treePage(gen) {
  const view = h('div', {});
  const render = async () => {
    const [status, tips, reorgs] = await Promise.all([api('/status'), api('/tips?limit=50'), api('/reorgs?limit=50')]);
    const from = Math.max(0, status.height - TREE_WINDOW + 1);
    const active = await api(`/blocks?from=${from}&limit=${TREE_WINDOW}`);
    const branches = [];
    for (const tip of tips) {
      if (tip.status === 'active' || tip.forkHeight < from || tip.forkHeight > status.height) continue;
      const blocks = [];
      if (tip.status === 'valid-fork') {
        let hash = tip.hash;
        while (blocks.length < TREE_WINDOW && hash !== tip.fork) {
          const b = await lookup(`/blocks/${hash}`);
          if (!b) break;
          blocks.unshift({ height: b.height, hash: b.hash });
          hash = b.lastHash;
        }
      } else {
        blocks.push({ height: tip.height, hash: tip.hash });
      }
      branches.push({ tip, blocks });
    }
    if (gen !== generation) return;
    view.replaceChildren(...treeView(status, active, branches, reorgs, tips, from));
  };
  await render();
  const again = throttle(() => render().catch(() => {}), 500);
  listeners.add((type) => { if (type === 'tip' || type === 'reorg') again(); });
  return view;
}

function treeView(status, active, branches, reorgs, tips, from) {
  const W = 64; const GAP = 22; const ROW = 46; const BH = 26;
  const x = (height) => 12 + (height - from) * (W + GAP);
  const width = x(status.height) + W + 12;
  const height = 16 + (branches.length + 1) * ROW + 20;
  const NS = 'http://www.w3.org/2000/svg';
  const s = (tag, attrs, text) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const svg = s('svg', { width, height, role: 'img', 'aria-label': `Block tree: the active chain from height ${from} to ${status.height} and ${branches.length} side branch(es)` });
  const box = (b, row, cls, title) => {
    const a = s('a', { href: `#/block/${b.hash}` });
    const y = 16 + row * ROW;
    a.append(s('title', {}, title), s('rect', { x: x(b.height), y, width: W, height: BH, rx: 4, class: `blk ${cls}` }),
      s('text', { x: x(b.height) + 6, y: y + 17 }, b.hash.slice(0, 7)));
    svg.append(a);
  };
  const edge = (h1, r1, h2, r2) => svg.append(s('path', {
    class: 'edge', d: `M${x(h1) + W} ${16 + r1 * ROW + BH / 2} C${x(h2) - GAP / 2} ${16 + r1 * ROW + BH / 2} ${x(h1) + W + GAP / 2} ${16 + r2 * ROW + BH / 2} ${x(h2)} ${16 + r2 * ROW + BH / 2}`,
  }));
  active.forEach((b, i) => {
    if (i > 0) edge(active[i - 1].height, 0, b.height, 0);
    box(b, 0, 'active', `block ${b.height} (active) ${b.hash}`);
  });
  branches.forEach(({ tip, blocks }, i) => {
    const row = i + 1;
    const cls = tip.status === 'valid-fork' ? 'fork' : tip.status === 'invalid' ? 'invalid' : 'fork headers';
    let prev = { height: tip.forkHeight, row: 0 };
    for (const b of blocks) {
      if (prev.height >= from) edge(prev.height, prev.row, b.height, row);
      box(b, row, cls, `block ${b.height} (${tip.status}) ${b.hash}`);
      prev = { height: b.height, row };
    }
  });
  for (const r of reorgs) {
    if (r.forkHeight < from) continue;
    const t = s('text', { x: x(r.forkHeight) + W + 2, y: 12, class: 'reorg' }, '⟲');
    t.append(s('title', {}, `reorganization at ${new Date(r.time).toISOString()}: ${r.disconnected} block(s) left, ${r.connected} joined, forking after height ${r.forkHeight}`));
    svg.append(t);
  }
  const tipRows = tips.map((t) => h('tr', {}, td(t.status), td(t.height, true), td(blockLink(t.hash)),
    td(t.forkHeight, true), td(t.branchLength, true)));
  const reorgRows = reorgs.map((r) => h('tr', {}, td(new Date(r.time).toISOString()), td(r.forkHeight, true),
    td(r.disconnected, true), td(r.connected, true), td(blockLink(r.newTip))));
  return [
    h('h1', {}, 'Block tree'),
    h('p', { class: 'muted' }, 'The node follows the chain with the most work. Side branches lost that race, or have not won it yet; ⟲ marks where the node switched branches.'),
    h('div', { class: 'legend' }, h('span', { class: 'l-active' }, 'active chain'), h('span', { class: 'l-fork' }, 'side branch'),
      h('span', { class: 'l-invalid' }, 'invalid'), h('span', { class: 'l-reorg' }, 'reorganization')),
    h('div', { class: 'tree', id: 'tree' }, svg),
    h('h2', {}, `Chain tips (${tips.length})`),
    table([['Status'], ['Height', 1], ['Tip'], ['Fork height', 1], ['Branch length', 1]], tipRows),
    h('h2', {}, `Reorganizations (${reorgs.length})`),
    reorgRows.length ? table([['When'], ['Fork height', 1], ['Left', 1], ['Joined', 1], ['New tip']], reorgRows)
      : h('p', { class: 'muted' }, 'None since the node started.'),
  ];
}

// --- Start ---------------------------------------------------------------------

document.getElementById('search').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = document.getElementById('q').value.trim();
  if (q) location.hash = `#/search/${encodeURIComponent(q)}`;
});
// After a navigation the keyboard goes on from the new page, unless the
// user is already typing in the search box again.
window.addEventListener('hashchange', () => {
  route().then(() => {
    if (!document.activeElement?.closest('#search')) main.focus({ preventScroll: true });
  });
});
connectEvents();
route();
