// networks.js runs everything about networks the page can change: the
// "Create a network" dialog (templates.NetworkDialog, key n), the network
// panel's buttons (attach a container, detach a member, remove the
// network, ping the members), the container panel's "Attach to…" form
// and per-network Detach buttons, and dropping a container onto a network
// on the graph (templates.AttachDialog). All through the JSON API:
// POST /api/networks, DELETE /api/networks/{id}[?detach=1],
// POST /api/networks/{id}/connect and /disconnect. The graph then changes
// by itself through the live deltas.

import { errorText } from './api.js';
import { confirmAction, openDialog } from './dialogs.js';
import { showText, focusSoon, submitting } from './dom.js';
import { containerID, networkID, networkNode, onEngine } from './ids.js';
import { createEngineChoice } from './engine-choice.js';

// splitAliases turns "db, mysql" into ["db", "mysql"].
export function splitAliases(text) {
  return String(text || '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

// createNetworks wires the network dialogs, the panel's network forms and
// buttons (panel is createPanel's) and the drop gesture on the graph cy,
// calling api (and sendPlanned for attach and detach). toast(text, kind) tells the user something short,
// pingMembers(ids) probes a network's members, selectNode(nodeID) selects
// a node made here. It returns {openNetworkDialog, openAttachDialog}.
export function createNetworks({ cy, panel, api, sendPlanned, toast = () => {}, pingMembers = async () => {}, selectNode = () => {} }) {
  // With several engines, the dialog's Engine select (engine-choice.js).
  const engineForm = document.querySelector('#network-dialog form');
  const engine = engineForm ? createEngineChoice({ form: engineForm, api, testid: 'network-engine' }) : null;
  // wire listens to the dialog, the panel and the drop gesture.
  function wire() {
    const dlg = document.getElementById('network-dialog');
    if (dlg) {
      dlg.querySelector('form').addEventListener('submit', (ev) => createNetwork(ev, dlg));
      dlg.querySelector('[name=driver]')?.addEventListener('change', () => showDriverOptions(dlg));
    }
    panel.el.addEventListener('submit', (ev) => {
      const form = ev.target;
      if (!(form instanceof HTMLFormElement) || form.dataset.form !== 'attach') return;
      ev.preventDefault();
      attachFromPanel(form);
    });
    panel.el.addEventListener('click', (ev) => {
      const btn = ev.target instanceof Element ? ev.target.closest('button[data-action]') : null;
      if (!btn || !panel.el.contains(btn)) return;
      const handler = {
        'detach-network': detachFromContainerPanel,
        'detach-member': detachMember,
        'remove-network': removeNetwork,
        'ping-members': pingMembersOf,
      }[btn.dataset.action];
      if (!handler) return;
      ev.preventDefault();
      handler(btn);
    });
    wireDrop();
  }

  // openNetworkDialog shows "Create a network" with a fresh form, its name
  // filled in when a lesson's "Show me" gives one (a click gives an event).
  function openNetworkDialog(name) {
    const dlg = document.getElementById('network-dialog');
    if (!dlg) return;
    const form = dlg.querySelector('form');
    form.reset();
    engine?.refresh();
    if (typeof name === 'string') dlg.querySelector('#network-name').value = name;
    showDriverOptions(dlg);
    showText(dlg.querySelector('#network-dialog-error'), '');
    openDialog(dlg);
    focusSoon(dlg, dlg.querySelector('#network-name'));
  }

  // showDriverOptions shows Attachable and Encrypted with the overlay
  // driver only: a bridge has neither.
  function showDriverOptions(dlg) {
    const opts = dlg.querySelector('[data-testid=network-overlay-options]');
    if (opts) opts.hidden = dlg.querySelector('[name=driver]')?.value !== 'overlay';
  }

  async function createNetwork(ev, dlg) {
    ev.preventDefault();
    const form = ev.target;
    const err = dlg.querySelector('#network-dialog-error');
    const v = (name) => form.elements[name].value.trim();
    const body = {
      name: v('name'),
      subnet: v('subnet'),
      gateway: v('gateway'),
      internal: form.elements.internal.checked,
      icc: form.elements.icc.checked,
    };
    // The plan and the engine tell an overlay from a bridge by driver.
    if (form.elements.driver?.value === 'overlay') {
      body.driver = 'overlay';
      body.attachable = form.elements.attachable.checked;
      body.encrypted = form.elements.encrypted.checked;
    }
    if (!body.name) {
      showText(err, 'Type a name for the network, such as appnet.');
      form.elements.name.focus();
      return;
    }
    if (body.gateway && !body.subnet) {
      showText(err, 'A gateway needs a subnet: give both, or neither.');
      return;
    }
    const btn = form.querySelector('[data-testid=network-create]');
    showText(err, '');
    const on = engine ? engine.name() : '';
    const path = `/api/networks${engine ? engine.query() : ''}`;
    try {
      const res = (await submitting(btn, 'Creating…', () => api('POST', path, body))) || {};
      dlg.close('done');
      toast(`Network ${res.name || body.name} created.`);
      if (res.id) selectNode(onEngine(networkNode(res.id), on));
    } catch (e) {
      showText(err, errorText(e));
    }
  }

  // connect attaches container (ID or name) to network (ID or name).
  function connect(network, container, aliases, ip) {
    const body = { container, aliases: aliases || [] };
    if (ip) body.ip = ip;
    return sendPlanned((conf) => api('POST', `/api/networks/${encodeURIComponent(network)}/connect`, { ...body, ...conf }));
  }

  // disconnect detaches container from network.
  function disconnect(network, container) {
    return sendPlanned((conf) => api('POST', `/api/networks/${encodeURIComponent(network)}/disconnect`, { container, ...conf }));
  }

  async function attachFromPanel(form) {
    const err = form.querySelector('[data-testid=attach-error]');
    const aliases = splitAliases(form.elements.aliases.value);
    const ip = form.elements.ip.value.trim();
    const bad = aliases.find((a) => /\s/.test(a));
    if (bad) {
      showText(err, `The alias "${bad}" has a space: aliases are single names, separated by commas.`);
      return;
    }
    let network;
    let container;
    let what;
    if (form.dataset.networkId) {
      // The network panel: the container comes from the select.
      network = form.dataset.networkId;
      const sel = form.elements.container;
      container = sel.value;
      what = `${sel.selectedOptions[0]?.dataset.name || container} to ${form.dataset.networkName}`;
    } else {
      const sel = form.elements.network;
      network = sel.value;
      container = form.dataset.containerId;
      what = `${form.dataset.containerName} to ${sel.selectedOptions[0]?.dataset.name || network}`;
    }
    if (!network || !container) return;
    const btn = form.querySelector('[data-testid=attach-submit]');
    showText(err, '');
    try {
      await submitting(btn, 'Attaching…', () => connect(network, container, aliases, ip));
      toast(`Attached ${what}.`);
      form.elements.aliases.value = '';
      form.elements.ip.value = '';
    } catch (e) {
      // The panel may have been refreshed meanwhile: show it where it is now.
      const cur = form.isConnected ? err : document.querySelector('#panel [data-testid=attach-error]');
      showText(cur, `Attach failed: ${errorText(e)}`);
    }
  }

  async function detachFromContainerPanel(btn) {
    const c = panel.container();
    if (!c) return;
    const net = btn.dataset.networkName || btn.dataset.networkId;
    const last = btn.dataset.last === 'yes';
    await confirmAction({
      title: `Detach ${c.name} from ${net}?`,
      message: last
        ? `${c.name} leaves ${net}, its only network: it will have no network at all until attached again.`
        : `${c.name} leaves ${net}: the other members no longer reach it there, by IP or by name.`,
      confirmLabel: 'Detach',
      danger: true,
      action: () => disconnect(btn.dataset.networkId, c.id),
    });
  }

  async function detachMember(btn) {
    const n = panel.network();
    if (!n) return;
    const name = btn.dataset.containerName;
    await confirmAction({
      title: `Detach ${name} from ${n.name}?`,
      message: `${name} leaves ${n.name}: the other members no longer reach it there, by IP or by name.`,
      confirmLabel: 'Detach',
      danger: true,
      action: () => disconnect(n.id, btn.dataset.containerId),
    });
  }

  async function removeNetwork(btn) {
    const n = panel.network();
    if (!n) return;
    const ref = encodeURIComponent(n.id);
    const members = btn.dataset.members || '';
    if (!members) {
      await confirmAction({
        title: `Remove ${n.name}?`,
        message: `The network ${n.name} is deleted (docker network rm).`,
        confirmLabel: 'Remove',
        danger: true,
        action: () => api('DELETE', `/api/networks/${ref}`),
      });
      return;
    }
    // Members remain: the engine refuses, so offer to detach them first.
    await confirmAction({
      title: `Remove ${n.name}?`,
      message: `These containers are still on ${n.name}: ${members}. Detach them and remove the network?`,
      confirmLabel: 'Detach them and remove',
      danger: true,
      action: () => api('DELETE', `/api/networks/${ref}?detach=1`),
    });
  }

  async function pingMembersOf(btn) {
    const n = panel.network();
    if (!n) return;
    const ids = [...document.querySelectorAll('#panel [data-testid=network-member]')].map((r) => r.dataset.containerId).filter(Boolean);
    if (ids.length < 2) return;
    try {
      await submitting(btn, 'Pinging…', () => pingMembers(ids));
    } catch (e) {
      toast(`Ping failed: ${errorText(e)}`, 'error');
    }
  }

  // ---- drop a container onto a network ----

  const dragKey = 'dockmap-drag-from';

  function networkUnder(node) {
    const p = node.position();
    return cy
      .nodes('node.network')
      .filter((n) => {
        const bb = n.boundingBox({ includeLabels: false, includeOverlays: false });
        return p.x >= bb.x1 && p.x <= bb.x2 && p.y >= bb.y1 && p.y <= bb.y2;
      })
      .first();
  }

  function wireDrop() {
    cy.on('grab', 'node.container', (ev) => {
      ev.target.scratch(dragKey, { ...ev.target.position() });
    });
    cy.on('dragfree', 'node.container', (ev) => {
      const node = ev.target;
      const from = node.scratch(dragKey);
      node.removeScratch(dragKey);
      const net = networkUnder(node);
      if (net.empty()) return;
      // Back where it was: the drop is a request, not a move.
      if (from) node.position(from);
      const info = net.data('network') || {};
      const c = node.data('container') || {};
      const name = node.data('name') || c.name || node.id();
      const netName = info.name || net.data('name');
      const already = node.connectedEdges('edge.member').some((e) => e.target().same(net) || e.source().same(net));
      if (already) {
        toast(`${name} is already on ${netName}.`);
        return;
      }
      if (info.driver === 'host' || info.driver === 'null') {
        toast(`Containers cannot be attached to ${netName}: it is the engine's ${netName} network.`, 'error');
        return;
      }
      openAttachDialog({ id: containerID(node), name }, { id: info.id || networkID(net), name: netName });
    });
  }

  // openAttachDialog asks for the aliases and static IP of container joining
  // network, then connects them.
  function openAttachDialog(container, network) {
    const dlg = document.getElementById('attach-dialog');
    if (!dlg) return;
    const form = dlg.querySelector('form');
    form.reset();
    dlg.dataset.container = container.id;
    dlg.dataset.network = network.id;
    dlg.querySelector('#attach-dialog-title').textContent = `Attach ${container.name} to ${network.name}?`;
    const err = dlg.querySelector('#attach-dialog-error');
    showText(err, '');
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const aliases = splitAliases(form.elements.aliases.value);
      const bad = aliases.find((a) => /\s/.test(a));
      if (bad) {
        showText(err, `The alias "${bad}" has a space: aliases are single names, separated by commas.`);
        return;
      }
      const ok = form.querySelector('[data-testid=attach-dialog-ok]');
      showText(err, '');
      try {
        await submitting(ok, '', () => connect(network.id, container.id, aliases, form.elements.ip.value.trim()));
        dlg.close('done');
        toast(`Attached ${container.name} to ${network.name}.`);
      } catch (e) {
        showText(err, errorText(e));
      }
    };
    openDialog(dlg);
    focusSoon(dlg, form.elements.aliases);
  }

  wire();
  return { openNetworkDialog, openAttachDialog };
}
