// app.js is the page's entry point: it creates the graph, connects to
// /live, and wires the panel, the event feed, the badges, the toolbar and
// the keyboard. The features live in their own modules: run.js (run a
// container), actions.js (start/stop/remove), probes.js, ping-form.js and
// matrix.js (reachability), links.js (add, repair and remove links, link
// mode), volumes.js (create/remove volumes, size, share test, mount),
// jobs.js (the job store and Activity), plan-dialog.js and plan-view.js
// (a plan shown before it is carried out, then its job followed),
// planned.js (428/409 plans and 202 jobs for the other forms), steps.js
// (a job's step, with the stop countdown and Kill now), leftovers.js
// (interrupted re-creates), invite.js (one-use login links for someone
// else).
//
// Globals, for people and for browser tests:
//   window.cy       the Cytoscape instance
//   window.dockmap  {lastSeq, connected, engine, selected, watching,
//                    linkMode}: live state, read only

import { createGraph, renderSnapshot, applyDelta, filterByName, focusEdges, fitGraph } from './graph.js';
import { startLive } from './live.js';
import { initPanel, openPanel, refreshPanel, clearPanel, showRemoved, selectedContainer, kindOf } from './panel.js';
import { addEvent } from './feed.js';
import { anyDialogOpen } from './dialogs.js';
import { api, errorText } from './api.js';
import { initJobs, takeJob, takeStep, syncJobs } from './jobs.js';
import { initActions } from './actions.js';
import { initRun, openRun } from './run.js';
import {
  initProbes,
  addResult,
  syncWithGraph,
  onProbesChanged,
  pingMatrix,
  pingNeighbours,
  containerID,
  createWatch,
  describeProbeEdge,
  describeContainerProbes,
} from './probes.js';
import { initPingForm, initPingResults } from './ping-form.js';
import { renderMatrix } from './matrix.js';
import { initLinks, setLinkMode, linkModeOn, onLinkMode } from './links.js';
import { initLeftovers, refreshLeftovers } from './leftovers.js';
import { initTooltip } from './tooltip.js';
import { initNetworks, openNetworkDialog } from './networks.js';
import { initVolumes, openVolumeDialog, addShare } from './volumes.js';
import { invalidateReach, onReachChanged, prediction, verdict, predictionText } from './reach.js';
import { h } from './dom.js';
import { initAudit, addAudit } from './audit.js';
import { initInvite } from './invite.js';

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
  watching: false, // Watch re-probes the selection
  linkMode: false, // a drag on the graph draws a link
};
window.dockmap = state;

// A viewer session gets no button that changes anything (the server
// refuses them anyway).
const readOnly = document.querySelector('.workspace')?.dataset.readOnly === 'true';
// With access control on, a sign-in can be lost (a token changed).
const signedIn = document.querySelector('.workspace')?.dataset.signedIn === 'true';

// selectedName is the name of the container in the panel when it was
// chosen: when that container goes (docker rm, or a re-create renaming it
// aside), the panel follows a new container of that name.
let selectedName = null;
// pendingSelect is the ID of a container just made from the page, to
// select as soon as the graph has it.
let pendingSelect = null;

const legend = document.getElementById('legend');

// On a small screen the legend starts folded, so the graph keeps the room;
// its summary line opens it.
if (legend && window.matchMedia('(max-width: 1100px), (max-height: 700px)').matches) legend.open = false;

// floatingRects are where the legend and the map controls float over the
// graph, in pixels relative to the graph; fitting keeps the graph out of
// them.
const mapControls = document.getElementById('map-controls');
function floatingRects() {
  const g = graphEl.getBoundingClientRect();
  return [legend, mapControls]
    .filter((el) => el && el.getClientRects().length > 0)
    .map((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left - g.left, top: r.top - g.top, right: r.right - g.left, bottom: r.bottom - g.top };
    });
}

const cy = createGraph(graphEl, { fitAvoid: floatingRects });
window.cy = cy;
const panelEl = document.getElementById('panel');
initPanel(panelEl);
initProbes(cy);
initJobs(document.getElementById('activity-list'), document.getElementById('activity-empty'));
initLeftovers(document.getElementById('leftovers'));

// ---- toast: one short line over the graph ----

const toastEl = document.getElementById('toast');
let toastTimer = null;

// toast says text for a few seconds (kind "error" shows it in red).
function toast(text, kind = '') {
  toastEl.textContent = text;
  toastEl.className = `toast ${kind}`;
  toastEl.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toastEl.hidden = true;
  }, kind === 'error' ? 8000 : 4000);
}

