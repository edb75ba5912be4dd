// probes.js holds the reachability results ("can A reach B, by IP, by
// name") and shows them: overlay edges A→B on the graph, the panel's ping
// results, and the matrix (matrix.js). Results come from the answers to
// POST /api/probes, from the live "probe" messages, so every browser sees
// every probe, whoever ran it, and from GET /api/probes/latest, so they
// survive a reload and turn stale when something between the pair changes.
//
// A result: {from, to (full container IDs), by: "ip"|"name", target, port,
// ok, rttMs, resolved, failure, detail, method, at, stale}. Only the latest
// per (from, to, by) is kept.
//
// Overlay edges are client-only Cytoscape elements with class "overlay"
// (graph.js leaves them out of snapshots and layout), one per (from, to,
// by) so that "by IP: yes" and "by name: no" show at once: id
// "p:<from>><to>:<by>" (ids.js probeEdge), classes "probe probe-ok",
// "probe probe-fail" or, when the probe could not run, "probe
// probe-unmeasured", plus "probe-stale"; label the verdict and its time.
//
// A result with failure "probe-impossible" is no measure: it is shown as
// "could not measure" in grey, beside the prediction, never as a failure
// of the target nor as a disagreement with the prediction.

import { errorText } from './api.js';
import { h, shortID, notifier, clock } from './dom.js';
import { bareID as bare, containerID, probeEdge, probeEndNode, probeEnds } from './ids.js';
import { reasonNodes, reasonLines, mismatchText, unmeasured, unmeasuredText, predictionText } from './reach.js';

// failureText says a failure kind in words; failureHelp says why it
// usually happens, in one sentence a workshop participant understands.
export const failureText = {
  'name-not-resolved': 'name not resolved',
  timeout: 'timed out',
  'no-route': 'no route',
  refused: 'connection refused',
  'target-stopped': 'target stopped',
  'probe-impossible': 'could not measure',
};
export const failureHelp = {
  'name-not-resolved':
    'The name means nothing here: on the default bridge only a link (--link) gives a name; on a user-defined network every member has one.',
  timeout: 'No answer in time: something drops the packets (icc off, a firewall) or nothing answers.',
  'no-route': 'No way there: the two containers share no network.',
  refused: 'The container was reached, but nothing listens on that port.',
  'target-stopped': 'The target is not running, so it has no address.',
  'probe-impossible': 'dockmap could not run a probe from the source container: this says nothing about whether the target is reachable.',
};

const byText = { ip: 'by IP', name: 'by name', both: 'by IP and name' };

// The height of one probe label line on the map, in model pixels.
const labelLine = 22;

// How many pair probes one "Ping neighbours" sends at once.
const neighbourConcurrency = 4;
// Watch re-probes this often.
export const watchMillis = 5000;
// The panel shows at most this many results.
const maxPanelResults = 12;

