// plan-view.js shows a plan (internal/plan.Plan, as GET /api/plan/{action},
// GET /api/links/plan, a 202, a 428 or a 409 answer it) in the plan block of
// a dialog (templates.planSection): its summary and method, every step
// (each an <li data-step="<step id>"> that the job's step frames tick),
// every container it re-creates and why, the dependents, what breaks, what
// is lost (with the files the engine lists) and the notes. The page decides
// nothing here: it shows what the server planned.
//
// Everything from Docker (names, paths) goes in through textContent.

import { h } from './dom.js';
import { stepItem } from './steps.js';

// methodText says a plan's method in words.
const methodText = {
  recreate: 're-create',
  'endpoint-alias': 'endpoint alias (disconnect + connect, no re-create)',
  'in-place': 'in place',
  create: 'create',
  remove: 'remove',
};

// kindText names the kinds of a lost file as docker diff does.
const kindText = { changed: 'changed', added: 'added', deleted: 'deleted' };

// staleText is the line over a plan that replaced the one confirmed.
export const staleText = 'The containers changed since this plan: review the new plan and confirm again.';

// renderPlan fills the plan block whose ids start with prefix (link-,
// mount-, confirm-) inside root with plan, and shows it.
export function renderPlan(root, prefix, plan) {
  const $ = (suffix) => root.querySelector(`#${prefix}-${suffix}`);
  const p = plan || {};
  const method = $('method');
  if (method) {
    method.textContent = methodText[p.method] || p.method || '';
    method.dataset.method = p.method || '';
  }
  show($('summary'), p.summary || '');
  root.dataset.plan = p.id || '';

  $('steps').replaceChildren(...(p.steps || []).map((s) => stepItem(`${prefix}-step`, s)));
  section($('steps-section'), (p.steps || []).length);

  const recreates = p.recreates || [];
  $('recreates').replaceChildren(
    ...recreates.map((r) =>
      h('li', { dataset: { testid: `${prefix}-recreated`, container: r.container?.name || '' } }, h('strong', { text: r.container?.name || '?' }), ` ${r.why || ''}`),
    ),
  );
  section($('recreates-section'), recreates.length);

  const deps = p.dependents || [];
  $('dependent-list').replaceChildren(...deps.map((d) => dependentItem(`${prefix}-dependent`, d)));
  section($('dependents'), deps.length);
  const box = $('recreate-dependents');
  if (box) box.checked = !!p.recreateDependents;

  const breaks = p.breaks || [];
  $('break-list').replaceChildren(...breaks.map((d) => dependentItem(`${prefix}-break`, d)));
  section($('breaks'), breaks.length);

  const loses = p.loses || [];
  const lost = loses.map(lossItem);
  if (!lost.length) lost.push(h('li', { className: 'none', dataset: { testid: 'nothing-lost' }, text: 'nothing' }));
  $('lost').replaceChildren(...lost);

  const notes = p.notes || [];
  $('notes').replaceChildren(...notes.map((n) => h('li', { dataset: { testid: `${prefix}-note` }, text: n })));
  section($('notes-section'), notes.length);
}

// dependentItem is one dependent (or broken dependent): who, on whom, how.
function dependentItem(testid, d) {
  const who = d.container?.name || '?';
  const on = d.on?.name || '?';
  const how = d.kind === 'link' ? `${who} → ${on}${d.alias ? ` as ${d.alias}` : ''}` : `${who} → ${on} (${d.kind})`;
  return h(
    'li',
    { dataset: { testid, container: who, on, alias: d.alias || '', kind: d.kind || '', breaks: String(!!d.breaks) } },
    h('strong', { text: how }),
    d.text ? `: ${d.text}` : '',
  );
}

// lossItem is one loss; a writable layer lists the files the engine
// reported changed in it.
function lossItem(l) {
  const li = h('li', { dataset: { testid: 'loss', kind: l.kind || '' } }, l.text || l.kind || '');
  if (l.kind !== 'writable-layer') return li;
  const files = (l.files || []).map((f) =>
    h('li', { dataset: { testid: 'lost-file' } }, h('span', { className: 'kind', text: kindText[f.kind] || f.kind || '' }), ' ', h('code', { text: f.path || '' })),
  );
  if (!files.length) files.push(h('li', { className: 'none', dataset: { testid: 'no-lost-files' }, text: 'no files changed outside volumes' }));
  if (l.truncated) files.push(h('li', { className: 'none', text: '… and more' }));
  li.append(h('ul', { className: 'file-list' }, ...files));
  return li;
}

function show(el, text) {
  if (!el) return;
  el.textContent = text;
  el.hidden = !text;
}

function section(el, n) {
  if (el) el.hidden = !n;
}
