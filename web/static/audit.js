// audit.js is the operators' list of changes asked of dockmap, done or
// refused, with who asked: GET /api/audit on load (the server keeps the
// latest 200), then the live "audit" messages {type: "audit", entry}. A
// viewer's page has no list and its connection gets no such message.
//
// entry: {time, role, remote, method, route, params, status, error, shell}
// (shell: a terminal session's start or end, see shell.js)

import { errorText } from './api.js';
import { h, shortID } from './dom.js';

// Rows beyond this are dropped, oldest first.
const maxRows = 100;

// createAudit fills list (and hides empty once there is a row), asking
// api; nameOf(id) names a container ID. It returns {add(entry)}, for the
// live messages.
export function createAudit({ list, empty, api, nameOf = () => '' }) {
  // Entries already shown, by a key of their fields: the load and the live
  // messages can overlap.
  const seen = new Set();

  // load shows the entries the server kept.
  async function load() {
    if (!list) return;
    try {
      const res = await api('GET', '/api/audit');
      for (const e of (res && res.entries) || []) add(e);
    } catch (err) {
      empty.textContent = `Could not load the changes: ${errorText(err)}`;
    }
  }

  // add shows one entry at the top.
  function add(e) {
    if (!list || !e) return;
    const key = [e.time, e.remote, e.method, e.route, JSON.stringify(e.params || {}), e.status].join('|');
    if (seen.has(key)) return;
    seen.add(key);
    // 101: a terminal session (e.shell), started or ended.
    const ok = (e.status >= 200 && e.status < 300) || e.status === 101;
    const when = new Date(e.time);
    const row = h('li', { className: `audit-row ${ok ? 'ok' : 'refused'}`, dataset: { testid: 'audit-row', status: String(e.status), route: e.route } },
      h('span', { className: 'audit-time', text: isNaN(when) ? '' : when.toLocaleTimeString() }),
      h('span', { className: 'audit-what', text: describe(e), dataset: { testid: 'audit-what' } }),
      h('span', { className: 'audit-who', text: `${e.role} · ${e.remote}`, dataset: { testid: 'audit-who' } }),
      h('span', { className: 'audit-result', text: e.shell ? shellResult(e.shell) : ok ? `${e.status} done` : `${e.status} ${e.error || 'refused'}`, dataset: { testid: 'audit-result' } }),
    );
    list.prepend(row);
    while (list.children.length > maxRows) list.lastElementChild.remove();
    empty.hidden = true;
  }

  // shellResult says how a terminal session went.
  function shellResult(sh) {
    if (sh.event === 'start') return `${sh.shell} started`;
    const exit = sh.exit === undefined || sh.exit === null ? '' : `, exit ${sh.exit}`;
    return `ended (${sh.reason}${exit}) after ${Math.round(sh.seconds || 0)} s`;
  }

  // describe is the request as "METHOD route" with its parameters filled in,
  // container IDs named where the map knows them; a terminal session is
  // "shell in <container>".
  function describe(e) {
    if (e.shell) return `shell in ${e.shell.container}`;
    const params = e.params || {};
    const path = String(e.route || '').replace(/:([a-z]+)/g, (_, p) => {
      const v = params[p];
      if (v === undefined) return `:${p}`;
      if (!/^[0-9a-f]{64}$/.test(v)) return v;
      return nameOf(v) || shortID(v);
    });
    return `${e.method} ${path}`;
  }

  load();
  return { add };
}
