// graph-index.js keeps an index of the map's nodes by where they stand,
// kept current by Cytoscape's own add, position, data, class and remove
// events, so that the work of a delta is about what changed, not about the
// size of the map (issue 14: a delta applied within 16 ms at 5,000 nodes).
// Placing a new node looks only at the nodes near the spots it tries, and
// the boxes (hosts, Compose projects) and networks are at hand without a
// selector over every node: each such pass cost several milliseconds at
// 5,000 nodes.

const scratchKey = 'dockmapIndex';

// Cell of the grid, in model pixels.
const cell = 400;

// The largest font of a label that keepLabels has not sized up
// (graph-style.js), and the widest a character of it can be, in pixels per
// pixel of font size: bounds for an estimate, not a measure.
const baseFont = 18;
const charWidth = 0.75;
// Labels wrap at this width (graph-style.js's text-max-width, at most).
const wrapWidth = 400;
// keepLabels (graph.js) keeps some labels this large on screen at least,
// so their font grows as the map zooms out, in steps of keptLabelStep: a
// wheel turn restyles them a few times, not on every frame (restyling the
// 250 networks' labels of a 5,000-node map each frame held a wheel at a
// few frames a second).
export const keptLabelPx = 13;
export const keptLabelStep = 1.25;

// keptFont bounds the font of a label keepLabels sized up, at zoom z.
const keptFont = (z) => Math.max(baseFont, Math.min(400, (keptLabelPx * keptLabelStep) / z));

// indexOf returns the index of cy, made on first use from what cy holds
// and kept current from then on.
export function indexOf(cy) {
  let ix = cy.scratch(scratchKey);
  if (ix) return ix;
  ix = makeIndex(cy);
  cy.scratch(scratchKey, ix);
  return ix;
}

