// app.js is the page's entry point: it makes the store and the graph, then
// each feature from its factory with what it needs, and connects to /live.
// Nothing else lives here. The modules:
//
//   store.js        selection and view state (window.dockmap)
//   ids.js          graph node and edge IDs
//   graph.js        the Cytoscape graph (graph-style.js, graph-place.js,
//                   graph-elements.js)
//   selection.js    what is selected, and the panel following it
//   panel.js        the side panel's server-rendered fragments
//   badges.js       engine and live-connection badges
//   toast.js        one short line over the graph
//   cards.js        tooltips and the two-container reach card
//   toolbar.js      Ping selection, Watch, matrix, link mode, zoom, search
//   keys.js         keyboard shortcuts
//   probes.js, ping-form.js, matrix.js, reach.js   reachability
//   actions.js, run.js, links.js, networks.js, volumes.js   changes
//   jobs.js, plan-dialog.js, plan-view.js, planned.js, steps.js   plans
//                   and the jobs that carry them out
//   leftovers.js (interrupted re-creates), audit.js, feed.js, invite.js
//   dock.js         the sidebar's tabs (lesson, activity, events), resizer
//   lesson.js       the Lesson tab: steps ticking live, the class table
//   swarm.js        the Swarm panels' scale, availability and probes
//   focus.js        show only a prefix, a network, a label, what was made
//                   here, a host; or hide a host
//   hosts.js        a host's menu, collapsing it (graph-hosts.js draws hosts)
//   presenter.js    the presenter view (f)
//   classview.js    the class view (g): every participant engine's lab as
//                   a tile with its lesson progress
//   timeline.js     the session's timeline (h), the map as it was
//   layout-bands.js the stable layout (Bands), for Tidy (t)
//   watchers.js     the header's "N watching"
//   engines.js      the header's engine count ("3/4") with several engines
//   engine-choice.js the Engine select of the Run, network and volume dialogs
//   prefs.js        choices kept per browser
//
// Globals, for people and for browser tests:
//   window.cy       the Cytoscape instance
//   window.dockmap  the store's state {lastSeq, predictedSeq, connected, engine,
//                   selected, selectedName, pendingSelect, pendingNode,
//                   watching, linkMode, filter}: live, read only

import { api } from './api.js';
import { createActions } from './actions.js';
import { createAudit } from './audit.js';
import { createBadges } from './badges.js';
import { createCards } from './cards.js';
import { createClassView } from './classview.js';
import { createDock } from './dock.js';
import { addEvent, roomSentence } from './feed.js';
import { createFocus } from './focus.js';
import { createHosts } from './hosts.js';
import {
  createGraph,
  renderSnapshot,
  completeSnapshot,
  applyDelta,
  filterByName,
  focusEdges,
  flashEvent,
  fitGraph,
  tidy,
  setBands,
  keepLabels,
  keepInView,
  bendLinks,
  bigMapNodes,
} from './graph.js';
import { createLOD } from './graph-lod.js';
import { containerNode } from './ids.js';
import { initInvite } from './invite.js';
import { createJobs } from './jobs.js';
import { initKeys } from './keys.js';
import { createLeftovers } from './leftovers.js';
import { createLesson } from './lesson.js';
import { createLinks } from './links.js';
import { createLogs } from './logs.js';
import { startLive } from './live.js';
import { createMatrix } from './matrix.js';
import { createNetworks } from './networks.js';
import { createPanel } from './panel.js';
import { createPingForm } from './ping-form.js';
import { createPlanned } from './planned.js';
import { loadPref, storePref } from './prefs.js';
import { createPresenter, probeSentence } from './presenter.js';
import { createProbes, failureText } from './probes.js';
import { createReach } from './reach.js';
import { createRun } from './run.js';
import { createEngines } from './engines.js';
import { createSelection } from './selection.js';
import { createShell } from './shell.js';
import { createStore } from './store.js';
import { createSwarm } from './swarm.js';
import { createTimeline } from './timeline.js';
import { createToast } from './toast.js';
import { createToolbar } from './toolbar.js';
import { createVolumes } from './volumes.js';
import { initWatchers, showWatchers } from './watchers.js';

const byID = (id) => document.getElementById(id);
const graphEl = byID('graph');
const panelEl = byID('panel');
const workspace = document.querySelector('.workspace');
// A viewer session gets no button that changes anything (the server
// refuses them anyway).
const readOnly = workspace?.dataset.readOnly === 'true';
// With access control on, a sign-in can be lost (a token changed).
const signedIn = workspace?.dataset.signedIn === 'true';

