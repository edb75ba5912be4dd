// graph-place.js decides where nodes stand: the first layout of a graph
// (fcose), a free spot next to its neighbours for each new node (nothing
// that was there moves: the projector rule), and fitting the view clear of
// what floats over the graph.

import { hostPadding, setDetail } from './graph-hosts.js';
import { bandPositions } from './layout-bands.js';
import { clusterPositions } from './layout-clusters.js';
import { indexOf } from './graph-index.js';

// Placement of new nodes (placeNewNodes). Distances are in model pixels,
// measured between bounding boxes that include labels.
const place = {
  margin: 20, // free space between a new node's box and any other box
  firstGap: 40, // first ring: this far from the anchor's box edge
  ringStep: 30, // each further ring is this much further out
  rings: 40, // rings tried around an anchor before giving up on it
  sampleStep: 24, // spacing of the candidate points along a ring
};

// Above this many nodes a map is laid out by layout-clusters.js (linear
// in the nodes) rather than by fcose: its force-directed pass costs about
// 2 s at 1,500 nodes in Chromium, over the 1 s budget for a first render,
// and its draft quality (spectral only) took 4 s at 5,000 nodes and put
// every leaf of a hub on one spot.
export const bigMapNodes = 600;

// fitKey names the view options kept in the Cytoscape core's scratch
// space.
const fitKey = 'dockmap';

// avoidRects are the rectangles setFitAvoid's function gives now (none
// without one).
function avoidRects(cy) {
  const opts = cy.scratch(fitKey);
  return (opts && opts.fitAvoid ? opts.fitAvoid() : []) || [];
}

// setFitAvoid keeps fitAvoid() for fitGraph: it returns the rectangles
// ({left, top, right, bottom}, in pixels relative to the graph) of what
// floats over the graph.
export function setFitAvoid(cy, fitAvoid) {
  cy.scratch(fitKey, { ...cy.scratch(fitKey), fitAvoid: fitAvoid || null });
}

// setBands says whether the first layout of a map is the stable one
// (layout-bands.js) rather than a force-directed one.
export function setBands(cy, on) {
  cy.scratch(fitKey, { ...cy.scratch(fitKey), bands: !!on });
}

// fitGraph fits eles (default: everything) into the view with padding
// pixels around them, like cy.fit, but in the largest part of the view
// that is under none of the things floating over it (the legend, the map
// controls): of the rectangles clear of all of them, the one that lets the
// graph be drawn biggest.
export function fitGraph(cy, eles = shownElements(cy), padding = 40, animate = false) {
  if (eles.empty()) return;
  fitBox(cy, eles.boundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false }), padding, animate);
}

// fitBox is fitGraph for a box known already (bb: {x1, y1, w, h}).
function fitBox(cy, bb, padding = 40, animate = false) {
  // Cytoscape learns of a resized window a little later; a fit in between
  // would use the old size and draw part of the map past its edge.
  cy.resize();
  const w = cy.width();
  const h = cy.height();
  let areas = [{ x: 0, y: 0, w, h }];
  for (const r of avoidRects(cy)) {
    areas = areas.flatMap((a) => clearOf(a, r));
  }
  const zoomIn = (a) => Math.min((a.w - 2 * padding) / Math.max(bb.w, 1), (a.h - 2 * padding) / Math.max(bb.h, 1));
  // The part of the view that lets the graph be drawn biggest; the whole
  // view if what floats over it leaves no room at all.
  let a = { x: 0, y: 0, w, h };
  let best = 0;
  for (const c of areas) {
    const z = zoomIn(c);
    if (z > best) {
      a = c;
      best = z;
    }
  }
  const zoom = Math.max(cy.minZoom(), Math.min(cy.maxZoom(), zoomIn(a)));
  const viewport = {
    zoom,
    pan: { x: a.x + a.w / 2 - zoom * (bb.x1 + bb.w / 2), y: a.y + a.h / 2 - zoom * (bb.y1 + bb.h / 2) },
  };
  cy.stop(true, true);
  if (animate && !reducedMotion()) cy.animate(viewport, { duration: animateMillis, easing: 'ease-in-out-cubic' });
  else cy.viewport(viewport);
}

// Animated moves of the camera and of nodes (Tidy) take this long: enough
// for the room to follow, short enough not to wait for.
const animateMillis = 450;

function reducedMotion() {
  return window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
}

