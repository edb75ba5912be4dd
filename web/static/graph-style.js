// graph-style.js is how the graph looks: the Cytoscape stylesheet and the
// colours it uses, a network's own colour included. Classes and data
// fields it reads are set by graph-elements.js (kinds and states) and by
// the feature modules (probe edges, link mode, share tests, search).

// Colours that are not per network. Running containers are one strong
// colour so that state reads at a glance; stopped ones are plain grey.
const colours = {
  running: '#2e7d32',
  runningBorder: '#1b4d1e',
  stopped: '#9e9e9e',
  stoppedBorder: '#6d6d6d',
  unhealthy: '#d32f2f',
  starting: '#f9a825',
  volume: '#f2b01e',
  volumeBorder: '#a66f00',
  bind: '#8d6e63',
  bindBorder: '#5d4037',
  link: '#7b1fa2',
  mount: '#a66f00',
  netns: '#37474f',
  volumesFrom: '#00838f',
  shareOK: '#2e7d32',
  shareFail: '#c62828',
  text: '#1b1f23',
  selected: '#ff9800',
  flash: '#ffe100',
  probeOK: '#2e7d32',
  probeFail: '#c62828',
  // Docker Swarm: services are dark blue (a colour of their own, away
  // from running green and the networks' fills), and a Swarm node wears
  // the host box's own slate.
  service: '#0d47a1',
  serviceFill: '#e3f2fd',
  short: '#f9a825',
  shortFill: '#fff8e1',
  swarmNode: '#37474f',
  drain: '#f9a825',
  down: '#c62828',
};

// networkPalette holds the network colours: dark enough for white labels
// on a projector, and away from the colours that mean something else here
// (green = running, grey = stopped, red = unhealthy, purple = link,
// amber = volume/mount, brown = bind).
const networkPalette = ['#1565c0', '#00838f', '#e65100', '#ad1457', '#283593', '#827717', '#546e7a'];

// networkColour picks a network's colour from its name, so that a network
// keeps its colour across reloads, reconnects and machines. FNV-1a plus a
// final mix (murmur3's fmix32) so that similar names ("app-a", "app-b")
// still land on different colours.
export function networkColour(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return networkPalette[(h >>> 0) % networkPalette.length];
}

// webglStyle goes after the stylesheet when Cytoscape's WebGL renderer
// draws the map (graph-render.js). That renderer draws every edge solid
// (no line-style) and every arrow as a triangle; node bodies it cannot
// draw (dashed or double borders) and labels it takes from the canvas, so
// they stay. A dashed or dotted edge is drawn half-transparent instead,
// and the ones that are only told apart by their dashes also thinner: a
// read-only mount from a read-write one (same amber), a broken link
// (red) from a link (purple). Probes keep their look: colour and label
// say it all, and a stale one is already faint. The legend says the same
// (style.css, under [data-renderer=webgl]).
export const webglStyle = [
  { selector: 'edge.mount.ro', style: { width: 1.5, 'line-opacity': 0.5 } },
  { selector: 'edge.broken-link', style: { width: 3, 'line-opacity': 0.55 } },
  { selector: 'edge.netns, edge.volumes-from, edge.depends-on', style: { 'line-opacity': 0.55 } },
  { selector: 'edge.replica', style: { 'line-opacity': 0.45 } },
];

