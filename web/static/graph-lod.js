// graph-lod.js is the map's level of detail (issue 14). On a large map
// zoomed out so far that a box's members cannot be read, each Compose
// project is drawn as one summary ("shop · 4 services, 6 containers"), a
// host whose box is small on screen too ("lab1 · 200 containers"), and a
// network's many leaf containers (on it and nothing else) fold into it
// ("bridge · 950 containers"); the boxes' edges are drawn once per
// neighbour (graph-hosts.js). Fewer elements are drawn, and what is
// drawn can be read. Zooming in opens them again; a click on a summary or
// a folded network, or Enter with it selected, opens it at once (until
// zooming in releases it). The user's own collapse (graph-hosts.js) is
// apart and wins. Nothing moves: the members keep their places, and a
// summary takes the room its box had.
//
// It can be turned off per browser: ?lod=off (and ?lod=on) in the
// address, kept in prefs.

import { footprintOf, openFolded, setDetail } from './graph-hosts.js';
import { gesturing } from './graph-render.js';
import { loadPref, storePref } from './prefs.js';

// Below this many nodes a map reads at the zoom that fits it: no level of
// detail.
export const lodNodes = 300;

// Zooms below which a container (48 model px, its label 16) is too small
// to read (its label goes at 6 px), and above which it reads again; the
// gap keeps a zoom near the threshold from folding and unfolding.
const foldBelow = 0.3;
const openAbove = 0.4;

// A network folds its leaves only when it has more of them than this: a
// few leaves read well enough round their network.
const leafFold = 30;

// A host's box folds when it is smaller than this on screen (its larger
// side, in pixels), and opens above the second.
const hostFoldPx = 240;
const hostOpenPx = 320;

const prefKey = 'dockmap.lod';

// createLOD keeps cy's level of detail current: once per animation frame
// at most, after a zoom or a change of the graph. It returns {enabled,
// setEnabled(on)}.
export function createLOD(cy) {
  const asked = new URLSearchParams(window.location.search).get('lod');
  if (asked === 'off' || asked === 'on') storePref(prefKey, asked);
  let on = loadPref(prefKey) !== 'off';
  let far = false;
  let dirty = true; // the graph changed since the last pass
  let count = 0; // nodes, counted again when the graph changed
  let frame = 0;

  const pass = () => {
    frame = 0;
    // Not while a gesture moves the picture on screen: at its end.
    if (gesturing(cy)) return;
    const z = cy.zoom();
    if (dirty) count = cy.nodes().length;
    const large = on && count > lodNodes;
    const nowFar = large && (far ? z < openAbove : z < foldBelow);
    const hosts = cy.nodes('.host');
    if (nowFar === far && !dirty && hosts.empty()) return;
    far = nowFar;
    dirty = false;
    const auto = new Set();
    if (large) {
      hosts.forEach((b) => {
        const id = b.id();
        const f = b.hasClass('collapsed') ? footprintOf(cy, id) : null;
        const bb = f || b.boundingBox({ includeLabels: false, includeOverlays: false, includeUnderlays: false });
        const px = Math.max(bb.w, bb.h) * z;
        if (px < (f ? hostOpenPx : hostFoldPx)) auto.add(id);
      });
    }
    const nets = new Map();
    if (far) {
      cy.nodes('.project').forEach((p) => {
        auto.add(p.id());
      });
      foldLeaves(cy, nets);
    }
    setDetail(cy, auto, nets);
  };
  const soon = () => {
    if (!frame) frame = requestAnimationFrame(pass);
  };
  cy.on('zoom', soon);
  cy.on('gestureend', () => {
    if (frame) cancelAnimationFrame(frame);
    pass();
  });
  // The page's own overlays (probe arrows, the boxes' edges) change
  // nothing here.
  cy.on('add remove', (ev) => {
    if (ev.target.hasClass('overlay')) return;
    dirty = true;
    soon();
  });
  // A click opens a summary; hosts.js leaves the double-click that
  // follows alone (lodTapped).
  cy.on('tap', 'node.lod-summary, node.lod-net', (ev) => {
    ev.target.scratch(tapKey, performance.now());
    openFolded(cy, ev.target);
  });
  soon();
  return {
    // now runs a pass waiting for the next frame at once (see keepLabels'
    // now, graph.js).
    now() {
      if (!frame) return;
      cancelAnimationFrame(frame);
      pass();
    },
    enabled: () => on,
    setEnabled(v) {
      on = !!v;
      storePref(prefKey, on ? 'on' : 'off');
      dirty = true;
      soon();
    },
  };
}

const tapKey = 'dockmapLodTap';

// lodTapped tells whether node n was opened by a click just now, so that
// the double-click it was the start of does not fold it again.
export function lodTapped(n) {
  return performance.now() - (n.scratch(tapKey) || 0) < 600;
}

// foldLeaves fills nets with each network that has more than leafFold
// leaf containers (their only edge of the server's goes to it), mapped to
// their IDs. What is selected stays out, and so do projects' containers.
function foldLeaves(cy, nets) {
  const degree = new Map();
  const only = new Map(); // container ID → the one node its edges go to
  cy.edges().forEach((e) => {
    if (e.hasClass('overlay')) return;
    const d = e.data();
    for (const [a, z] of [
      [d.source, d.target],
      [d.target, d.source],
    ]) {
      degree.set(a, (degree.get(a) || 0) + 1);
      only.set(a, z);
    }
  });
  const byNet = new Map();
  cy.nodes('.container').forEach((c) => {
    const id = c.id();
    // A Compose project's containers fold with their project.
    if (degree.get(id) !== 1 || c.selected() || c.parent().hasClass('project')) return;
    const net = only.get(id);
    if (!byNet.has(net)) byNet.set(net, new Set());
    byNet.get(net).add(id);
  });
  for (const [net, leaves] of byNet) {
    if (leaves.size > leafFold && cy.getElementById(net).hasClass('network')) nets.set(net, leaves);
  }
}
