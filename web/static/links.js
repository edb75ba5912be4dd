// links.js adds, repairs and removes legacy links from the page.
//
// Adding starts from the panel's "Add link" form or from a drag on the
// graph in link mode (from a container onto the one it should reach by
// name). Both open the link dialog (templates.LinkDialog), which shows the
// server's plan (GET /api/links/plan): on the default bridge a re-create,
// on a user-defined network the two share an endpoint alias. Confirm sends
// POST /api/links with the plan's ID, and the dialog follows the job the
// answer names (plan-dialog.js).
//
// A broken link (its target was removed) has Repair (POST
// /api/links/repair: re-point it at the container that has the name now)
// and Remove (DELETE /api/links: a re-create, since the engine cannot drop
// a legacy link in place); both go through the same dialog with their own
// plan (GET /api/plan/repair-link, /api/plan/remove-link). The "×" of a
// live link removes it in place, after a confirm.

import { confirmAction } from './dialogs.js';
import { containerID } from './ids.js';
import { alsoText, newContainer, planDialog, planQuery } from './plan-dialog.js';

// createLinks wires the panel's link forms and buttons (panel is
// createPanel's), the link dialog (following its job in jobs) and the drag
// gesture of link mode (the store's linkMode) on the graph cy, calling api
// and, for a plan the server wants confirmed, sendPlanned. linked(containerID) is
// called after a link was added, repaired or removed by a re-create, with
// the ID of the container that now has it (a new one after a re-create);
// toast(text, kind) tells the user something short. It returns
// {openLinkDialog}.
export function createLinks({ cy, panel, store, api, jobs, sendPlanned, linked = () => {}, toast = () => {} }) {
  const dlg = document.getElementById('link-dialog');
  const dialog = dlg ? planDialog(dlg, 'link', jobs, toast) : null;

  // wire listens to the panel form, the links' buttons and the drag
  // gesture.
  function wire() {
    panel.el.addEventListener('submit', (ev) => {
      const form = ev.target;
      if (!(form instanceof HTMLFormElement) || form.dataset.form !== 'link') return;
      ev.preventDefault();
      const c = panel.container();
      const sel = form.querySelector('[data-testid=link-target]');
      const opt = sel.selectedOptions[0];
      const alias = form.querySelector('[data-testid=link-alias]').value.trim();
      if (!c || !opt) return;
      openLinkDialog({ id: c.id, name: c.name }, { id: opt.value, name: opt.dataset.name || opt.textContent.trim() }, alias);
    });
    // The alias follows the target until the user types one.
    panel.el.addEventListener('change', (ev) => {
      const t = ev.target;
      if (!(t instanceof HTMLSelectElement) || t.dataset.testid !== 'link-target') return;
      const alias = t.form && t.form.querySelector('[data-testid=link-alias]');
      const opt = t.selectedOptions[0];
      if (alias && opt && alias.dataset.touched !== '1') alias.value = aliasFor(opt.dataset.name || '');
    });
    panel.el.addEventListener('input', (ev) => {
      const t = ev.target;
      if (t instanceof HTMLInputElement && t.dataset.testid === 'link-alias') t.dataset.touched = '1';
    });
    panel.el.addEventListener('click', (ev) => {
      const btn = ev.target instanceof Element ? ev.target.closest('button[data-action=unlink], button[data-action=repair-link]') : null;
      if (!btn) return;
      ev.preventDefault();
      // A broken link's row names its container: in the ghost's panel it
      // is not the panel's container.
      const row = btn.closest('[data-from]');
      const c = row ? { id: row.dataset.from, name: row.dataset.fromName || row.dataset.from } : panel.container();
      if (!c) return;
      if (btn.dataset.action === 'repair-link') repairLink(c, btn.dataset.alias, btn.dataset.peerName);
      else if (btn.dataset.broken === '1') removeBrokenLink(c, btn.dataset.alias, btn.dataset.peerName);
      else removeLink(c, btn.dataset.alias, btn.dataset.peerName);
    });
    wireDrag();
  }

  // removeLink asks, then removes the live link alias of container c in
  // place.
  function removeLink(c, alias, peerName) {
    confirmAction({
      title: `Remove the link ${alias}?`,
      message: `${c.name} will no longer reach ${peerName || 'the target'} by the name ${alias}. The target itself is not touched.`,
      confirmLabel: 'Remove link',
      danger: true,
      action: () => sendPlanned((conf) => api('DELETE', '/api/links', { from: c.id, alias, ...conf })),
    });
  }

  // repairLink shows the plan of re-pointing the broken link alias of c at
  // the container named target now, and carries it out on Confirm.
  function repairLink(c, alias, target) {
    if (!dialog) return;
    dialog.open({
      action: 'repair-link',
      title: `Repair the link ${alias} of ${c.name} → ${target || '?'}`,
      plan: (deps) => planQuery(api, '/api/plan/repair-link', { from: c.id, alias }, deps),
      send: (body) => api('POST', '/api/links/repair', { from: c.id, alias, ...body }),
      confirmLabel: () => `Re-create ${c.name} and repair`,
      doneText: (info, plan) => `Done: ${c.name} was re-created; ${alias} now points at ${target || 'the container of that name'}.${alsoText(plan)}`,
      after: (info) => linked(newContainer(info)),
    });
  }

  // removeBrokenLink shows the plan of dropping the broken link alias of c
  // (a re-create), and carries it out on Confirm.
  function removeBrokenLink(c, alias, ghost) {
    if (!dialog) return;
    dialog.open({
      action: 'remove-link',
      title: `Remove the broken link ${alias} of ${c.name}${ghost ? ` (to the removed ${ghost})` : ''}`,
      plan: (deps) => planQuery(api, '/api/plan/remove-link', { from: c.id, alias }, deps),
      send: (body) => api('DELETE', '/api/links', { from: c.id, alias, ...body }),
      confirmLabel: (plan) => (plan.method === 'recreate' ? `Re-create ${c.name} without it` : 'Remove link'),
      doneText: (info, plan) => `Done: ${c.name} no longer has the link ${alias}.${alsoText(plan)}`,
      after: (info) => linked(newContainer(info)),
    });
  }

  // openLinkDialog shows the plan for linking from → to (each {id, name})
  // as alias, and waits for Confirm.
  function openLinkDialog(from, to, alias) {
    if (!dialog) return;
    alias = (alias || aliasFor(to.name || '')).trim();
    dialog.open({
      action: 'add-link',
      title: `Add link: ${from.name} → ${to.name} as ${alias}`,
      check: () => {
        if (from.id === to.id) return 'A container cannot link to itself: choose another target.';
        if (!alias) return 'The alias is empty: type the name the container should use.';
        return '';
      },
      plan: (deps) => planQuery(api, '/api/links/plan', { from: from.id, to: to.id, alias }, deps),
      send: (body) => api('POST', '/api/links', { from: from.id, to: to.id, alias, ...body }),
      confirmLabel: (plan) => (plan.method === 'recreate' ? `Re-create ${from.name} and link` : 'Add the alias'),
      doneText: (info, plan) =>
        plan.method === 'recreate'
          ? `Done: ${from.name} was re-created; it now reaches ${to.name} as ${alias}.${alsoText(plan)}`
          : `Done: ${from.name} now reaches ${to.name} as ${alias}.`,
      after: (info) => linked(newContainer(info)),
    });
  }

  // ---- link mode: drag from a container onto another ----

  let drag = null; // {source, cursor, edge, over}

  // Link mode is the store's linkMode: while on, nodes do not move and the
  // view does not pan; a drag draws a link instead.
  store.on('change:linkMode', (on) => {
    cancelDrag();
    cy.autoungrabify(on);
    cy.userPanningEnabled(!on);
    cy.boxSelectionEnabled(!on);
  });

  function containerAt(pos, except) {
    return cy
      .nodes('node.container')
      .filter((n) => {
        if (except && n.same(except)) return false;
        const bb = n.boundingBox({ includeLabels: false, includeOverlays: false });
        return pos.x >= bb.x1 && pos.x <= bb.x2 && pos.y >= bb.y1 && pos.y <= bb.y2;
      })
      .first();
  }

  function wireDrag() {
    cy.on('tapstart', 'node.container', (ev) => {
      if (!store.get().linkMode) return;
      const source = ev.target;
      cancelDrag();
      // The end of the arrow being drawn: an invisible node under the
      // pointer (not a "ghost", which is a removed container on the map).
      const cursor = cy.add({
        group: 'nodes',
        data: { id: '__link-cursor', label: '' },
        classes: 'overlay link-cursor',
        position: { ...ev.position },
        selectable: false,
        grabbable: false,
      });
      const edge = cy.add({
        group: 'edges',
        data: { id: '__link-draft', source: source.id(), target: cursor.id(), label: '' },
        classes: 'overlay link-draft',
      });
      source.addClass('link-source');
      drag = { source, cursor, edge, over: cy.collection() };
    });
    cy.on('tapdrag', (ev) => {
      if (!drag) return;
      drag.cursor.position({ ...ev.position });
      const over = containerAt(ev.position, drag.source);
      if (!over.same(drag.over)) {
        drag.over.removeClass('link-target');
        over.addClass('link-target');
        drag.over = over;
      }
    });
    cy.on('tapend', (ev) => {
      if (!drag) return;
      const source = drag.source;
      const target = containerAt(ev.position, source);
      cancelDrag();
      if (target.nonempty()) {
        const name = (n) => n.data('name') || n.data('label');
        openLinkDialog({ id: containerID(source), name: name(source) }, { id: containerID(target), name: name(target) }, name(target));
      }
    });
    // A release outside the graph ends the drag too.
    window.addEventListener('mouseup', () => setTimeout(cancelDrag, 0));
  }

  function cancelDrag() {
    if (!drag) return;
    drag.source.removeClass('link-source');
    drag.over.removeClass('link-target');
    cy.remove(drag.edge.union(drag.cursor));
    drag = null;
  }

  wire();
  return { openLinkDialog };
}

// aliasFor is the alias a container name suggests: aliases take no dots
// (one would shadow a real host name), so "my.db" suggests "my-db".
export function aliasFor(name) {
  return String(name).replaceAll('.', '-');
}
