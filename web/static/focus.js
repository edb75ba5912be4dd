// focus.js is "show only": on a shared engine (a class, a busy laptop)
// the map keeps only the containers that match, with their networks,
// volumes and edges; everything else is hidden, and the ping target lists
// offer only what is shown. A container matches by the start of its name
// (a participant's prefix), by a network it is on, by a label ("key" or
// "key=value", a Compose project included), or by being made here
// (dockmap's own label). The search box still fades within what is shown.
// On a map of several engines, one host can be shown alone (its nodes,
// and the nodes of no host they connect to: a Swarm overlay) or hidden.
//
// The choice is kept per browser and in the address, where it can come
// from: ?focus=prefix:p1- (or network:NAME, label:KEY=VALUE, mine,
// host:NAME, hide-host:NAME, project:NAME, hide-project:NAME). A
// Compose project is shown alone or hidden with its networks and volumes.

import { loadPref, storePref } from './prefs.js';

const prefKey = 'dockmap.focus';

// The label dockmap puts on what it creates (internal/docker ManagedLabel).
const managedLabel = 'dockmap.managed';

// At most this many suggestions in the value list: a class's engine has
// hundreds of labels.
const maxSuggestions = 200;

// The panel's lists of target containers.
const targetLists = 'select[data-testid=ping-target], select[data-testid=link-target]';

const placeholders = {
  prefix: 'p1-',
  network: 'network name',
  label: 'key=value',
  host: 'host',
  'hide-host': 'host',
  project: 'Compose project',
  'hide-project': 'Compose project',
};

// The kinds that choose nodes by their host rather than containers.
const hostKinds = ['host', 'hide-host'];

// The kinds that choose containers by their Compose project.
const projectKinds = ['project', 'hide-project'];

