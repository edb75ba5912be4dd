// layout-clusters.js is the first layout of a big map (issue 14): each
// network is a hub with its containers round it in rings, each container's
// volumes and bind mounts beside it, each Compose project one cluster of
// its own; the clusters are then packed in rows. It costs about linear
// time in the nodes and needs no second pass to keep nodes apart: a spot
// is taken only when it is free.
//
// Why not the force-directed layout above a few hundred nodes: fcose's
// draft quality (spectral only) took 4 s at 5,000 nodes in Chromium here
// and put every leaf of a hub on one spot, and pulling those apart again
// took 4 s more; its full quality takes longer still. On a map
// that size the picture a room can read is "which containers share which
// network" anyway, and a hub with its members round it says exactly that.

// Spacing, in model pixels, between two nodes' boxes (labels included),
// and between two clusters.
const nodeGap = 10;
const clusterGap = 90;
// The first ring stands this far out from the hub's box; each further
// ring is tried ringStep further out.
const firstGap = 50;
const ringStep = 24;
// Room kept round a Compose project's cluster for members to come.
const growRoom = 110;

// clusterPositions returns a Map from node ID to {x, y} for every node of
// nodes (a Cytoscape collection) but overlays and boxes (hosts, projects:
// a box stands where its members do). boxOf(n) gives n's box relative to
// its position, labels included ({x1, y1, x2, y2}). ends, if given, are
// the edges to go by ({source, target, kind}, ends as Cytoscape nodes),
// else the nodes' own. The result is a pure function of the graph and
// the boxes: the same map lays out the same.
export function clusterPositions(nodes, boxOf, ends = undefined) {
  const list = nodes.filter((n) => !n.hasClass('overlay') && !n.hasClass('host') && !n.hasClass('project')).toArray();
  const inSet = new Set(list.map((n) => n.id()));
  const byName = (a, b) => nameOf(a).localeCompare(nameOf(b)) || a.id().localeCompare(b.id());
  list.sort(byName);

  // One pass over the edges: each container's networks and stores, each
  // network's member count, netns owners.
  const netsOf = new Map(); // container ID → its network nodes
  const storesOf = new Map(); // container ID → its volume and bind nodes
  const usersOf = new Map(); // volume or bind ID → its container nodes
  const ownerOf = new Map(); // container ID → the container whose stack it shares
  const size = new Map(); // network ID → members
  const push = (m, k, v) => {
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(v);
  };
  const edges =
    ends ||
    nodes
      .connectedEdges()
      .not('.overlay')
      .map((e) => ({ source: e.source(), target: e.target(), kind: e.data('kind') }));
  for (const { source: s, target: t, kind } of edges) {
    if (!inSet.has(s.id()) || !inSet.has(t.id())) continue;
    if (kind === 'member') {
      push(netsOf, s.id(), t);
      size.set(t.id(), (size.get(t.id()) || 0) + 1);
    } else if (kind === 'mount') {
      push(storesOf, s.id(), t);
      push(usersOf, t.id(), s);
    } else if (kind === 'netns') {
      ownerOf.set(s.id(), t);
    }
  }

  // Each node's cluster: a Compose project's own, else a container's
  // smallest network (the one that says most about it), else the cluster
  // of the container whose stack it shares; a store goes with its first
  // user; what is left shares one last cluster.
  const groupOf = (n) => {
    const g = n.data('group');
    return g && g !== n.id() && nodes.cy().getElementById(g).hasClass('project') ? `g:${g}` : '';
  };
  const clusterOf = new Map();
  const containerCluster = (c, seen = new Set()) => {
    if (clusterOf.has(c.id())) return clusterOf.get(c.id());
    let key = groupOf(c);
    if (!key) {
      const nets = (netsOf.get(c.id()) || []).slice().sort((a, b) => size.get(a.id()) - size.get(b.id()) || byName(a, b));
      if (nets.length) key = `n:${nets[0].id()}`;
    }
    if (!key) {
      const owner = ownerOf.get(c.id());
      key = owner && !seen.has(owner.id()) ? containerCluster(owner, seen.add(c.id())) : 'loose';
    }
    clusterOf.set(c.id(), key);
    return key;
  };
  for (const n of list) {
    if (n.hasClass('network')) clusterOf.set(n.id(), groupOf(n) || `n:${n.id()}`);
  }
  for (const n of list) if (n.hasClass('container')) containerCluster(n);
  for (const n of list) {
    if (clusterOf.has(n.id())) continue;
    const users = (usersOf.get(n.id()) || []).slice().sort(byName);
    let key = groupOf(n) || (users.length ? clusterOf.get(users[0].id()) : 'loose');
    // A store no project made stays out of its user's project box: it
    // gets a cluster of its own beside the project's.
    if (key.startsWith('g:') && key !== groupOf(n)) key = `s:${key}`;
    clusterOf.set(n.id(), key);
  }

  // Each cluster's order: its networks (the first is the hub, in the
  // middle), then its containers by name, each followed by its stores not
  // placed yet; then whatever else is in it.
  const clusters = new Map();
  const order = (n) => {
    const key = clusterOf.get(n.id());
    if (!clusters.has(key)) clusters.set(key, { key, items: [], has: new Set() });
    const c = clusters.get(key);
    if (c.has.has(n.id())) return;
    c.has.add(n.id());
    c.items.push(n);
  };
  for (const n of list) if (n.hasClass('network')) order(n);
  for (const n of list) {
    if (!n.hasClass('container')) continue;
    order(n);
    for (const s of (storesOf.get(n.id()) || []).slice().sort(byName)) {
      if (clusterOf.get(s.id()) === clusterOf.get(n.id())) order(s);
    }
  }
  for (const n of list) order(n);

  const laid = [...clusters.values()].map((c) => ringLayout(c, boxOf));
  return pack(laid);
}

