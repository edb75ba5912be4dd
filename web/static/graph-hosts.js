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

function state(cy) {
  let s = cy.scratch(scratchKey);
  if (!s) {
    s = { collapsed: new Set(), groups: new Set(), down: new Map() }; // host → error; groups: collapsed projects' node IDs
    cy.scratch(scratchKey, s);
  }
  return s;
}

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
    if (names.size < 2 && !boxed && cy.nodes('.host').empty()) return;
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
    cy.edges('.host-edge').remove();
    for (const name of [...s.collapsed]) if (!wanted.has(name)) s.collapsed.delete(name);
    for (const id of [...s.groups]) if (!projects.has(id)) s.groups.delete(id);
    const folded = cy.nodes('.host-folded');
    if (folded.nonempty()) folded.removeClass('host-folded');
    for (const [id, containers] of projects) dressProject(cy, cy.getElementById(id), containers, s);
    cy.nodes('.host').forEach((b) => dressHost(b, s));
    addBoxEdges(cy);
  });
}

// dressHost sets box b's label, size and classes from the hosts' state.
function dressHost(b, s) {
  const name = b.data('name');
  const collapsed = s.collapsed.has(name);
  const kids = b.descendants();
  const containers = kids.filter('.container').length;
  const label = collapsed ? `${name} · ${containers} container${containers === 1 ? '' : 's'}` : name;
  // The size a collapsed host is drawn at (Cytoscape falls back on a
  // compound's own width and height when no child is displayed).
  b.data({ label, width: Math.max(140, label.length * 10 + 32), height: 56 });
  b.toggleClass('collapsed', collapsed);
  if (collapsed) kids.addClass('host-folded');
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
  const collapsed = s.groups.has(p.id());
  const services = perService.size;
  const label = collapsed
    ? `${name} · ${services} service${services === 1 ? '' : 's'}, ${containers.length} container${containers.length === 1 ? '' : 's'}`
    : `${name} (compose)`;
  // Only what changed: every delta dresses every project, and setting a
  // compound's data or classes restyles it.
  if (p.data('label') !== label) p.data({ label, width: Math.max(140, label.length * 9 + 32), height: 52 });
  if (p.hasClass('collapsed') !== collapsed) p.toggleClass('collapsed', collapsed);
  if (collapsed) p.descendants().addClass('host-folded');
}

// addBoxEdges draws, for each collapsed box (a host or a project), one edge
// to each node outside it that one of its members has an edge to (to that
// node's outermost collapsed box, if it is in one).
function addBoxEdges(cy) {
  const folded = cy.nodes('.collapsed');
  if (folded.empty()) return;
  // shown is what stands for m on the map: its outermost collapsed box,
  // or m itself.
  const shown = (m) => {
    let end = m;
    m.ancestors().forEach((a) => {
      if (a.hasClass('collapsed')) end = a;
    });
    return end;
  };
  const seen = new Set();
  folded.descendants().connectedEdges().not('.overlay').forEach((e) => {
    const a0 = shown(e.source());
    const z0 = shown(e.target());
    if (a0.same(z0)) return;
    // Two collapsed boxes get one edge between them, not one each way.
    const [a, z] = a0.hasClass('collapsed') && z0.hasClass('collapsed') ? [a0.id(), z0.id()].sort() : a0.hasClass('collapsed') ? [a0.id(), z0.id()] : [z0.id(), a0.id()];
    const id = `hx:${a}>${z}`;
    if (seen.has(id) || cy.getElementById(id).nonempty()) return;
    seen.add(id);
    cy.add({ group: 'edges', data: { id, kind: 'host-edge', source: a, target: z }, classes: ['overlay', 'host-edge'] });
  });
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

// isGroupCollapsed tells whether the project box of node ID id is collapsed.
export function isGroupCollapsed(cy, id) {
  return state(cy).groups.has(id);
}

// collapseGroup collapses (on) or expands the project box of node ID id.
export function collapseGroup(cy, id, on) {
  const s = state(cy);
  if (on) s.groups.add(id);
  else s.groups.delete(id);
  syncHosts(cy);
}

// hostOf is the box node is in (itself for a box), or an empty collection.
export function hostOf(node) {
  if (node.hasClass('host')) return node;
  return node.parent().filter('.host');
}

// isCollapsed tells whether host name is collapsed.
export function isCollapsed(cy, name) {
  return state(cy).collapsed.has(name);
}

// collapseHost collapses (on) or expands host name.
export function collapseHost(cy, name, on) {
  const s = state(cy);
  if (on) s.collapsed.add(name);
  else s.collapsed.delete(name);
  syncHosts(cy);
}

// setHostsDown greys the hosts of the engines list (GET /api/engines, the
// engines frame) that are not connected, with their error.
export function setHostsDown(cy, list) {
  if (!Array.isArray(list)) return;
  const s = state(cy);
  s.down = new Map(list.filter((e) => !e.connected).map((e) => [e.name, e.error || 'unreachable']));
  cy.batch(() => cy.nodes('.host').forEach((b) => dressHost(b, s)));
}
