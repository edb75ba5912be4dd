// app.js is the page's entry point: it creates the graph, connects to
// /live, and wires the panel, the event feed, the badges and the keyboard.
//
// Globals, for people and for browser tests:
//   window.cy       the Cytoscape instance
//   window.dockmap  {lastSeq, connected, engine, selected}: live state, read only

import { createGraph, renderSnapshot, applyDelta, filterByName, focusEdges, fitGraph } from './graph.js';
import { startLive } from './live.js';
import { initPanel, openPanel, refreshPanel, clearPanel, showRemoved, selectedContainer } from './panel.js';
import { addEvent } from './feed.js';

const graphEl = document.getElementById('graph');
const badge = document.getElementById('engine-badge');
const liveStatus = document.getElementById('live-status');
const feedList = document.getElementById('feed-list');
const search = document.getElementById('search');

// state is window.dockmap. It is mutated in place, never replaced, so a
// test holding a reference always sees the current values.
const state = {
  lastSeq: 0, // seq of the last snapshot or delta applied
  connected: false, // WebSocket open and its snapshot applied
  engine: null, // last EngineState received
  selected: null, // node ID of the container in the panel
};
window.dockmap = state;

const legend = document.getElementById('legend');

// On a small screen the legend starts folded, so the graph keeps the room;
// its summary line opens it.
if (legend && window.matchMedia('(max-width: 1100px), (max-height: 700px)').matches) legend.open = false;

// legendRect is where the legend floats over the graph, in pixels relative
// to the graph; fitting keeps the graph out of it.
function legendRect() {
  if (!legend || legend.getClientRects().length === 0) return null;
  const g = graphEl.getBoundingClientRect();
  const l = legend.getBoundingClientRect();
  return { left: l.left - g.left, top: l.top - g.top, right: l.right - g.left, bottom: l.bottom - g.top };
}

const cy = createGraph(graphEl, { fitAvoid: legendRect });
window.cy = cy;
initPanel(document.getElementById('panel'));

// engineText matches templates.engineText, so the server-rendered badge and
// the live one read the same.
function engineText(e) {
  if (e.connected) return e.version ? `connected · Docker ${e.version}` : 'connected';
  return e.lastError ? `engine unreachable: ${e.lastError}` : 'engine unreachable';
}

function setEngine(e) {
  if (!e) return;
  state.engine = e;
  badge.textContent = engineText(e);
  badge.classList.toggle('ok', !!e.connected);
  badge.classList.toggle('down', !e.connected);
  badge.dataset.connected = String(!!e.connected);
  if (e.host) badge.title = e.host;
  // The graph shows the last known picture; dimming says it may be old.
  graphEl.classList.toggle('engine-down', !e.connected);
}

const statusText = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' };

function setLiveStatus(s) {
  state.connected = s === 'live';
  liveStatus.textContent = statusText[s] || s;
  liveStatus.classList.remove('connecting', 'live', 'reconnecting');
  liveStatus.classList.add(s);
  graphEl.classList.toggle('stale', s === 'reconnecting');
}

// select shows node (a Cytoscape node) as the selection; containers open
// the panel, other nodes only highlight their edges.
function select(node) {
  cy.elements(':selected').not(node).unselect();
  node.select();
  focusEdges(cy);
  if (node.hasClass('container')) {
    state.selected = node.id();
    openPanel(node.id());
  } else if (state.selected !== null) {
    state.selected = null;
    clearPanel();
  }
}

function clearSelection() {
  cy.elements(':selected').unselect();
  focusEdges(cy);
  state.selected = null;
  clearPanel();
}

// afterChange keeps the panel and the search filter in step with the graph.
function afterChange({ touched }) {
  const sel = selectedContainer();
  if (sel !== null && touched.has(sel)) {
    if (cy.getElementById(sel).empty()) {
      state.selected = null;
      showRemoved();
    } else {
      refreshPanel();
    }
  }
  focusEdges(cy);
  if (search.value.trim()) filterByName(cy, search.value);
}

startLive({
  onSnapshot(msg) {
    setEngine(msg.engine);
    afterChange(renderSnapshot(cy, msg));
  },
  onDelta(msg) {
    afterChange(applyDelta(cy, msg));
  },
  onEvent(ev) {
    addEvent(feedList, ev);
  },
  onEngine: setEngine,
  onStatus: setLiveStatus,
  onSeq(seq) {
    state.lastSeq = seq;
  },
});

// Pointer: tap a node to select it, the background to clear; hovering a
// node or an edge shows the IPs of its memberships.
cy.on('tap', 'node', (ev) => select(ev.target));
cy.on('tap', (ev) => {
  if (ev.target === cy) clearSelection();
});
// Cytoscape also selects on its own (tap, programmatic): keep the edge
// highlight in step whichever way it happened.
cy.on('select unselect', 'node', () => focusEdges(cy));
cy.on('mouseover', 'node', (ev) => ev.target.connectedEdges().addClass('hover'));
cy.on('mouseout', 'node', (ev) => ev.target.connectedEdges().removeClass('hover'));
cy.on('mouseover', 'edge', (ev) => ev.target.addClass('hover'));
cy.on('mouseout', 'edge', (ev) => ev.target.removeClass('hover'));

// zoomBy zooms around the centre of the view, as a projector user expects
// from a key press (there is no pointer position to zoom around).
function zoomBy(factor) {
  cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
}

// fit shows the whole map, clear of the legend.
function fit() {
  fitGraph(cy);
}

document.getElementById('zoom-in').addEventListener('click', () => zoomBy(1.25));
document.getElementById('zoom-out').addEventListener('click', () => zoomBy(1 / 1.25));
document.getElementById('zoom-fit').addEventListener('click', fit);

// Search: typing fades what does not match; Enter selects the first
// matching container and centres it; Escape clears and leaves the box.
search.addEventListener('input', () => filterByName(cy, search.value));
search.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    const hit = filterByName(cy, search.value).first();
    if (hit.nonempty()) {
      select(hit);
      cy.center(hit);
    }
  } else if (ev.key === 'Escape') {
    search.value = '';
    filterByName(cy, '');
    search.blur();
  }
});

// Keyboard shortcuts, ignored while typing and with modifiers (so that the
// browser's own Ctrl/Cmd shortcuts keep working).
document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  if (t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
  switch (ev.key) {
    case 'Escape':
      clearSelection();
      break;
    case '/':
    case 'f':
      ev.preventDefault(); // or the key would be typed into the box
      search.focus();
      search.select();
      break;
    case '+':
    case '=':
      zoomBy(1.25);
      break;
    case '-':
    case '_':
      zoomBy(1 / 1.25);
      break;
    case '0':
      fit();
      break;
    default:
      return;
  }
});