// tidy lays the whole map out again, animated: with bands, the stable
// layout (layout-bands.js: the same lab always looks the same); without,
// a force-directed pass from where the nodes stand now. It resolves when
// the nodes have arrived and the view is fitted.
export function tidy(cy, { bands = false } = {}) {
  // Only what is shown: what focus hides keeps its place and takes none.
  const nodes = cy.nodes(':visible').not('.overlay');
  if (nodes.empty()) return Promise.resolve();
  if (cy.nodes('.host').nonempty()) return tidyHosts(cy, bands).then(() => fitGraph(cy, shownElements(cy), 40, true));
  const done = new Promise((resolve) => {
    const big = !bands && nodes.length > bigMapNodes;
    const positions = bands ? bandPositions(nodes) : big ? clusterPositions(nodes, relativeBox) : null;
    const layout = positions
      ? nodes.not('.project').layout({ name: 'preset', positions: (n) => positions.get(n.id()), animate: !reducedMotion(), animationDuration: animateMillis, fit: false })
      : shownElements(cy)
          .not('.probe')
          .layout({ ...forces(), randomize: false, animate: !reducedMotion(), animationDuration: animateMillis });
    layout.one('layoutstop', () => resolve());
    layout.run();
  });
  return done.then(() => fitGraph(cy, shownElements(cy), 40, true));
}

// shownElements is what a fit must show: everything on show, the probe
// arrows with their labels included (an overlay the room reads).
export function shownElements(cy) {
  return cy.elements(':visible').not('.overlay').union(cy.edges('.probe:visible'));
}

// clearOf returns the parts of area a (x, y, w, h) above, below, left and
// right of rectangle r (left, top, right, bottom), or a itself when r
// does not overlap it.
function clearOf(a, r) {
  if (r.right <= a.x || r.left >= a.x + a.w || r.bottom <= a.y || r.top >= a.y + a.h) return [a];
  return [
    { x: a.x, y: a.y, w: a.w, h: r.top - a.y }, // above
    { x: a.x, y: r.bottom, w: a.w, h: a.y + a.h - r.bottom }, // below
    { x: a.x, y: a.y, w: r.left - a.x, h: a.h }, // left
    { x: r.right, y: a.y, w: a.x + a.w - r.right, h: a.h }, // right
  ].filter((c) => c.w > 0 && c.h > 0);
}

// clusterLaidOut tells whether fullLayout lays cy out in clusters (a big
// map, with no hosts' boxes and not in bands): the one layout that can go
// by a list of edges not in cy yet.
export function clusterLaidOut(cy) {
  return cy.nodes().length > bigMapNodes && cy.nodes('.host').empty() && !cy.scratch(fitKey)?.bands;
}

// fullLayout lays the whole graph out; only for a first, unpositioned graph.
// ends, when given, are the edges to lay out by ({source, target, kind},
// their ends Cytoscape nodes), for a map whose edges are not in cy yet
// (clusterLaidOut).
export function fullLayout(cy, ends = undefined) {
  if (cy.nodes().empty()) return;
  if (cy.nodes('.host').nonempty()) {
    const targets = hostLayout(cy, !!cy.scratch(fitKey)?.bands, true);
    cy.batch(() => targets.forEach((p, id) => cy.getElementById(id).position(p)));
    fitGraph(cy);
    return;
  }
  if (cy.scratch(fitKey)?.bands) {
    // A function, not the Map: preset reads positions[id] from anything
    // else, and a Map has no such property (nothing would move).
    const pos = bandPositions(cy.nodes().not('.overlay'));
    cy.nodes().not('.overlay, .project').layout({ name: 'preset', positions: (n) => pos.get(n.id()), fit: false }).run();
    fitGraph(cy);
    return;
  }
  if (cy.nodes().length > bigMapNodes) {
    // The boxes the layout measured make the box to fit: asking Cytoscape
    // for the box of every element would place every edge first, a fifth
    // of a first render at 1,000 nodes.
    const rel = new Map();
    const ix = indexOf(cy);
    const relOf = (n) => {
      const b = relativeBox(n);
      rel.set(n.id(), b);
      ix.seed(n, b);
      return b;
    };
    const pos = clusterPositions(cy.nodes(), relOf, ends);
    cy.batch(() => pos.forEach((p, id) => cy.getElementById(id).position(p)));
    const all = [];
    pos.forEach((p, id) => {
      const b = rel.get(id);
      if (b) all.push({ x1: p.x + b.x1, y1: p.y + b.y1, x2: p.x + b.x2, y2: p.y + b.y2 });
    });
    const u = unionOf(all);
    if (u) fitBox(cy, { x1: u.x1, y1: u.y1, w: u.x2 - u.x1, h: u.y2 - u.y1 });
    return;
  }
  cy.layout({ ...forces(), animate: false, randomize: true }).run();
  fitGraph(cy);
}

// Space between two hosts' boxes, in model pixels.
const hostGap = 90;

// tidyHosts is tidy on a map of several hosts: hostLayout's places, the
// nodes moving there animated.
function tidyHosts(cy, bands) {
  // Laid out open: a box the level of detail folded opens again as soon as
  // the view zooms in, and a place kept for its summary would then be
  // too small (its summary, when it folds again, is never larger).
  setDetail(cy, new Set(), new Map());
  const targets = hostLayout(cy, bands, false);
  // A collapsed host jumps: a compound's position is its members', and
  // animating it would move them twice.
  cy.batch(() => cy.nodes('.host.collapsed').forEach((b) => targets.has(b.id()) && b.position(targets.get(b.id()))));
  return new Promise((resolve) => {
    const layout = cy
      .nodes()
      .not('.host')
      .filter((n) => targets.has(n.id()))
      .layout({ name: 'preset', positions: (n) => targets.get(n.id()), animate: !reducedMotion(), animationDuration: animateMillis, fit: false });
    layout.one('layoutstop', () => resolve());
    layout.run();
  });
}

