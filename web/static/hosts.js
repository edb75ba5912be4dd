// hosts.js is what a user does with a host of a map of several engines
// (graph-hosts.js draws them): a double-click, or Enter or c with the host
// selected, collapses or expands it; selecting a host shows its menu in
// the side panel (collapse, show only this host, hide it); the engines
// list greys the hosts whose engine is down.

import { collapseHost, isCollapsed, setHostsDown } from './graph.js';
import { h } from './dom.js';

// createHosts wires the hosts of cy: panel (createPanel) shows a selected
// host's menu, selection (createSelection) says when one is selected, and
// focus (createFocus) shows only or hides a host. onChange() is called
// after a host was collapsed or expanded.
export function createHosts({ cy, panel, selection, focus, onChange = () => {} }) {
  function toggle(host) {
    const name = host.data('name');
    collapseHost(cy, name, !isCollapsed(cy, name));
    onChange();
    if (host.selected()) showMenu(host);
  }

  cy.on('dbltap', 'node.host', (ev) => toggle(ev.target));

  // toggleSelected collapses or expands the one selected host; false when
  // no host alone is selected.
  function toggleSelected() {
    const sel = cy.nodes(':selected');
    if (sel.length !== 1 || !sel.hasClass('host')) return false;
    toggle(sel);
    return true;
  }

  // showMenu puts host's menu in the side panel.
  function showMenu(host) {
    if (!panel.el) return;
    const name = host.data('name');
    const kids = host.children();
    const count = (sel, one) => {
      const n = kids.filter(sel).length;
      return `${n} ${one}${n === 1 ? '' : 's'}`;
    };
    const collapsed = isCollapsed(cy, name);
    const button = (testid, text, fn) => {
      const b = h('button', { type: 'button', text, dataset: { testid } });
      b.addEventListener('click', fn);
      return b;
    };
    const lines = [
      h('h2', { text: `Host ${name}` }),
      h('p', { text: `engine ${name} · ${count('.container', 'container')}, ${count('.network', 'network')}, ${count('.volume', 'volume')}` }),
    ];
    if (host.hasClass('host-down')) lines.push(h('p', { className: 'error', text: `unreachable: ${host.data('error')}` }));
    lines.push(
      h('div', { className: 'actions' }, [
        button('host-collapse', collapsed ? 'Expand (Enter)' : 'Collapse (Enter)', () => toggle(host)),
        button('host-only', 'Show only this host', () => focus.show('host', name)),
        button('host-hide', 'Hide this host', () => focus.show('hide-host', name)),
      ]),
    );
    panel.el.replaceChildren(h('section', { className: 'host-menu', dataset: { testid: 'host-menu', host: name } }, lines));
  }

  selection.onChanged(() => {
    const sel = cy.nodes(':selected');
    if (sel.length === 1 && sel.hasClass('host')) showMenu(sel);
  });

  return {
    toggleSelected,
    // engines takes the engines list (GET /api/engines, the engines frame).
    engines(list) {
      setHostsDown(cy, list);
      const sel = cy.nodes('.host:selected');
      if (sel.length === 1) showMenu(sel);
    },
  };
}