// createFocus wires the focus controls in root over the map cy. onChange()
// is called after the shown set changes (ping lists, the matrix, a fit).
export function createFocus({ root = document, cy, onChange = () => {} }) {
  const kindEl = root.getElementById('focus-kind');
  const valueEl = root.getElementById('focus-value');
  const list = root.getElementById('focus-values');
  const count = root.getElementById('focus-count');
  if (!kindEl || !valueEl) return { apply() {}, filterOptions() {}, shown: () => true, active: () => false, show() {} };

  let focus = parse(new URLSearchParams(location.search).get('focus') || loadPref(prefKey) || '');
  kindEl.value = focus.kind;
  valueEl.value = focus.value;

  const showValue = () => {
    valueEl.hidden = !focus.kind || focus.kind === 'mine';
    valueEl.placeholder = placeholders[focus.kind] || '';
  };

  const set = (kind, value) => {
    focus = { kind, value: value.trim() };
    storePref(prefKey, format(focus));
    // The address says what is shown, so that a link or a reload shows
    // the same; an address without ?focus= stays without.
    const url = new URL(location.href);
    if (url.searchParams.has('focus') || hostKinds.includes(kind) || projectKinds.includes(kind)) {
      if (active()) url.searchParams.set('focus', format(focus));
      else url.searchParams.delete('focus');
      history.replaceState(history.state, '', url);
    }
    showValue();
    apply();
  };

  kindEl.addEventListener('change', () => {
    set(kindEl.value, kindEl.value === focus.kind ? valueEl.value : '');
    if (!valueEl.hidden) {
      valueEl.value = '';
      suggest();
      valueEl.focus();
    }
  });
  let typing = 0;
  valueEl.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => set(focus.kind, valueEl.value), 150);
  });
  valueEl.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      kindEl.value = '';
      valueEl.value = '';
      set('', '');
      valueEl.blur();
    }
  });
  valueEl.addEventListener('focus', suggest);

  // suggest fills the value list with what the map has for this kind.
  function suggest() {
    if (!list) return;
    const seen = new Set();
    if (focus.kind === 'network') {
      cy.nodes('.network').forEach((n) => seen.add(n.data('name')));
    } else if (focus.kind === 'prefix') {
      cy.nodes('.container').forEach((n) => {
        const m = /^([a-zA-Z0-9]+[-_.])/.exec(n.data('name') || '');
        if (m) seen.add(m[1]);
      });
    } else if (hostKinds.includes(focus.kind)) {
      cy.nodes().forEach((n) => {
        if (n.data('host')) seen.add(n.data('host'));
      });
    } else if (projectKinds.includes(focus.kind)) {
      cy.nodes('.project').forEach((n) => seen.add(n.data('name')));
    } else if (focus.kind === 'label') {
      cy.nodes('.container').forEach((n) => {
        for (const [k, v] of Object.entries(labelsOf(n))) {
          if (seen.size < maxSuggestions) seen.add(`${k}=${v}`);
        }
      });
    }
    const values = [...seen].filter(Boolean).sort().slice(0, maxSuggestions);
    list.replaceChildren(...values.map((v) => Object.assign(document.createElement('option'), { value: v })));
  }

  // matches tells whether container node n is one focus keeps.
  const matches = (n) => {
    switch (focus.kind) {
      case 'prefix':
        return (n.data('name') || '').startsWith(focus.value);
      case 'network': {
        let on = false;
        n.connectedEdges('.member').forEach((e) => {
          const net = e.source().same(n) ? e.target() : e.source();
          if (net.data('name') === focus.value) on = true;
        });
        return on;
      }
      case 'label': {
        const i = focus.value.indexOf('=');
        const key = i < 0 ? focus.value : focus.value.slice(0, i);
        const labels = labelsOf(n);
        if (!(key in labels)) return false;
        return i < 0 || labels[key] === focus.value.slice(i + 1);
      }
      case 'mine':
        return labelsOf(n)[managedLabel] === '1';
      case 'project':
        return projectOf(n) === focus.value;
      case 'hide-project':
        return projectOf(n) !== focus.value;
      default:
        return true;
    }
  };

  const active = () => !!focus.kind && (focus.kind === 'mine' || focus.value !== '');

  // apply hides what focus leaves out: containers that do not match, then
  // every network, volume or other node left with nothing shown next to
  // it (a network asked for by name stays, even empty), and the edges of
  // anything hidden. Call it after every change of the graph.
  function apply() {
    const on = active();
    let hidden = cy.collection();
    if (on && hostKinds.includes(focus.kind)) {
      const nodes = cy.nodes().not('.host, .overlay');
      const mine = nodes.filter((n) => n.data('host') === focus.value);
      let kept;
      if (focus.kind === 'host') {
        // The nodes of no host its nodes connect to (a Swarm overlay).
        const loose = mine.connectedEdges().connectedNodes().filter((n) => !n.data('host'));
        kept = mine.union(loose);
      } else {
        kept = nodes.not(mine);
      }
      hidden = nodes.not(kept);
    } else if (on) {
      const keep = cy.nodes('.container').filter(matches);
      let kept = keep;
      cy.nodes()
        .not('.container, .host, .project')
        .forEach((n) => {
          const near = n.connectedEdges().connectedNodes('.container').intersection(keep);
          const named = focus.kind === 'network' && n.hasClass('network') && n.data('name') === focus.value;
          if (near.nonempty() || named) kept = kept.union(n);
        });
      hidden = cy.nodes().not('.host, .project').not(kept);
    }
    // A project's box goes with the last of its nodes shown (hiding a box
    // would hide all it holds).
    hidden = hidden.union(cy.nodes('.project').filter((b) => b.children().not(hidden).empty()));
    // A host's box goes with the last of its nodes shown (a collapsed
    // host's nodes are folded, not hidden: they count as shown).
    hidden = hidden.union(cy.nodes('.host').filter((b) => b.children().not(hidden).empty()));
    cy.batch(() => {
      cy.elements('.focus-hidden').not(hidden).removeClass('focus-hidden');
      hidden.addClass('focus-hidden');
      hidden.connectedEdges().addClass('focus-hidden');
    });
    document.body.dataset.focus = on ? format(focus) : '';
    if (count) {
      const all = cy.nodes('.container').length;
      const shown = all - hidden.filter('.container').length;
      count.hidden = !on;
      count.textContent = `${shown} of ${all}`;
      count.title = `${shown} of ${all} containers shown (${describe(focus)})`;
    }
    onChange();
  }

  // filterOptions hides, in the lists of root (the panel), the target
  // containers focus leaves out: a class's engine offers 300 targets, a
  // participant wants their own.
  function filterOptions(root) {
    if (!root) return;
    root.querySelectorAll(targetLists).forEach((sel) => {
      let chosenHidden = false;
      for (const o of sel.options) {
        const n = o.value ? cy.getElementById(`c:${o.value}`) : cy.collection();
        const hide = n.nonempty() && n.hasClass('focus-hidden');
        o.hidden = hide;
        o.disabled = hide;
        if (hide && o.selected) chosenHidden = true;
      }
      if (chosenHidden) {
        const first = [...sel.options].find((o) => !o.hidden && o.value);
        if (first) sel.value = first.value;
      }
    });
  }

  showValue();
  return {
    apply,
    filterOptions,
    // shown tells whether a node (or a container ID's node) is on show.
    shown: (n) => !n.hasClass('focus-hidden'),
    active,
    clear() {
      kindEl.value = '';
      valueEl.value = '';
      set('', '');
    },
    // show shows only what kind and value choose (hosts.js: a host's
    // menu), as if chosen in the controls.
    show(kind, value) {
      kindEl.value = kind;
      valueEl.value = value;
      set(kind, value);
    },
  };
}

// projectOf is the Compose project of container node n, or ''.
function projectOf(n) {
  const c = n.data('container');
  return (c && c.project) || '';
}

function labelsOf(n) {
  const c = n.data('container');
  return (c && c.labels) || {};
}

// parse reads "kind:value" (or "mine"); anything else is no focus.
function parse(s) {
  if (s === 'mine') return { kind: 'mine', value: '' };
  const i = s.indexOf(':');
  const kind = i < 0 ? '' : s.slice(0, i);
  if (!['prefix', 'network', 'label', ...hostKinds, ...projectKinds].includes(kind)) return { kind: '', value: '' };
  return { kind, value: s.slice(i + 1) };
}

function format(f) {
  if (!f.kind) return '';
  return f.kind === 'mine' ? 'mine' : `${f.kind}:${f.value}`;
}

function describe(f) {
  switch (f.kind) {
    case 'prefix':
      return `names starting ${f.value}`;
    case 'network':
      return `on ${f.value}`;
    case 'label':
      return `labelled ${f.value}`;
    case 'mine':
      return 'made here';
    case 'host':
      return `on host ${f.value}`;
    case 'hide-host':
      return `all but host ${f.value}`;
    case 'project':
      return `in Compose project ${f.value}`;
    case 'hide-project':
      return `all but Compose project ${f.value}`;
    default:
      return 'all';
  }
}