// hostLayout lays each shown host's members out inside its box (bands, or
// fcose on the box and its members), the nodes of no host as one more
// group, and sets the groups side by side in rows, hostGap apart: no two
// hosts ever overlap. A collapsed host is a group of its own size. It
// returns the place of every member node (a Map of ID → {x, y}) and,
// unless keep, puts the nodes back where they stood, for the caller to
// move them there (animated or not).
function hostLayout(cy, bands, keep) {
  const before = new Map();
  cy.nodes()
    .not('.host, .overlay')
    .forEach((n) => before.set(n.id(), { ...n.position() }));
  const box = (eles) => {
    const b = eles.boundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
    return { x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 };
  };
  const arrange = (kids, extra) => {
    if (kids.empty()) return;
    if (bands || kids.length > bigMapNodes) {
      const pos = bands ? bandPositions(kids) : clusterPositions(kids, relativeBox);
      kids.not('.project').positions((n) => pos.get(n.id()) || n.position());
    } else {
      extra
        .union(kids)
        .union(kids.edgesWith(kids))
        .not('.overlay')
        .layout({ ...forces(), animate: false, randomize: keep })
        .run();
    }
  };
  const groups = [];
  // "local" first, then by name: the same lab looks the same.
  const hosts = cy
    .nodes('.host')
    .filter((b) => b.visible())
    .sort((a, b) => (a.data('name') === 'local' ? -1 : b.data('name') === 'local' ? 1 : a.data('name').localeCompare(b.data('name'))));
  hosts.forEach((b) => {
    // A collapsed host moves as one node (its hidden members follow it);
    // the members focus hides move with their host's shown ones.
    if (b.hasClass('collapsed')) {
      groups.push({ nodes: b, box: box(b) });
      return;
    }
    // Its Compose projects' members too: fcose lays a project's box out
    // with them; a box itself is placed by its members only.
    arrange(
      b.descendants().filter((n) => n.visible()),
      b,
    );
    groups.push({ nodes: b.descendants().not('.project'), box: box(b) });
  });
  const loose = cy.nodes(':visible').not('.host, .overlay').filter((n) => n.parent().empty());
  if (loose.nonempty()) {
    arrange(loose, cy.collection());
    groups.push({ nodes: loose, box: box(loose) });
  }
  // Rows about as wide as the groups are tall together, so the map keeps
  // the screen's shape.
  const area = groups.reduce((a, g) => a + (g.box.x2 - g.box.x1 + hostGap) * (g.box.y2 - g.box.y1 + hostGap), 0);
  const rowWidth = Math.max(Math.sqrt(area) * 1.6, ...groups.map((g) => g.box.x2 - g.box.x1));
  const targets = new Map();
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const g of groups) {
    const w = g.box.x2 - g.box.x1;
    const h = g.box.y2 - g.box.y1;
    if (x > 0 && x + w > rowWidth) {
      x = 0;
      y += rowHeight + hostGap;
      rowHeight = 0;
    }
    const dx = x - g.box.x1;
    const dy = y - g.box.y1;
    g.nodes.forEach((n) => {
      const p = n.position();
      targets.set(n.id(), { x: p.x + dx, y: p.y + dy });
    });
    x += w + hostGap;
    rowHeight = Math.max(rowHeight, h);
  }
  if (!keep) cy.batch(() => before.forEach((p, id) => cy.getElementById(id).position(p)));
  return targets;
}

// forces are the force-directed layout's options (maps of up to
// bigMapNodes), the same for the first layout and for Tidy.
function forces() {
  return {
    name: 'fcose',
    nodeDimensionsIncludeLabels: true,
    // Members sit a bit further from their network hub than mounts from
    // their container, so the volumes cluster around their users.
    idealEdgeLength: (e) => (e.hasClass('member') ? 120 : 90),
    nodeRepulsion: () => 9000,
    nodeSeparation: 90,
    fit: false,
  };
}

