// leftovers.js shows the banner for containers left half-way by an
// interrupted re-create (dockmap or the engine stopped in the middle): the
// old container renamed aside, maybe a new one under the original name. It
// asks GET /api/recreate/leftovers on load and after every reconnect, and
// offers Roll back (the old container back under its name) or Finish (keep
// the new one, remove the old).

import { errorText } from './api.js';
import { h } from './dom.js';

// createLeftovers draws the banner el, asking api. It returns {refresh}.
export function createLeftovers({ el, api }) {
  const banner = el;
  const list = el && el.querySelector('#leftovers-list');
  let loading = false;

  // refresh asks the server again and redraws the banner.
  async function refresh() {
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
    list.replaceChildren(...items.map(row));
    banner.hidden = items.length === 0;
  }

  // row is one unfinished re-create {id, job, elsewhere, containers:
  // [{oldID, oldName, originalName, newID, newRunning}]}: one another running
  // dockmap carries out is only shown.
  function row(l) {
    const cs = l?.containers || [];
    const names = cs.map((c) => c.originalName || c.oldName || String(c.oldID || '').slice(0, 12)).join(', ') || '?';
    const status = h('span', { className: 'leftover-status', dataset: { testid: 'leftover-status' } });
    const buttons = l.elsewhere
      ? []
      : [
          ['rollback', 'Roll back', `Put the old ${names} back under their names and remove the half-made new ones`],
          ['finish', 'Finish', `Keep the new ${names} and remove the old ones`],
        ].map(([action, text, title]) => {
          const b = h('button', { type: 'button', text, title, dataset: { testid: `leftover-${action}` } });
          b.addEventListener('click', () => act(l, action, b, status));
          return b;
        });
    const detail = cs
      .map((c) =>
        c.newID
          ? `${c.originalName}: old kept as ${c.oldName}; a new one exists${c.newRunning ? ' and runs' : ' but is not running'}`
          : `${c.originalName}: old kept as ${c.oldName}; no new one was made`,
      )
      .join('; ');
    const what = l.elsewhere ? ' is being re-created by another dockmap on this engine' : ' was left half-way by an interrupted re-create';
    return h(
      'li',
      { className: 'leftover', dataset: { testid: 'leftover', id: l.id || '', job: l.job || '' } },
      h('span', { className: 'leftover-text' }, h('strong', { text: names }), what),
      h('span', { className: 'leftover-detail', text: detail ? ` (${detail}).` : '.' }),
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
      await api('POST', `/api/recreate/leftovers/${encodeURIComponent(l.id)}/${action}`, {});
      status.textContent = 'done';
      await refresh();
    } catch (err) {
      status.textContent = errorText(err);
      status.classList.add('error');
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  return { refresh };
}
