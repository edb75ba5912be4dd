// layout-bands.js is the deterministic layout: the same lab always looks
// the same, whatever order its containers came in and whoever opens it.
// Each network is a horizontal band, its hub on top and its members in
// rows under it, in name order; a container on several networks
// sits in the first of their bands (default bridge first, then
// user-defined networks by name, host and none last), one that shares
// another's network stack sits in its owner's band, and one on no network
// in a last band. Volumes and bind mounts sit in a row under their first
// user. Nothing depends on positions, so the result is a pure function of
// the graph.

// The spacing, in model pixels: a container with a participant's prefixed
// name is up to ~170 wide and ~80 tall; a network hub is up to ~260 wide.
const gapX = 210;
const gapY = 130;
const bandGap = 70;
const hubGap = 140;
const perRow = 5;

// bandPositions returns a Map from node ID to {x, y} for every node in
// nodes (a Cytoscape collection) except overlays.
export function bandPositions(nodes) {
  const byName = (a, b) => nameOf(a).localeCompare(nameOf(b)) || a.id().localeCompare(b.id());
  const nets = nodes.filter('.network').not('.overlay').toArray().sort((a, b) => netRank(a) - netRank(b) || byName(a, b));
  const rank = new Map(nets.map((n, i) => [n.id(), i]));
  const containers = nodes.filter('.container').not('.overlay').toArray().sort(byName);
  // A Compose project's box is where its members are: it gets no place of
  // its own (setting a compound's position would move its members).
  const others = nodes.not('.network, .container, .volume, .bind, .overlay, .project').toArray().sort(byName);
  const stores = nodes.filter('.volume, .bind').not('.overlay').toArray().sort(byName);

  // Each container's band: its first network, or its stack owner's band.
  const band = new Map();
  const bandOf = (c, seen = new Set()) => {
    if (band.has(c.id())) return band.get(c.id());
    if (seen.has(c.id())) return nets.length;
    seen.add(c.id());
    let best = nets.length;
    c.connectedEdges('.member').forEach((e) => {
      const other = e.source().same(c) ? e.target() : e.source();
      const r = rank.get(other.id());
      if (r !== undefined && r < best) best = r;
    });
    if (best === nets.length) {
      // container:OWNER shares the owner's stack: the edge points at it.
      const owner = c.connectedEdges('.netns').filter((e) => e.source().same(c)).targets().first();
      if (owner.nonempty() && owner.hasClass('container')) best = bandOf(owner, seen);
    }
    band.set(c.id(), best);
    return best;
  };
  const members = Array.from({ length: nets.length + 1 }, () => []);
  for (const c of containers) members[bandOf(c)].push(c);
  // Nodes of no other kind (a broken link's ghost target) join the last band.
  members[nets.length].push(...others);

  const x0 = 0;
  const pos = new Map();
  let y = 0;
  for (let b = 0; b <= nets.length; b++) {
    const ms = members[b];
    if (b === nets.length && !ms.length) break;
    const rows = Math.max(1, Math.ceil(ms.length / perRow));
    // The hub above the middle of its first row: its edges fan out to the
    // members, none running through another.
    if (b < nets.length) {
      pos.set(nets[b].id(), { x: x0 + ((Math.min(ms.length, perRow) - 1) * gapX) / 2, y });
      y += hubGap;
    }
    ms.forEach((c, i) => pos.set(c.id(), { x: x0 + (i % perRow) * gapX, y: y + Math.floor(i / perRow) * gapY }));
    y += rows * gapY;
    // The band's stores, under its containers, in the column of their
    // first user, and along from there when the column is taken.
    const mine = stores.filter((s) => {
      const user = firstUser(s, byName);
      return user && members[b].some((c) => c.same(user));
    });
    if (mine.length) {
      const taken = new Set();
      for (const s of mine) {
        const user = firstUser(s, byName);
        let col = Math.round((pos.get(user.id()).x - x0) / gapX);
        while (taken.has(col)) col++;
        taken.add(col);
        pos.set(s.id(), { x: x0 + col * gapX, y });
      }
      y += gapY * 0.8;
    }
    y += bandGap;
  }
  // Stores nobody uses: a row of their own at the bottom.
  let col = 0;
  for (const s of stores) {
    if (pos.has(s.id())) continue;
    pos.set(s.id(), { x: x0 + col * gapX, y });
    col++;
  }
  return pos;
}

// netRank orders the bands: the default bridge, user-defined networks,
// then host and none (which few containers use).
function netRank(n) {
  if (n.hasClass('default-bridge')) return 0;
  if (n.hasClass('predefined')) return 2;
  return 1;
}

function nameOf(n) {
  return String(n.data('name') || n.data('label') || n.id());
}

// firstUser is the first container, by name, that mounts store s.
function firstUser(s, byName) {
  const users = s.connectedEdges('.mount').connectedNodes('.container').toArray().sort(byName);
  return users[0] || null;
}