// placeNewNodes gives every new node a free spot next to its neighbours;
// nodes that were there already never move.
//
// A new node goes beside an anchor: for a container, its network hub first,
// then a link or netns peer, then a volume; for a volume or a bind, its
// container; for a network, a member. Candidate spots lie on rings around
// the anchor's bounding box (label included), the first place.firstGap from
// its edge and each next one ringStep further out; on each ring the spots
// nearest the preferred side come first (towards the node's other anchors,
// or away from the anchor's other neighbours, so a hub's members spread
// round it). The first spot whose box, grown by place.margin, overlaps no
// other node's box wins. A node whose neighbours are all new waits until
// one of them is placed; one with no neighbour at all goes beside the
// bounding box of the graph, from its bottom-right corner on. The cost is
// a pass over the old nodes' positions, and box tests against the nodes
// near the rings actually tried.
export function placeNewNodes(cy, fresh) {
  // A Compose project's box is where its members are: placing them
  // places it.
  fresh = fresh.filter((n) => !n.hasClass('project'));
  if (!fresh.length) return;
  const isNew = new Set(fresh.map((n) => n.id()));
  const index = nodeIndex(cy, isNew);
  // The boxes of the new nodes as they are placed; an old node's box comes
  // from the index.
  const placed = new Map();
  const boxes = {
    has: (id) => placed.has(id) || index.has(id),
    get: (id) => placed.get(id) || index.boxOf(id),
    centre: (m) => (placed.has(m.id()) ? centreOf(placed.get(m.id())) : m.position()),
  };
  // A host's box is in the way of every node but its own members: they
  // stand inside it, and it grows round them.
  const hostBoxes = new Map(); // host node ID → its box, grown by the padding
  indexOf(cy).boxes().forEach((n) => {
    if (isNew.has(n.id()) || !n.visible()) return;
    const b = nodeBox(n);
    hostBoxes.set(n.id(), { x1: b.x1 - hostPadding, y1: b.y1 - hostPadding, x2: b.x2 + hostPadding, y2: b.y2 + hostPadding });
  });
  // The box of the map shown, asked for only when a spot needs it (it
  // looks at every node).
  let whole;
  const graphBox = () => {
    if (whole === undefined) whole = unionOf([index.extent, ...hostBoxes.values()].filter(Boolean));
    return whole;
  };
  // What floats over the map (the legend, the controls, a card): no new
  // node may land under it.
  const extras = floatingBoxes(cy);
  const positions = new Map();
  const put = (n, p) => {
    const rel = relativeBox(n);
    const b = { x1: p.x + rel.x1, y1: p.y + rel.y1, x2: p.x + rel.x2, y2: p.y + rel.y2 };
    positions.set(n.id(), p);
    placed.set(n.id(), b);
    extras.push(b);
    // Its host's box and its project's grow round it.
    n.ancestors().forEach((a) => {
      const own = hostBoxes.get(a.id());
      if (!own) return;
      own.x1 = Math.min(own.x1, b.x1 - 2 * hostPadding);
      own.y1 = Math.min(own.y1, b.y1 - 2 * hostPadding);
      own.x2 = Math.max(own.x2, b.x2 + 2 * hostPadding);
      own.y2 = Math.max(own.y2, b.y2 + 2 * hostPadding);
    });
  };
  // What n must keep clear of: every node, and the boxes (hosts,
  // projects) it is not in.
  const obstaclesOf = (n) => {
    const own = new Set(n.ancestors().map((a) => a.id()));
    const others = [...hostBoxes].filter(([id]) => !own.has(id)).map(([, b]) => b);
    const more = extras.concat(others);
    const overlaps = (b, r) => b.x2 > r.x1 && b.x1 < r.x2 && b.y2 > r.y1 && b.y1 < r.y2;
    const mine = [...hostBoxes].filter(([id]) => own.has(id));
    const inBox = new Map(); // "<node ID> <box ID>" → whether the node is in the box
    const isIn = (nodeID, boxID) => {
      const k = `${nodeID} ${boxID}`;
      if (!inBox.has(k)) inBox.set(k, cy.getElementById(nodeID).ancestors().some((a) => a.id() === boxID));
      return inBox.get(k);
    };
    return {
      // Whether n goes in a box, which must grow over nothing (fits).
      boxed: mine.length > 0,
      near: (r) => index.near(r).concat(more.filter((b) => overlaps(b, r))),
      extent: () => unionOf([index.extent, ...more].filter(Boolean)),
      // fits tells whether n can stand at box b: a box n is in grows
      // round it, and what it grows over must hold no node that is not
      // in it, and no other box (else the box would seem to hold them).
      fits: (b) => {
        for (const [id, a] of mine) {
          const g = { x1: Math.min(a.x1, b.x1 - 2 * hostPadding), y1: Math.min(a.y1, b.y1 - 2 * hostPadding), x2: Math.max(a.x2, b.x2 + 2 * hostPadding), y2: Math.max(a.y2, b.y2 + 2 * hostPadding) };
          const strips = [
            { x1: g.x1, y1: g.y1, x2: a.x1, y2: g.y2 },
            { x1: a.x2, y1: g.y1, x2: g.x2, y2: g.y2 },
            { x1: a.x1, y1: g.y1, x2: a.x2, y2: a.y1 },
            { x1: a.x1, y1: a.y2, x2: a.x2, y2: g.y2 },
          ].filter((r) => r.x2 > r.x1 && r.y2 > r.y1);
          for (const r of strips) {
            if (index.near(r).some((o) => !o.id || !isIn(o.id, id))) return false;
            if (others.some((o) => overlaps(o, r))) return false;
          }
        }
        return true;
      },
    };
  };

  let pending = fresh.slice();
  while (pending.length) {
    const waiting = [];
    for (const n of pending) {
      const anchors = anchorsOf(n, boxes);
      if (!anchors.length) {
        waiting.push(n);
        continue;
      }
      put(n, spotNear(n, anchors, boxes, obstaclesOf(n), graphBox));
    }
    if (waiting.length === pending.length) {
      // Nothing left has a placed neighbour: the most connected of them
      // (a new network before its new members) goes beside the graph, and
      // the others can then anchor to it.
      const hub = waiting.reduce((a, b) => (hubScore(b) > hubScore(a) ? b : a));
      put(hub, spotBeside(hub, obstaclesOf(hub), cy));
      waiting.splice(waiting.indexOf(hub), 1);
    }
    pending = waiting;
  }
  cy.batch(() => fresh.forEach((n) => n.position(positions.get(n.id()))));
}

