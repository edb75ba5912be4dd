// graph-hosts.js draws the hosts of a map of several engines: each
// engine's containers, networks and volumes sit in a box of their own (a
// Cytoscape compound parent, "h:<host>"), so a room sees which machine a
// container runs on. With one host (one engine, the common case) there is
// no box at all: the map is drawn as it always was.
//
// A host can be collapsed: its members are hidden and it is drawn as one
// node ("lab1 · 3 containers"), with one edge to each outside node its
// members had an edge to. A host whose engine is down is greyed.
//
// The hosts' state (collapsed, down) is kept in the core's scratch space,
// so that it outlives every snapshot and delta: syncHosts, called after
// each, makes the boxes match the graph again.

import { indexOf } from './graph-index.js';

// Node ID of the box of host name.
export const hostNode = (name) => `h:${name}`;

const scratchKey = 'dockmapHosts';

// Padding of a host's box around its members, in model pixels; placement
// keeps other hosts this much further off.
export const hostPadding = 28;

// The level of detail (graph-lod.js) collapses boxes and folds big
// networks' leaves on its own at low zoom: auto holds the boxes' node IDs
// it collapsed, nets each folded network's node ID → its folded leaves'
// IDs, open the boxes and networks the user expanded while folded
// (they stay open until zooming in releases them), footprint each auto
// box's size when it was last open (its summary is no larger, so that it
// covers nothing new). The user's own collapse (collapsed, groups) is
// apart and always wins.
function state(cy) {
  let s = cy.scratch(scratchKey);
  if (!s) {
    s = {
      collapsed: new Set(), // host names
      groups: new Set(), // collapsed projects' node IDs
      down: new Map(), // host → error
      auto: new Set(),
      nets: new Map(),
      open: new Set(),
      footprint: new Map(),
      boxEdges: new Set(), // the IDs of the boxes' edges drawn (addBoxEdges)
      folded: new Set(), // the IDs of the nodes hidden in a box or a network (refold)
    };
    cy.scratch(scratchKey, s);
  }
  return s;
}

// userCollapsed tells whether the user collapsed box b.
const userCollapsed = (s, b) => (b.hasClass('host') ? s.collapsed.has(b.data('name')) : s.groups.has(b.id()));

// isFolded tells whether box b is drawn collapsed: by the user, or by the
// level of detail unless the user opened it.
const isFolded = (s, b) => userCollapsed(s, b) || (s.auto.has(b.id()) && !s.open.has(b.id()));

// members are the server's nodes (not the boxes, not the page's overlays).
const members = (cy) => cy.nodes().not('.host, .overlay');

// syncHosts makes the boxes match the graph: one per distinct non-empty
// host when there are at least two, none otherwise; each node in its
// host's box; a collapsed host's members hidden, its label counting its
// containers, its aggregated edges drawn. Call it after every change of
// the graph, outside or inside a batch.
export function syncHosts(cy) {
  const s = state(cy);
  // The common case, one engine and no Compose project, at the cost of a
  // look at the index rather than a pass over every node.
  if (!indexOf(cy).boxed()) return;
  cy.batch(() => {
    // Plain data objects, read once: this runs for each of thousands of
    // nodes on every delta, and Cytoscape's collection calls cost more.
    const datas = members(cy).map((n) => n.data());
    const names = new Set();
    const projects = new Map(); // project node ID → its containers' data
    let boxed = false; // whether any node is, or should be, in a box
    for (const d of datas) {
      if (d.host) names.add(d.host);
      if (d.group || d.parent) boxed = true;
      if (d.kind === 'project') projects.set(d.id, []);
    }
    if (names.size < 2 && !boxed && cy.nodes('.host').empty()) {
      // A change of a network takes its fold's label and class with it.
      if (s.nets.size) {
        dressNets(cy, s);
        refold(cy, s);
      }
      return;
    }
    const wanted = names.size > 1 ? names : new Set();
    for (const name of wanted) {
      if (cy.getElementById(hostNode(name)).empty()) {
        cy.add({ group: 'nodes', data: { id: hostNode(name), kind: 'host', name, host: name, label: name }, classes: ['host'] });
      }
    }
    // A Compose project's box sits in its host's, and holds the project's
    // containers, networks and volumes (topology's Group).
    const parentOf = (d) => (d.group && d.group !== d.id && projects.has(d.group) ? d.group : wanted.has(d.host) ? hostNode(d.host) : null);
    // The projects' boxes first, so that their members move into a box
    // already where it belongs (a move makes the element anew: look it up).
    const place = (d) => {
      const parent = parentOf(d);
      if ((d.parent || null) !== parent) cy.getElementById(d.id).move({ parent });
    };
    datas.filter((d) => d.kind === 'project').forEach(place);
    datas.filter((d) => d.kind !== 'project').forEach(place);
    for (const d of datas) if (d.kind === 'container' && projects.has(d.group)) projects.get(d.group).push(d);
    // Only now, with no member left inside: removing a parent removes
    // its children.
    cy.nodes('.host').forEach((b) => {
      if (!wanted.has(b.data('name'))) b.remove();
    });
    for (const name of [...s.collapsed]) if (!wanted.has(name)) s.collapsed.delete(name);
    for (const id of [...s.groups]) if (!projects.has(id)) s.groups.delete(id);
    for (const [id, containers] of projects) dressProject(cy, cy.getElementById(id), containers, s);
    cy.nodes('.host').forEach((b) => dressHost(b, s));
    dressNets(cy, s);
    refold(cy, s);
  });
}

