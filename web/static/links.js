// links.js adds and removes legacy links from the page.
//
// Adding starts from the panel's "Add link" form or from a drag on the
// graph in link mode (from a container onto the one it should reach by
// name). Both open the link dialog (templates.LinkDialog), which first asks
// the server for the plan (GET /api/links/plan): on the default bridge a
// safe re-create, listing the files that would be lost and the containers
// that would break; on a user-defined network an endpoint alias. Only on
// Confirm does it POST /api/links, then it shows each step as the server
// reports it in "progress" messages, and on failure which step failed.
//
// Removing is the "×" of a "links out" row, after a confirm dialog.

import { api, errorText } from './api.js';
import { confirmAction, openDialog } from './dialogs.js';
import { showText } from './dom.js';
import { addStep, claimJob, failedStep, showRecreatePreview } from './recreate.js';
import { onJob } from './jobs.js';
import { panelContainer } from './panel.js';

let cy = null;
let dlg = null;
let linked = () => {};
let notify = () => {};
let current = null; // the link the dialog is about: {from, to, alias, plan, job, submitted}

// initLinks wires the panel form, the "×" buttons, the dialog and the drag
// gesture. opts.linked(containerID) is called after a link was added, with
// the ID of the container that now has it (a new one after a re-create);
// opts.toast(text) tells the user something short.
export function initLinks(cyInstance, panel, opts = {}) {
  cy = cyInstance;
  dlg = document.getElementById('link-dialog');
  linked = opts.linked || linked;
  notify = opts.toast || notify;

  panel.addEventListener('submit', (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.form !== 'link') return;
    ev.preventDefault();
    const c = panelContainer();
    const sel = form.querySelector('[data-testid=link-target]');
    const opt = sel.selectedOptions[0];
    const alias = form.querySelector('[data-testid=link-alias]').value.trim();
    if (!c || !opt) return;
    openLinkDialog({ id: c.id, name: c.name }, { id: opt.value, name: opt.dataset.name || opt.textContent.trim() }, alias);
  });
  // The alias follows the target until the user types one.
  panel.addEventListener('change', (ev) => {
    const t = ev.target;
    if (!(t instanceof HTMLSelectElement) || t.dataset.testid !== 'link-target') return;
    const alias = t.form && t.form.querySelector('[data-testid=link-alias]');
    const opt = t.selectedOptions[0];
    if (alias && opt && alias.dataset.touched !== '1') alias.value = aliasFor(opt.dataset.name || '');
  });
  panel.addEventListener('input', (ev) => {
    const t = ev.target;
    if (t instanceof HTMLInputElement && t.dataset.testid === 'link-alias') t.dataset.touched = '1';
  });
  panel.addEventListener('click', (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest('button[data-action=unlink]') : null;
    if (!btn) return;
    ev.preventDefault();
    const c = panelContainer();
    if (c) removeLink(c, btn.dataset.alias, btn.dataset.peerName);
  });

  if (dlg) {
    dlg.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      confirmLink();
    });
    dlg.addEventListener('close', () => {
      current = null;
      dlg.dataset.state = 'idle';
    });
    onJob(followJob);
  }
  initDrag();
}

// removeLink asks, then removes the link alias of container c.
function removeLink(c, alias, peerName) {
  confirmAction({
    title: `Remove the link ${alias}?`,
    message: `${c.name} will no longer reach ${peerName || 'the target'} by the name ${alias}. The target itself is not touched.`,
    confirmLabel: 'Remove link',
    danger: true,
    action: () => api('DELETE', '/api/links', { from: c.id, alias }),
  });
}

const $ = (sel) => dlg.querySelector(sel);

function setState(state) {
  dlg.dataset.state = state;
}

// openLinkDialog shows the plan for linking from → to (each {id, name})
// as alias, and waits for Confirm.
export async function openLinkDialog(from, to, alias) {
  if (!dlg) return;
  alias = (alias || aliasFor(to.name || '')).trim();
  const mine = { from, to, alias, plan: null, job: null, submitted: 0 };
  current = mine;
  setState('loading');
  $('#link-title').textContent = `Add link: ${from.name} → ${to.name} as ${alias}`;
  $('#link-loading').hidden = false;
  $('#link-plan').hidden = true;
  $('#link-recreate').hidden = true;
  $('#link-steps').hidden = true;
  $('#link-steps').replaceChildren();
  showText($('#link-error'), '');
  showText($('#link-done'), '');
  $('#link-recreate-dependents').checked = false;
  $('#link-recreate-dependents').disabled = false;
  const ok = $('#link-confirm');
  ok.hidden = false;
  ok.disabled = true;
  ok.textContent = 'Confirm';
  $('#link-cancel').textContent = 'Cancel';
  openDialog(dlg);
  $('#link-cancel').focus();

  if (from.id === to.id) {
    planFailed(mine, 'A container cannot link to itself: choose another target.');
    return;
  }
  if (!alias) {
    planFailed(mine, 'The alias is empty: type the name the container should use.');
    return;
  }
  const q = new URLSearchParams({ from: from.id, to: to.id, alias });
  let plan;
  try {
    plan = await api('GET', `/api/links/plan?${q}`);
  } catch (err) {
    planFailed(mine, errorText(err));
    return;
  }
  if (current !== mine) return;
  mine.plan = plan || {};
  showPlan(mine);
}

function planFailed(mine, text) {
  if (current !== mine) return;
  setState('error');
  $('#link-loading').hidden = true;
  showText($('#link-error'), text);
}