// engineParts matches templates.engineState and engineDetail, so the
// server-rendered badge and the live one read the same. A narrow screen
// hides the detail when it is only the version (style.css).
function engineParts(e) {
  if (e.connected) return ['connected', e.version ? ` · Docker ${e.version}` : ''];
  return ['engine unreachable', e.lastError ? `: ${e.lastError}` : ''];
}

function setEngine(e) {
  if (!e) return;
  state.engine = e;
  const [text, detail] = engineParts(e);
  const span = document.createElement('span');
  span.className = 'badge-detail';
  span.textContent = detail;
  badge.replaceChildren(text, span);
  badge.classList.toggle('ok', !!e.connected);
  badge.classList.toggle('down', !e.connected);
  badge.dataset.connected = String(!!e.connected);
  // The title keeps the version that a narrow screen leaves out; it
  // matches templates.engineTitle.
  const title = [e.host, e.version ? `Docker ${e.version}` : ''].filter(Boolean).join(' · ');
  if (title) badge.title = title;
  // The graph shows the last known picture; dimming says it may be old.
  graphEl.classList.toggle('engine-down', !e.connected);
}

const statusText = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' };

function setLiveStatus(s) {
  state.connected = s === 'live';
  if (s === 'reconnecting' && signedIn) checkSession();
  liveStatus.textContent = statusText[s] || s;
  liveStatus.classList.remove('connecting', 'live', 'reconnecting');
  liveStatus.classList.add(s);
  graphEl.classList.toggle('stale', s === 'reconnecting');
}

// checkSession asks, at most every 3 s while the live connection fails,
// whether this browser is still signed in: a WebSocket refused for want of
// a session looks like any other failure, but GET /api/session answers
// 401, and api() then opens the login page.
let sessionCheckedAt = 0;
function checkSession() {
  if (Date.now() - sessionCheckedAt < 3000) return;
  sessionCheckedAt = Date.now();
  api('GET', '/api/session').catch(() => {});
}

// select shows node (a Cytoscape node) as the selection; containers,
// networks, volumes and host paths open the panel.
function select(node) {
  cy.elements(':selected').not(node).unselect();
  node.select();
  focusEdges(cy);
  showInPanel(node);
}

// panelKinds are the node classes that have a panel.
const panelKinds = ['container', 'network', 'volume', 'bind', 'ghost'];

// showInPanel opens the panel for node if it has one, or empties it.
function showInPanel(node) {
  if (node && node.nonempty() && panelKinds.some((k) => node.hasClass(k))) {
    state.selected = node.id();
    selectedName = node.data('name') || null;
    openPanel(node.id());
  } else if (state.selected !== null) {
    state.selected = null;
    selectedName = null;
    clearPanel();
  }
}

function clearSelection() {
  cy.elements(':selected').unselect();
  focusEdges(cy);
  state.selected = null;
  selectedName = null;
  clearPanel();
}

// selectedContainers are the container nodes in the selection.
function selectedContainers() {
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
  const shown = state.selected && cy.getElementById(state.selected);
  if (shown && shown.nonempty() && shown.selected()) return;
  const next = selectedContainers().first();
  showInPanel(next.nonempty() ? next : null);
}

// selectWhenPresent selects the container with this full ID now, or when
// the graph gets it.
function selectWhenPresent(id) {
  if (!id) return;
  const node = cy.getElementById(`c:${id}`);
  if (node.nonempty()) {
    pendingSelect = null;
    select(node);
  } else {
    pendingSelect = id;
  }
}

// pendingNode is the node ID of a network just made from the page.
let pendingNode = null;

// selectNodeWhenPresent selects the node with this ID now, or when the
// graph gets it.
function selectNodeWhenPresent(id) {
  const node = cy.getElementById(id);
  if (node.nonempty()) {
    pendingNode = null;
    select(node);
  } else {
    pendingNode = id;
  }
}

// afterChange keeps the panel, the probes and the search filter in step
// with the graph.
function afterChange({ touched }) {
  // Every prediction may have changed with the graph.
  invalidateReach();
  const sel = selectedContainer();
  if (sel !== null && touched.has(sel)) {
    if (cy.getElementById(sel).empty() && kindOf(sel) !== 'container') {
      state.selected = null;
      selectedName = null;
      showRemoved(kindOf(sel) === 'bind' ? 'bind mount' : kindOf(sel));
    } else if (cy.getElementById(sel).empty()) {
      // Re-created (same name, new ID): follow it; else say it is gone.
      const again = selectedName ? cy.nodes('node.container').filter((n) => n.data('name') === selectedName).first() : cy.collection();
      if (again.nonempty()) {
        select(again);
      } else {
        state.selected = null;
        selectedName = null;
        showRemoved();
      }
    } else {
      refreshPanel();
    }
  }
  if (pendingSelect && cy.getElementById(`c:${pendingSelect}`).nonempty()) selectWhenPresent(pendingSelect);
  if (pendingNode && cy.getElementById(pendingNode).nonempty()) selectNodeWhenPresent(pendingNode);
  syncWithGraph();
  focusEdges(cy);
  if (search.value.trim()) filterByName(cy, search.value);
  updateSelectionCount();
  drawMatrix();
}

