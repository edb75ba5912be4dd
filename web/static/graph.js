// graph.js draws dockmap's topology with Cytoscape and keeps it current.
//
// Wire format: the nodes and edges of internal/topology (graph.go), as JSON.
// Every Cytoscape element carries the raw object's fields plus
// {id, kind, label} and a few derived fields the stylesheet reads (colour,
// size); its classes say its kind and state (container, stopped, ro, ...).
//
// Projector rule: once the first snapshot is laid out, nothing that did not
// change ever moves. Deltas and reconnect snapshots are applied as diffs;
// new nodes are placed next to their neighbours.

/* global cytoscape */

// How long a new or changed element stays highlighted.
const flashMillis = 1500;

// Placement of new nodes (placeNewNodes). Distances are in model pixels,
// measured between bounding boxes that include labels.
const place = {
  margin: 20, // free space between a new node's box and any other box
  firstGap: 40, // first ring: this far from the anchor's box edge
  ringStep: 30, // each further ring is this much further out
  rings: 40, // rings tried around an anchor before giving up on it
  sampleStep: 24, // spacing of the candidate points along a ring
};

// Above this many nodes the first layout uses fcose's "draft" quality
// (spectral only): the force-directed pass costs about 2 s at 1,500 nodes
// in Chromium, over the 1 s budget for a first render.
const draftLayoutNodes = 600;

// Colours that are not per network. Running containers are one strong
// colour so that state reads at a glance; stopped ones are plain grey.
const colours = {
  running: '#2e7d32',
  runningBorder: '#1b4d1e',
  stopped: '#9e9e9e',
  stoppedBorder: '#6d6d6d',
  unhealthy: '#d32f2f',
  starting: '#f9a825',
  volume: '#f2b01e',
  volumeBorder: '#a66f00',
  bind: '#8d6e63',
  bindBorder: '#5d4037',
  link: '#7b1fa2',
  mount: '#a66f00',
  netns: '#37474f',
  volumesFrom: '#00838f',
  shareOK: '#2e7d32',
  shareFail: '#c62828',
  text: '#1b1f23',
  selected: '#ff9800',
  flash: '#ffe100',
  probeOK: '#2e7d32',
  probeFail: '#c62828',
};

// networkPalette holds the network colours: dark enough for white labels
// on a projector, and away from the colours that mean something else here
// (green = running, grey = stopped, red = unhealthy, purple = link,
// amber = volume/mount, brown = bind).
const networkPalette = ['#1565c0', '#00838f', '#e65100', '#ad1457', '#283593', '#827717', '#546e7a'];

// networkColour picks a network's colour from its name, so that a network
// keeps its colour across reloads, reconnects and machines. FNV-1a plus a
// final mix (murmur3's fmix32) so that similar names ("app-a", "app-b")
// still land on different colours.
export function networkColour(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return networkPalette[(h >>> 0) % networkPalette.length];
}