function makeIndex(cy) {
  const grid = new Map(); // "x,y" → Set of items
  const items = new Map(); // node ID → item {n, key, reach, text, kept}
  const boxes = new Set(); // the host and project nodes
  const networks = new Set(); // the network nodes
  const kept = new Set(); // items whose label keepLabels sizes up
  const links = new Set(); // the legacy links' edges, broken ones too
  const hosts = new Map(); // host name → how many nodes it has
  let grouped = 0; // nodes in a Compose project (or any box)
  let reach = 0; // how far past its position any item not kept can stand

  const keyOf = (p) => `${Math.floor(p.x / cell)},${Math.floor(p.y / cell)}`;
  const place = (it) => {
    const key = keyOf(it.n.position());
    if (key === it.key) return;
    if (it.key !== null) grid.get(it.key)?.delete(it);
    it.key = key;
    let s = grid.get(key);
    if (!s) grid.set(key, (s = new Set()));
    s.add(it);
  };
  const measure = (it) => {
    const d = it.n.data();
    const label = String(d.label || '');
    let longest = 0;
    let lines = 0;
    for (const line of label.split('\n')) {
      longest = Math.max(longest, line.length);
      lines += 1 + Math.floor((line.length * baseFont * charWidth) / wrapWidth);
    }
    it.text = { longest, lines, w: d.width || 60, h: d.height || 60 };
    it.reach = reachAt(it.text, baseFont);
    reach = Math.max(reach, it.reach);
  };
  const count = (n, by) => {
    const d = n.data();
    if (d.host) {
      const c = (hosts.get(d.host) || 0) + by;
      if (c > 0) hosts.set(d.host, c);
      else hosts.delete(d.host);
    }
    if ((d.group && d.group !== d.id) || d.parent) grouped += by;
  };
  const add = (n) => {
    count(n, 1);
    const kind = n.data('kind');
    if (kind === 'host' || kind === 'project') {
      boxes.add(n);
      return;
    }
    if (n.hasClass('overlay')) return;
    if (kind === 'network') networks.add(n);
    const it = { n, key: null, reach: 0, text: null, rel: null };
    items.set(n.id(), it);
    measure(it);
    place(it);
    if (n.hasClass('label-keep')) kept.add(it);
  };
  const remove = (n) => {
    count(n, -1);
    boxes.delete(n);
    networks.delete(n);
    const it = items.get(n.id());
    if (!it || it.n !== n) return;
    items.delete(n.id());
    kept.delete(it);
    grid.get(it.key)?.delete(it);
  };
  const isLink = (e) => e.data('kind') === 'link' || e.data('kind') === 'broken-link';
  cy.nodes().forEach(add);
  cy.edges().forEach((e) => isLink(e) && links.add(e));
  cy.on('add', 'edge', (e) => isLink(e.target) && links.add(e.target));
  cy.on('remove', 'edge', (e) => links.delete(e.target));
  cy.on('add', 'node', (e) => add(e.target));
  cy.on('remove', 'node', (e) => remove(e.target));
  cy.on('position', 'node', (e) => {
    const it = items.get(e.target.id());
    if (it && it.n === e.target) place(it);
  });
  cy.on('data', 'node', (e) => {
    const it = items.get(e.target.id());
    if (!it || it.n !== e.target) return;
    measure(it);
    it.rel = null;
  });
  cy.on('class', 'node', (e) => {
    const it = items.get(e.target.id());
    if (!it || it.n !== e.target) return;
    if (e.target.hasClass('label-keep')) kept.add(it);
    else kept.delete(it);
    it.rel = null;
  });
  // A style of its own (keepLabels' font size) changes a node's box too.
  cy.on('style', 'node', (e) => {
    const it = items.get(e.target.id());
    if (it && it.n === e.target) it.rel = null;
  });

  // boxOf is node n's box (labels included) as measure(n) gives it,
  // measured once and kept relative to n's position until n's data,
  // classes or style change: round a hub of thousands of members a delta
  // measured hundreds of boxes, every time.
  const boxOf = (n, measure) => {
    const it = items.get(n.id());
    const p = n.position();
    if (!it || it.n !== n) return measure(n);
    if (!it.rel) {
      const b = measure(n);
      it.rel = { x1: b.x1 - p.x, y1: b.y1 - p.y, x2: b.x2 - p.x, y2: b.y2 - p.y };
    }
    return { x1: p.x + it.rel.x1, y1: p.y + it.rel.y1, x2: p.x + it.rel.x2, y2: p.y + it.rel.y2 };
  };

  // near calls f(node) for every node that may stand over region r
  // ({x1, y1, x2, y2}), judged by its position and a bound of its size
  // (labels included): the caller measures those it needs.
  const near = (r, f) => {
    const seen = new Set();
    const fontKept = keptFont(cy.zoom());
    const mayHit = (p, q) => p.x + q > r.x1 && p.x - q < r.x2 && p.y + q > r.y1 && p.y - q < r.y2;
    for (const it of kept) {
      seen.add(it);
      if (mayHit(it.n.position(), reachAt(it.text, fontKept))) f(it.n);
    }
    for (let x = Math.floor((r.x1 - reach) / cell); x <= Math.floor((r.x2 + reach) / cell); x++) {
      for (let y = Math.floor((r.y1 - reach) / cell); y <= Math.floor((r.y2 + reach) / cell); y++) {
        for (const it of grid.get(`${x},${y}`) || []) {
          if (!seen.has(it) && mayHit(it.n.position(), it.reach)) f(it.n);
        }
      }
    }
  };
  // extent is a box holding every node shown (hidden ones, such as
  // those focus leaves out, are not in the picture), labels included; a
  // bound, not a measure. It looks at every node: only for the rare
  // placement that needs the whole map's box.
  const extent = () => {
    let e = null;
    const fontKept = keptFont(cy.zoom());
    for (const it of items.values()) {
      if (!it.n.visible()) continue;
      const p = it.n.position();
      const q = kept.has(it) ? reachAt(it.text, fontKept) : it.reach;
      if (!e) e = { x1: p.x - q, y1: p.y - q, x2: p.x + q, y2: p.y + q };
      e.x1 = Math.min(e.x1, p.x - q);
      e.y1 = Math.min(e.y1, p.y - q);
      e.x2 = Math.max(e.x2, p.x + q);
      e.y2 = Math.max(e.y2, p.y + q);
    }
    return e;
  };
  // seed gives node n's box relative to its position (rel) as a layout
  // measured it, sparing the first delta the measuring.
  const seed = (n, rel) => {
    const it = items.get(n.id());
    if (it && it.n === n) it.rel = rel;
  };
  return {
    has: (id) => items.has(id),
    boxOf,
    seed,
    near,
    extent,
    boxes: () => [...boxes],
    networks: () => [...networks],
    links: () => [...links],
    // Whether the map has, or should have, a box: nodes of two hosts or
    // more, a node in a project or a box, or a box still there.
    boxed: () => hosts.size > 1 || grouped > 0 || boxes.size > 0,
  };
}

// reachAt bounds how far a node with label text stands past its position
// when its label's font is font pixels.
function reachAt(text, font) {
  const w = Math.max(text.w, Math.min(text.longest * font * charWidth, (wrapWidth * font) / baseFont));
  const h = text.h + text.lines * font * 1.4;
  return Math.max(w / 2, h) + 20;
}