initAudit(document.getElementById('audit-list'), document.getElementById('audit-empty'), containerName);

startLive({
  onSnapshot(msg) {
    setEngine(msg.engine);
    afterChange(renderSnapshot(cy, msg));
    // On load and after every reconnect (the server may have restarted
    // in the middle of a re-create).
    if (!readOnly) {
      refreshLeftovers();
      // Job frames sent while the page was away are lost: the list says
      // where every job is now.
      syncJobs();
    }
  },
  onJob: takeJob,
  onStep: takeStep,
  onProbe: addResult,
  onShare: addShare,
  onAudit: addAudit,
  onDelta(msg) {
    afterChange(applyDelta(cy, msg));
  },
  onEvent(ev) {
    addEvent(feedList, ev, containerName);
    if (ev.type === 'network' && (ev.action === 'connect' || ev.action === 'disconnect')) flashMembership(ev);
    if (ev.type === 'volume' && (ev.action === 'mount' || ev.action === 'unmount')) flashMount(ev);
  },
  onEngine: setEngine,
  onStatus: setLiveStatus,
  onSeq(seq) {
    state.lastSeq = seq;
  },
});

// containerName names the container with full ID id from the graph.
function containerName(id) {
  const n = cy.getElementById(`c:${id}`);
  return n.nonempty() ? n.data('name') || n.data('label') : '';
}

// flashMembership highlights what a network connect or disconnect event
// changed: the member edge (once the delta has drawn it) or, for a
// disconnect, the two ends.
function flashMembership(ev) {
  const cid = (ev.attributes || {}).container;
  if (!cid || !ev.id) return;
  setTimeout(() => {
    const ends = cy.getElementById(`c:${cid}`).union(cy.getElementById(`n:${ev.id}`));
    const edge = cy.getElementById(`m:${cid}@${ev.id}`);
    const eles = edge.nonempty() ? edge.union(ends) : ends;
    eles.addClass('flash');
    setTimeout(() => eles.removeClass('flash'), 1500);
  }, 250);
}

// flashMount highlights the mount edge of a volume mount or unmount event
// (once the delta has drawn it), or the two ends.
function flashMount(ev) {
  const cid = (ev.attributes || {}).container;
  if (!cid || !ev.id) return;
  setTimeout(() => {
    const vol = cy.getElementById(`v:${ev.id}`);
    const c = cy.getElementById(`c:${cid}`);
    const edges = c.edgesWith(vol);
    const eles = edges.nonempty() ? edges.union(vol).union(c) : vol.union(c);
    eles.addClass('flash');
    setTimeout(() => eles.removeClass('flash'), 1500);
  }, 250);
}

// multiKey tells a Shift (or Ctrl/Cmd) click: Cytoscape then adds the node
// to the selection or takes it out, by itself.
const multiKey = (ev) => {
  const o = ev.originalEvent;
  return !!(o && (o.shiftKey || o.ctrlKey || o.metaKey));
};

// Pointer: tap a node to select it, Shift+tap to add it, the background to
// clear; Shift+drag on the background selects a box. Hovering a node or an
// edge shows the IPs of its memberships and a tooltip.
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
  if (ev.target === cy && !multiKey(ev)) clearSelection();
});
cy.on('boxend', () => setTimeout(() => afterMultiSelect(null), 0));
// Cytoscape also selects on its own (tap, programmatic): keep the edge
// highlight in step whichever way it happened.
cy.on('select unselect', 'node', () => focusEdges(cy));
cy.on('mouseover', 'node', (ev) => ev.target.connectedEdges().addClass('hover'));
cy.on('mouseout', 'node', (ev) => ev.target.connectedEdges().removeClass('hover'));
cy.on('mouseover', 'edge', (ev) => ev.target.addClass('hover'));
cy.on('mouseout', 'edge', (ev) => ev.target.removeClass('hover'));

// ---- tooltip ----

