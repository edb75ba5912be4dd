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

import { stylesheet, webglStyle } from './graph-style.js';
import { chooseRenderer, followSize, gesturing, lastSize, renderOptions, rendererSetting } from './graph-render.js';
import { setFitAvoid } from './graph-place.js';
import { indexOf, keptLabelPx, keptLabelStep } from './graph-index.js';

export { networkColour } from './graph-style.js';
export { fitGraph, tidy, setBands, keepInView, bendLinks, bigMapNodes } from './graph-place.js';
export { renderSnapshot, completeSnapshot, applyDelta, flashEvent } from './graph-elements.js';
export { collapseGroup, collapseHost, isCollapsed, isGroupCollapsed, hostOf, setHostsDown, syncHosts } from './graph-hosts.js';

// createGraph starts Cytoscape in container with dockmap's style and no
// elements; renderSnapshot fills it. options.fitAvoid, if given, returns
// the rectangle ({left, top, right, bottom}, in pixels relative to the
// container) of something that floats over the graph, such as the legend,
// or null; fitGraph keeps the graph out of it. The renderer (WebGL or
// canvas, graph-render.js) goes by options.nodes, the size the map is
// expected to have (by default the last map's); options.render, Cytoscape
// rendering options, overrides the choice (the benchmarks try each). The
// container's data-renderer says which one draws.
export function createGraph(container, options = {}) {
  // The fcose UMD build registers itself when cytoscape is a global; if it
  // was loaded some other way, register it here.
  if (!cytoscape('layout', 'fcose') && window.cytoscapeFcose) {
    cytoscape.use(window.cytoscapeFcose);
  }
  const render = options.render || renderOptions(chooseRenderer({ nodes: options.nodes ?? lastSize(), setting: rendererSetting() }));
  const cy = cytoscape({
    container,
    elements: [],
    // WebGL draws every edge solid: its rules give dashed ones another look.
    style: render.webgl ? [...stylesheet, ...webglStyle] : stylesheet,
    minZoom: 0.05,
    maxZoom: 5,
    // A click selects one node; Shift+click adds or removes one, and
    // Shift+drag on the background selects a box (for "Ping selection").
    selectionType: 'single',
    boxSelectionEnabled: true,
    ...render,
  });
  container.dataset.renderer = render.webgl ? 'webgl' : 'canvas';
  setFitAvoid(cy, options.fitAvoid);
  followSize(cy, { viewport: !options.render && !render.webgl });
  return cy;
}

// the filter. It returns the matching container nodes.
export function filterByName(cy, query) {
  const q = query.trim().toLowerCase();
  let matches = cy.collection();
  cy.batch(() => {
    cy.elements().removeClass('faded');
    if (!q) return;
    // A host's box stays: fading it would fade everything in it.
    const nodes = cy.nodes().not('.host, .project');
    // By label or by name: a Compose service is labelled by its service,
    // but someone may type the container's name.
    const hit = nodes.filter((n) => `${n.data('label')} ${n.data('name') || ''}`.toLowerCase().includes(q));
    nodes.not(hit).addClass('faded');
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

// keepLabels keeps the map readable at any zoom: the networks, the hosts
// and Compose projects (graph-hosts.js) and what is selected (with its
// neighbours) always show their labels, sized up as the map zooms out so
// they read at keptLabelPx at least (and at most keptLabelStep times
// that); the other labels go, below Cytoscape's min-zoomed-font-size, as
// before. Zero labels is never what a room sees. What keeps its label is
// found again only when the graph or the selection changed, from the
// map's index (graph-index.js) rather than a pass over every node.
export function keepLabels(cy) {
  let frame = 0;
  let keep = cy.collection(); // what keeps its label now
  let dirty = true; // the graph or the selection changed: find keep again
  let step = null; // the size step applied to keep, null: none yet
  const selected = new Set();
  const sizeOf = (n, z, k) => {
    const base = n.hasClass('host') || n.hasClass('project') ? 18 : n.hasClass('network') ? 17 : 16;
    if (base * z >= keptLabelPx) n.removeStyle('font-size');
    else n.style('font-size', Math.min(16 * keptLabelStep ** Math.max(k, 0), 400));
  };
  const update = () => {
    frame = 0;
    // The picture a gesture moves shows the labels as they were: sized
    // again when it ends.
    if (gesturing(cy)) return;
    const z = cy.zoom();
    // The step at which a label reads at keptLabelPx at least.
    const k = Math.ceil(Math.log(keptLabelPx / (16 * z)) / Math.log(keptLabelStep));
    if (!dirty && k === step) return;
    cy.batch(() => {
      let fresh = cy.collection();
      if (dirty) {
        dirty = false;
        const ix = indexOf(cy);
        const sel = cy.collection([...selected].filter((n) => !n.removed()));
        const next = cy
          .collection(ix.networks())
          .union(cy.collection(ix.boxes()))
          .union(sel)
          .union(sel.neighborhood('node'))
          .filter((n) => !n.removed() && !n.hasClass('overlay'));
        keep
          .filter((n) => !n.removed())
          .not(next)
          .removeClass('label-keep')
          .removeStyle('font-size');
        fresh = next.not(keep);
        fresh.addClass('label-keep');
        keep = next;
      }
      // Every kept label when the step changed, else only the new ones.
      (k === step ? fresh : keep).forEach((n) => sizeOf(n, z, k));
      step = k;
    });
  };
  const soon = () => {
    if (!frame) frame = requestAnimationFrame(update);
  };
  const changed = () => {
    dirty = true;
    soon();
  };
  cy.on('select', 'node', (e) => {
    selected.add(e.target);
    changed();
  });
  cy.on('unselect', 'node', (e) => {
    selected.delete(e.target);
    changed();
  });
  cy.on('remove', 'node', (e) => selected.delete(e.target));
  cy.on('add remove', changed);
  // The level of detail's summaries are labelled anew: sized again.
  cy.on('lod', () => {
    step = null;
    changed();
  });
  cy.on('zoom', soon);
  cy.on('gestureend', () => {
    if (frame) cancelAnimationFrame(frame);
    update();
  });
  soon();
  return {
    soon,
    // now runs a pass waiting for the next frame at once: after a change,
    // before Cytoscape draws it, so that the frame that shows the change
    // shows its labels too (a pass a frame later made Cytoscape draw the
    // whole map twice, a second at 5,000 nodes).
    now() {
      if (!frame) return;
      cancelAnimationFrame(frame);
      update();
    },
  };
}
