// actions.js runs the container panel's lifecycle buttons (rendered by
// templates.ContainerPanel with data-action): start, stop and restart at
// once; remove and force remove after a confirm dialog, force remove only
// once the user has typed the container's name. An error shows inline in
// the panel (action-error), with the server's detail. Requests go through
// sendPlanned, so a plan the server wants confirmed is shown first.

import { errorText } from './api.js';
import { confirmAction } from './dialogs.js';
import { showText, submitting } from './dom.js';

// withPlan adds a confirmed plan's ID to a DELETE's query (it has no body).
export const withPlan = (path, conf) => (conf.plan ? `${path}${path.includes('?') ? '&' : '?'}plan=${encodeURIComponent(conf.plan)}` : path);

const busyText = { start: 'Starting…', stop: 'Stopping…', restart: 'Restarting…' };

// createActions wires the lifecycle buttons of panel (createPanel),
// calling api through sendPlanned (planned.js createPlanned).
export function createActions({ panel, api, sendPlanned }) {
  // The last error per container node, so that a refresh of the panel
  // (which re-renders it) does not hide it.
  const errors = new Map();

  // wire listens to the buttons of the panel.
  function wire() {
    panel.el.addEventListener('click', (ev) => {
      const btn = ev.target instanceof Element ? ev.target.closest('button[data-action]') : null;
      if (!btn || !panel.el.contains(btn)) return;
      const action = btn.dataset.action;
      if (!['start', 'stop', 'restart', 'remove', 'force-remove'].includes(action)) return;
      const c = panel.container();
      if (!c) return;
      ev.preventDefault();
      run(btn, action, c);
    });
    panel.onLoad((p, nodeID) => showText(p.querySelector('[data-testid=action-error]'), errors.get(nodeID) || ''));
  }

  function setError(c, text) {
    if (text) errors.set(c.nodeID, text);
    else errors.delete(c.nodeID);
    if (panel.container()?.nodeID === c.nodeID) showText(panel.el.querySelector('[data-testid=action-error]'), text);
  }

  async function run(btn, action, c) {
    const ref = encodeURIComponent(c.id);
    setError(c, '');
    if (action === 'remove') {
      await confirmAction({
        title: `Remove ${c.name}?`,
        message: `The container ${c.name} is deleted (docker rm). Its named volumes are kept; what it wrote outside volumes is lost.`,
        confirmLabel: 'Remove',
        danger: true,
        action: () => sendPlanned((conf) => api('DELETE', withPlan(`/api/containers/${ref}`, conf))),
      });
      return;
    }
    if (action === 'force-remove') {
      await confirmAction({
        title: `Force remove ${c.name}?`,
        message: `The container ${c.name} is killed if it runs, then deleted (docker rm -f). Its named volumes are kept; what it wrote outside volumes is lost.`,
        confirmLabel: 'Force remove',
        danger: true,
        typeName: c.name,
        action: () => sendPlanned((conf) => api('DELETE', withPlan(`/api/containers/${ref}?force=1`, conf))),
      });
      return;
    }
    const label = btn.textContent;
    try {
      await submitting(btn, busyText[action] || `${label}…`, () => sendPlanned((conf) => api('POST', `/api/containers/${ref}/${action}`, conf)));
    } catch (err) {
      setError(c, `${label} failed: ${errorText(err)}`);
    }
  }

  wire();
}