// refold hides what collapsed boxes and folded networks hold and shows
// the rest, then draws the boxes' aggregated edges. Only what changed is
// touched: a class set on a thousand nodes restyles a thousand nodes, on
// every delta.
function refold(cy, s) {
  // rep: each hidden node's ID → the ID of what stands for it on the map
  // (its outermost collapsed box, or its folded network).
  const rep = new Map();
  const hidden = []; // the boxes' members, for their edges
  const boxes = cy.nodes('.collapsed');
  // Projects first, so that a collapsed host's own wins over them.
  const order = boxes.filter('.project').union(boxes.filter('.host'));
  order.forEach((b) => {
    const id = b.id();
    b.descendants().forEach((m) => {
      if (!rep.has(m.id())) hidden.push(m);
      rep.set(m.id(), id);
    });
  });
  for (const [net, leaves] of s.nets) {
    if (s.open.has(net) || cy.getElementById(net).empty()) continue;
    for (const id of leaves) if (!rep.has(id)) rep.set(id, net);
  }
  // s.folded: what was hidden last time, so that no pass looks through
  // every node for the class (a node made anew lacks it).
  const had = new Set();
  const gone = [];
  for (const id of s.folded) {
    const n = cy.getElementById(id);
    if (n.empty() || !n.hasClass('host-folded')) continue;
    if (rep.has(id)) had.add(id);
    else gone.push(n);
  }
  if (gone.length) cy.collection(gone).removeClass('host-folded');
  const fresh = [];
  for (const id of rep.keys()) {
    if (had.has(id)) continue;
    const n = cy.getElementById(id);
    if (n.nonempty()) fresh.push(n);
  }
  if (fresh.length) cy.collection(fresh).addClass('host-folded');
  s.folded = new Set(rep.keys());
  addBoxEdges(cy, s, rep, hidden);
}

// dressHost sets box b's label, size and classes from the hosts' state.
function dressHost(b, s) {
  const name = b.data('name');
  const collapsed = isFolded(s, b);
  const kids = b.descendants();
  const containers = kids.filter('.container').length;
  const count = `${containers} container${containers === 1 ? '' : 's'}`;
  // A summary of the level of detail is read from far: one short line
  // each, so that it fits the room its box had.
  const label = !collapsed ? name : userCollapsed(s, b) ? `${name} · ${count}` : `${name}\n${count}`;
  // The size a collapsed host is drawn at (Cytoscape falls back on a
  // compound's own width and height when no child is displayed).
  b.data({ label, ...boxSize(s, b, label, 10, 56) });
  if (b.hasClass('collapsed') !== collapsed) b.toggleClass('collapsed', collapsed);
  const summary = collapsed && !userCollapsed(s, b);
  if (b.hasClass('lod-summary') !== summary) b.toggleClass('lod-summary', summary);
  const err = s.down.get(name);
  b.toggleClass('host-down', err !== undefined);
  if (err !== undefined) b.data('error', err);
  else b.removeData('error');
}

