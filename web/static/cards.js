// cards.js says what the user points at or picks, in small cards over the
// graph: the tooltip of a node or an edge (what it is, and for containers
// and probe edges the probe results with their detail), and, when exactly
// two containers are selected, the reach card with what the explainer
// predicts both ways before any probe.

import { h } from './dom.js';
import { predictionText, verdict } from './reach.js';
import { initTooltip } from './tooltip.js';

// createCards draws the tooltip in tipEl and the reach card reachCard over
// the graph cy, with the results of probes (createProbes), the
// predictions of reach (createReach) and the selection (createSelection).
// It returns {refresh (the tooltip), showPrediction}.
export function createCards({ cy, probes, reach, selection, tipEl, reachCard }) {
  // describe is the tooltip of a graph element: what it is, and for
  // containers and probe edges the probe results with their detail.
  function describe(ele) {
    if (ele.isEdge()) {
      if (ele.hasClass('probe')) return probes.describeProbeEdge(ele);
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
      if (ele.hasClass('depends-on')) return [{ text: ends, cls: 'tip-title' }, { text: `depends_on ${(d.dependsOn || {}).service || ''}${(d.dependsOn || {}).condition ? ` (${d.dependsOn.condition})` : ''}: Compose starts it first` }];
      if (ele.hasClass('replica')) return [{ text: ends, cls: 'tip-title' }, { text: 'a task of the service (docker service ps)' }];
      if (ele.hasClass('volumes-from')) {
        return [{ text: ends, cls: 'tip-title' }, { text: `mounts every volume of ${ele.target().data('name') || 'the donor'}${ele.hasClass('ro') ? ', read-only' : ''} (--volumes-from)` }];
      }
      return null;
    }
    if (ele.hasClass('host')) {
      const n = ele.children('.container').length;
      const lines = [{ text: `host ${ele.data('name')}`, cls: 'tip-title' }, { text: `${n} container${n === 1 ? '' : 's'} · double-click to ${ele.hasClass('collapsed') ? 'expand' : 'collapse'}` }];
      if (ele.hasClass('host-down')) lines.push({ text: `engine unreachable: ${ele.data('error')}` });
      return lines;
    }
    if (ele.hasClass('project')) {
      const p = ele.data('project') || {};
      const svc = (p.services || []).length;
      return [
        { text: `Compose project ${ele.data('name')}`, cls: 'tip-title' },
        { text: `${svc} service${svc === 1 ? '' : 's'} · ${p.running || 0}/${p.containers || 0} running · double-click to ${ele.hasClass('collapsed') ? 'expand' : 'collapse'}` },
      ];
    }
    if (ele.hasClass('ghost')) {
      return [{ text: `${ele.data('label')} (removed)`, cls: 'tip-title' }, { text: 'a removed container that legacy links still point at' }];
    }
    if (ele.hasClass('volume')) {
      const v = ele.data('volume') || {};
      const users = ele.connectedEdges('edge.mount').length;
      return [{ text: v.anonymous ? `anonymous volume ${String(v.name || '').slice(0, 12)}` : `volume ${v.name || ele.data('label')}`, cls: 'tip-title' }, { text: `${v.driver || 'local'} · ${users} mount${users === 1 ? '' : 's'}` }];
    }
    const swarm = describeSwarm(ele);
    if (swarm) return swarm;
    if (!ele.hasClass('container')) return null;
    const c = ele.data('container') || {};
    const lines = [{ text: c.name || ele.data('label'), cls: 'tip-title' }, { text: `${c.state || ''} · ${c.image || ''}` }];
    if ((c.tmpfs || []).length) lines.push({ text: `tmpfs: ${c.tmpfs.join(', ')}` });
    const tk = ele.data('task');
    if (tk) lines.push({ text: `task ${ele.data('label')} of the service ${tk.serviceName}: ${tk.state}` });
    ele.connectedEdges('edge.member').forEach((e) => {
      const m = e.data('member') || {};
      lines.push({ text: `${m.networkName || 'network'}: ${m.ip || 'no IP'}` });
    });
    return lines.concat(probes.describeContainerProbes(ele.id()));
  }

  // describeSwarm is the tooltip of a Swarm node, service or task, in the
  // engine's words; null for anything else.
  function describeSwarm(ele) {
    if (ele.hasClass('swarm-node')) {
      const sn = ele.data('swarmNode') || {};
      const lines = [{ text: `Swarm ${sn.role || 'node'} ${sn.hostname}${sn.leader ? ' (leader)' : ''}`, cls: 'tip-title' }, { text: `${sn.state} · ${sn.availability} · ${sn.addr || ''}` }];
      if (sn.message) lines.push({ text: sn.message, cls: 'tip-detail' });
      if (sn.availability === 'drain') lines.push({ text: 'drained: the managers move its tasks to other nodes', cls: 'tip-help' });
      return lines;
    }
    if (ele.hasClass('service')) {
      const sv = ele.data('service') || {};
      const lines = [{ text: `service ${sv.name} (${sv.mode})`, cls: 'tip-title' }, { text: `${sv.running} running of ${sv.wanted} wanted · ${sv.image || ''}` }];
      for (const p of sv.ports || []) lines.push({ text: `port ${p.published}→${p.target}/${p.protocol} (${p.mode})` });
      for (const v of sv.vips || []) lines.push({ text: `VIP ${v.addr} on ${v.networkName}` });
      return lines;
    }
    if (ele.hasClass('task')) {
      const tk = ele.data('task') || {};
      const lines = [{ text: `task ${ele.data('label')}`, cls: 'tip-title' }, { text: `${tk.state} (wanted: ${tk.desiredState})` }];
      if (tk.error || tk.message) lines.push({ text: tk.error || tk.message, cls: 'tip-detail' });
      lines.push({ text: 'its container is on a host dockmap does not connect to', cls: 'tip-help' });
      return lines;
    }
    return null;
  }

  const tooltip = initTooltip(cy, tipEl, describe);

  // showPrediction says, when exactly two containers are selected, what
  // the explainer predicts both ways, before any probe.
  function showPrediction() {
    if (!reachCard) return;
    const sel = selection.containers();
    if (sel.length !== 2) {
      reachCard.hidden = true;
      reachCard.replaceChildren();
      return;
    }
    const [a, b] = [sel[0], sel[1]];
    const lines = [];
    for (const [x, y] of [[a, b], [b, a]]) {
      const p = reach.prediction(x.id(), y.id());
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

  selection.onChanged(showPrediction);
  reach.onChanged(showPrediction);
  probes.onProbesChanged(() => tooltip.refresh());
  reach.onChanged(() => tooltip.refresh());

  return { refresh: () => tooltip.refresh(), showPrediction };
}