// nodeIndex is what placeNewNodes asks of the map's index (graph-index.js)
// for one placement: the nodes already placed (not those of isNew), whose
// boxes (labels included) are measured only when a search comes near
// them, once each: measuring every box cost most of a delta at 5,000
// nodes. The labels of links are obstacles too (the alias on a link is the
// lesson's point, and a node put over it hides it). It returns {has(id),
// boxOf(id), near(region): the boxes that overlap region, extent: a box
// holding them all}.
function nodeIndex(cy, isNew) {
  const ix = indexOf(cy);
  const measured = new Map();
  const boxOf = (id) => {
    let b = measured.get(id);
    if (!b) {
      // Tagged with its node, for fits (placeNewNodes).
      b = { ...ix.boxOf(cy.getElementById(id), nodeBox), id };
      measured.set(id, b);
    }
    return b;
  };
  const hits = (b, r) => b.x2 > r.x1 && b.x1 < r.x2 && b.y2 > r.y1 && b.y1 < r.y2;
  const bend = Math.max(...bends);
  const near = (r) => {
    const out = [];
    ix.near(r, (m) => {
      // What is hidden (focus leaves it out) is in nobody's way.
      if (isNew.has(m.id()) || !m.visible()) return;
      const b = boxOf(m.id());
      if (hits(b, r)) out.push(b);
    });
    // A link's label stands by the middle of the link, or off it as far
    // as its bend (bendLinks).
    for (const e of ix.links()) {
      if (isNew.has(e.source().id()) || isNew.has(e.target().id())) continue;
      const a = e.source().position();
      const z = e.target().position();
      const reach = (String(e.data('label') || '').length * 16) / 2 + bend + 24;
      const mx = (a.x + z.x) / 2;
      const my = (a.y + z.y) / 2;
      if (mx + reach < r.x1 || mx - reach > r.x2 || my + reach < r.y1 || my - reach > r.y2) continue;
      const lb = e.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false });
      if (lb.w > 0 && lb.h > 0 && hits(lb, r)) out.push({ x1: lb.x1, y1: lb.y1, x2: lb.x2, y2: lb.y2 });
    }
    return out;
  };
  let extent;
  return {
    has: (id) => !isNew.has(id) && ix.has(id),
    boxOf,
    near,
    get extent() {
      if (extent === undefined) extent = ix.extent();
      return extent;
    },
  };
}

// floatingBoxes are the rectangles of what floats over the graph, in
// model coordinates at the current viewport.
function floatingBoxes(cy) {
  const z = cy.zoom();
  const p = cy.pan();
  return avoidRects(cy).map((r) => ({ x1: (r.left - p.x) / z, y1: (r.top - p.y) / z, x2: (r.right - p.x) / z, y2: (r.bottom - p.y) / z }));
}

// keepInView moves the camera, never a node, when one of eles would be
// drawn outside the map or under what floats over it: the whole map is
// fitted again, so the room sees where it went.
export function keepInView(cy, eles) {
  if (eles.empty() || cy.width() === 0) return;
  const w = cy.width();
  const h = cy.height();
  const over = avoidRects(cy);
  const hidden = eles.filter(':visible').some((n) => {
    const b = n.renderedBoundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
    if (b.x1 < 0 || b.y1 < 0 || b.x2 > w || b.y2 > h) return true;
    return over.some((r) => b.x1 < r.right && b.x2 > r.left && b.y1 < r.bottom && b.y2 > r.top);
  });
  if (hidden) fitGraph(cy, shownElements(cy), 40, true);
}

// nodeBox is the box the placement keeps clear: the node with its label.
// An empty predefined network counts at its full size, which it takes back
// as soon as something joins it.
function nodeBox(n) {
  const b = n.boundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
  const box = { x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 };
  if (n.hasClass('predefined') && n.hasClass('empty')) {
    const p = n.position();
    const hw = (n.data('width') || 120) / 2 + 2;
    const hh = (n.data('height') || 48) / 2 + 2;
    box.x1 = Math.min(box.x1, p.x - hw);
    box.x2 = Math.max(box.x2, p.x + hw);
    box.y1 = Math.min(box.y1, p.y - hh);
    box.y2 = Math.max(box.y2, p.y + hh);
  }
  return box;
}