// dressProject sets a Compose project's box p: its label (the project, and
// when collapsed how many services and containers it holds), its members'
// labels (a service's name, with the replica number when the project runs
// several of it), and folds its members when collapsed.
function dressProject(cy, p, containers, s) {
  const perService = new Map();
  for (const d of containers) {
    const svc = (d.container || {}).service || '';
    perService.set(svc, (perService.get(svc) || 0) + 1);
  }
  for (const d of containers) {
    const info = d.container || {};
    if (!info.service) continue;
    let label = info.service;
    if (info.oneOff) label += ' (run)';
    else if (perService.get(info.service) > 1 && info.number) label += `.${info.number}`;
    if ((info.tmpfs || []).length) label += ' · tmpfs';
    if (d.label !== label) cy.getElementById(d.id).data('label', label);
  }
  const name = p.data('name') || (p.data('project') || {}).name || p.id();
  const collapsed = isFolded(s, p);
  const services = perService.size;
  const counts = [`${services} service${services === 1 ? '' : 's'}`, `${containers.length} container${containers.length === 1 ? '' : 's'}`];
  const label = !collapsed ? `${name} (compose)` : userCollapsed(s, p) ? `${name} · ${counts.join(', ')}` : [name, ...counts].join('\n');
  // Only what changed: every delta dresses every project, and setting a
  // compound's data or classes restyles it.
  const size = boxSize(s, p, label, 9, 52);
  if (p.data('label') !== label || p.data('width') !== size.width || p.data('height') !== size.height) p.data({ label, ...size });
  if (p.hasClass('collapsed') !== collapsed) p.toggleClass('collapsed', collapsed);
  const summary = collapsed && !userCollapsed(s, p);
  if (p.hasClass('lod-summary') !== summary) p.toggleClass('lod-summary', summary);
}

// boxSize is the size box b is drawn at when collapsed: as wide as its
// label (charPx a character, its longest line); a summary of the level of
// detail no larger than its box was open, so that it covers nothing the
// open box did not.
function boxSize(s, b, label, charPx, height) {
  const lines = label.split('\n');
  const w = Math.max(140, Math.max(...lines.map((l) => l.length)) * charPx + 32);
  const h = Math.max(height, lines.length * 22 + 20);
  const f = !userCollapsed(s, b) && s.footprint.get(b.id());
  return f ? { width: Math.min(w, f.w), height: Math.min(h, f.h) } : { width: w, height: h };
}

// addBoxEdges draws, for each collapsed box (a host or a project), one edge
// to each node outside it that one of its members has an edge to (to that
// node's outermost collapsed box, if it is in one). rep maps each hidden
// node's ID to what stands for it, hidden its elements (refold). Edges
// already drawn stay; s.boxEdges keeps their IDs, so that a map with no
// box collapsed pays nothing here on a delta.
function addBoxEdges(cy, s, rep, hidden) {
  if (!rep.size && !s.boxEdges.size) return;
  const boxes = new Set(rep.values());
  const want = new Map();
  const seen = new Set();
  for (const n of hidden) {
    n.connectedEdges().forEach((e) => {
      const eid = e.id();
      if (seen.has(eid) || e.hasClass('overlay')) return;
      seen.add(eid);
      const d = e.data();
      const a0 = rep.get(d.source) || d.source;
      const z0 = rep.get(d.target) || d.target;
      if (a0 === z0) return;
      const boxA = boxes.has(a0) && !cy.getElementById(a0).hasClass('network');
      const boxZ = boxes.has(z0) && !cy.getElementById(z0).hasClass('network');
      // A folded network's leaves have no edge but to it.
      if (!boxA && !boxZ) return;
      // Two collapsed boxes get one edge between them, not one each way.
      const [a, z] = boxA && boxZ ? [a0, z0].sort() : boxA ? [a0, z0] : [z0, a0];
      const id = `hx:${a}>${z}`;
      if (!want.has(id)) want.set(id, { a, z });
    });
  }
  const stale = [];
  for (const id of s.boxEdges) {
    const e = cy.getElementById(id);
    if (!want.has(id) && e.nonempty()) stale.push(e);
  }
  if (stale.length) cy.collection(stale).remove();
  const add = [];
  for (const [id, { a, z }] of want) {
    if (cy.getElementById(id).empty()) add.push({ group: 'edges', data: { id, kind: 'host-edge', source: a, target: z }, classes: ['overlay', 'host-edge'] });
  }
  if (add.length) cy.add(add);
  s.boxEdges = new Set(want.keys());
}

// parentFor is the box a new node (the server's JSON) belongs in, when
// that box is on the map already: its project's, else its host's.
// Adding a node straight into its box spares syncHosts a move, which
// removes and adds the node again.
export function parentFor(cy, n) {
  if (n.group && cy.getElementById(n.group).nonempty()) return n.group;
  if (n.host && cy.getElementById(hostNode(n.host)).nonempty()) return hostNode(n.host);
  return undefined;
}

// isGroupCollapsed tells whether the project box of node ID id is
// collapsed, by the user or by the level of detail.
export function isGroupCollapsed(cy, id) {
  const b = cy.getElementById(id);
  return b.nonempty() ? isFolded(state(cy), b) : state(cy).groups.has(id);
}

