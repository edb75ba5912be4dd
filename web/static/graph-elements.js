// graph-elements.js turns what the server sends into the graph: a
// snapshot or a delta of internal/topology's nodes and edges (graph.go,
// as JSON) becomes Cytoscape elements, applied as a diff so that nothing
// unchanged moves.
//
// Every Cytoscape element carries the raw object's fields plus
// {id, kind, label} and a few derived fields the stylesheet reads (colour,
// size); its classes say its kind and state (container, stopped, ro, ...).

import { networkColour } from './graph-style.js';
import { clusterLaidOut, fullLayout, placeNewNodes, bendLinks, evictLoose } from './graph-place.js';
import { parentFor, syncHosts } from './graph-hosts.js';
import { containerNode, memberEdge, networkNode, volumeNode } from './ids.js';
import { indexOf } from './graph-index.js';

// How long a new or changed element stays highlighted.
const flashMillis = 1500;

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
    // A Swarm task's container is called by its task ("web.1"), as docker
    // service ps does: its generated name is long and says less.
    if (n.task) {
      classes.push('task-container');
      data.label = taskLabel(n.task, n.host) + ((c.tmpfs || []).length ? ' · tmpfs' : '');
    }
  } else if (n.kind === 'swarm-node' && n.swarmNode) {
    const sn = n.swarmNode;
    data.name = sn.hostname;
    data.label = `${sn.hostname} · ${sn.role}${sn.leader ? ' (leader)' : ''}\n${sn.availability} · ${sn.state}`;
    if (sn.state === 'down' || sn.state === 'disconnected' || sn.state === 'unknown') classes.push('swarm-down');
    else if (sn.availability === 'drain') classes.push('swarm-drain');
    else if (sn.availability === 'pause') classes.push('swarm-pause');
  } else if (n.kind === 'service' && n.service) {
    const sv = n.service;
    data.name = sv.name;
    data.label = `${sv.name} ${sv.running}/${sv.wanted}`;
    if (sv.running < sv.wanted) classes.push('service-short');
  } else if (n.kind === 'task' && n.task) {
    data.name = n.label;
    classes.push(`task-${taskState(n.task.state)}`);
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
    // A Swarm network spans the hosts: it says so, and what it is.
    if (net.scope === 'swarm') {
      lines.push(net.ingress ? 'ingress (routing mesh)' : `overlay${net.attachable ? ' · attachable' : ''}`);
      if (net.encrypted) lines.push('🔒 encrypted');
      classes.push('swarm-scope');
      if (net.ingress) classes.push('ingress');
    }
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
  } else if (n.kind === 'project' && n.project) {
    data.name = n.project.name;
  }
  return { group: 'nodes', data, classes };
}

// taskLabel names a Swarm task as docker service ps does: "web.1", or
// for a global service's task (slot 0) "web.<host>".
function taskLabel(t, host) {
  if (t.slot > 0) return `${t.serviceName}.${t.slot}`;
  return `${t.serviceName}.${String(host || '').replace(/^node:/, '')}`;
}

// taskState sorts a task's state (docker's words) into the four a map
// colours: running, on its way (new … starting), failed, and ended.
function taskState(state) {
  if (state === 'running') return 'running';
  if (state === 'failed' || state === 'rejected' || state === 'orphaned') return 'failed';
  if (state === 'complete' || state === 'shutdown' || state === 'remove') return 'ended';
  return 'pending';
}

// isPredefined tells the engine's host and none networks, which exist on
// every engine and cannot be removed.
function isPredefined(net) {
  return (net.name === 'host' && net.driver === 'host') || (net.name === 'none' && net.driver === 'null');
}

