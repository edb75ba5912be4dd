// hosts.js is what a user does with a host of a map of several engines,
// or a Compose project's box (graph-hosts.js draws them): a double-click,
// or Enter or c with the box selected, collapses or expands it; selecting
// one shows its menu in the side panel (collapse, show only this one,
// hide it); the engines list greys the hosts whose engine is down.

import { collapseGroup, collapseHost, isCollapsed, isGroupCollapsed, setHostsDown } from './graph.js';
import { h } from './dom.js';
import { openFolded } from './graph-hosts.js';
import { lodTapped } from './graph-lod.js';

// createHosts wires the hosts of cy: panel (createPanel) shows a selected
// host's menu, selection (createSelection) says when one is selected, and
// focus (createFocus) shows only or hides a host. onChange() is called
// after a host was collapsed or expanded.
// button is one action of a box's menu.
function button(testid, text, fn) {
  const b = h('button', { type: 'button', text, dataset: { testid } });
  b.addEventListener('click', fn);
  return b;
}

export function createHosts({ cy, panel, selection, focus, onChange = () => {} }) {
  function toggle(box) {
    if (box.hasClass('project')) {
      collapseGroup(cy, box.id(), !isGroupCollapsed(cy, box.id()));
    } else {
      const name = box.data('name');
      collapseHost(cy, name, !isCollapsed(cy, name));
    }
    onChange();
    const now = cy.getElementById(box.id());
    if (now.selected()) showMenu(now);
  }

  // A summary the click before opened (graph-lod.js) stays open.
  cy.on('dbltap', 'node.host, node.project', (ev) => {
    if (!lodTapped(ev.target)) toggle(ev.target);
  });

  // toggleSelected collapses or expands the one selected host or project;
  // false when no such box alone is selected.
  function toggleSelected() {
    const sel = cy.nodes(':selected');
    // A network whose leaves the level of detail folded opens.
    if (sel.length === 1 && sel.hasClass('lod-net')) return openFolded(cy, sel);
    if (sel.length !== 1 || !(sel.hasClass('host') || sel.hasClass('project'))) return false;
    toggle(sel);
    return true;
  }

  // showProjectMenu puts Compose project box p's menu in the side panel.
  function showProjectMenu(p) {
    const info = p.data('project') || {};
    const name = info.name || p.data('name');
    const collapsed = isGroupCollapsed(cy, p.id());
    const services = info.services || [];
    const lines = [
      h('h2', { text: `Compose project ${name}` }),
      h('p', { dataset: { testid: 'project-counts' }, text: `${services.length} service${services.length === 1 ? '' : 's'} (${services.join(', ')}) · ${info.running || 0} of ${info.containers || 0} containers running` }),
    ];
    if ((info.networks || []).length) lines.push(h('p', { text: `networks: ${info.networks.join(', ')}` }));
    if ((info.configFiles || []).length) lines.push(h('p', { className: 'muted', text: `file: ${info.configFiles.join(', ')}` }));
    else if (info.workingDir) lines.push(h('p', { className: 'muted', text: `in ${info.workingDir}` }));
    showBoxMenu('project', p, name, collapsed, lines);
  }

  // showMenu puts host's menu in the side panel.
  function showMenu(host) {
    if (!panel.el) return;
    if (host.hasClass('project')) {
      showProjectMenu(host);
      return;
    }
    const name = host.data('name');
    const kids = host.children();
    const count = (sel, one) => {
      const n = kids.filter(sel).length;
      return `${n} ${one}${n === 1 ? '' : 's'}`;
    };
    const collapsed = isCollapsed(cy, name);
    const lines = [
      h('h2', { text: `Host ${name}` }),
      h('p', { text: `engine ${name} · ${count('.container', 'container')}, ${count('.network', 'network')}, ${count('.volume', 'volume')}` }),
    ];
    if (host.hasClass('host-down')) lines.push(h('p', { className: 'error', text: `unreachable: ${host.data('error')}` }));
    showBoxMenu('host', host, name, collapsed, lines);
  }

  // showBoxMenu puts box's menu in the side panel: lines, then its
  // actions (collapse, show only, hide); kind is "host" or "project", as
  // focus.js names them.
  function showBoxMenu(kind, box, name, collapsed, lines) {
    lines.push(
      h('div', { className: 'actions' }, [
        button(`${kind}-collapse`, collapsed ? 'Expand (Enter)' : 'Collapse (Enter)', () => toggle(box)),
        button(`${kind}-only`, `Show only this ${kind}`, () => focus.show(kind, name)),
        button(`${kind}-hide`, `Hide this ${kind}`, () => focus.show(`hide-${kind}`, name)),
      ]),
    );
    panel.el.replaceChildren(h('section', { className: 'host-menu', dataset: { testid: `${kind}-menu`, [kind]: name } }, lines));
  }

  selection.onChanged(() => {
    const sel = cy.nodes(':selected');
    if (sel.length === 1 && (sel.hasClass('host') || sel.hasClass('project'))) showMenu(sel);
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
