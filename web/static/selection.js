// selection.js is what the user has selected on the graph, and the panel
// that follows it. The store (store.js) holds it: selected is the node ID
// in the panel, selectedName that container's name when it was chosen
// (when the container goes, by docker rm or a re-create renaming it aside,
// the panel follows a new container of that name), pendingSelect and
// pendingNode a container ID and a node ID made from the page, to select as
// soon as the graph has them.
//
// Pointer: tap a node to select it, Shift+tap to add it, the background to
// clear; Shift+drag on the background selects a box. Hovering a node or an
// edge highlights its edges.

import { focusEdges } from './graph.js';
import { containerNode, kindOf } from './ids.js';

// panelKinds are the node classes that have a panel.
const panelKinds = ['container', 'network', 'volume', 'bind', 'ghost', 'service', 'swarm-node', 'task'];

// multiKey tells a Shift (or Ctrl/Cmd) click: Cytoscape then adds the node
// to the selection or takes it out, by itself.
const multiKey = (ev) => {
  const o = ev.originalEvent;
  return !!(o && (o.shiftKey || o.ctrlKey || o.metaKey));
};

// createSelection keeps the selection of the graph cy in store and shows
// it in panel (createPanel). It returns {select, clear, containers,
// selectWhenPresent, selectNodeWhenPresent, follow, onChanged}.
export function createSelection({ cy, store, panel }) {
  const listeners = new Set();

  // select shows node (a Cytoscape node) as the selection; containers,
  // networks, volumes and host paths open the panel.
  function select(node) {
    cy.elements(':selected').not(node).unselect();
    node.select();
    focusEdges(cy);
    showInPanel(node);
  }

  // showInPanel opens the panel for node if it has one, or empties it.
  function showInPanel(node) {
    if (node && node.nonempty() && panelKinds.some((k) => node.hasClass(k))) {
      store.set({ selectedName: node.data('name') || null });
      panel.open(node.id());
    } else if (store.get().selected !== null) {
      store.set({ selectedName: null });
      panel.clear();
    }
  }

  function clear() {
    cy.elements(':selected').unselect();
    focusEdges(cy);
    store.set({ selectedName: null });
    panel.clear();
  }

  // containers are the container nodes in the selection.
  function containers() {
    return cy.nodes('node.container:selected');
  }

  // afterMultiSelect runs after Shift+click or a box selection changed the
  // selection: the panel shows the container just added, or another one
  // still selected when the one it showed was taken out.
  function afterMultiSelect(node) {
    focusEdges(cy);
    if (node && node.selected() && node.hasClass('container')) {
      showInPanel(node);
      return;
    }
    const id = store.get().selected;
    const shown = id && cy.getElementById(id);
    if (shown && shown.nonempty() && shown.selected()) return;
    const next = containers().first();
    showInPanel(next.nonempty() ? next : null);
  }

  // selectWhenPresent selects the container with this full ID now, or when
  // the graph gets it.
  function selectWhenPresent(id) {
    if (!id) return;
    const node = cy.getElementById(containerNode(id));
    if (node.nonempty()) {
      store.set({ pendingSelect: null });
      select(node);
    } else {
      store.set({ pendingSelect: id });
    }
  }

  // selectNodeWhenPresent selects the node with this ID now, or when the
  // graph gets it.
  function selectNodeWhenPresent(id) {
    const node = cy.getElementById(id);
    if (node.nonempty()) {
      store.set({ pendingNode: null });
      select(node);
    } else {
      store.set({ pendingNode: id });
    }
  }

  // follow keeps the panel in step with a graph change that touched the
  // node IDs in touched: refreshed, following a re-created container, or
  // saying what was removed; and selects what was waiting for the graph.
  // The caller re-draws the edge highlight after (focusEdges), once the
  // overlay edges are back too.
  function follow({ touched }) {
    const { selected: sel, selectedName, pendingSelect, pendingNode } = store.get();
    if (sel !== null && touched.has(sel)) {
      if (cy.getElementById(sel).empty() && kindOf(sel) !== 'container') {
        store.set({ selectedName: null });
        panel.showRemoved(kindOf(sel) === 'bind' ? 'bind mount' : kindOf(sel));
      } else if (cy.getElementById(sel).empty()) {
        // Re-created (same name, new ID): follow it; else say it is gone.
        const again = selectedName ? cy.nodes('node.container').filter((n) => n.data('name') === selectedName).first() : cy.collection();
        if (again.nonempty()) {
          select(again);
        } else {
          store.set({ selectedName: null });
          panel.showRemoved();
        }
      } else {
        panel.refresh();
      }
    }
    if (pendingSelect && cy.getElementById(containerNode(pendingSelect)).nonempty()) selectWhenPresent(pendingSelect);
    if (pendingNode && cy.getElementById(pendingNode).nonempty()) selectNodeWhenPresent(pendingNode);
  }

  // onChanged calls fn() after the selection changed, once per burst of
  // select/unselect events (a click unselects the others before it
  // selects its node; a box selects many).
  function onChanged(fn) {
    listeners.add(fn);
  }
  let burst = null;
  cy.on('select unselect', 'node', () => {
    if (burst !== null) return;
    burst = setTimeout(() => {
      burst = null;
      for (const fn of listeners) fn();
    }, 0);
  });

  cy.on('tap', 'node', (ev) => {
    if (ev.target.hasClass('overlay')) return;
    if (multiKey(ev)) {
      // After Cytoscape's own toggle.
      setTimeout(() => afterMultiSelect(ev.target), 0);
      return;
    }
    select(ev.target);
  });
  cy.on('tap', (ev) => {
    if (ev.target === cy && !multiKey(ev)) clear();
  });
  cy.on('boxend', () => setTimeout(() => afterMultiSelect(null), 0));
  // Cytoscape also selects on its own (tap, programmatic): keep the edge
  // highlight in step whichever way it happened.
  cy.on('select unselect', 'node', () => focusEdges(cy));
  cy.on('mouseover', 'node', (ev) => ev.target.connectedEdges().addClass('hover'));
  cy.on('mouseout', 'node', (ev) => ev.target.connectedEdges().removeClass('hover'));
  cy.on('mouseover', 'edge', (ev) => ev.target.addClass('hover'));
  cy.on('mouseout', 'edge', (ev) => ev.target.removeClass('hover'));

  return { select, clear, containers, selectWhenPresent, selectNodeWhenPresent, follow, onChanged };
}