const store = createStore({
  lastSeq: 0, // seq of the last snapshot or delta applied
  predictedSeq: 0, // the graph's seq of the latest predictions (reach.js)
  connected: false, // WebSocket open and its snapshot applied
  engine: null, // last EngineState received
  selected: null, // node ID shown in the panel
  selectedName: null, // its container's name when chosen
  pendingSelect: null, // container ID made here, to select when it shows
  pendingNode: null, // node ID made here, to select when it shows
  watching: false, // Watch re-probes the selection
  linkMode: false, // a drag on the graph draws a link
  filter: '', // the search box: what does not match is faded
});
window.dockmap = store.get();

// On a small screen the legend starts folded, so the graph keeps the room;
// its summary line opens it.
const legend = byID('legend');
if (legend && window.matchMedia('(max-width: 1100px), (max-height: 700px)').matches) legend.open = false;

// floatingRects are where the legend and the map controls float over the
// graph, in pixels relative to the graph; fitting keeps the graph out of
// them.
const mapControls = byID('map-controls');
const floating = [legend, mapControls, byID('matrix'), byID('reach-card'), byID('presenter-caption'), byID('presenter-say'), byID('graph-past-note')];
function floatingRects() {
  const g = graphEl.getBoundingClientRect();
  // The presenter's sentence comes and goes at the top: its band stays
  // clear, so a sentence never covers a node.
  const band = document.body.classList.contains('presenter') ? [{ left: 0, top: 0, right: g.width, bottom: 80 }] : [];
  return band.concat(floating
    .filter((el) => el && el.getClientRects().length > 0)
    .map((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left - g.left, top: r.top - g.top, right: r.right - g.left, bottom: r.bottom - g.top };
    }));
}

const cy = createGraph(graphEl, { fitAvoid: floatingRects });
window.cy = cy;
const labels = keepLabels(cy);
const lod = createLOD(cy);

// The stable layout (Bands) is a choice kept per browser: the first layout
// and every Tidy use it.
const bandsKey = 'dockmap.layout.bands';
const bandsBtn = byID('bands');
let bands = loadPref(bandsKey) === '1';
const showBands = () => {
  setBands(cy, bands);
  bandsBtn?.setAttribute('aria-pressed', String(bands));
};
showBands();
// body[data-layout] says when a Tidy is under way, for tests and styles.
const tidyMap = () => {
  document.body.dataset.layout = 'running';
  return tidy(cy, { bands }).then(() => {
    bendLinks(cy);
    document.body.dataset.layout = 'done';
  });
};
// A node dragged by hand may land on a link's label.
cy.on('dragfree', 'node', () => bendLinks(cy));
byID('tidy')?.addEventListener('click', tidyMap);
bandsBtn?.addEventListener('click', () => {
  bands = !bands;
  storePref(bandsKey, bands ? '1' : '0');
  showBands();
  tidyMap();
});

const dock = createDock();
const fitAnimated = (eles) => fitGraph(cy, eles, 40, true);
const presenter = createPresenter({
  cy,
  fit: fitAnimated,
  onChange(on) {
    byID('presenter-toggle')?.setAttribute('aria-pressed', String(on));
  },
});
byID('presenter-toggle')?.addEventListener('click', () => presenter.toggle());
const timeline = createTimeline({
  cy,
  graph: { createGraph, renderSnapshot },
  onToggle: () => requestAnimationFrame(() => cy.resize()),
});
byID('timeline-toggle')?.addEventListener('click', () => timeline.toggle());
initWatchers();

// A replay (dockmap --replay FILE) says so in the header, and opens on its
// timeline: there is nothing live to watch.
api('GET', '/api/mode')
  .then((mode) => {
    if (!mode || !mode.replay) return;
    const badge = document.createElement('span');
    badge.className = 'read-only';
    badge.dataset.testid = 'replay';
    badge.textContent = `replay of ${mode.file}, read-only`;
    badge.title = `A recorded session (${mode.start} to ${mode.end}); nothing can be changed`;
    byID('live-status')?.after(badge);
    document.body.dataset.replay = 'true';
    timeline.toggle(true);
  })
  .catch(() => {});