// relativeBox is n's box relative to its position (a label hangs below a
// container, so the box is not centred on it).
function relativeBox(n) {
  const b = nodeBox(n);
  const p = n.position();
  return { x1: b.x1 - p.x, y1: b.y1 - p.y, x2: b.x2 - p.x, y2: b.y2 - p.y };
}

function unionOf(bs) {
  if (!bs.length) return null;
  const u = { ...bs[0] };
  for (const b of bs) {
    u.x1 = Math.min(u.x1, b.x1);
    u.y1 = Math.min(u.y1, b.y1);
    u.x2 = Math.max(u.x2, b.x2);
    u.y2 = Math.max(u.y2, b.y2);
  }
  return u;
}

const centreOf = (b) => ({ x: (b.x1 + b.x2) / 2, y: (b.y1 + b.y2) / 2 });

// anchorRank orders the neighbours a new node may stand next to: lower is
// better.
function anchorRank(n, edge, m) {
  if (n.hasClass('container')) {
    if (m.hasClass('network')) return 0;
    if (edge.hasClass('link')) return 1;
    if (edge.hasClass('netns') || edge.hasClass('volumes-from')) return 2;
    if (m.hasClass('container')) return 3;
    return 4; // volume or bind
  }
  return m.hasClass('container') ? 0 : 1;
}

// anchorsOf lists n's placed neighbours, best anchor first.
function anchorsOf(n, boxes) {
  const out = [];
  const seen = new Set();
  n.connectedEdges().not('.overlay').forEach((e) => {
    const m = e.source().same(n) ? e.target() : e.source();
    if (m.same(n) || seen.has(m.id()) || !boxes.has(m.id())) return;
    seen.add(m.id());
    out.push({ node: m, rank: anchorRank(n, e, m) });
  });
  out.sort((a, b) => a.rank - b.rank);
  // A member of a Compose project whose neighbours are all outside its
  // box stands by the project's member nearest its best neighbour, so that
  // the box does not grow across the map to reach it.
  const box = n.parent().filter('.project');
  if (box.nonempty() && out.length && !out.some((a) => a.node.parent().same(box))) {
    const to = boxes.centre(out[0].node);
    let best = null;
    let d = Infinity;
    box.children().forEach((m) => {
      if (m.same(n) || !boxes.has(m.id())) return;
      const c = boxes.centre(m);
      const dm = (c.x - to.x) ** 2 + (c.y - to.y) ** 2;
      if (dm < d) {
        best = m;
        d = dm;
      }
    });
    if (best) out.unshift({ node: best });
  }
  return out.map((a) => a.node);
}

// hubScore: networks first, then the most connected.
function hubScore(n) {
  return (n.hasClass('network') ? 1000 : 0) + n.degree(false);
}

// spotNear finds a free spot for n next to anchors[0], on the side of the
// other anchors if there are some.
function spotNear(n, anchors, boxes, obstacles, graphBox) {
  const anchorBox = boxes.get(anchors[0].id());
  const c = centreOf(anchorBox);
  let target;
  if (anchors.length > 1) {
    // Between its anchors: the centroid of their centres.
    target = { x: 0, y: 0 };
    for (const a of anchors) {
      const ac = centreOf(boxes.get(a.id()));
      target.x += ac.x / anchors.length;
      target.y += ac.y / anchors.length;
    }
  } else {
    // Away from where the anchor's other neighbours are, or else away from
    // the middle of the graph, or else below.
    let dx = 0;
    let dy = 0;
    let k = 0;
    // At most 64 of them, evenly picked: a hub of a thousand members
    // points the same way with fewer, and the delta stays short. The
    // centre of a box is about the node's position: none is measured.
    const edges = anchors[0].connectedEdges();
    const step = Math.max(1, Math.ceil(edges.length / 64));
    for (let i = 0; i < edges.length; i += step) {
      const e = edges[i];
      const m = e.source().same(anchors[0]) ? e.target() : e.source();
      if (!boxes.has(m.id()) || m.same(n)) continue;
      const mc = boxes.centre(m);
      dx += mc.x;
      dy += mc.y;
      k++;
    }
    let dir = k ? { x: c.x - dx / k, y: c.y - dy / k } : { x: 0, y: 0 };
    if (Math.hypot(dir.x, dir.y) < 1 && graphBox()) {
      const g = centreOf(graphBox());
      dir = { x: c.x - g.x, y: c.y - g.y };
    }
    if (Math.hypot(dir.x, dir.y) < 1) dir = { x: 0, y: 1 };
    const len = Math.hypot(dir.x, dir.y);
    target = { x: c.x + (dir.x / len) * 1e5, y: c.y + (dir.y / len) * 1e5 };
  }
  const rel = relativeBox(n);
  // Crowded all round: beside the whole graph instead.
  return (
    (obstacles.boxed && ringSearch(rel, anchorBox, target, obstacles, place.firstGap, true)) ||
    ringSearch(rel, anchorBox, target, obstacles, place.firstGap) ||
    raySearch(rel, anchorBox, target, obstacles) ||
    ringSearch(rel, obstacles.extent(), target, obstacles, place.firstGap) ||
    clearOfAll(rel, obstacles)
  );
}