// Cytoscape stylesheet. Node labels are at least 14px so they survive a
// projector; edge labels that would clutter (IPs) only show on focus.
const stylesheet = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': 16,
      color: colours.text,
      'text-valign': 'bottom',
      'text-halign': 'center',
      'text-margin-y': 6,
      // Wrapping costs a text measurement per word: about 1 s for 1,500
      // labels. Only networks (several lines) and binds (long paths) wrap.
      'text-wrap': 'none',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'text-background-padding': 2,
      'text-background-shape': 'roundrectangle',
      'min-zoomed-font-size': 6,
    },
  },
  {
    selector: 'node.container',
    style: {
      shape: 'ellipse',
      width: 48,
      height: 48,
      'background-color': colours.running,
      'border-width': 3,
      'border-color': colours.runningBorder,
      'font-weight': 600,
    },
  },
  {
    selector: 'node.container.stopped',
    style: {
      'background-color': colours.stopped,
      'border-color': colours.stoppedBorder,
      color: '#5f5f5f',
      'font-weight': 'normal',
    },
  },
  // A tmpfs mount (memory, gone with the container): a double ring.
  { selector: 'node.container.tmpfs', style: { 'border-style': 'double', 'border-width': 7 } },
  { selector: 'node.container.unhealthy', style: { 'border-color': colours.unhealthy, 'border-width': 7 } },
  { selector: 'node.container.health-starting', style: { 'border-color': colours.starting, 'border-width': 5 } },
  {
    selector: 'node.network',
    style: {
      shape: 'round-rectangle',
      width: 'data(width)',
      height: 'data(height)',
      'background-color': 'data(colour)',
      'border-width': 3,
      'border-color': '#263238',
      color: '#ffffff',
      'font-size': 17,
      'font-weight': 'bold',
      'text-valign': 'center',
      'text-margin-y': 0,
      'text-background-opacity': 0,
      'text-wrap': 'wrap',
      'text-max-width': 400,
    },
  },
  { selector: 'node.network.default-bridge', style: { 'border-style': 'dashed', 'border-width': 4 } },
  // The engine's own host and none networks, while nothing is on them:
  // small and faded, so they do not compete with the networks in use.
  // placeNewNodes keeps room for their full size.
  {
    selector: 'node.network.predefined.empty',
    style: {
      width: 64,
      height: 28,
      'background-opacity': 0.12,
      'border-width': 2,
      'border-color': '#b0bec5',
      color: '#78909c',
      'font-size': 14,
      'font-weight': 'normal',
    },
  },
  {
    selector: 'node.volume',
    style: {
      shape: 'barrel',
      width: 46,
      height: 42,
      'background-color': colours.volume,
      'border-width': 2,
      'border-color': colours.volumeBorder,
      'font-size': 15,
    },
  },
  {
    selector: 'node.volume.anonymous',
    style: { width: 30, height: 28, 'border-style': 'dashed', 'background-opacity': 0.7, 'font-size': 14, color: '#5f5f5f' },
  },
  {
    selector: 'node.bind',
    style: {
      shape: 'tag',
      width: 46,
      height: 32,
      'background-color': colours.bind,
      'border-width': 2,
      'border-color': colours.bindBorder,
      'font-size': 14,
      'font-family': 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace',
      // Host paths have no spaces to wrap on.
      'text-wrap': 'wrap',
      'text-max-width': 220,
      'text-overflow-wrap': 'anywhere',
    },
  },
  {
    selector: 'node:selected',
    style: { 'underlay-color': colours.selected, 'underlay-opacity': 0.45, 'underlay-padding': 10, 'underlay-shape': 'ellipse' },
  },
  {
    selector: 'edge',
    style: {
      width: 2,
      'curve-style': 'bezier',
      'line-color': '#90a4ae',
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': 14,
      color: colours.text,
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': 2,
      'text-background-shape': 'roundrectangle',
      'min-zoomed-font-size': 6,
    },
  },
  // Membership: the network's colour; the IP only when someone looks at it.
  { selector: 'edge.member', style: { width: 3, 'line-color': 'data(colour)', 'line-opacity': 0.8 } },
  {
    selector: 'edge.member.focus, edge.member.hover, edge.member:selected',
    style: { label: 'data(label)', width: 5, 'line-opacity': 1 },
  },
  {
    selector: 'edge.link',
    style: {
      label: 'data(label)',
      width: 5,
      'line-color': colours.link,
      'target-arrow-color': colours.link,
      'target-arrow-shape': 'triangle',
      'arrow-scale': 1.6,
      color: '#4a148c',
      'font-weight': 'bold',
      'font-size': 15,
    },
  },
  // A removed container that a legacy link still holds on to: a grey,
  // dashed outline under its last name.
  {
    selector: 'node.ghost',
    style: {
      shape: 'ellipse',
      width: 40,
      height: 40,
      'background-color': '#eeeeee',
      'background-opacity': 0.6,
      'border-width': 3,
      'border-style': 'dashed',
      'border-color': colours.stopped,
      color: colours.stoppedBorder,
      'font-style': 'italic',
    },
  },
  // A legacy link to a removed container: red and dashed, with its alias
  // and the word "broken".
  {
    selector: 'edge.broken-link',
    style: {
      label: 'data(label)',
      width: 4,
      'line-color': colours.unhealthy,
      'line-style': 'dashed',
      'line-dash-pattern': [10, 6],
      'target-arrow-color': colours.unhealthy,
      'target-arrow-shape': 'triangle',
      'arrow-scale': 1.4,
      color: colours.unhealthy,
      'font-weight': 'bold',
      'font-size': 14,
    },
  },
  {
    selector: 'edge.mount',
    style: { label: 'data(label)', width: 2.5, 'line-color': colours.mount, color: '#6b4700' },
  },
  { selector: 'edge.mount.ro', style: { 'line-style': 'dashed', 'line-dash-pattern': [8, 5] } },
  {
    selector: 'edge.netns',
    style: {
      label: 'data(label)',
      width: 3,
      'line-color': colours.netns,
      'line-style': 'dotted',
      'target-arrow-shape': 'vee',
      'target-arrow-color': colours.netns,
    },
  },
  // --volumes-from: from the container that borrows to the donor, teal,
  // dash-dotted, with the donor's volumes behind the arrow.
  {
    selector: 'edge.volumes-from',
    style: {
      label: 'data(label)',
      width: 4,
      'line-color': colours.volumesFrom,
      'line-style': 'dashed',
      'line-dash-pattern': [12, 4, 2, 4],
      'target-arrow-shape': 'triangle-tee',
      'target-arrow-color': colours.volumesFrom,
      'arrow-scale': 1.4,
      color: '#004d52',
      'font-weight': 'bold',
    },
  },
  // Test sharing (volumes.js): the mounts that proved sharing, or not.
  { selector: 'edge.mount.share-ok', style: { 'line-color': colours.shareOK, width: 6, 'z-index': 15 } },
  { selector: 'edge.mount.share-fail', style: { 'line-color': colours.shareFail, width: 6, 'z-index': 15 } },
  { selector: 'edge:selected', style: { 'underlay-color': colours.selected, 'underlay-opacity': 0.4, 'underlay-padding': 4 } },
  // Probe results (probes.js): a thin dashed arrow from the container that
  // pinged to the one it pinged, green or red, with the failure kinds.
  {
    selector: 'edge.probe',
    style: {
      label: 'data(label)',
      width: 2.5,
      'line-style': 'dashed',
      'line-dash-pattern': [7, 4],
      'target-arrow-shape': 'triangle',
      'arrow-scale': 1.2,
      'line-color': colours.probeOK,
      'target-arrow-color': colours.probeOK,
      'text-wrap': 'wrap',
      'font-size': 14,
      'font-weight': 'bold',
      color: colours.probeFail,
      'z-index': 20,
    },
  },
  { selector: 'edge.probe.probe-fail', style: { 'line-color': colours.probeFail, 'target-arrow-color': colours.probeFail } },
  // No probe of the pair could run: no measure, so neither green nor red.
  { selector: 'edge.probe.probe-unmeasured', style: { 'line-color': colours.stopped, 'target-arrow-color': colours.stopped, color: colours.netns } },
  { selector: 'edge.probe.probe-pending', style: { 'line-opacity': 0.45 } },
  // Link mode: the line drawn while dragging, and the two ends.
  {
    selector: 'edge.link-draft',
    style: {
      width: 4,
      'line-color': colours.link,
      'line-style': 'dashed',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': colours.link,
      'curve-style': 'straight',
      'z-index': 30,
    },
  },
  // The invisible end of the arrow being drawn in link mode.
  { selector: 'node.link-cursor', style: { width: 1, height: 1, opacity: 0, events: 'no', label: '' } },
  {
    selector: 'node.link-source, node.link-target',
    style: { 'underlay-color': colours.link, 'underlay-opacity': 0.35, 'underlay-padding': 12, 'underlay-shape': 'ellipse' },
  },
  // Highlight for what a delta just added or changed.
  { selector: '.flash', style: { 'overlay-color': colours.flash, 'overlay-opacity': 0.55, 'overlay-padding': 10 } },
  // Search: everything that does not match steps back.
  { selector: '.faded', style: { opacity: 0.15 } },
];