// Cytoscape stylesheet. Node labels are at least 14px so they survive a
// projector; edge labels that would clutter (IPs) only show on focus.
export const stylesheet = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': 16,
      color: colours.text,
      'text-valign': 'bottom',
      'text-halign': 'center',
      'text-margin-y': 6,
      // Wrapping costs a text measurement per word: about 1 s for 1,500
      // labels. Only networks (several lines) and binds (long paths) wrap.
      'text-wrap': 'none',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'text-background-padding': 2,
      'text-background-shape': 'roundrectangle',
      'min-zoomed-font-size': 6,
    },
  },
  {
    selector: 'node.container',
    style: {
      shape: 'ellipse',
      width: 48,
      height: 48,
      'background-color': colours.running,
      'border-width': 3,
      'border-color': colours.runningBorder,
      'font-weight': 600,
    },
  },
  {
    selector: 'node.container.stopped',
    style: {
      'background-color': colours.stopped,
      'border-color': colours.stoppedBorder,
      color: '#5f5f5f',
      'font-weight': 'normal',
    },
  },
  // A tmpfs mount (memory, gone with the container): a double ring.
  { selector: 'node.container.tmpfs', style: { 'border-style': 'double', 'border-width': 7 } },
  { selector: 'node.container.unhealthy', style: { 'border-color': colours.unhealthy, 'border-width': 7 } },
  { selector: 'node.container.health-starting', style: { 'border-color': colours.starting, 'border-width': 5 } },
  {
    selector: 'node.network',
    style: {
      shape: 'round-rectangle',
      width: 'data(width)',
      height: 'data(height)',
      'background-color': 'data(colour)',
      'border-width': 3,
      'border-color': '#263238',
      color: '#ffffff',
      'font-size': 17,
      'font-weight': 'bold',
      'text-valign': 'center',
      'text-margin-y': 0,
      'text-background-opacity': 0,
      'text-wrap': 'wrap',
      'text-max-width': 400,
    },
  },
  { selector: 'node.network.default-bridge', style: { 'border-style': 'dashed', 'border-width': 4 } },
  // The engine's own host and none networks, while nothing is on them:
  // small and faded, so they do not compete with the networks in use.
  // placeNewNodes keeps room for their full size.
  {
    selector: 'node.network.predefined.empty',
    style: {
      width: 64,
      height: 28,
      'background-opacity': 0.12,
      'border-width': 2,
      'border-color': '#b0bec5',
      color: '#78909c',
      'font-size': 14,
      'font-weight': 'normal',
    },
  },
  {
    selector: 'node.volume',
    style: {
      shape: 'barrel',
      width: 46,
      height: 42,
      'background-color': colours.volume,
      'border-width': 2,
      'border-color': colours.volumeBorder,
      'font-size': 15,
    },
  },
  {
    selector: 'node.volume.anonymous',
    style: { width: 30, height: 28, 'border-style': 'dashed', 'background-opacity': 0.7, 'font-size': 14, color: '#5f5f5f' },
  },
  {
    selector: 'node.bind',
    style: {
      shape: 'tag',
      width: 46,
      height: 32,
      'background-color': colours.bind,
      'border-width': 2,
      'border-color': colours.bindBorder,
      'font-size': 14,
      'font-family': 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace',
      // Host paths have no spaces to wrap on.
      'text-wrap': 'wrap',
      'text-max-width': 220,
      'text-overflow-wrap': 'anywhere',
    },
  },
  {
    selector: 'node:selected',
    style: { 'underlay-color': colours.selected, 'underlay-opacity': 0.45, 'underlay-padding': 10, 'underlay-shape': 'ellipse' },
  },
  {
    selector: 'edge',
    style: {
      width: 2,
      'curve-style': 'bezier',
      'line-color': '#90a4ae',
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': 14,
      color: colours.text,
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': 2,
      'text-background-shape': 'roundrectangle',
      'min-zoomed-font-size': 6,
    },
  },
  // Membership: the network's colour; the IP only when someone looks at it.
  // A container has one membership per network, so its edge never has a
  // twin to curve apart from: a straight edge spares Cytoscape looking for
  // parallel edges and control points, a fifth of drawing a big map.
  { selector: 'edge.member', style: { width: 3, 'line-color': 'data(colour)', 'line-opacity': 0.8, 'curve-style': 'straight' } },
  {
    selector: 'edge.member.focus, edge.member.hover, edge.member:selected',
    style: { label: 'data(label)', width: 5, 'line-opacity': 1 },
  },
  {
    selector: 'edge.link',
    style: {
      label: 'data(label)',
      width: 5,
      'line-color': colours.link,
      'target-arrow-color': colours.link,
      'target-arrow-shape': 'triangle',
      'arrow-scale': 1.6,
      color: '#4a148c',
      'font-weight': 'bold',
      'font-size': 15,
    },
  },
  // A link whose label a node would cover curves round it (graph-place.js
  // bendLinks): the alias is what the lesson is about.
  {
    selector: 'edge.link[bend], edge.broken-link[bend]',
    style: { 'curve-style': 'unbundled-bezier', 'control-point-distances': 'data(bend)', 'control-point-weights': 0.5 },
  },
  // A removed container that a legacy link still holds on to: a grey,
  // dashed outline under its last name.
  {
    selector: 'node.ghost',
    style: {
      shape: 'ellipse',
      width: 40,
      height: 40,
      'background-color': '#eeeeee',
      'background-opacity': 0.6,
      'border-width': 3,
      'border-style': 'dashed',
      'border-color': colours.stopped,
      color: colours.stoppedBorder,
      'font-style': 'italic',
    },
  },
  // A legacy link to a removed container: red and dashed, with its alias
  // and the word "broken".
  {
    selector: 'edge.broken-link',
    style: {
      label: 'data(label)',
      width: 4,
      'line-color': colours.unhealthy,
      'line-style': 'dashed',
      'line-dash-pattern': [10, 6],
      'target-arrow-color': colours.unhealthy,
      'target-arrow-shape': 'triangle',
      'arrow-scale': 1.4,
      color: colours.unhealthy,
      'font-weight': 'bold',
      'font-size': 14,
    },
  },
  {
    selector: 'edge.mount',
    style: { label: 'data(label)', width: 2.5, 'line-color': colours.mount, color: '#6b4700' },
  },
  { selector: 'edge.mount.ro', style: { 'line-style': 'dashed', 'line-dash-pattern': [8, 5] } },
  {
    selector: 'edge.netns',
    style: {
      label: 'data(label)',
      width: 3,
      'line-color': colours.netns,
      'line-style': 'dotted',
      'target-arrow-shape': 'vee',
      'target-arrow-color': colours.netns,
    },
  },
  // --volumes-from: from the container that borrows to the donor, teal,
  // dash-dotted, with the donor's volumes behind the arrow.
  {
    selector: 'edge.volumes-from',
    style: {
      label: 'data(label)',
      width: 4,
      'line-color': colours.volumesFrom,
      'line-style': 'dashed',
      'line-dash-pattern': [12, 4, 2, 4],
      'target-arrow-shape': 'triangle-tee',
      'target-arrow-color': colours.volumesFrom,
      'arrow-scale': 1.4,
      color: '#004d52',
      'font-weight': 'bold',
    },
  },
  // Test sharing (volumes.js): the mounts that proved sharing, or not.
  { selector: 'edge.mount.share-ok', style: { 'line-color': colours.shareOK, width: 6, 'z-index': 15 } },
  { selector: 'edge.mount.share-fail', style: { 'line-color': colours.shareFail, width: 6, 'z-index': 15 } },
  { selector: 'edge:selected', style: { 'underlay-color': colours.selected, 'underlay-opacity': 0.4, 'underlay-padding': 4 } },
  // Probe results (probes.js): a thin dashed arrow from the container that
  // pinged to the one it pinged, one per way of asking (by IP, by name),
  // green or red, labelled with the verdict, its time and the failure.
  {
    selector: 'edge.probe',
    style: {
      label: 'data(label)',
      width: 2.5,
      'line-style': 'dashed',
      'line-dash-pattern': [7, 4],
      'target-arrow-shape': 'triangle',
      'arrow-scale': 1.2,
      'line-color': colours.probeOK,
      'target-arrow-color': colours.probeOK,
      'text-wrap': 'wrap',
      'font-size': 14,
      'font-weight': 'bold',
      color: colours.probeOK,
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': 2,
      'text-background-shape': 'roundrectangle',
      // Two arrows between one pair (by IP, by name) curve apart, with
      // their labels along them, so both read at once.
      'curve-style': 'bezier',
      'control-point-step-size': 46,
      'min-zoomed-font-size': 0,
      'z-index': 20,
    },
  },
  { selector: 'edge.probe.probe-fail', style: { 'line-color': colours.probeFail, 'target-arrow-color': colours.probeFail, color: colours.probeFail } },
  // No probe of the pair could run: no measure, so neither green nor red.
  { selector: 'edge.probe.probe-unmeasured', style: { 'line-color': colours.stopped, 'target-arrow-color': colours.stopped, color: colours.netns } },
  { selector: 'edge.probe.probe-pending', style: { 'line-opacity': 0.45 } },
  // The labels of the arrows between one pair stack above and below the
  // middle (probes.js stackLabels), so none sits on another.
  { selector: 'edge.probe[shift], edge.link[shift]', style: { 'text-margin-y': 'data(shift)' } },
  // A result from before something between the pair changed: it says
  // nothing about now, and looks it.
  { selector: 'edge.probe.probe-stale', style: { 'line-opacity': 0.4, 'text-opacity': 0.65, 'line-dash-pattern': [2, 6], color: colours.netns } },
  // Link mode: the line drawn while dragging, and the two ends.
  {
    selector: 'edge.link-draft',
    style: {
      width: 4,
      'line-color': colours.link,
      'line-style': 'dashed',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': colours.link,
      'curve-style': 'straight',
      'z-index': 30,
    },
  },
  // The invisible end of the arrow being drawn in link mode.
  { selector: 'node.link-cursor', style: { width: 1, height: 1, opacity: 0, events: 'no', label: '' } },
  {
    selector: 'node.link-source, node.link-target',
    style: { 'underlay-color': colours.link, 'underlay-opacity': 0.35, 'underlay-padding': 12, 'underlay-shape': 'ellipse' },
  },
  // Highlight for what a delta just added or changed.
  { selector: '.flash', style: { 'overlay-color': colours.flash, 'overlay-opacity': 0.55, 'overlay-padding': 10 } },
  // Search: everything that does not match steps back.
  { selector: '.faded', style: { opacity: 0.15 } },
  // Focus (focus.js): what is not shown is not there.
  { selector: '.focus-hidden', style: { display: 'none' } },
  // What a PNG of the selection leaves out, for the time of its render (export.js).
  { selector: '.export-hidden', style: { display: 'none' } },
  // Hosts (graph-hosts.js): with several engines, each engine's nodes sit
  // in a light box under its name; a collapsed host is one solid node,
  // and the host of an engine that is down is grey and dashed.
  {
    selector: 'node.host',
    style: {
      shape: 'round-rectangle',
      width: 'data(width)',
      height: 'data(height)',
      padding: 28,
      'background-color': '#eceff1',
      'background-opacity': 0.45,
      'border-width': 2,
      'border-color': '#546e7a',
      'text-valign': 'top',
      'text-halign': 'center',
      'text-margin-y': -4,
      'font-size': 18,
      'font-weight': 'bold',
      color: '#263238',
      'compound-sizing-wrt-labels': 'include',
    },
  },
  {
    selector: 'node.host.collapsed',
    style: { 'background-color': '#cfd8dc', 'background-opacity': 0.95, 'border-width': 3, 'text-valign': 'center', 'text-margin-y': 0, 'text-background-opacity': 0 },
  },
  {
    selector: 'node.host.host-down',
    style: { 'background-color': '#bdbdbd', 'border-color': colours.stopped, 'border-style': 'dashed', color: '#616161' },
  },
  { selector: 'node.host:selected', style: { 'underlay-shape': 'round-rectangle' } },
  { selector: '.host-folded', style: { display: 'none' } },
  // Compose projects (issue 13): a box inside the host's, in Compose's
  // own blue, holding the project's services, networks and volumes; a
  // collapsed project is one node. depends_on is a thin dotted arrow from
  // the service to what it waits for.
  {
    selector: 'node.project',
    style: {
      shape: 'round-rectangle',
      width: 'data(width)',
      height: 'data(height)',
      padding: 18,
      'background-color': '#e3f2fd',
      'background-opacity': 0.4,
      'border-width': 2,
      'border-style': 'dashed',
      'border-color': '#1e88e5',
      'text-valign': 'top',
      'text-halign': 'center',
      'text-margin-y': -2,
      'font-size': 16,
      'font-weight': 'bold',
      color: '#0d47a1',
      'compound-sizing-wrt-labels': 'include',
    },
  },
  {
    selector: 'node.project.collapsed',
    style: { 'background-color': '#bbdefb', 'background-opacity': 0.95, 'border-style': 'solid', 'border-width': 3, 'text-valign': 'center', 'text-margin-y': 0 },
  },
  { selector: 'node.project:selected', style: { 'underlay-shape': 'round-rectangle' } },
  {
    selector: 'edge.depends-on',
    style: { width: 1.5, 'line-style': 'dotted', 'line-color': '#5c6bc0', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#5c6bc0', 'arrow-scale': 0.8, 'curve-style': 'bezier' },
  },
  { selector: 'edge.host-edge', style: { width: 4, 'line-color': '#78909c', 'line-opacity': 0.8 } },
  // Docker Swarm (issue 12). A Swarm node is its host box's header: a
  // slate bar with its role, availability and state, red when the
  // managers say it is down, amber when drained or paused.
  {
    selector: 'node.swarm-node',
    style: {
      shape: 'round-rectangle',
      width: 150,
      height: 44,
      'background-color': colours.swarmNode,
      'border-width': 3,
      'border-color': '#263238',
      color: '#ffffff',
      'font-size': 15,
      'font-weight': 'bold',
      'text-valign': 'center',
      'text-margin-y': 0,
      'text-background-opacity': 0,
      'text-wrap': 'wrap',
      'text-max-width': 220,
    },
  },
  { selector: 'node.swarm-node.swarm-drain, node.swarm-node.swarm-pause', style: { 'background-color': '#8d6e00', 'border-color': colours.drain, 'border-width': 5 } },
  { selector: 'node.swarm-node.swarm-down', style: { 'background-color': colours.down, 'border-color': '#7f0000', 'border-width': 5, 'border-style': 'dashed' } },
  // A service: a hexagon between its tasks' hosts, "web 3/3", amber while
  // fewer run than it wants.
  {
    selector: 'node.service',
    style: {
      shape: 'hexagon',
      width: 64,
      height: 56,
      'background-color': colours.serviceFill,
      'border-width': 5,
      'border-color': colours.service,
      color: colours.service,
      'font-size': 17,
      'font-weight': 'bold',
    },
  },
  { selector: 'node.service.service-short', style: { 'background-color': colours.shortFill, 'border-color': colours.short, color: '#6b4700' } },
  // A task whose container no connected engine shows: small, its state's
  // colour.
  {
    selector: 'node.task',
    style: { shape: 'ellipse', width: 26, height: 26, 'border-width': 2, 'border-color': '#263238', 'background-color': colours.starting, 'font-size': 14 },
  },
  { selector: 'node.task.task-running', style: { 'background-color': colours.running, 'border-color': colours.runningBorder } },
  { selector: 'node.task.task-failed', style: { 'background-color': colours.unhealthy, 'border-color': '#7f0000' } },
  { selector: 'node.task.task-ended', style: { 'background-color': colours.stopped, 'border-color': colours.stoppedBorder, color: '#5f5f5f' } },
  // A service's tasks: thin dotted lines from the service.
  {
    selector: 'edge.replica',
    style: { width: 1.5, 'line-color': colours.service, 'line-style': 'dotted', 'line-opacity': 0.7, 'target-arrow-shape': 'none' },
  },
  // A Swarm network spans the hosts: a thick double border of dark slate
  // around its colour; the ingress (routing mesh) dashed.
  { selector: 'node.network.swarm-scope', style: { 'border-width': 8, 'border-style': 'double', 'border-color': '#102027' } },
  { selector: 'node.network.swarm-scope.ingress', style: { 'border-style': 'dashed', 'border-width': 5, 'background-opacity': 0.75 } },
  // Labels that stay at any zoom (graph.js keepLabels): networks and what
  // the room is looking at, sized up as the map zooms out.
  { selector: 'node.label-keep', style: { 'min-zoomed-font-size': 0 } },
  // The level of detail (graph-lod.js): a summary says what its box
  // holds, a line each; a network that folded its leaves says how many
  // (data lodLabel).
  { selector: 'node.lod-summary', style: { 'text-valign': 'center', 'text-margin-y': 0, 'text-background-opacity': 0.85, 'border-style': 'solid', 'text-wrap': 'wrap', 'text-max-width': 4000 } },
  { selector: 'node.network.lod-net', style: { label: 'data(lodLabel)', 'text-wrap': 'none' } },
];