// describe is the tooltip of a graph element: what it is, and for
// containers and probe edges the probe results with their detail.
function describe(ele) {
  if (ele.isEdge()) {
    if (ele.hasClass('probe')) return describeProbeEdge(ele);
    const d = ele.data();
    const ends = `${ele.source().data('name') || ele.source().data('label')} → ${ele.target().data('name') || ele.target().data('label')}`;
    if (ele.hasClass('link')) return [{ text: `link ${ends}`, cls: 'tip-title' }, { text: `reaches it by the name ${d.label}` }];
    if (ele.hasClass('broken-link')) {
      return [
        { text: `broken link ${ends}`, cls: 'tip-title' },
        { text: `${ele.target().data('label')} was removed: the link still holds on to it, so ${ele.source().data('label')} cannot start. Click it to repair or remove the link.` },
      ];
    }
    if (ele.hasClass('member')) return [{ text: ends, cls: 'tip-title' }, { text: d.label ? `IP ${d.label}` : 'no IP (not running)' }];
    if (ele.hasClass('mount')) return [{ text: ends, cls: 'tip-title' }, { text: `mounted at ${d.label}` }];
    if (ele.hasClass('netns')) return [{ text: ends, cls: 'tip-title' }, { text: 'shares its network stack' }];
    if (ele.hasClass('volumes-from')) {
      return [{ text: ends, cls: 'tip-title' }, { text: `mounts every volume of ${ele.target().data('name') || 'the donor'}${ele.hasClass('ro') ? ', read-only' : ''} (--volumes-from)` }];
    }
    return null;
  }
  if (ele.hasClass('ghost')) {
    return [{ text: `${ele.data('label')} (removed)`, cls: 'tip-title' }, { text: 'a removed container that legacy links still point at' }];
  }
  if (ele.hasClass('volume')) {
    const v = ele.data('volume') || {};
    const users = ele.connectedEdges('edge.mount').length;
    return [{ text: v.anonymous ? `anonymous volume ${String(v.name || '').slice(0, 12)}` : `volume ${v.name || ele.data('label')}`, cls: 'tip-title' }, { text: `${v.driver || 'local'} · ${users} mount${users === 1 ? '' : 's'}` }];
  }
  if (!ele.hasClass('container')) return null;
  const c = ele.data('container') || {};
  const lines = [{ text: c.name || ele.data('label'), cls: 'tip-title' }, { text: `${c.state || ''} · ${c.image || ''}` }];
  if ((c.tmpfs || []).length) lines.push({ text: `tmpfs: ${c.tmpfs.join(', ')}` });
  ele.connectedEdges('edge.member').forEach((e) => {
    const m = e.data('member') || {};
    lines.push({ text: `${m.networkName || 'network'}: ${m.ip || 'no IP'}` });
  });
  return lines.concat(describeContainerProbes(ele.id()));
}
const tooltip = initTooltip(cy, document.getElementById('graph-tooltip'), describe);

// ---- toolbar: run, link mode, ping selection, watch, matrix ----

const btn = (id) => document.getElementById(id);
const selectionCount = btn('selection-count');

function updateSelectionCount() {
  if (!selectionCount) return;
  const n = selectedContainers().length;
  selectionCount.textContent = n > 0 ? String(n) : '';
  btn('ping-selection').dataset.count = String(n);
}
// Once per burst of select/unselect events (a click unselects the others
// before it selects its node; a box selects many).
let selectionTimer = null;
cy.on('select unselect', 'node', () => {
  if (selectionTimer !== null) return;
  selectionTimer = setTimeout(() => {
    selectionTimer = null;
    updateSelectionCount();
    showSelectionPrediction();
    // Watch stops when there is nothing left to watch.
    if (state.watching && selectedContainers().empty()) watch.stop('the selection is empty');
  }, 0);
});

// ---- prediction for two selected containers ----

const reachCard = document.getElementById('reach-card');

// showSelectionPrediction says, when exactly two containers are selected,
// what the explainer predicts both ways, before any probe.
function showSelectionPrediction() {
  if (!reachCard) return;
  const sel = selectedContainers();
  if (sel.length !== 2) {
    reachCard.hidden = true;
    reachCard.replaceChildren();
    return;
  }
  const [a, b] = [sel[0], sel[1]];
  const lines = [];
  for (const [x, y] of [[a, b], [b, a]]) {
    const p = prediction(x.id(), y.id());
    lines.push(h('div', { className: 'tip-title', text: `${x.data('name')} → ${y.data('name')}` }));
    if (!p) {
      lines.push(h('div', { className: 'none', text: 'predicting…' }));
      continue;
    }
    for (const by of ['ip', 'name']) {
      const v = verdict(p, by);
      if (!v) continue;
      lines.push(h('div', { className: `reach-prediction ${v.ok ? 'ok' : 'fail'}`, text: predictionText(v, by), dataset: { testid: 'reach-prediction', by, ok: String(v.ok), from: x.id(), to: y.id() } }));
    }
  }
  reachCard.replaceChildren(...lines);
  reachCard.hidden = false;
}
onReachChanged(showSelectionPrediction);