const toast = createToast(byID('toast'));
const badges = createBadges({ store, api, graphEl, engineEl: byID('engine-badge'), liveEl: byID('live-status'), signedIn });
const panel = createPanel({ el: panelEl, store });
const selection = createSelection({ cy, store, panel });
const reach = createReach({ cy, api });
const probes = createProbes({ cy, api, reach });
const matrix = createMatrix({ probes, reach });
createCards({ cy, probes, reach, selection, tipEl: byID('graph-tooltip'), reachCard: byID('reach-card') });
const toolbar = createToolbar({ cy, store, selection, probes, matrix, toast, graphEl, readOnly });
// Focus hides what it leaves out; the lists of targets and the matrix
// follow (they offer only what is shown).
const focus = createFocus({
  cy,
  onChange() {
    toolbar.drawMatrix();
    toolbar.updateSelectionCount();
    focus.filterOptions(panel.el);
  },
});
panel.onLoad((p) => focus.filterOptions(p));
createLogs({ panel, store });
// A collapsed host changes what is shown as focus does.
const hosts = createHosts({ cy, panel, selection, focus, onChange: () => focus.apply() });
const engines = createEngines({ el: byID('engines'), api, onList: hosts.engines });
reach.onChanged(toolbar.drawMatrix);
reach.onChanged(() => store.set({ predictedSeq: reach.seq() }));
createPingForm({ cy, panel, probes, reach, readOnly });
createShell({ panel });
// A job this page starts brings the Activity tab forward while it runs,
// and the tab that was there comes back when it ends.
let tabBefore = null;
const jobs = createJobs({
  list: byID('activity-list'),
  empty: byID('activity-empty'),
  api,
  followed(id) {
    if (dock.current() !== 'activity') tabBefore = dock.current();
    dock.select('activity', { remember: false });
    jobs.wait(id).then(() => {
      if (tabBefore && dock.current() === 'activity') dock.select(tabBefore, { remember: false });
      tabBefore = null;
    });
  },
});
// Changes the server wants confirmed, and the jobs they start, go through
// one sendPlanned.
const sendPlanned = createPlanned({ jobs });
const leftovers = createLeftovers({ el: byID('leftovers'), api });

// containerName names the container with full ID id from the graph.
function containerName(id) {
  const n = cy.getElementById(containerNode(id));
  return n.nonempty() ? n.data('name') || n.data('label') : '';
}
const audit = createAudit({ list: byID('audit-list'), empty: byID('audit-empty'), api, nameOf: containerName });

let dialogs = { openRun() {}, openNetwork() {}, openVolume() {} };
let volumes = null;
let showMe = null;
if (!readOnly) {
  createActions({ panel, api, sendPlanned });
  createSwarm({ panel, api, sendPlanned, probes });
  const run = createRun({ cy, api, sendPlanned, created: (id) => selection.selectWhenPresent(id) });
  const links = createLinks({ cy, panel, store, api, jobs, sendPlanned, linked: (id) => selection.selectWhenPresent(id), toast });
  const networks = createNetworks({
    cy,
    panel,
    api,
    sendPlanned,
    toast,
    selectNode: selection.selectNodeWhenPresent,
    async pingMembers(ids) {
      toolbar.toggleMatrix(true);
      await probes.pingMatrix(ids, 'both');
    },
  });
  volumes = createVolumes({ cy, panel, api, jobs, sendPlanned, toast, selectNode: selection.selectNodeWhenPresent, mounted: (id) => selection.selectWhenPresent(id) });
  dialogs = { openRun: run.open, openNetwork: networks.openNetworkDialog, openVolume: volumes.openVolumeDialog };
  byID('network-open')?.addEventListener('click', dialogs.openNetwork);
  byID('volume-open')?.addEventListener('click', dialogs.openVolume);
  byID('run-open')?.addEventListener('click', dialogs.openRun);
  initInvite();
  // A lesson step's "Show me" opens the same dialogs, filled in.
  showMe = {
    run: run.open,
    link: links.openLinkDialog,
    newNetwork: networks.openNetworkDialog,
    attach: networks.openAttachDialog,
    // A probe changes nothing, so it needs no plan: it runs at once, with
    // its source selected so that the panel shows the result.
    async probe(from, to, by) {
      selection.select(cy.getElementById(containerNode(from.id)));
      await probes.pingPair(from.id, to.id, by);
    },
    mount: volumes.openMountDialog,
  };
}
const lesson = createLesson({ dock, onStep: (step, l) => presenter.step(step, l), cy, showMe, readOnly });
// A card or the matrix opening over the containers it is about moves the
// camera (never the nodes) so that they show beside it.
const covered = new ResizeObserver(() => keepInView(cy, cy.nodes(':selected')));
for (const el of [byID('matrix'), byID('reach-card')]) if (el) covered.observe(el);

// The class view: one tile per participant engine, read only for all.
const classView = createClassView({ cy, lesson, focus, fit: () => fitGraph(cy) });
engines.listen(classView.engines);
initKeys({ store, toolbar, selection, dialogs, views: { presenter, tidy: tidyMap, timeline, hosts, classView }, readOnly });

// afterPaint runs f in the task after the next frame is drawn and painted.
const afterPaint = (f) => requestAnimationFrame(() => setTimeout(f));