// createGraph starts Cytoscape in container with dockmap's style and no
// elements; renderSnapshot fills it. options.fitAvoid, if given, returns
// the rectangle ({left, top, right, bottom}, in pixels relative to the
// container) of something that floats over the graph, such as the legend,
// or null; fitGraph keeps the graph out of it.
export function createGraph(container, options = {}) {
  // The fcose UMD build registers itself when cytoscape is a global; if it
  // was loaded some other way, register it here.
  if (!cytoscape('layout', 'fcose') && window.cytoscapeFcose) {
    cytoscape.use(window.cytoscapeFcose);
  }
  const cy = cytoscape({
    container,
    elements: [],
    style: stylesheet,
    minZoom: 0.05,
    maxZoom: 5,
    // A click selects one node; Shift+click adds or removes one, and
    // Shift+drag on the background selects a box (for "Ping selection").
    selectionType: 'single',
    boxSelectionEnabled: true,
  });
  cy.scratch(scratchKey, { fitAvoid: options.fitAvoid || null });
  return cy;
}

// fitGraph fits eles (default: everything) into the view with padding
// pixels around them, like cy.fit, but in the largest part of the view
// that is under none of the things floating over it (the legend, the map
// controls): of the rectangles clear of all of them, the one that lets the
// graph be drawn biggest.
export function fitGraph(cy, eles = cy.elements().not('.overlay'), padding = 40) {
  if (eles.empty()) return;
  // Cytoscape learns of a resized window a little later; a fit in between
  // would use the old size and draw part of the map past its edge.
  cy.resize();
  const bb = eles.boundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
  const w = cy.width();
  const h = cy.height();
  const opts = cy.scratch(scratchKey);
  let areas = [{ x: 0, y: 0, w, h }];
  for (const r of (opts && opts.fitAvoid ? opts.fitAvoid() : []) || []) {
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
  cy.viewport({
    zoom,
    pan: { x: a.x + a.w / 2 - zoom * (bb.x1 + bb.w / 2), y: a.y + a.h / 2 - zoom * (bb.y1 + bb.h / 2) },
  });
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

// nodeElement turns a topology Node into Cytoscape element JSON.
function nodeElement(n) {
  const data = { ...n, id: n.id, kind: n.kind, label: n.label || n.id };
  const classes = [n.kind];
  if (n.kind === 'container' && n.container) {
    const c = n.container;
    data.name = c.name;
    data.state = c.state;
    classes.push(c.state === 'running' ? 'running' : 'stopped');
    if (c.health === 'unhealthy') classes.push('unhealthy');
    if (c.health === 'starting') classes.push('health-starting');
    // A tmpfs mount has no node of its own: the container wears it.
    if ((c.tmpfs || []).length) {
      classes.push('tmpfs');
      data.label = `${data.label} · tmpfs`;
    }
  } else if (n.kind === 'network' && n.network) {
    const net = n.network;
    data.name = net.name;
    data.colour = networkColour(net.name || n.id);
    // Networks are hubs: their label says what a workshop needs (subnet,
    // and why names do not resolve on the default bridge).
    const lines = [net.name || n.label];
    for (const s of net.subnets || []) lines.push(s.subnet);
    if (net.default) lines.push('default bridge');
    if (net.internal) lines.push('internal');
    if (net.icc === false) lines.push('icc off');
    data.label = lines.join('\n');
    const longest = Math.max(...lines.map((l) => l.length));
    data.width = Math.max(120, Math.round(longest * 10 + 28));
    data.height = Math.max(48, lines.length * 21 + 22);
    if (net.default) classes.push('default-bridge');
    if (isPredefined(net)) classes.push('predefined');
  } else if (n.kind === 'volume' && n.volume) {
    data.name = n.volume.name;
    if (n.volume.anonymous) classes.push('anonymous');
  } else if (n.kind === 'bind' && n.bind) {
    data.name = n.bind.path;
  }
  return { group: 'nodes', data, classes };
}

// isPredefined tells the engine's host and none networks, which exist on
// every engine and cannot be removed.
function isPredefined(net) {
  return (net.name === 'host' && net.driver === 'host') || (net.name === 'none' && net.driver === 'null');
}

// markEmptyNetworks gives the predefined networks class "empty" while they
// have no member, and takes it away when something joins them.
function markEmptyNetworks(cy) {
  cy.nodes('.network.predefined').forEach((n) => {
    n.toggleClass('empty', n.connectedEdges('.member').empty());
  });
}

// edgeElement turns a topology Edge into Cytoscape element JSON.
function edgeElement(e) {
  const data = { ...e, id: e.id, kind: e.kind, source: e.from, target: e.to, label: '' };
  const classes = [e.kind];
  if (e.kind === 'member' && e.member) {
    data.label = e.member.ip || '';
    data.colour = networkColour(e.member.networkName || e.to);
  } else if (e.kind === 'link' && e.link) {
    data.label = e.link.alias;
  } else if (e.kind === 'broken-link' && e.link) {
    data.label = `${e.link.alias} (broken)`;
  } else if (e.kind === 'mount' && e.mount) {
    data.label = e.mount.destination + (e.mount.readOnly ? ' (ro)' : '');
    if (e.mount.readOnly) classes.push('ro');
  } else if (e.kind === 'netns') {
    data.label = 'netns';
  } else if (e.kind === 'volumes-from') {
    const ro = !!(e.volumesFrom && e.volumesFrom.readOnly);
    data.label = ro ? 'volumes-from (ro)' : 'volumes-from';
    if (ro) classes.push('ro');
  }
  return { group: 'edges', data, classes };
}

// The raw JSON of each element is kept in its scratch space, so that a
// reconnect snapshot can tell changed elements from unchanged ones.
const scratchKey = 'dockmap';

function rawOf(ele) {
  const s = ele.scratch(scratchKey);
  return s ? s.raw : undefined;
}

// upsert adds the element or updates it in place (keeping its position).
// It returns the Cytoscape element and whether it is new.
function upsert(cy, json, raw) {
  const existing = cy.getElementById(json.data.id);
  if (existing.nonempty()) {
    // data() merges, so fields that disappeared must be removed by hand.
    const stale = Object.keys(existing.data()).filter((k) => !(k in json.data) && k !== 'id' && k !== 'source' && k !== 'target');
    if (stale.length) existing.removeData(stale.join(' '));
    existing.data(json.data);
    // classes() replaces the list: keep the transient UI classes.
    const keep = ['focus', 'hover', 'faded', 'share-ok', 'share-fail'].filter((c) => existing.hasClass(c));
    existing.classes(json.classes.concat(keep));
    existing.scratch(scratchKey, { raw });
    return { ele: existing, isNew: false };
  }
  const ele = cy.add(json);
  ele.scratch(scratchKey, { raw });
  return { ele, isNew: true };
}

// renderSnapshot makes the graph equal to snapshot ({nodes, edges}). On an
// empty graph it lays everything out with fcose; otherwise it applies the
// difference as a delta, so that unchanged nodes keep their positions (a
// reconnect must not reshuffle the projector). It returns what applyDelta
// returns.
export function renderSnapshot(cy, snapshot) {
  const nodes = snapshot.nodes || [];
  const edges = snapshot.edges || [];
  if (cy.nodes().not('.overlay').empty()) {
    cy.batch(() => {
      cy.elements().remove();
      // One add() for everything: adding elements one by one costs a
      // collection and an event each (a third of a 1,500-node render).
      const byID = new Set(nodes.map((n) => n.id));
      const items = nodes.concat(edges.filter((e) => byID.has(e.from) && byID.has(e.to)));
      const json = items.map((item) => (item.from === undefined ? nodeElement(item) : edgeElement(item)));
      cy.add(json).forEach((ele, i) => ele.scratch(scratchKey, { raw: JSON.stringify(items[i]) }));
    });
    fullLayout(cy);
    // Only now, so that the layout kept room for their full size.
    markEmptyNetworks(cy);
    return { touched: new Set(cy.nodes().map((n) => n.id())), removedNames: new Map() };
  }
  return applyDelta(cy, diffAgainst(cy, nodes, edges));
}

// diffAgainst computes the delta from what cy shows to (nodes, edges), by
// comparing each element's raw JSON.
function diffAgainst(cy, nodes, edges) {
  const delta = { addedNodes: [], changedNodes: [], removedNodes: [], addedEdges: [], changedEdges: [], removedEdges: [] };
  const compare = (items, group, added, changed, removed) => {
    const seen = new Set();
    for (const item of items) {
      seen.add(item.id);
      const ele = cy.getElementById(item.id);
      if (ele.empty()) added.push(item);
      else if (rawOf(ele) !== JSON.stringify(item)) changed.push(item);
    }
    // Overlays (probe edges, the link-mode line) are the page's own, not
    // the server's: a snapshot never removes them.
    cy[group]()
      .not('.overlay')
      .forEach((ele) => {
        if (!seen.has(ele.id())) removed.push(ele.id());
      });
  };
  compare(nodes, 'nodes', delta.addedNodes, delta.changedNodes, delta.removedNodes);
  compare(edges, 'edges', delta.addedEdges, delta.changedEdges, delta.removedEdges);
  return delta;
}

// applyDelta applies one topology Delta in a single Cytoscape batch. New
// nodes are placed next to their neighbours; nothing else moves. New and
// changed elements flash. It returns {touched}: the IDs of the nodes whose
// details may have changed (changed or removed nodes, ends of added,
// changed or removed edges, neighbours of changed nodes), so the caller
// can refresh a panel that shows one of them, and removedNames (node ID →
// name of each removed container).
export function applyDelta(cy, delta) {
  const touched = new Set();
  const removedNames = new Map(); // node ID → name of each removed container
  const fresh = [];
  const flashed = [];
  cy.batch(() => {
    for (const id of delta.removedEdges || []) {
      const e = cy.getElementById(id);
      if (e.empty()) continue;
      touched.add(e.data('source'));
      touched.add(e.data('target'));
      e.remove();
    }
    for (const id of delta.removedNodes || []) {
      const n = cy.getElementById(id);
      if (n.empty()) continue;
      touched.add(id);
      if (n.hasClass('container')) removedNames.set(id, n.data('name'));
      n.neighborhood('node').forEach((m) => touched.add(m.id()));
      n.remove(); // also removes its remaining edges
    }
    // Added and changed are handled alike (upsert), so that a delta that
    // repeats an addition still leaves the right picture.
    for (const n of [...(delta.addedNodes || []), ...(delta.changedNodes || [])]) {
      const { ele, isNew } = upsert(cy, nodeElement(n), JSON.stringify(n));
      touched.add(n.id);
      if (isNew) fresh.push(ele);
      else ele.neighborhood('node').forEach((m) => touched.add(m.id()));
      flashed.push(ele);
    }
    for (const e of [...(delta.addedEdges || []), ...(delta.changedEdges || [])]) {
      // The server never sends an edge without its ends; if it did, adding
      // it would throw and abort the whole batch.
      if (cy.getElementById(e.from).empty() || cy.getElementById(e.to).empty()) {
        console.warn('dockmap: edge with a missing end skipped', e.id);
        continue;
      }
      const { ele } = upsert(cy, edgeElement(e), JSON.stringify(e));
      touched.add(e.from);
      touched.add(e.to);
      flashed.push(ele);
    }
    markEmptyNetworks(cy);
  });
  // After the batch, so that the new nodes have their style and so their
  // size; nothing is drawn in between.
  placeNewNodes(cy, fresh);
  flash(cy.collection(flashed));
  return { touched, removedNames };
}

// flash highlights eles for flashMillis, so the audience sees what changed.
function flash(eles) {
  if (eles.empty()) return;
  eles.addClass('flash');
  setTimeout(() => eles.removeClass('flash'), flashMillis);
}

// fullLayout lays the whole graph out; only for a first, unpositioned graph.
function fullLayout(cy) {
  if (cy.nodes().empty()) return;
  cy.layout({
    name: 'fcose',
    animate: false,
    randomize: true,
    quality: cy.nodes().length > draftLayoutNodes ? 'draft' : 'default',
    nodeDimensionsIncludeLabels: true,
    // Members sit a bit further from their network hub than mounts from
    // their container, so the volumes cluster around their users.
    idealEdgeLength: (e) => (e.hasClass('member') ? 120 : 90),
    nodeRepulsion: () => 9000,
    nodeSeparation: 90,
    fit: false,
  }).run();
  fitGraph(cy);
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
// O(new x existing) box tests, plus the rings actually tried.
function placeNewNodes(cy, fresh) {
  if (!fresh.length) return;
  const isNew = new Set(fresh.map((n) => n.id()));
  // Boxes of every node with a position: the old ones now, the new ones as
  // they are placed.
  const boxes = new Map();
  const obstacles = [];
  cy.nodes().forEach((n) => {
    if (isNew.has(n.id()) || n.hasClass('overlay')) return;
    const b = nodeBox(n);
    boxes.set(n.id(), b);
    obstacles.push(b);
  });
  const graphBox = unionOf(obstacles);
  const positions = new Map();
  const put = (n, p) => {
    const rel = relativeBox(n);
    const b = { x1: p.x + rel.x1, y1: p.y + rel.y1, x2: p.x + rel.x2, y2: p.y + rel.y2 };
    positions.set(n.id(), p);
    boxes.set(n.id(), b);
    obstacles.push(b);
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
      put(n, spotNear(n, anchors, boxes, obstacles, graphBox));
    }
    if (waiting.length === pending.length) {
      // Nothing left has a placed neighbour: the most connected of them
      // (a new network before its new members) goes beside the graph, and
      // the others can then anchor to it.
      const hub = waiting.reduce((a, b) => (hubScore(b) > hubScore(a) ? b : a));
      put(hub, spotBeside(hub, obstacles, cy));
      waiting.splice(waiting.indexOf(hub), 1);
    }
    pending = waiting;
  }
  cy.batch(() => fresh.forEach((n) => n.position(positions.get(n.id()))));
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
    anchors[0].neighborhood('node').forEach((m) => {
      const b = boxes.get(m.id());
      if (!b || m.same(n)) return;
      const mc = centreOf(b);
      dx += mc.x;
      dy += mc.y;
      k++;
    });
    let dir = k ? { x: c.x - dx / k, y: c.y - dy / k } : { x: 0, y: 0 };
    if (Math.hypot(dir.x, dir.y) < 1 && graphBox) {
      const g = centreOf(graphBox);
      dir = { x: c.x - g.x, y: c.y - g.y };
    }
    if (Math.hypot(dir.x, dir.y) < 1) dir = { x: 0, y: 1 };
    const len = Math.hypot(dir.x, dir.y);
    target = { x: c.x + (dir.x / len) * 1e5, y: c.y + (dir.y / len) * 1e5 };
  }
  const rel = relativeBox(n);
  // Crowded all round: beside the whole graph instead.
  return (
    ringSearch(rel, anchorBox, target, obstacles, place.firstGap) ||
    ringSearch(rel, unionOf(obstacles), target, obstacles, place.firstGap) ||
    clearOfAll(rel, obstacles)
  );
}

// spotBeside finds a free spot for a node with no placed neighbour: just
// outside the graph's bounding box, from its bottom-right corner on (the
// legend sits at the bottom left), or the middle of the view on an empty
// graph.
function spotBeside(n, obstacles, cy) {
  const g = unionOf(obstacles);
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
  const u = unionOf(obstacles);
  return { x: u.x2 + place.margin - rel.x1, y: u.y1 - rel.y1 };
}

// ringSearch returns the centre of the first free spot for a box shaped
// rel (relative to its centre) on rings around box around, nearest to
// target first on each ring, or null.
function ringSearch(rel, around, target, obstacles, firstGap) {
  const m = place.margin;
  const reach = firstGap + place.rings * place.ringStep + Math.max(rel.x2 - rel.x1, rel.y2 - rel.y1) + m;
  // Only the boxes that a spot on one of the rings could touch.
  const near = obstacles.filter(
    (b) => b.x2 > around.x1 - reach && b.x1 < around.x2 + reach && b.y2 > around.y1 - reach && b.y1 < around.y2 + reach,
  );
  const free = (p) => {
    const x1 = p.x + rel.x1 - m;
    const y1 = p.y + rel.y1 - m;
    const x2 = p.x + rel.x2 + m;
    const y2 = p.y + rel.y2 + m;
    for (const b of near) {
      if (x1 < b.x2 && b.x1 < x2 && y1 < b.y2 && b.y1 < y2) return false;
    }
    return true;
  };
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
// the filter. It returns the matching container nodes.
export function filterByName(cy, query) {
  const q = query.trim().toLowerCase();
  let matches = cy.collection();
  cy.batch(() => {
    cy.elements().removeClass('faded');
    if (!q) return;
    const hit = cy.nodes().filter((n) => String(n.data('label')).toLowerCase().includes(q));
    cy.nodes().not(hit).addClass('faded');
    cy.edges().filter((e) => e.source().hasClass('faded') || e.target().hasClass('faded')).addClass('faded');
    matches = hit.filter('.container');
  });
  return matches;
}

// focusEdges marks the edges of the selected node with class "focus", so
// its membership edges show their IPs.
export function focusEdges(cy) {
  cy.batch(() => {
    cy.edges('.focus').removeClass('focus');
    cy.nodes(':selected').connectedEdges().addClass('focus');
  });
}