// collapseGroup collapses (on) or expands the project box of node ID id.
// Expanding a summary of the level of detail keeps it open until zooming
// in releases it.
export function collapseGroup(cy, id, on) {
  const s = state(cy);
  if (on) {
    s.groups.add(id);
    s.open.delete(id);
  } else {
    s.groups.delete(id);
    if (s.auto.has(id)) s.open.add(id);
  }
  syncHosts(cy);
}

// hostOf is the box node is in (itself for a box), or an empty collection.
export function hostOf(node) {
  if (node.hasClass('host')) return node;
  return node.parent().filter('.host');
}

// isCollapsed tells whether host name is collapsed, by the user or by the
// level of detail.
export function isCollapsed(cy, name) {
  const b = cy.getElementById(hostNode(name));
  return b.nonempty() ? isFolded(state(cy), b) : state(cy).collapsed.has(name);
}

// collapseHost collapses (on) or expands host name.
export function collapseHost(cy, name, on) {
  const s = state(cy);
  const id = hostNode(name);
  if (on) {
    s.collapsed.add(name);
    s.open.delete(id);
  } else {
    s.collapsed.delete(name);
    if (s.auto.has(id)) s.open.add(id);
  }
  syncHosts(cy);
}

// setDetail takes what the level of detail (graph-lod.js) wants folded:
// auto, the boxes' node IDs to collapse; nets, each network's node ID →
// the IDs of the leaves to fold into it. A box it collapses first gets
// its footprint (its size now, open). What it no longer folds leaves the
// user's open set, so that zooming out again folds it again. It returns
// whether anything changed.
export function setDetail(cy, auto, nets) {
  const s = state(cy);
  const same = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));
  const netsSame = nets.size === s.nets.size && [...nets].every(([id, l]) => s.nets.has(id) && same(l, s.nets.get(id)));
  if (same(auto, s.auto) && netsSame) return false;
  cy.batch(() => {
    for (const id of auto) {
      if (s.auto.has(id)) continue;
      const b = cy.getElementById(id);
      if (b.empty()) continue;
      if (!b.hasClass('collapsed')) {
        const bb = b.boundingBox({ includeLabels: false, includeOverlays: false, includeUnderlays: false });
        s.footprint.set(id, { w: Math.max(140, Math.round(bb.w)), h: Math.max(56, Math.round(bb.h)) });
      }
    }
    for (const id of [...s.footprint.keys()]) if (!auto.has(id)) s.footprint.delete(id);
    for (const id of [...s.open]) if (!auto.has(id) && !nets.has(id)) s.open.delete(id);
    s.auto = auto;
    s.nets = nets;
    dressNets(cy, s);
    cy.nodes('.project, .host').forEach((b) => {
      if (b.hasClass('host')) dressHost(b, s);
      else dressProject(cy, b, b.children('.container').map((n) => n.data()), s);
    });
    refold(cy, s);
  });
  // For keepLabels (graph.js): summaries' labels are sized anew.
  cy.emit('lod');
  return true;
}

// footprintOf is the size ({w, h}) box id had open when the level of
// detail collapsed it, or undefined.
export function footprintOf(cy, id) {
  return state(cy).footprint.get(id);
}

// openFolded expands what the level of detail folded into node n (a
// summary box or a network), until zooming in releases it. It returns
// whether n was folded.
export function openFolded(cy, n) {
  const s = state(cy);
  const id = n.id();
  if (!(n.hasClass('lod-summary') || n.hasClass('lod-net'))) return false;
  s.open.add(id);
  syncHosts(cy);
  cy.emit('lod');
  return true;
}

// dressNets labels each network the level of detail folded leaves into
// with their count, and takes the label off the others.
function dressNets(cy, s) {
  cy.nodes('.lod-net').forEach((n) => {
    if (!s.nets.has(n.id()) || s.open.has(n.id())) n.removeClass('lod-net');
  });
  for (const [id, leaves] of s.nets) {
    const n = cy.getElementById(id);
    if (n.empty() || s.open.has(id)) continue;
    const name = n.data('name') || id;
    const label = `${name} · ${leaves.size} container${leaves.size === 1 ? '' : 's'}`;
    if (n.data('lodLabel') !== label) n.data('lodLabel', label);
    if (!n.hasClass('lod-net')) n.addClass('lod-net');
  }
}

// setHostsDown greys the hosts of the engines list (GET /api/engines, the
// engines frame) that are not connected, with their error.
export function setHostsDown(cy, list) {
  if (!Array.isArray(list)) return;
  const s = state(cy);
  s.down = new Map(list.filter((e) => !e.connected).map((e) => [e.name, e.error || 'unreachable']));
  cy.batch(() => cy.nodes('.host').forEach((b) => dressHost(b, s)));
}
