// leftovers.js shows the banner for containers left half-way by an
// interrupted re-create (dockmap or the engine stopped in the middle): the
// old container renamed aside, maybe a new one under the original name. It
// asks GET /api/recreate/leftovers on load and after every reconnect, and
// offers Roll back (the old container back under its name) or Finish (keep
// the new one, remove the old).

import { api, errorText } from './api.js';
import { h } from './dom.js';

let banner = null;
let list = null;
let loading = false;

// initLeftovers binds the module to the banner.
export function initLeftovers(el) {
  banner = el;
  list = el && el.querySelector('#leftovers-list');
}

// refreshLeftovers asks the server again and redraws the banner.
export async function refreshLeftovers() {
  if (!banner || loading) return;
  loading = true;
  let items;
  try {
    items = (await api('GET', '/api/recreate/leftovers')) || [];
  } catch (err) {
    // A server without the route, or without the engine, has nothing to
    // offer: no banner rather than a scary one.
    console.warn('dockmap: leftovers:', errorText(err));
    items = [];
  } finally {
    loading = false;
  }
  render(items);
}

function render(items) {
  list.replaceChildren(...items.map(normalise).map(row));
  banner.hidden = items.length === 0;
}

// normalise takes either spelling of a leftover's fields.
function normalise(l) {
  return {
    oldID: l?.oldID || '',
    oldName: l?.oldName || '',
    originalName: l?.originalName || '',
    newID: l?.newID || '',
    newRunning: !!l?.newRunning,
  };
}

function row(l) {
  const name = l.originalName || l.oldName || String(l.oldID || '').slice(0, 12);
  const status = h('span', { className: 'leftover-status', dataset: { testid: 'leftover-status' } });
  const buttons = [
    ['rollback', 'Roll back', `Put the old ${name} back under its name and remove the half-made new one`],
    ['finish', 'Finish', `Keep the new ${name}${l.newRunning ? ' (running)' : ''} and remove the old one`],
  ].map(([action, text, title]) => {
    const b = h('button', { type: 'button', text, title, dataset: { testid: `leftover-${action}` } });
    b.addEventListener('click', () => act(l, action, b, status));
    return b;
  });
  const detail = l.newID
    ? `old container kept as ${l.oldName}; a new ${name} exists${l.newRunning ? ' and runs' : ' but is not running'}`
    : `old container kept as ${l.oldName}; no new one was made`;
  return h(
    'li',
    { className: 'leftover', dataset: { testid: 'leftover', old: l.oldID } },
    h('span', { className: 'leftover-text' }, h('strong', { text: name }), ' was left half-way by an interrupted re-create'),
    h('span', { className: 'leftover-detail', text: ` (${detail}).` }),
    ...buttons,
    status,
  );
}

async function act(l, action, btn, status) {
  const buttons = btn.parentElement.querySelectorAll('button');
  buttons.forEach((b) => (b.disabled = true));
  status.textContent = action === 'rollback' ? 'rolling back…' : 'finishing…';
  status.classList.remove('error');
  try {
    await api('POST', `/api/recreate/leftovers/${encodeURIComponent(l.oldID)}/${action}`, {});
    status.textContent = 'done';
    await refreshLeftovers();
  } catch (err) {
    status.textContent = errorText(err);
    status.classList.add('error');
    buttons.forEach((b) => (b.disabled = false));
  }
}