function showPlan(mine) {
  const plan = mine.plan;
  const recreate = plan.method === 'recreate';
  $('#link-loading').hidden = true;
  $('#link-plan').hidden = false;
  const method = $('#link-method');
  method.textContent = recreate
    ? `Re-create ${mine.from.name} with --link ${mine.to.name}:${mine.alias}`
    : `Add the alias ${mine.alias} on network ${plan.network || '?'} (disconnect + connect, no re-create)`;
  method.dataset.method = plan.method || '';
  $('#link-message').textContent = plan.message || '';
  $('#link-recreate').hidden = !recreate;
  if (recreate) showRecreatePreview(dlg, 'link', plan.preview);
  const ok = $('#link-confirm');
  ok.textContent = recreate ? `Re-create ${mine.from.name} and link` : 'Add the alias';
  ok.disabled = false;
  setState('ready');
  ok.focus();
}

async function confirmLink() {
  const mine = current;
  if (!mine || !mine.plan || dlg.dataset.state !== 'ready') return;
  setState('running');
  mine.submitted = Date.now();
  const ok = $('#link-confirm');
  ok.disabled = true;
  ok.textContent = 'Working…';
  $('#link-recreate-dependents').disabled = true;
  $('#link-cancel').textContent = 'Close';
  $('#link-steps').hidden = false;
  showText($('#link-error'), '');
  const body = {
    from: mine.from.id,
    to: mine.to.id,
    alias: mine.alias,
    confirm: true,
    recreateDependents: $('#link-recreate-dependents').checked,
  };
  try {
    const res = (await api('POST', '/api/links', body)) || {};
    if (current !== mine) {
      notify(`Linked ${mine.from.name} → ${mine.to.name} as ${mine.alias}.`);
      linked(res.container);
      return;
    }
    setState('done');
    ok.hidden = true;
    const also = (res.recreated || []).filter(Boolean);
    let text =
      res.method === 'recreate'
        ? `Done: ${mine.from.name} was re-created; it now reaches ${mine.to.name} as ${mine.alias}.`
        : `Done: ${mine.from.name} now reaches ${mine.to.name} as ${mine.alias} on ${res.network || 'its network'}.`;
    if (also.length) text += ` Also re-created: ${also.map((x) => (typeof x === 'string' ? x : x.name || x.id)).join(', ')}.`;
    showText($('#link-done'), text);
    $('#link-cancel').textContent = 'Close';
    $('#link-cancel').focus();
    linked(res.container);
  } catch (err) {
    if (current !== mine) {
      notify(`Link ${mine.from.name} → ${mine.to.name} failed: ${errorText(err)}`);
      return;
    }
    setState('failed');
    ok.hidden = true;
    showText($('#link-error'), `${errorText(err)}${failedStep($('#link-steps'))}`);
  }
}

// followJob shows the steps of the dialog's link job as they come. The job
// is "link <from> → <to> as <alias>"; the first link job naming the source
// after Confirm is taken if the name differs.
function followJob(msg) {
  const mine = current;
  if (!mine) return;
  const expected = `link ${mine.from.name} → ${mine.to.name} as ${mine.alias}`;
  const accept = (job) => job === expected || (job.startsWith('link ') && job.includes(mine.from.name));
  if (claimJob(mine, msg.job, accept)) addStep($('#link-steps'), msg, 'link-step');
}

// ---- link mode: drag from a container onto another ----

let linkMode = false;
let drag = null; // {source, ghost, edge, over}
const modeListeners = new Set();

// onLinkMode calls fn(on) whenever link mode changes.
export function onLinkMode(fn) {
  modeListeners.add(fn);
}

// linkModeOn tells whether link mode is on.
export function linkModeOn() {
  return linkMode;
}

// setLinkMode turns link mode on or off. While on, nodes do not move and
// the view does not pan: a drag draws a link instead.
export function setLinkMode(on) {
  on = !!on;
  if (on === linkMode || !cy) return;
  linkMode = on;
  cancelDrag();
  cy.autoungrabify(on);
  cy.userPanningEnabled(!on);
  cy.boxSelectionEnabled(!on);
  for (const fn of modeListeners) fn(on);
}

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

function initDrag() {
  cy.on('tapstart', 'node.container', (ev) => {
    if (!linkMode) return;
    const source = ev.target;
    cancelDrag();
    const ghost = cy.add({
      group: 'nodes',
      data: { id: '__link-ghost', label: '' },
      classes: 'overlay ghost',
      position: { ...ev.position },
      selectable: false,
      grabbable: false,
    });
    const edge = cy.add({
      group: 'edges',
      data: { id: '__link-draft', source: source.id(), target: ghost.id(), label: '' },
      classes: 'overlay link-draft',
    });
    source.addClass('link-source');
    drag = { source, ghost, edge, over: cy.collection() };
  });
  cy.on('tapdrag', (ev) => {
    if (!drag) return;
    drag.ghost.position({ ...ev.position });
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
      const id = (n) => n.id().replace(/^c:/, '');
      openLinkDialog({ id: id(source), name: name(source) }, { id: id(target), name: name(target) }, name(target));
    }
  });
  // A release outside the graph ends the drag too.
  window.addEventListener('mouseup', () => setTimeout(cancelDrag, 0));
}

function cancelDrag() {
  if (!drag) return;
  drag.source.removeClass('link-source');
  drag.over.removeClass('link-target');
  cy.remove(drag.edge.union(drag.ghost));
  drag = null;
}

// aliasFor is the alias a container name suggests: aliases take no dots
// (one would shadow a real host name), so "my.db" suggests "my-db".
export function aliasFor(name) {
  return String(name).replaceAll('.', '-');
}
