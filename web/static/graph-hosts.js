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

// Node ID of the box of host name.
export const hostNode = (name) => `h:${name}`;

const scratchKey = 'dockmapHosts';

// Padding of a host's box around its members, in model pixels; placement
// keeps other hosts this much further off.
export const hostPadding = 28;

function state(cy) {
  let s = cy.scratch(scratchKey);
  if (!s) {
    s = { collapsed: new Set(), down: new Map() }; // host → error
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
  cy.batch(() => {
    const all = members(cy);
    const names = new Set();
    all.forEach((n) => {
      const h = n.data('host');
      if (h) names.add(h);
    });
    const wanted = names.size > 1 ? names : new Set();
    for (const name of wanted) {
      if (cy.getElementById(hostNode(name)).empty()) {
        cy.add({ group: 'nodes', data: { id: hostNode(name), kind: 'host', name, host: name, label: name }, classes: ['host'] });
      }
    }
    all.forEach((n) => {
      const h = n.data('host');
      const parent = wanted.has(h) ? hostNode(h) : null;
      if ((n.data('parent') || null) !== parent) n.move({ parent });
    });
    // Only now, with no member left inside: removing a parent removes
    // its children.
    cy.nodes('.host').forEach((b) => {
      if (!wanted.has(b.data('name'))) b.remove();
    });
    cy.edges('.host-edge').remove();
    for (const name of [...s.collapsed]) if (!wanted.has(name)) s.collapsed.delete(name);
    cy.nodes('.host').forEach((b) => dressHost(b, s));
    cy.nodes('.host.collapsed').forEach((b) => addHostEdges(cy, b));
  });
}

// dressHost sets box b's label, size and classes from the hosts' state.
function dressHost(b, s) {
  const name = b.data('name');
  const collapsed = s.collapsed.has(name);
  const kids = b.children();
  const containers = kids.filter('.container').length;
  const label = collapsed ? `${name} · ${containers} container${containers === 1 ? '' : 's'}` : name;
  // The size a collapsed host is drawn at (Cytoscape falls back on a
  // compound's own width and height when no child is displayed).
  b.data({ label, width: Math.max(140, label.length * 10 + 32), height: 56 });
  b.toggleClass('collapsed', collapsed);
  kids.toggleClass('host-folded', collapsed);
  const err = s.down.get(name);
  b.toggleClass('host-down', err !== undefined);
  if (err !== undefined) b.data('error', err);
  else b.removeData('error');
}

// addHostEdges draws, for collapsed box b, one edge to each node outside
// it that one of its members has an edge to (to that node's box, if it
// is collapsed too).
function addHostEdges(cy, b) {
  const seen = new Set();
  b.children().connectedEdges().not('.overlay').forEach((e) => {
    [e.source(), e.target()].forEach((m) => {
      if (m.parent().same(b)) return;
      const p = m.parent();
      const end = p.nonempty() && p.hasClass('collapsed') ? p : m;
      // Two collapsed hosts get one edge between them, not one each way.
      const [a, z] = end.hasClass('host') ? [b.id(), end.id()].sort() : [b.id(), end.id()];
      const id = `hx:${a}>${z}`;
      if (seen.has(id) || cy.getElementById(id).nonempty()) return;
      seen.add(id);
      cy.add({ group: 'edges', data: { id, kind: 'host-edge', source: a, target: z }, classes: ['overlay', 'host-edge'] });
    });
  });
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