// ringLayout places a cluster's items round its first: each next item at
// the first free spot walking round the current ring, from the top,
// clockwise; a full ring moves out by ringStep. It returns {key, at (ID →
// {x, y} about the cluster's centre), box}.
function ringLayout(c, boxOf) {
  const at = new Map();
  const grid = new Map();
  const boxes = [];
  const cell = 160;
  const cellsOf = (b, f) => {
    for (let x = Math.floor(b.x1 / cell); x <= Math.floor(b.x2 / cell); x++) {
      for (let y = Math.floor(b.y1 / cell); y <= Math.floor(b.y2 / cell); y++) f(`${x},${y}`);
    }
  };
  const free = (b) => {
    let ok = true;
    cellsOf(b, (k) => {
      if (ok) for (const o of grid.get(k) || []) if (b.x1 < o.x2 && o.x1 < b.x2 && b.y1 < o.y2 && o.y1 < b.y2) ok = false;
    });
    return ok;
  };
  const put = (n, p, rel) => {
    const g = nodeGap / 2;
    const b = { x1: p.x + rel.x1 - g, y1: p.y + rel.y1 - g, x2: p.x + rel.x2 + g, y2: p.y + rel.y2 + g };
    cellsOf(b, (k) => {
      if (!grid.has(k)) grid.set(k, []);
      grid.get(k).push(b);
    });
    boxes.push(b);
    at.set(n.id(), p);
  };
  const [hub, ...rest] = c.items;
  const hubBox = boxOf(hub);
  put(hub, { x: 0, y: 0 }, hubBox);
  let r = Math.max(-hubBox.x1, hubBox.x2, -hubBox.y1, hubBox.y2) + firstGap;
  let angle = 0; // walked round the current ring, from the top
  for (const n of rest) {
    const rel = boxOf(n);
    const g = nodeGap / 2;
    const step = Math.max(8, Math.min(rel.x2 - rel.x1, rel.y2 - rel.y1) / 2);
    for (;;) {
      const a = angle - Math.PI / 2;
      const p = { x: Math.round(r * Math.cos(a)), y: Math.round(r * Math.sin(a)) };
      if (free({ x1: p.x + rel.x1 - g, y1: p.y + rel.y1 - g, x2: p.x + rel.x2 + g, y2: p.y + rel.y2 + g })) {
        put(n, p, rel);
        break;
      }
      angle += step / r;
      if (angle >= 2 * Math.PI) {
        angle = 0;
        r += ringStep;
      }
    }
  }
  const box = boxes.reduce((u, b) => ({ x1: Math.min(u.x1, b.x1), y1: Math.min(u.y1, b.y1), x2: Math.max(u.x2, b.x2), y2: Math.max(u.y2, b.y2) }));
  // A Compose project's box grows round the members that come later
  // (placeNewNodes): room for a ring more, so that it grows over nothing.
  if (c.key.startsWith('g:')) {
    box.x1 -= growRoom;
    box.y1 -= growRoom;
    box.x2 += growRoom;
    box.y2 += growRoom;
  }
  return { key: c.key, at, box };
}

// pack sets the clusters in rows, the tallest first (name order among
// equals), rows about 1.6 times as wide as the map is tall together, so
// the map keeps the screen's shape. It returns the positions of all.
function pack(laid) {
  const w = (l) => l.box.x2 - l.box.x1;
  const h = (l) => l.box.y2 - l.box.y1;
  laid.sort((a, b) => h(b) - h(a) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const area = laid.reduce((s, l) => s + (w(l) + clusterGap) * (h(l) + clusterGap), 0);
  const rowWidth = Math.max(Math.sqrt(area) * 1.6, ...laid.map(w));
  const out = new Map();
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const l of laid) {
    if (x > 0 && x + w(l) > rowWidth) {
      x = 0;
      y += rowHeight + clusterGap;
      rowHeight = 0;
    }
    const dx = x - l.box.x1;
    const dy = y - l.box.y1;
    for (const [id, p] of l.at) out.set(id, { x: p.x + dx, y: p.y + dy });
    x += w(l) + clusterGap;
    rowHeight = Math.max(rowHeight, h(l));
  }
  return out;
}

function nameOf(n) {
  return String(n.data('name') || n.data('label') || n.id());
}