// createProbes keeps the results of the graph cy, probed through api, with
// the predictions of reach (reach.js createReach).
export function createProbes({ cy, api, reach }) {
  const results = new Map(); // "<from>><to>><by>" → result
  const pending = new Map(); // same key → number of probes in flight
  const notify = notifier('probe');

  // onProbesChanged calls fn() after results or pending probes changed
  // (coalesced: once per burst).
  function onProbesChanged(fn) {
    notify.listen(fn);
  }

  function changed() {
    notify.changed();
  }

  const keyOf = (from, to, by) => `${from}>${to}>${by}`;

  // allResults lists the results held, latest per (from, to, by).
  function allResults() {
    return [...results.values()];
  }

  // resultFor is the latest result from → to by by, or undefined.
  function resultFor(from, to, by) {
    return results.get(keyOf(bare(from), bare(to), by));
  }

  // isPending tells whether a probe from → to by by is in flight.
  function isPending(from, to, by) {
    return (pending.get(keyOf(bare(from), bare(to), by)) || 0) > 0;
  }

  // addResult takes one result, from an answer or a live message.
  function addResult(r) {
    if (!r || !r.from || !r.to) return;
    const from = bare(r.from);
    const to = bare(r.to);
    const by = r.by || 'ip';
    const k = keyOf(from, to, by);
    const old = results.get(k);
    // The same result comes twice (the answer and the live message), and
    // an answer may arrive after a newer live one: keep the newest.
    if (old && old.at && r.at && Date.parse(old.at) > Date.parse(r.at)) return;
    if (old && old.at === r.at && !!old.stale === !!r.stale) return;
    results.set(k, { ...r, from, to, by, stale: !!r.stale });
    updateEdge(from, to);
    changed();
  }

  // loadLatest takes the server's latest result of every pair, each
  // marked stale when something between the pair changed since it ran
  // (GET /api/probes/latest): on load, so results survive a reload, and
  // after changes, so old results stop looking current.
  let latestAsked = 0;
  async function loadLatest() {
    const n = ++latestAsked;
    let got;
    try {
      got = await api('GET', '/api/probes/latest');
    } catch {
      return; // the live results stay; the next change asks again
    }
    if (n !== latestAsked) return;
    for (const r of (got && got.results) || []) {
      if (cy.getElementById(probeEndNode(r.from)).nonempty() && cy.getElementById(probeEndNode(r.to)).nonempty()) addResult(r);
    }
  }

  // latestSoon re-reads the results after a change, to learn which turned
  // stale; a burst of deltas asks once. affects, a delta's list of the
  // containers whose pairs it can change (node IDs; reach.js), spares the
  // request when no result held has an end there; without it (a
  // snapshot, a Swarm's change) every result may have turned stale.
  let latestTimer = 0;
  function latestSoon(affects = undefined) {
    if (!results.size) return;
    if (Array.isArray(affects)) {
      const hit = new Set(affects);
      let any = false;
      for (const r of results.values()) {
        if (hit.has(probeEndNode(r.from)) || hit.has(probeEndNode(r.to))) {
          any = true;
          break;
        }
      }
      if (!any) return;
    }
    clearTimeout(latestTimer);
    latestTimer = setTimeout(loadLatest, 300);
  }

  // syncWithGraph drops the results of containers that are gone and redraws
  // the overlay edges (a snapshot may have removed them). Call it after
  // every graph change.
  function syncWithGraph() {
    let dropped = false;
    const pairs = new Set();
    for (const [k, r] of results) {
      if (cy.getElementById(probeEndNode(r.from)).empty() || cy.getElementById(probeEndNode(r.to)).empty()) {
        results.delete(k);
        dropped = true;
      } else {
        pairs.add(`${r.from}>${r.to}`);
      }
    }
    for (const p of pairs) {
      const [from, to] = p.split('>');
      updateEdge(from, to);
    }
    if (dropped) changed();
  }

  function pairResults(from, to) {
    const out = [];
    for (const by of ['ip', 'name']) {
      const r = results.get(keyOf(from, to, by));
      if (r) out.push(r);
    }
    for (const r of results.values()) {
      if (r.from === from && r.to === to && r.by !== 'ip' && r.by !== 'name') out.push(r);
    }
    return out;
  }

  // updateEdge draws, recolours or removes the overlay edges from → to:
  // one per way of asking (by IP, by name, TCP), each with its verdict and
  // its time, faded and marked when stale.
  function updateEdge(from, to) {
    // A probe of a Swarm service ends at the service's node.
    const src = cy.getElementById(probeEndNode(from));
    const dst = cy.getElementById(probeEndNode(to));
    const rs = new Map(pairResults(from, to).map((r) => [r.by, r]));
    cy.edges('.probe').forEach((e) => {
      const [f, t, by] = probeEnds(e.id());
      if (f === from && t === to && (!rs.has(by) || src.empty() || dst.empty())) e.remove();
    });
    if (src.empty() || dst.empty()) return;
    for (const [by, r] of rs) {
      const id = probeEdge(from, to, by);
      const edge = cy.getElementById(id);
      const label = edgeLabel(r);
      const classes = ['overlay', 'probe', edgeClass(r), `probe-by-${by}`];
      if (r.stale) classes.push('probe-stale');
      if (isPending(from, to, by)) classes.push('probe-pending');
      if (edge.nonempty()) {
        edge.data('label', label);
        const keep = ['hover', 'focus', 'faded', 'focus-hidden'].filter((c) => edge.hasClass(c));
        edge.classes(classes.concat(keep));
        continue;
      }
      cy.add({ group: 'edges', data: { id, source: src.id(), target: dst.id(), kind: 'probe', by, label }, classes });
    }
    stackLabels(src, dst);
  }

  // stackLabels spreads the labels between two containers (a link's alias
  // first, then the probe arrows both ways, by IP and by name) above and
  // below the middle, one line apart, so none covers another.
  function stackLabels(a, b) {
    const rank = (e) => (e.hasClass('probe') ? 1 : 0);
    const edges = a
      .edgesWith(b)
      .filter('.probe, .link')
      .sort((x, y) => rank(x) - rank(y) || (x.id() < y.id() ? -1 : 1));
    const n = edges.length;
    const half = Math.floor(n / 2);
    edges.forEach((e, i) => {
      const k = i - half;
      e.data('shift', (k >= 0 ? k + 1 : k) * labelLine);
    });
  }

  // edgeClass is the colour class of a result's edge: red for a failure,
  // grey when the probe could not run at all, else green.
  function edgeClass(r) {
    if (unmeasured(r)) return 'probe-unmeasured';
    return r.ok ? 'probe-ok' : 'probe-fail';
  }

  // edgeLabel is a result on the graph, short: how it asked, the verdict,
  // when, the failure kind, and "stale" once something between the pair
  // changed since ("IP ✓ 10:41:02", "name ✗ 10:41:03 name not resolved").
  function edgeLabel(r) {
    const how = r.by === 'ip' ? 'IP' : r.by === 'name' ? 'name' : r.port ? `port ${r.port}` : r.by;
    const mark = r.ok ? '✓' : unmeasured(r) ? '?' : '✗';
    const parts = [`${how} ${mark}`];
    if (r.at) parts.push(clock(r.at));
    if (!r.ok) parts.push(failureText[r.failure] || r.failure || 'failed');
    if (r.stale) parts.push('(stale)');
    return parts.join(' ');
  }

  function setPending(from, to, by, delta) {
    const bys = by === 'both' ? ['ip', 'name'] : [by];
    for (const b of bys) {
      const k = keyOf(from, to, b);
      const n = (pending.get(k) || 0) + delta;
      if (n > 0) pending.set(k, n);
      else pending.delete(k);
    }
    if (pairResults(from, to).length) updateEdge(from, to);
    changed();
  }

  function portOf(port) {
    const n = Number(port);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }

  // pingPair probes from → to (container IDs) by "ip", "name" or "both",
  // with ICMP or, given a port, TCP. It returns the results (they also show
  // everywhere) and throws an APIError when the server refuses.
  async function pingPair(from, to, by, port) {
    from = bare(from);
    to = bare(to);
    return probe({ from, to, by }, [[from, to]], port);
  }

  // pingMatrix probes every ordered pair of ids.
  async function pingMatrix(ids, by, port) {
    ids = ids.map(bare);
    const pairs = [];
    for (const a of ids) for (const b of ids) if (a !== b) pairs.push([a, b]);
    return probe({ matrix: ids, by }, pairs, port);
  }

  // probe sends one POST /api/probes for body, with the pairs it covers
  // shown pending meanwhile, and keeps the results.
  async function probe(body, pairs, port) {
    const p = portOf(port);
    if (p) body.port = p;
    pairs.forEach(([a, b]) => setPending(a, b, body.by, +1));
    try {
      const res = await api('POST', '/api/probes', body);
      const rs = (res && res.results) || [];
      rs.forEach(addResult);
      return rs;
    } finally {
      pairs.forEach(([a, b]) => setPending(a, b, body.by, -1));
    }
  }

  // neighboursOf lists the containers that share a network, a link or a
  // network stack with node (a container node).
  function neighboursOf(node) {
    let out = cy.collection();
    node.connectedEdges('edge.member').forEach((e) => {
      const net = e.source().same(node) ? e.target() : e.source();
      net.connectedEdges('edge.member').forEach((m) => {
        out = out.union(m.source().same(net) ? m.target() : m.source());
      });
    });
    out = out.union(node.connectedEdges('edge.link, edge.netns').connectedNodes());
    return out.filter('node.container').not(node);
  }

  // pingNeighbours probes from node to each of its neighbours, a few at a
  // time. It returns how many it tried and the first error, if any.
  async function pingNeighbours(node, by, port) {
    const from = containerID(node);
    const targets = neighboursOf(node).map(containerID);
    let firstError = null;
    let i = 0;
    const worker = async () => {
      while (i < targets.length) {
        const to = targets[i++];
        try {
          await pingPair(from, to, by, port);
        } catch (err) {
          firstError = firstError || err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(neighbourConcurrency, targets.length) }, worker));
    return { count: targets.length, error: firstError };
  }

  // nameOf is a container's name as the graph has it, or its short ID.
  function nameOf(id) {
    const n = cy.getElementById(probeEndNode(id));
    return (n && n.nonempty() && (n.data('name') || n.data('label'))) || shortID(bare(id));
  }

  function rttText(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
    return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
  }

  // targetText is where a probe went: "172.17.0.3", "database → 172.17.0.3",
  // with ":port (TCP)" for a TCP probe.
  function targetText(r) {
    let t = r.target || '';
    if (r.by === 'name' && r.resolved && r.resolved !== r.target) t += ` → ${r.resolved}`;
    if (r.port) t += ` port ${r.port}/tcp`;
    return t;
  }

  // resultLine is one result in words, for the panel and the tooltips.
  function resultLine(r, withSource = false) {
    const who = withSource ? `${nameOf(r.from)} → ${nameOf(r.to)}` : nameOf(r.to);
    const how = byText[r.by] || r.by;
    // When, and whether it still holds: a result from before a change
    // between the pair says nothing about now.
    const when = `${r.at ? ` · ${clock(r.at)}` : ''}${r.stale ? ' · stale: something between them changed since' : ''}`;
    if (r.ok) return `✓ ${who} ${how} (${targetText(r)}) · ${rttText(r.rttMs)}${when}`;
    if (unmeasured(r)) return `? ${who} ${how} (${targetText(r)}): could not measure${when}`;
    return `✗ ${who} ${how} (${targetText(r)}): ${failureText[r.failure] || r.failure || 'failed'}${when}`;
  }

  // failureTitle is a failed result's kind and detail, for title attributes.
  function failureTitle(r) {
    if (!r) return 'not tried yet';
    if (r.ok) return `reaches ${targetText(r)} in ${rttText(r.rttMs)}${r.method ? ` (${r.method})` : ''}`;
    const kind = failureText[r.failure] || r.failure || 'failed';
    return [kind, r.detail, failureHelp[r.failure]].filter(Boolean).join(': ');
  }

  // renderPanelResults fills the open panel's ping results: the latest
  // result from its container to each target, newest first.
  function renderPanelResults(panel) {
    const art = panel && panel.querySelector('[data-testid=container-panel]');
    const list = art && art.querySelector('[data-testid=ping-results]');
    if (!list) return;
    // As the probes name it: "<id>@ENGINE" for another engine's.
    const id = (art.dataset.id || '').replace(/^c:/, '') || art.dataset.containerId;
    const mine = allResults()
      .filter((r) => r.from === id)
      .sort((a, b) => (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0))
      .slice(0, maxPanelResults);
    const rows = mine.map((r) => {
      // The explainer's verdict for this pair (fetched once per graph
      // change): why it failed, and whether the measure agrees.
      const v = reach.verdictFor(r);
      const differsNow = reach.differs(r, v);
      const none = unmeasured(r);
      const reasons = r.ok ? [] : reasonNodes(v);
      // A probe that could not run keeps the row neutral (no ok or fail
      // class) and shows the prediction instead of a verdict of its own.
      const state = r.ok ? 'ok' : none ? 'unmeasured' : 'fail';
      return h(
        'li',
        {
          className: `${state}${differsNow ? ' mismatch' : ''}${r.stale ? ' stale' : ''}`,
          title: failureTitle(r),
          dataset: {
            testid: 'ping-result', to: r.to, by: r.by, ok: String(!!r.ok), state, failure: r.failure || '', at: r.at || '', mismatch: String(differsNow), stale: String(!!r.stale),
          },
        },
        h('span', { className: 'result-line', text: resultLine(r) }),
        r.ok
          ? null
          : h('span', {
              className: 'result-detail',
              dataset: { testid: 'ping-detail' },
              text: none ? unmeasuredText(r) : [r.detail, failureHelp[r.failure]].filter(Boolean).join(' — '),
            }),
        none && v ? h('span', { className: 'result-detail', dataset: { testid: 'ping-prediction' }, text: predictionText(v, r.by) }) : null,
        reasons.length ? h('ul', { className: 'reach-reasons', dataset: { testid: 'reach-reasons' } }, reasons) : null,
        differsNow ? h('span', { className: 'reach-mismatch', dataset: { testid: 'reach-mismatch' }, text: mismatchText }) : null,
      );
    });
    list.replaceChildren(...rows);
  }

  // lineClass is the tooltip class of a result's line: coloured for a
  // measure, plain for a probe that could not run.
  function lineClass(r) {
    if (r.ok) return 'ok';
    return unmeasured(r) ? 'unmeasured' : 'fail';
  }

  // describeEdge is the tooltip of an overlay probe edge: one line per result.
  function describeProbeEdge(edge) {
    const [from, to] = probeEnds(edge.id());
    const lines = [{ text: `${nameOf(from)} → ${nameOf(to)}`, cls: 'tip-title' }];
    for (const r of pairResults(from, to)) {
      lines.push({ text: resultLine(r).replace(/^([✓✗?]) [^ ]+ /, '$1 '), cls: lineClass(r) });
      if (!r.ok && r.detail) lines.push({ text: r.detail, cls: 'tip-detail' });
      if (!r.ok && failureHelp[r.failure]) lines.push({ text: failureHelp[r.failure], cls: 'tip-help' });
      const v = reach.verdictFor(r);
      if (unmeasured(r) && v) lines.push({ text: predictionText(v, r.by), cls: 'tip-why' });
      if (!r.ok) lines.push(...reasonLines(v));
      if (reach.differs(r, v)) lines.push({ text: mismatchText, cls: 'tip-mismatch' });
    }
    return lines;
  }

  // describeContainerProbes lists the results from and to a container, for
  // its tooltip.
  function describeContainerProbes(id) {
    id = bare(id);
    const lines = [];
    for (const r of allResults()) {
      if (r.from !== id && r.to !== id) continue;
      lines.push({ text: resultLine(r, true), cls: lineClass(r) });
      if (!r.ok && r.detail) lines.push({ text: r.detail, cls: 'tip-detail' });
    }
    return lines.slice(0, 10);
  }

  // createWatch re-probes the selection every watchMillis until stopped:
  // two or more containers as a matrix, one container with its neighbours.
  // selection() returns the selected container nodes; onState(on, reason)
  // reports starts and stops. It never runs two rounds at once.
  function createWatch({ selection, onState, onError }) {
    let timer = null;
    let busy = false;
    const round = async () => {
      if (timer === null || busy) return;
      const sel = selection();
      if (sel.empty()) {
        stop('the selection is empty');
        return;
      }
      busy = true;
      try {
        if (sel.length === 1) {
          const { error } = await pingNeighbours(sel.first(), 'both');
          if (error) throw error;
        } else {
          await pingMatrix(sel.map(containerID), 'both');
        }
      } catch (err) {
        if (onError) onError(errorText(err));
      } finally {
        busy = false;
      }
    };
    const stop = (reason = '') => {
      if (timer === null) return;
      clearInterval(timer);
      timer = null;
      onState(false, reason);
    };
    const start = () => {
      if (timer !== null) return true;
      if (selection().empty()) {
        onState(false, 'nothing selected');
        return false;
      }
      timer = setInterval(round, watchMillis);
      onState(true, '');
      round();
      return true;
    };
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) stop('page hidden');
    });
    return { start, stop, running: () => timer !== null, toggle: () => (timer !== null ? (stop('stopped'), false) : start()) };
  }

  return {
    onProbesChanged,
    allResults,
    resultFor,
    isPending,
    addResult,
    syncWithGraph,
    pingPair,
    pingMatrix,
    neighboursOf,
    pingNeighbours,
    nameOf,
    resultLine,
    failureTitle,
    renderPanelResults,
    describeProbeEdge,
    describeContainerProbes,
    loadLatest,
    latestSoon,
    createWatch,
  };
}
