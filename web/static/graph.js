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
import { chooseRenderer, followSize, lastSize, renderOptions, rendererSetting } from './graph-render.js';
import { setFitAvoid } from './graph-place.js';

export { networkColour } from './graph-style.js';
export { fitGraph, tidy, setBands, keepInView, bendLinks } from './graph-place.js';
export { renderSnapshot, applyDelta, flashEvent } from './graph-elements.js';
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

// Labels kept at any zoom read at least this large on screen, in pixels.
const keptLabelPx = 13;

// keepLabels keeps the map readable at any zoom: the networks, the hosts
// (graph-hosts.js) and what is
// selected (with its neighbours) always show their labels, sized up as
// the map zooms out so they read at keptLabelPx at least; the other labels
// go, below Cytoscape's min-zoomed-font-size, as before. Zero labels is
// never what a room sees.
export function keepLabels(cy) {
  let frame = 0;
  const update = () => {
    frame = 0;
    const z = cy.zoom();
    const selected = cy.nodes(':selected');
    const keep = cy.nodes('.network, .host, .project').union(selected).union(selected.neighborhood('node')).not('.overlay');
    cy.batch(() => {
      cy.nodes('.label-keep').not(keep).removeClass('label-keep').removeStyle('font-size');
      keep.addClass('label-keep');
      keep.forEach((n) => {
        const base = n.hasClass('host') || n.hasClass('project') ? 18 : n.hasClass('network') ? 17 : 16;
        if (base * z >= keptLabelPx) n.removeStyle('font-size');
        else n.style('font-size', Math.min(keptLabelPx / z, 400));
      });
    });
  };
  const soon = () => {
    if (!frame) frame = requestAnimationFrame(update);
  };
  cy.on('zoom select unselect add remove lod', soon);
  soon();
  return soon;
}