// spotBeside finds a free spot for a node with no placed neighbour: just
// outside the graph's bounding box, from its bottom-right corner on (the
// legend sits at the bottom left), or the middle of the view on an empty
// graph.
function spotBeside(n, obstacles, cy) {
  const g = obstacles.extent();
  if (!g) {
    const e = cy.extent();
    return { x: (e.x1 + e.x2) / 2, y: (e.y1 + e.y2) / 2 };
  }
  const rel = relativeBox(n);
  return ringSearch(rel, g, { x: g.x2, y: g.y2 }, obstacles, place.margin * 2) || clearOfAll(rel, obstacles);
}

// clearOfAll is a spot right of everything, for a box shaped rel: free
// whatever the graph looks like.
function clearOfAll(rel, obstacles) {
  const u = obstacles.extent();
  return { x: u.x2 + place.margin - rel.x1, y: u.y1 - rel.y1 };
}

// freeTest returns whether a box shaped rel (relative to its centre), with
// place.margin round it, is free at a spot; strict, it must also fit
// obstacles' boxes (placeNewNodes). The obstacles are asked for by cells,
// as the spots tried reach them: round a hub of thousands of members a
// search touches a few cells of it, not all.
function freeTest(rel, obstacles, strict) {
  const m = place.margin;
  const cell = 200;
  const grid = new Map();
  const cellBoxes = (x, y) => {
    const k = `${x},${y}`;
    let bs = grid.get(k);
    if (!bs) {
      bs = obstacles.near({ x1: x * cell, y1: y * cell, x2: (x + 1) * cell, y2: (y + 1) * cell });
      grid.set(k, bs);
    }
    return bs;
  };
  return (p) => {
    const x1 = p.x + rel.x1 - m;
    const y1 = p.y + rel.y1 - m;
    const x2 = p.x + rel.x2 + m;
    const y2 = p.y + rel.y2 + m;
    for (let x = Math.floor(x1 / cell); x <= Math.floor(x2 / cell); x++) {
      for (let y = Math.floor(y1 / cell); y <= Math.floor(y2 / cell); y++) {
        for (const b of cellBoxes(x, y)) {
          if (x1 < b.x2 && b.x1 < x2 && y1 < b.y2 && b.y1 < y2) return false;
        }
      }
    }
    return !strict || !obstacles.fits || obstacles.fits({ x1: p.x + rel.x1, y1: p.y + rel.y1, x2: p.x + rel.x2, y2: p.y + rel.y2 });
  };
}

// raySearch walks out from box around towards target, and a little to
// either side, to the first free spot: a hub whose rings are full (a
// class's thousand containers round the default bridge) gets its new
// member at its rim, not beside the whole map. Null if none within far.
function raySearch(rel, around, target, obstacles) {
  const c = centreOf(around);
  const len = Math.hypot(target.x - c.x, target.y - c.y);
  if (len < 1) return null;
  const dir = { x: (target.x - c.x) / len, y: (target.y - c.y) / len };
  const side = { x: -dir.y, y: dir.x };
  const step = Math.max(12, Math.min(rel.x2 - rel.x1, rel.y2 - rel.y1) / 2);
  const free = freeTest(rel, obstacles, false);
  const start = Math.max(around.x2 - around.x1, around.y2 - around.y1) / 2 + place.firstGap;
  for (let t = start; t < start + 20000; t += step) {
    for (const o of [0, step, -step, 2 * step, -2 * step]) {
      const p = { x: c.x + dir.x * t + side.x * o, y: c.y + dir.y * t + side.y * o };
      if (free(p)) return p;
    }
  }
  return null;
}

// ringSearch returns the centre of the first free spot for a box shaped
// rel (relative to its centre) on rings around box around, nearest to
// target first on each ring, or null.
function ringSearch(rel, around, target, obstacles, firstGap, strict = false) {
  const free = freeTest(rel, obstacles, strict);
  const d2 = (p) => (p.x - target.x) ** 2 + (p.y - target.y) ** 2;
  for (let k = 0; k < place.rings; k++) {
    const gap = firstGap + k * place.ringStep;
    // Centres at which the box is gap away from around's edge.
    const X1 = around.x1 - gap - rel.x2;
    const X2 = around.x2 + gap - rel.x1;
    const Y1 = around.y1 - gap - rel.y2;
    const Y2 = around.y2 + gap - rel.y1;
    const spots = [];
    const nx = Math.max(1, Math.ceil((X2 - X1) / place.sampleStep));
    const ny = Math.max(1, Math.ceil((Y2 - Y1) / place.sampleStep));
    for (let i = 0; i <= nx; i++) {
      const x = X1 + ((X2 - X1) * i) / nx;
      spots.push({ x, y: Y1 }, { x, y: Y2 });
    }
    for (let j = 1; j < ny; j++) {
      const y = Y1 + ((Y2 - Y1) * j) / ny;
      spots.push({ x: X1, y }, { x: X2, y });
    }
    spots.sort((a, b) => d2(a) - d2(b));
    for (const p of spots) if (free(p)) return p;
  }
  return null;
}