// markEmptyNetworks gives the predefined networks class "empty" while they
// have no member, and takes it away when something joins them.
function markEmptyNetworks(cy) {
  indexOf(cy).networks().forEach((n) => {
    if (!n.hasClass('predefined')) return;
    const empty = n.connectedEdges('.member').empty();
    if (n.hasClass('empty') !== empty) n.toggleClass('empty', empty);
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
  } else if (e.kind === 'depends-on') {
    data.label = '';
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
    const stale = Object.keys(existing.data()).filter((k) => !(k in json.data) && k !== 'id' && k !== 'source' && k !== 'target' && k !== 'parent');
    if (stale.length) existing.removeData(stale.join(' '));
    existing.data(json.data);
    // classes() replaces the list: keep the transient UI classes.
    // (host-folded: its host is collapsed, graph-hosts.js.)
    const keep = ['focus', 'hover', 'faded', 'share-ok', 'share-fail', 'host-folded'].filter((c) => existing.hasClass(c));
    existing.classes(json.classes.concat(keep));
    existing.scratch(scratchKey, { raw });
    return { ele: existing, isNew: false };
  }
  const ele = cy.add(json);
  ele.scratch(scratchKey, { raw });
  return { ele, isNew: true };
}

// renderSnapshot makes the graph equal to snapshot ({nodes, edges}). On an
// empty graph it lays everything out; otherwise it applies the
// difference as a delta, so that unchanged nodes keep their positions (a
// reconnect must not reshuffle the projector). It returns what applyDelta
// returns.
//
// With options.edgesLater, a big map laid out in clusters is drawn in two
// steps: its nodes, laid out from the snapshot's edges, and then, when the
// caller calls completeSnapshot (after that first paint), its edges. In
// Cytoscape an edge costs as much as a node to style and more to place,
// and a map of 5,000 nodes has twice as many edges: the room sees the map
// in half the time, its lines a moment later. The returned change then
// has pending set, and stands for the map without its edges; the
// change of the whole map goes to options.complete when the edges are
// in. Anything that changes the graph before that (applyDelta, another
// snapshot) completes it first, so that nothing is applied to half a map
// and the snapshot's change is handed on before the next one.
export function renderSnapshot(cy, snapshot, options = {}) {
  completeSnapshot(cy);
  const nodes = snapshot.nodes || [];
  const edges = snapshot.edges || [];
  if (cy.nodes().not('.overlay').empty()) {
    const byID = new Set(nodes.map((n) => n.id));
    const edgeItems = edges.filter((e) => byID.has(e.from) && byID.has(e.to));
    const edgeJSON = edgeItems.map(edgeElement);
    let later = false;
    cy.batch(() => {
      cy.elements().remove();
      // One add() for all the nodes: adding elements one by one costs a
      // collection and an event each (a third of a 1,500-node render).
      // Compose projects' boxes first, each member added straight into
      // its box (a move later would remove and add it again).
      const boxes = new Set(nodes.filter((n) => n.kind === 'project').map((n) => n.id));
      const items = nodes.filter((n) => boxes.has(n.id)).concat(nodes.filter((n) => !boxes.has(n.id)));
      const json = items.map((item) => {
        const el = nodeElement(item);
        if (item.group && boxes.has(item.group)) el.data.parent = item.group;
        return el;
      });
      cy.add(json).forEach((ele, i) => ele.scratch(scratchKey, { raw: JSON.stringify(items[i]) }));
      syncHosts(cy);
      later = !!options.edgesLater && clusterLaidOut(cy);
      if (!later) addEdges(cy, edgeJSON, edgeItems);
    });
    if (!later) {
      fullLayout(cy);
      return laidOutChange(cy);
    }
    fullLayout(
      cy,
      edgeItems.map((e) => ({ source: cy.getElementById(e.from), target: cy.getElementById(e.to), kind: e.kind })),
    );
    pendingEdges.set(cy, { json: edgeJSON, items: edgeItems, complete: options.complete });
    return { touched: new Set(), removedNames: new Map(), laidOut: true, pending: true };
  }
  return applyDelta(cy, diffAgainst(cy, nodes, edges));
}

// A snapshot's edges waiting for completeSnapshot, by Cytoscape instance.
// Not in cy's scratch: setting that restyles the whole map (3.35), a
// second at 5,000 nodes.
const pendingEdges = new WeakMap();

// completeSnapshot adds the edges renderSnapshot kept back (edgesLater),
// if any, and hands the change of the whole snapshot to its complete.
export function completeSnapshot(cy) {
  const p = pendingEdges.get(cy);
  if (!p) return;
  pendingEdges.delete(cy);
  cy.batch(() => {
    addEdges(cy, p.json, p.items);
    // The boxes the level of detail folded (graph-hosts.js) draw their
    // members' edges as their own: made anew now there are edges.
    syncHosts(cy);
  });
  const change = laidOutChange(cy);
  if (p.complete) p.complete(change);
}

function addEdges(cy, json, items) {
  if (json.length) cy.add(json).forEach((ele, i) => ele.scratch(scratchKey, { raw: JSON.stringify(items[i]) }));
}

// laidOutChange is the change of a snapshot laid out whole: every node
// touched, and (laidOut) fitted.
function laidOutChange(cy) {
  // Only now, so that the layout kept room for their full size.
  markEmptyNetworks(cy);
  return { touched: new Set(cy.nodes().map((n) => n.id())), removedNames: new Map(), laidOut: true };
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
    // Overlays (probe edges, the link-mode line) and the hosts' boxes are
    // the page's own, not the server's: a snapshot never removes them.
    cy[group]()
      .not('.overlay, .host')
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
  completeSnapshot(cy);
  const touched = new Set();
  const removedNames = new Map(); // node ID → name of each removed container
  const spots = new Map(); // name → where each removed container stood
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
      if (n.hasClass('container')) {
        removedNames.set(id, n.data('name'));
        spots.set(n.data('name'), { ...n.position() });
      }
      // Removing a box removes what is in it: what stays goes out first.
      if (n.isParent()) n.children().move({ parent: null });
      n.neighborhood('node').forEach((m) => touched.add(m.id()));
      n.remove(); // also removes its remaining edges
    }
    // Added and changed are handled alike (upsert), so that a delta that
    // repeats an addition still leaves the right picture.
    // A project's box before what goes in it.
    const added = (delta.addedNodes || []).slice().sort((a, b) => (b.kind === 'project') - (a.kind === 'project'));
    for (const n of [...added, ...(delta.changedNodes || [])]) {
      const json = nodeElement(n);
      if (cy.getElementById(n.id).empty()) {
        const parent = parentFor(cy, n);
        if (parent) json.data.parent = parent;
      }
      const { ele, isNew } = upsert(cy, json, JSON.stringify(n));
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
    // Before placement, so that a new node is placed inside its host.
    syncHosts(cy);
  });
  // After the batch, so that the new nodes have their style and so their
  // size; nothing is drawn in between.
  placeNewNodes(cy, fresh);
  evictLoose(cy);
  takeOldSpots(cy, spots);
  flash(cy.collection(flashed));
  return { touched, removedNames };
}