// afterChange keeps the panel, the probes and the search filter in step
// with the graph.
function afterChange(change, seq, baseline = false, affects = undefined) {
  // The predictions of the pairs the change can affect (a delta's
  // affects: the server says which; all of them after a snapshot) are
  // asked again, in one request, for the pairs still shown.
  reach.invalidate(seq, baseline, affects);
  store.set({ predictedSeq: reach.seq() });
  selection.follow(change);
  // The nodes a change touched (new edges' ends included: a network that
  // gets its first shown member appears with it).
  const touchedNodes = cy.collection([...change.touched].map((id) => cy.getElementById(id)).filter((n) => n.nonempty()));
  probes.syncWithGraph();
  // Results between pairs that changed turn stale (the server knows),
  // read again only when a result held has an affected end.
  probes.latestSoon(affects);
  focus.apply();
  // What came or changed (a longer name) stays in sight: the camera moves,
  // not the nodes. After focus, so that what it hides does not count.
  if (!change.laidOut) keepInView(cy, touchedNodes);
  if (change.laidOut && cy.nodes().length > bigMapNodes) {
    // A big map's links are bent once it shows: every link's label
    // measured against its neighbours took a tenth of its first paint.
    afterPaint(() => bendLinks(cy));
  } else {
    bendLinks(cy, change.laidOut ? null : touchedNodes);
  }
  focusEdges(cy);
  presenter.follow(touchedNodes);
  const { filter } = store.get();
  if (filter.trim()) filterByName(cy, filter);
  toolbar.updateSelectionCount();
  toolbar.drawMatrix();
}

// The page's own timing of its first map (benchmarks, the browser's
// performance panel): when the snapshot came, when the map it makes has
// been painted, and when its edges have (a big map's come a frame later:
// renderSnapshot's edgesLater). Painted: the task after the frame
// Cytoscape drew it in (its render loop runs first in a frame, our
// callback after it, and a task queued there runs once that frame's
// rendering is done). Two frames counted the next frame's work too, where
// Cytoscape goes on caching the textures of what it has already drawn.
let firstMap = true;
startLive({
  onSnapshot(msg) {
    if (firstMap) performance.mark('dockmap:snapshot');
    badges.setEngine(msg.engine);
    engines.refresh();
    const first = firstMap;
    firstMap = false;
    const complete = (c) => {
      // Before afterChange, whose later work (bending a big map's links)
      // comes after that paint.
      if (first) afterPaint(() => performance.mark('dockmap:map-complete'));
      afterChange(c, msg.seq, true);
    };
    const change = renderSnapshot(cy, msg, { edgesLater: true, complete });
    // The level of detail and the kept labels follow the snapshot in this
    // frame, not the next: Cytoscape draws the first map once (a pass a
    // frame later drew it twice, a second at 5,000 nodes), with the
    // labels that stay at this zoom.
    lod.now();
    labels.now();
    if (first) afterPaint(() => performance.mark('dockmap:first-map'));
    if (change.pending) {
      // After the mark: the edges come once the nodes have been painted
      // (unless a delta or a snapshot needs them first).
      afterPaint(() => setTimeout(() => completeSnapshot(cy)));
    } else {
      complete(change);
    }
    // Results survive a reload (the server keeps the latest per pair).
    probes.loadLatest();
    lesson.refresh();
    // On load and after every reconnect (the server may have restarted
    // in the middle of a re-create).
    if (!readOnly) {
      leftovers.refresh();
      // Job frames sent while the page was away are lost: the list says
      // where every job is now.
      jobs.sync();
    }
  },
  onJob: jobs.take,
  onStep: jobs.takeStep,
  onProbe(r) {
    const before = probes.resultFor(r.from, r.to, r.by);
    probes.addResult(r);
    presenter.say(probeSentence(r, before, probes.nameOf, failureText));
    timeline.refresh();
  },
  onLesson(msg) {
    lesson.onFrame(msg);
    timeline.refresh();
  },
  onWatchers: showWatchers,
  onEngines: engines.onFrame,
  onShare: (msg) => volumes?.addShare(msg),
  onAudit: audit.add,
  onDelta(msg) {
    afterChange(applyDelta(cy, msg), msg.seq, false, msg.affects);
  },
  onEvent(ev) {
    addEvent(byID('feed-list'), ev, containerName);
    flashEvent(cy, ev);
    dock.bump('event-feed');
    presenter.say(roomSentence(ev, containerName));
    timeline.refresh();
  },
  onEngine: badges.setEngine,
  onStatus: badges.setLiveStatus,
  onSeq(seq) {
    store.set({ lastSeq: seq });
  },
});
