// panel.js fills the side panel with one container's details.
//
// The details are the ContainerPanel fragment the server renders with templ
// (GET /panel/container/{id}); templ escapes every Docker string, which is
// why this is the one place the page uses innerHTML. Everything else here
// writes text with textContent.
//
// What the panel shows is the store's selection (store.js): its field
// selected is the node ID shown, or null.

import { kindOf, unprefixed } from './ids.js';

// swarmKinds are the Swarm's kinds, whose panels are asked by the ID
// without its prefix (/panel/service/<service id>).
const swarmKinds = new Set(['service', 'swarm-node', 'task']);

// kindWords name a kind in "… removed".
const kindWords = { bind: 'bind mount', service: 'service', 'swarm-node': 'Swarm node', task: 'task' };

// createPanel drives the panel element el (the <aside id="panel">) for
// the selection of store.
export function createPanel({ el, store }) {
  const panel = el;
  let request = 0; // number of the latest fetch; older answers are dropped
  let refreshTimer = null;
  let lastHTML = ''; // the fragment shown, to skip a refresh that changes nothing
  const loadHooks = new Set();

  // Deltas come in bursts (a compose up is dozens); one fetch per burst.
  const refreshDelay = 100;

  // onPanelLoad calls fn(panel, nodeID) each time a container's fragment
  // has been put in the panel, so that modules can fill in what only they
  // hold (ping results, an error from the last action).
  function onPanelLoad(fn) {
    loadHooks.add(fn);
  }

  // panelContainer describes the container in the panel: {nodeID, id, name,
  // state}, or null.
  function panelContainer() {
    const art = panel && panel.querySelector('[data-testid=container-panel]');
    if (!art) return null;
    // id names the container to the API as the map does: the Docker ID,
    // with "@ENGINE" for another engine's (the dispatch routes by it; the
    // bare ID would go to the default engine).
    const id = (art.dataset.id || '').replace(/^c:/, '') || art.dataset.containerId;
    return { nodeID: art.dataset.id, id, name: art.dataset.name, state: art.dataset.state };
  }

  // panelNetwork describes the network in the panel: {nodeID, id, name,
  // members (names)}, or null.
  function panelNetwork() {
    const art = panel && panel.querySelector('[data-testid=network-panel]');
    if (!art) return null;
    return { nodeID: art.dataset.id, id: art.dataset.networkId, name: art.dataset.name };
  }

  // panelVolume describes the volume in the panel: {nodeID, name, inUse},
  // or null.
  function panelVolume() {
    const art = panel && panel.querySelector('[data-testid=volume-panel]');
    if (!art) return null;
    return { nodeID: art.dataset.id, name: art.dataset.name, inUse: art.dataset.inUse === 'yes' };
  }

  // shownNodeID is the node ID of what the panel's fragment shows, or null.
  function shownNodeID() {
    const art =
      panel &&
      panel.querySelector(
        '[data-testid=container-panel], [data-testid=network-panel], [data-testid=volume-panel], [data-testid=bind-panel], [data-testid=ghost-panel], [data-testid=service-panel], [data-testid=swarm-node-panel], [data-testid=task-panel]',
      );
    return art ? art.dataset.id : null;
  }

  // openPanel shows the container with node ID id.
  function openPanel(id) {
    store.set({ selected: id });
    clearTimeout(refreshTimer);
    load(id);
  }

  // refreshPanel reloads the shown container soon, once per burst of calls.
  function refreshPanel() {
    if (store.get().selected === null) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      const id = store.get().selected;
      if (id !== null) load(id);
    }, refreshDelay);
  }

  // clearPanel goes back to the empty state.
  function clearPanel() {
    store.set({ selected: null });
    request++;
    clearTimeout(refreshTimer);
    message('panel-empty', 'Click a container, a network or a volume to see its details');
  }

  // showRemoved says the shown container (or network) is gone.
  function showRemoved(what = 'container') {
    store.set({ selected: null });
    request++;
    clearTimeout(refreshTimer);
    message('panel-removed', `${what} removed`);
  }

  // panelURL is the fragment of node ID id: a network's, a volume's, a host
  // path's or a container's.
  function panelURL(id) {
    const kind = kindOf(id);
    return `/panel/${kind}/${encodeURIComponent(swarmKinds.has(kind) ? unprefixed(id) : id)}`;
  }

  // message replaces the panel's content with one line of text.
  function message(testid, text) {
    if (!panel) return;
    lastHTML = '';
    const p = document.createElement('p');
    p.className = testid;
    p.dataset.testid = testid;
    p.textContent = text;
    panel.replaceChildren(p);
    panel.classList.remove('loading');
  }

  async function load(id) {
    if (!panel) return;
    const mine = ++request;
    panel.classList.add('loading');
    let res;
    try {
      res = await fetch(panelURL(id), {
        // HX-Request makes the server's error handler answer with a partial.
        headers: { Accept: 'text/html', 'HX-Request': 'true' },
        credentials: 'same-origin',
      });
    } catch (err) {
      if (mine === request) message('panel-error', 'Could not load details: the server did not answer.');
      return;
    }
    if (mine !== request) return; // the user picked another container meanwhile
    if (res.status === 404) {
      showRemoved(kindWords[kindOf(id)] || kindOf(id));
      return;
    }
    const type = res.headers.get('Content-Type') || '';
    if (!res.ok || !type.startsWith('text/html')) {
      message('panel-error', `Could not load details (HTTP ${res.status}).`);
      return;
    }
    const html = await res.text();
    if (mine !== request) return;
    panel.classList.remove('loading');
    // Deltas touch a container for many reasons (a neighbour joined its
    // network): a refresh that changes nothing leaves the panel alone, with
    // what the user was typing.
    if (html === lastHTML && shownNodeID() === id) return;
    const kept = keepForm(id);
    // Server-rendered, templ-escaped fragment: the only innerHTML of the page.
    panel.innerHTML = html;
    lastHTML = html;
    restoreForm(kept);
    // A new subject opens at its top, its title in view (the scroll of
    // the one before says nothing about this one).
    if (!kept) panel.scrollTop = 0;
    for (const fn of loadHooks) {
      try {
        fn(panel, id);
      } catch (err) {
        console.warn('dockmap: panel hook', err);
      }
    }
  }

  // keepForm notes the values of the panel's form fields marked data-keep
  // (and the focused one), when the panel is about to show the same
  // container again, so a refresh does not undo what the user chose.
  function keepForm(id) {
    if (shownNodeID() !== id) return null;
    const fields = [];
    panel.querySelectorAll('[data-keep]').forEach((el) => {
      fields.push({ key: el.dataset.keep, value: el.value, checked: el.checked, type: el.type, touched: el.dataset.touched });
    });
    const f = document.activeElement;
    const focus = f && panel.contains(f) && f.dataset ? f.dataset.testid : null;
    return { fields, focus };
  }

  function restoreForm(kept) {
    if (!kept) return;
    for (const k of kept.fields) {
      const sel = `[data-keep="${CSS.escape(k.key)}"]`;
      if (k.type === 'radio') {
        if (!k.checked) continue;
        const r = panel.querySelector(`${sel}[value="${CSS.escape(k.value)}"]`);
        if (r) r.checked = true;
        continue;
      }
      const el = panel.querySelector(sel);
      if (!el) continue;
      if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === k.value)) continue;
      el.value = k.value;
      if (k.touched) el.dataset.touched = k.touched;
    }
    if (kept.focus) {
      const el = panel.querySelector(`[data-testid="${CSS.escape(kept.focus)}"]`);
      if (el) el.focus();
    }
  }

  return {
    el,
    onLoad: onPanelLoad,
    container: panelContainer,
    network: panelNetwork,
    volume: panelVolume,
    open: openPanel,
    refresh: refreshPanel,
    clear: clearPanel,
    showRemoved,
  };
}