// A re-create renames the old container "<name>-dockmap-old-<short id>"
// (internal/docker recreate.go) and removes it once the new one runs.
const oldName = /^(.+)-dockmap-old-[0-9a-f]+$/;

// takeOldSpots moves a re-created container to where its old one stood,
// once the old one is gone: the room sees the same picture with the new
// edges, not the container jumping elsewhere and hiding a label.
function takeOldSpots(cy, spots) {
  for (const [name, pos] of spots) {
    const m = oldName.exec(name || '');
    if (!m) continue;
    const heir = cy.nodes('.container').filter((n) => n.data('name') === m[1]);
    if (heir.length !== 1) continue;
    heir.stop(true, true);
    // Its link's label is measured again where it ends up.
    heir.animate({ position: pos }, { duration: 400, easing: 'ease-in-out-cubic', complete: () => bendLinks(cy) });
  }
}

// flash highlights eles for flashMillis, so the audience sees what changed.
function flash(eles) {
  if (eles.empty()) return;
  eles.addClass('flash');
  setTimeout(() => eles.removeClass('flash'), flashMillis);
}

// flashEvent highlights, a moment after the event, what a network connect
// or disconnect, or a volume mount or unmount, event ev changed: the edge
// (once the delta has drawn it), or else its two ends.
export function flashEvent(cy, ev) {
  const cid = (ev.attributes || {}).container;
  if (!cid || !ev.id) return;
  const membership = ev.type === 'network' && (ev.action === 'connect' || ev.action === 'disconnect');
  const mount = ev.type === 'volume' && (ev.action === 'mount' || ev.action === 'unmount');
  if (!membership && !mount) return;
  setTimeout(() => {
    const c = cy.getElementById(containerNode(cid));
    let eles;
    if (membership) {
      const ends = c.union(cy.getElementById(networkNode(ev.id)));
      const edge = cy.getElementById(memberEdge(cid, ev.id));
      eles = edge.nonempty() ? edge.union(ends) : ends;
    } else {
      const vol = cy.getElementById(volumeNode(ev.id));
      const edges = c.edgesWith(vol);
      eles = edges.nonempty() ? edges.union(vol).union(c) : vol.union(c);
    }
    eles.addClass('flash');
    setTimeout(() => eles.removeClass('flash'), flashMillis);
  }, 250);
}