// filterByName fades every node whose label does not contain query (case
// insensitive) and the edges between faded nodes; an empty query clears

// Bends tried for a link whose label a node covers, in model pixels off
// the straight line, nearest first.
const bends = [60, -60, 100, -100, 150, -150, 210, -210, 280, -280];

// bendLinks curves each link whose label a node covers, just enough for
// the label to clear every node, and straightens it again when a straight
// line is clear: the alias on a link is what the room reads, and nodes
// never move for it. near, when given (the nodes a delta touched), limits
// it to the links those can have covered: every link on every delta cost
// a pass over every node per link. A link a removed node had bent stays
// bent until its next change, a drag or a Tidy.
export function bendLinks(cy, near = null) {
  let links = cy.edges('.link:visible, .broken-link:visible');
  if (links.empty()) return;
  const ix = indexOf(cy);
  const hits = (b, o) => b.x1 < o.x2 && b.x2 > o.x1 && b.y1 < o.y2 && b.y2 > o.y1;
  if (near) {
    // Only the links a change can have covered or cleared: those of the
    // nodes it touched, and those whose label one of them stands over.
    const touched = near.filter((n) => n.visible() && !n.hasClass('overlay'));
    if (touched.empty()) return;
    const boxes = touched.map((n) => ix.boxOf(n, nodeBox));
    links = links.filter((e) => {
      if (touched.contains(e.source()) || touched.contains(e.target())) return true;
      const b = e.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false });
      return b.w > 0 && boxes.some((o) => hits(b, o));
    });
  }
  links.forEach((e) => {
    const ends = new Set([e.source().id(), e.target().id()]);
    // The nodes near the label, from the map's index (a box of a host or
    // a project holds its links: it covers none of their labels).
    const clear = () => {
      const b = e.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false });
      if (!(b.w > 0)) return true;
      let ok = true;
      ix.near(b, (n) => {
        if (ok && !ends.has(n.id()) && n.visible() && hits(b, ix.boxOf(n, nodeBox))) ok = false;
      });
      return ok;
    };
    const was = e.data('bend');
    if (was !== undefined) {
      e.removeData('bend');
      if (clear()) return;
      e.data('bend', was);
      if (clear()) return;
    } else if (clear()) {
      return;
    }
    for (const d of bends) {
      e.data('bend', d);
      if (clear()) return;
    }
    // Nowhere clear: the straight line, as before.
    e.removeData('bend');
  });
}


// evictLoose moves a node of no host (a Swarm service, an overlay
// network) out of any host's box that grew over it: a box grows round the
// members placed in it, and a service under it could no longer be seen or
// clicked. The node goes to the nearest side of that box that is clear of
// every box; the camera is not moved.
export function evictLoose(cy) {
  const boxes = indexOf(cy)
    .boxes()
    .filter((b) => b.hasClass('host') && b.visible())
    .map((b) => b.boundingBox());
  if (!boxes.length) return;
  const hits = (r) => boxes.some((b) => r.x1 < b.x2 && r.x2 > b.x1 && r.y1 < b.y2 && r.y2 > b.y1);
  const gap = hostPadding * 2;
  cy.nodes(':visible')
    .not('.host, .overlay')
    .filter((n) => n.parent().empty())
    .forEach((n) => {
      const r = n.boundingBox();
      const over = boxes.find((b) => r.x1 < b.x2 && r.x2 > b.x1 && r.y1 < b.y2 && r.y2 > b.y1);
      if (!over) return;
      const p = n.position();
      const w = r.x2 - r.x1;
      const h = r.y2 - r.y1;
      const ways = [
        { x: over.x1 - w / 2 - gap, y: p.y },
        { x: over.x2 + w / 2 + gap, y: p.y },
        { x: p.x, y: over.y1 - h / 2 - gap },
        { x: p.x, y: over.y2 + h / 2 + gap },
      ].sort((a, b) => Math.hypot(a.x - p.x, a.y - p.y) - Math.hypot(b.x - p.x, b.y - p.y));
      // With no side clear of every box it stays: moved into another
      // box it would cover that host's nodes instead.
      const clear = ways.find((q) => !hits({ x1: q.x - w / 2, y1: q.y - h / 2, x2: q.x + w / 2, y2: q.y + h / 2 }));
      if (clear) n.position(clear);
    });
}