// pingSelection probes the selection: two or more containers as a matrix,
// one with its neighbours.
async function pingSelection() {
  const sel = selectedContainers();
  if (sel.empty()) {
    toast('Select containers first: click one, Shift+click or Shift+drag for more.');
    return;
  }
  const b = btn('ping-selection');
  b.classList.add('busy');
  try {
    if (sel.length === 1) {
      const { count, error } = await pingNeighbours(sel.first(), 'both');
      if (error) throw error;
      if (count === 0) toast(`${sel.first().data('name')} shares no network or link with another container.`);
    } else {
      await pingMatrix(sel.map(containerID), 'both');
    }
  } catch (err) {
    toast(`Ping failed: ${errorText(err)}`, 'error');
  } finally {
    b.classList.remove('busy');
  }
}

const watch = createWatch({
  selection: selectedContainers,
  onState(on, reason) {
    state.watching = on;
    const b = btn('watch-toggle');
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
const matrixEl = document.getElementById('matrix');
function drawMatrix() {
  renderMatrix(document.getElementById('matrix-table'), document.getElementById('matrix-empty'));
}
function toggleMatrix(show = matrixEl.hidden) {
  matrixEl.hidden = !show;
  btn('matrix-toggle')?.setAttribute('aria-pressed', String(show));
  if (show) drawMatrix();
}
onProbesChanged(() => {
  drawMatrix();
  tooltip.refresh();
});
onReachChanged(() => {
  drawMatrix();
  tooltip.refresh();
});
document.getElementById('matrix-close').addEventListener('click', () => toggleMatrix(false));

const linkHint = document.getElementById('link-hint');
onLinkMode((on) => {
  state.linkMode = on;
  btn('link-mode')?.setAttribute('aria-pressed', String(on));
  btn('link-mode')?.classList.toggle('on', on);
  graphEl.classList.toggle('link-mode', on);
  linkHint.hidden = !on;
});

initPingResults(panelEl);
if (!readOnly) {
  initActions(panelEl);
  initPingForm(cy, panelEl);
  initRun(cy, (id) => selectWhenPresent(id));
  initLinks(cy, panelEl, { linked: (id) => selectWhenPresent(id), toast });
  initNetworks(cy, panelEl, {
    toast,
    selectNode: selectNodeWhenPresent,
    async pingMembers(ids) {
      toggleMatrix(true);
      await pingMatrix(ids, 'both');
    },
  });
  initVolumes(cy, panelEl, { toast, selectNode: selectNodeWhenPresent, mounted: (id) => selectWhenPresent(id) });
  btn('network-open')?.addEventListener('click', openNetworkDialog);
  btn('volume-open')?.addEventListener('click', openVolumeDialog);
  btn('run-open')?.addEventListener('click', openRun);
  btn('link-mode')?.addEventListener('click', () => setLinkMode(!linkModeOn()));
  btn('ping-selection')?.addEventListener('click', pingSelection);
  btn('watch-toggle')?.addEventListener('click', () => watch.toggle());
  initInvite();
}
btn('matrix-toggle')?.addEventListener('click', () => toggleMatrix());

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
  // A dialog has the keyboard (Escape closes it by itself).
  if (anyDialogOpen()) return;
  const t = ev.target;
  if (t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
  const operator = !readOnly;
  switch (ev.key) {
    case 'Escape':
      if (linkModeOn()) setLinkMode(false);
      else clearSelection();
      break;
    case 'r':
      if (!operator) return;
      ev.preventDefault(); // or the key would be typed into the dialog
      openRun();
      break;
    case 'n':
      if (!operator) return;
      ev.preventDefault(); // or the key would be typed into the dialog
      openNetworkDialog();
      break;
    case 'v':
      if (!operator) return;
      ev.preventDefault(); // or the key would be typed into the dialog
      openVolumeDialog();
      break;
    case 'l':
      if (!operator) return;
      setLinkMode(!linkModeOn());
      break;
    case 'p':
      if (!operator) return;
      pingSelection();
      break;
    case 'w':
      if (!operator) return;
      watch.toggle();
      break;
    case 'm':
      toggleMatrix();
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
