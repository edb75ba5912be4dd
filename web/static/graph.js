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

// Above this many nodes, new nodes keep their neighbour-average position and
// skip the local fcose pass, so that a delta stays within a frame or two.
const refineMaxNodes = 1500;

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
  text: '#1b1f23',
  selected: '#ff9800',
  flash: '#ffe100',
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
  { selector: 'edge:selected', style: { 'underlay-color': colours.selected, 'underlay-opacity': 0.4, 'underlay-padding': 4 } },
  // Highlight for what a delta just added or changed.
  { selector: '.flash', style: { 'overlay-color': colours.flash, 'overlay-opacity': 0.55, 'overlay-padding': 10 } },
  // Search: everything that does not match steps back.
  { selector: '.faded', style: { opacity: 0.15 } },
];

// createGraph starts Cytoscape in container with dockmap's style and no
// elements; renderSnapshot fills it.
export function createGraph(container) {
  // The fcose UMD build registers itself when cytoscape is a global; if it
  // was loaded some other way, register it here.
  if (!cytoscape('layout', 'fcose') && window.cytoscapeFcose) {
    cytoscape.use(window.cytoscapeFcose);
  }
  return cytoscape({
    container,
    elements: [],
    style: stylesheet,
    minZoom: 0.05,
    maxZoom: 5,
    // One selection at a time: the side panel shows one container.
    selectionType: 'single',
    boxSelectionEnabled: false,
  });
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
  } else if (n.kind === 'volume' && n.volume) {
    data.name = n.volume.name;
    if (n.volume.anonymous) classes.push('anonymous');
  } else if (n.kind === 'bind' && n.bind) {
    data.name = n.bind.path;
  }
  return { group: 'nodes', data, classes };
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
  } else if (e.kind === 'mount' && e.mount) {
    data.label = e.mount.destination + (e.mount.readOnly ? ' (ro)' : '');
    if (e.mount.readOnly) classes.push('ro');
  } else if (e.kind === 'netns') {
    data.label = 'netns';
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
    const keep = ['focus', 'hover', 'faded'].filter((c) => existing.hasClass(c));
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
  if (cy.nodes().empty()) {
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
    return { touched: new Set(cy.nodes().map((n) => n.id())) };
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
    cy[group]().forEach((ele) => {
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
// can refresh a panel that shows one of them.
export function applyDelta(cy, delta) {
  const touched = new Set();
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
    placeNewNodes(cy, fresh);
  });
  flash(cy.collection(flashed));
  if (fresh.length) refineAround(cy, cy.collection(fresh));
  return { touched };
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
    padding: 40,
    fit: true,
  }).run();
}

// placeNewNodes gives every new node a position next to the average of its
// already-placed neighbours. A new node whose neighbours are all new waits
// for them (a few passes); one with none goes near the viewport centre.
function placeNewNodes(cy, fresh) {
  if (!fresh.length) return;
  const placed = new Set();
  const isNew = new Set(fresh.map((n) => n.id()));
  let pending = fresh;
  for (let pass = 0; pass < 4 && pending.length; pass++) {
    const next = [];
    for (const n of pending) {
      const anchors = n.neighborhood('node').filter((m) => !isNew.has(m.id()) || placed.has(m.id()));
      if (anchors.empty()) {
        next.push(n);
        continue;
      }
      let x = 0;
      let y = 0;
      anchors.forEach((m) => {
        x += m.position('x');
        y += m.position('y');
      });
      n.position(jitter({ x: x / anchors.length, y: y / anchors.length }, 70, 110));
      placed.add(n.id());
    }
    if (next.length === pending.length) break;
    pending = next;
  }
  if (!pending.length) return;
  // Nothing to attach to: somewhere visible, spread so they do not stack.
  const ext = cy.extent();
  const centre = { x: (ext.x1 + ext.x2) / 2, y: (ext.y1 + ext.y2) / 2 };
  const spread = Math.max(40, Math.min(ext.w, ext.h) / 4);
  for (const n of pending) n.position(jitter(centre, 0, spread));
}

// jitter returns a point at a random distance in [min, max) from p.
function jitter(p, min, max) {
  const angle = Math.random() * 2 * Math.PI;
  const r = min + Math.random() * (max - min);
  return { x: p.x + r * Math.cos(angle), y: p.y + r * Math.sin(angle) };
}

// refineAround runs fcose on the new nodes and their surroundings (two
// hops, capped) with every old node fixed, so new nodes settle without
// overlapping while old ones stay exactly where they were. It runs after
// the delta's batch, off the message handler's critical path.
function refineAround(cy, fresh) {
  if (cy.nodes().length > refineMaxNodes) return;
  setTimeout(() => {
    const alive = fresh.filter((n) => n.inside());
    if (alive.empty()) return;
    let area = alive.closedNeighborhood().closedNeighborhood();
    if (area.nodes().length > 300) area = alive.closedNeighborhood();
    const fixed = area.nodes().not(alive);
    // Remember the old positions: fixed nodes must not move even by a
    // rounding error, and the layout's own constraint is not exact.
    const before = new Map();
    fixed.forEach((n) => before.set(n.id(), { ...n.position() }));
    try {
      area.layout({
        name: 'fcose',
        animate: false,
        randomize: false,
        fit: false,
        quality: 'default',
        nodeDimensionsIncludeLabels: true,
        idealEdgeLength: (e) => (e.hasClass('member') ? 120 : 90),
        nodeRepulsion: () => 9000,
        fixedNodeConstraint: fixed.map((n) => ({ nodeId: n.id(), position: { ...n.position() } })),
        initialEnergyOnIncremental: 0.3,
      }).run();
    } catch (err) {
      // The neighbour-average positions are already good enough.
      console.warn('dockmap: local layout failed', err);
    }
    cy.batch(() => fixed.forEach((n) => n.position(before.get(n.id()))));
  }, 0);
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
