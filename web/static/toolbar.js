// toolbar.js runs the buttons over the graph and what they show: Ping
// selection (with the count of selected containers), Watch, the matrix,
// link mode, zoom and fit, and the search box. keys.js calls the same
// functions from the keyboard.

import { errorText } from './api.js';
import { fitGraph, filterByName } from './graph.js';
import { containerID } from './ids.js';
import { createExport } from './export.js';

const byID = (id) => document.getElementById(id);

// createToolbar wires the toolbar of the graph cy. The selection is
// selection's (createSelection), the view state store's (watching,
// linkMode, filter); probes (createProbes) pings, matrix (createMatrix)
// draws, toast tells. A viewer (readOnly) gets no button that changes
// anything. It returns {pingSelection, toggleWatch, toggleLinkMode,
// toggleMatrix, drawMatrix, updateSelectionCount, zoomBy, fit,
// focusSearch}.
export function createToolbar({ cy, store, selection, probes, matrix, toast, graphEl, readOnly }) {
  const selectionCount = byID('selection-count');

  function updateSelectionCount() {
    if (!selectionCount) return;
    const n = selection.containers().length;
    selectionCount.textContent = n > 0 ? String(n) : '';
    byID('ping-selection').dataset.count = String(n);
  }

  // pingSelection probes the selection: two or more containers as a
  // matrix, one with its neighbours.
  async function pingSelection() {
    const sel = selection.containers();
    if (sel.empty()) {
      toast('Select containers first: click one, Shift+click or Shift+drag for more.');
      return;
    }
    const b = byID('ping-selection');
    b.classList.add('busy');
    try {
      if (sel.length === 1) {
        const { count, error } = await probes.pingNeighbours(sel.first(), 'both');
        if (error) throw error;
        if (count === 0) toast(`${sel.first().data('name')} shares no network or link with another container.`);
      } else {
        await probes.pingMatrix(sel.map(containerID), 'both');
      }
    } catch (err) {
      toast(`Ping failed: ${errorText(err)}`, 'error');
    } finally {
      b.classList.remove('busy');
    }
  }

  const watch = probes.createWatch({
    selection: selection.containers,
    onState(on, reason) {
      store.set({ watching: on });
      const b = byID('watch-toggle');
      if (b) {
        b.setAttribute('aria-pressed', String(on));
        b.classList.toggle('on', on);
      }
      if (on) toast('Watching: the selection is pinged every 5 seconds. w to stop.');
      else if (reason === 'nothing selected') toast('Watch needs a selection: click a container, Shift+click for more.');
      else if (reason) toast(`Watch stopped (${reason}).`);
    },
    onError(text) {
      toast(`Watch: ${text}`, 'error');
    },
  });

  // The matrix: shown or hidden by m; drawn whenever results change.
  const matrixEl = byID('matrix');
  function drawMatrix() {
    matrix.render(byID('matrix-table'), byID('matrix-empty'));
  }
  function toggleMatrix(show = matrixEl.hidden) {
    matrixEl.hidden = !show;
    byID('matrix-toggle')?.setAttribute('aria-pressed', String(show));
    if (show) drawMatrix();
  }

  const toggleLinkMode = () => store.set({ linkMode: !store.get().linkMode });
  const linkHint = byID('link-hint');
  store.on('change:linkMode', (on) => {
    byID('link-mode')?.setAttribute('aria-pressed', String(on));
    byID('link-mode')?.classList.toggle('on', on);
    graphEl.classList.toggle('link-mode', on);
    linkHint.hidden = !on;
  });

  // zoomBy zooms around the centre of the view, as a projector user
  // expects from a key press (there is no pointer position to zoom
  // around).
  function zoomBy(factor) {
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  // fit shows the whole map, clear of the legend.
  function fit() {
    fitGraph(cy);
  }

  // Search: typing fades what does not match (the store's filter); Enter
  // selects the first matching container and centres it; Escape clears
  // and leaves the box.
  const search = byID('search');
  store.on('change:filter', (text) => filterByName(cy, text));
  search.addEventListener('input', () => store.set({ filter: search.value }));
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      const hit = filterByName(cy, search.value).first();
      if (hit.nonempty()) {
        selection.select(hit);
        cy.center(hit);
      }
    } else if (ev.key === 'Escape') {
      search.value = '';
      store.set({ filter: '' });
      search.blur();
    }
  });
  function focusSearch() {
    search.focus();
    search.select();
  }

  selection.onChanged(() => {
    updateSelectionCount();
    // Watch stops when there is nothing left to watch.
    if (store.get().watching && selection.containers().empty()) watch.stop('the selection is empty');
  });
  probes.onProbesChanged(drawMatrix);
  byID('matrix-close').addEventListener('click', () => toggleMatrix(false));
  byID('matrix-toggle')?.addEventListener('click', () => toggleMatrix());
  byID('zoom-in').addEventListener('click', () => zoomBy(1.25));
  byID('zoom-out').addEventListener('click', () => zoomBy(1 / 1.25));
  byID('zoom-fit').addEventListener('click', fit);
  if (!readOnly) {
    byID('link-mode')?.addEventListener('click', toggleLinkMode);
    byID('ping-selection')?.addEventListener('click', pingSelection);
    byID('watch-toggle')?.addEventListener('click', () => watch.toggle());
  }

  createExport({ cy, selection, matrix, toast });

  return { pingSelection, toggleWatch: () => watch.toggle(), toggleLinkMode, toggleMatrix, drawMatrix, updateSelectionCount, zoomBy, fit, focusSearch };
}
