// logs.js shows a container's logs in its panel's Logs tab (the
// LogsSection fragment, there only for whom may read logs): lines with
// their local time, stderr marked in colour and with a text mark, a search
// box that filters and highlights, a "since" choice and a follow switch.
//
// The view (its lines and its stream) is built here once per container and
// moved into each new fragment: the panel re-renders on every change of the
// map, and the lines must survive that. The stream (an EventSource on
// GET /api/containers/{id}/logs?follow=1) runs only while the tab is open
// and the container is the one shown; closing either closes it. Opened
// again, it resumes from the time of the last line shown: the server sends
// the line at exactly that time again, and the lines already shown (by
// time, stream and text) are dropped, so nothing is lost or doubled.
// The store's logsFollowing says whether a stream is open.

import { h } from './dom.js';
import { loadPref, storePref } from './prefs.js';

// maxLines is the most lines kept on the page: a noisy container must not
// slow the projector's page down. The oldest go first.
const maxLines = 5000;

// sinceChoices are the "since" select's options: [value, label, query].
const sinceChoices = [
  ['tail', 'last 200 lines', ''],
  ['10m', 'last 10 minutes', 'since=10m'],
  ['1h', 'last hour', 'since=1h'],
  ['all', 'all', 'tail=all'],
];

const openPref = 'dockmap.logs.open';

// sortable turns an RFC 3339 time with up to nine digits of fraction into
// a string that sorts as the time does (Go trims trailing zeros).
function sortable(time) {
  return time.replace(/(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/, (_, frac = '', zone) => `.${frac.padEnd(9, '0')}${zone}`);
}

// shortClock is the line's local time, hh:mm:ss.
function shortClock(time) {
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

// createLogs adds the Logs tab's behaviour to panel (panel.js), following
// store's selection.
export function createLogs({ panel, store }) {
  let view = null;

  panel.onLoad((p, id) => attach(p, id));
  store.on('change:selected', (sel) => {
    if (view && sel !== view.nodeID) stop(view);
  });

  // attach puts the view of container nodeID into the fragment p just
  // loaded: the one it had, or a new one for another container.
  function attach(p, nodeID) {
    const details = p.querySelector('[data-testid=logs]');
    if (!details) {
      if (view) stop(view);
      return;
    }
    if (!view || view.nodeID !== nodeID) {
      if (view) stop(view);
      view = newView(nodeID, details.dataset.logsName || '');
    }
    const v = view;
    p.querySelector('[data-testid=logs-slot]')?.replaceWith(v.el);
    details.addEventListener('toggle', () => {
      if (v !== view) return;
      // Opened by the user (not again after a refresh): the panel is
      // short, and the lines would start below its fold.
      if (details.open && !v.open) requestAnimationFrame(() => v.el.scrollIntoView({ block: 'nearest' }));
      v.open = details.open;
      storePref(openPref, details.open ? '1' : '0');
      if (details.open) start(v);
      else stop(v);
    });
    if (v.open) {
      details.open = true;
      start(v);
    }
    if (v.stick) v.list.scrollTop = v.list.scrollHeight;
    else v.list.scrollTop = v.scroll;
  }

  function newView(nodeID, name) {
    const v = {
      nodeID,
      ref: nodeID.replace(/^c:/, ''),
      open: loadPref(openPref) === '1',
      source: null,
      lastTime: '', // the time of the latest line shown, as the server wrote it
      keys: new Set(), // time, stream and text of each line shown
      pending: [], // lines waiting for the next frame
      frame: 0,
      stick: true, // keep the newest line in view until the user scrolls up
      scroll: 0,
      query: '',
      ended: false,
    };
    v.search = h('input', {
      type: 'search',
      className: 'logs-search',
      placeholder: 'Search',
      autocomplete: 'off',
      spellcheck: false,
      dataset: { testid: 'logs-search' },
      attrs: { 'aria-label': `Search the logs of ${name}` },
    });
    v.since = h(
      'select',
      { className: 'logs-since', dataset: { testid: 'logs-since' }, attrs: { 'aria-label': 'Since' } },
      sinceChoices.map(([value, label]) => h('option', { value, text: label })),
    );
    v.follow = h('input', { type: 'checkbox', checked: true, dataset: { testid: 'logs-follow' } });
    v.status = h('p', { className: 'logs-status', dataset: { testid: 'logs-status' }, attrs: { 'aria-live': 'polite' } });
    v.list = h('div', {
      className: 'logs-list',
      tabIndex: 0,
      dataset: { testid: 'logs-list' },
      attrs: { role: 'log', 'aria-label': `Logs of ${name}` },
    });
    v.el = h(
      'div',
      { className: 'logs-view', dataset: { testid: 'logs-view' } },
      h('div', { className: 'logs-controls' }, v.search, v.since, h('label', { className: 'logs-follow' }, v.follow, ' follow')),
      v.status,
      v.list,
    );
    let searchTimer = 0;
    v.search.addEventListener('input', () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        v.query = v.search.value.trim().toLowerCase();
        for (const row of v.list.children) filterRow(v, row);
      }, 100);
    });
    v.since.addEventListener('change', () => {
      stop(v);
      clear(v);
      start(v);
    });
    v.follow.addEventListener('change', () => {
      if (v.follow.checked) start(v);
      else stop(v);
    });
    v.list.addEventListener('scroll', () => {
      v.scroll = v.list.scrollTop;
      // Detached by a refresh of the panel, the list reports no height.
      if (v.list.isConnected && v.list.clientHeight > 0) {
        v.stick = v.list.scrollTop + v.list.clientHeight >= v.list.scrollHeight - 24;
      }
    });
    return v;
  }

  // url is the request that goes on from what v shows: from its last
  // line, or from the "since" choice when it shows none.
  function url(v, follow) {
    const choice = sinceChoices.find(([value]) => value === v.since.value) || sinceChoices[0];
    const q = v.lastTime ? `since=${encodeURIComponent(v.lastTime)}` : choice[2];
    const params = [q, follow ? 'follow=1' : ''].filter(Boolean).join('&');
    return `/api/containers/${encodeURIComponent(v.ref)}/logs${params ? '?' + params : ''}`;
  }

  function start(v) {
    if (v !== view || !v.open || v.source) return;
    if (!v.follow.checked) {
      readOnce(v);
      return;
    }
    v.ended = false;
    setStatus(v, 'following…');
    const es = new EventSource(url(v, true));
    v.source = es;
    store.set({ logsFollowing: true });
    es.addEventListener('open', () => {
      if (v.source === es) setStatus(v, 'following');
    });
    es.addEventListener('line', (ev) => {
      if (v.source !== es) return;
      try {
        add(v, JSON.parse(ev.data));
      } catch (err) {
        console.warn('dockmap: log line', err);
      }
    });
    es.addEventListener('end', () => {
      if (v.source !== es) return;
      stop(v);
      v.ended = true;
      setStatus(v, 'the container stopped: no more lines until it runs again');
    });
    es.addEventListener('fail', (ev) => {
      if (v.source !== es) return;
      let msg = 'reading the logs broke off';
      try {
        msg = JSON.parse(ev.data).error || msg;
      } catch {
        // keep the general words
      }
      stop(v);
      setStatus(v, msg);
    });
    es.addEventListener('error', () => {
      if (v.source !== es) return;
      // CONNECTING: the browser reconnects by itself, from the last
      // line's id. CLOSED: the server refused (a status, not a stream).
      if (es.readyState === EventSource.CLOSED) {
        stop(v);
        setStatus(v, 'the logs could not be read (signed out, or the container was removed?)');
      } else {
        setStatus(v, 'reconnecting…');
      }
    });
  }

  // readOnce reads the logs as they are now, without following.
  async function readOnce(v) {
    const ctrl = new AbortController();
    v.source = { close: () => ctrl.abort() };
    const mine = v.source;
    setStatus(v, 'reading…');
    try {
      const res = await fetch(url(v, false), { credentials: 'same-origin', signal: ctrl.signal });
      if (!res.ok) {
        let msg = `HTTP ${res.status}`;
        try {
          msg = (await res.json()).error || msg;
        } catch {
          // keep the status
        }
        setStatus(v, `the logs could not be read: ${msg}`);
        return;
      }
      const text = await res.text();
      for (const line of text.split('\n')) {
        if (line) add(v, JSON.parse(line));
      }
      setStatus(v, 'not following');
    } catch (err) {
      if (err.name !== 'AbortError') setStatus(v, 'the logs could not be read');
    } finally {
      if (v.source === mine) v.source = null;
    }
  }

  function stop(v) {
    if (v.source) {
      v.source.close();
      v.source = null;
      store.set({ logsFollowing: false });
      if (!v.ended) setStatus(v, 'not following');
    }
  }

  function clear(v) {
    v.lastTime = '';
    v.keys.clear();
    v.pending = [];
    v.list.replaceChildren();
    v.stick = true;
  }

  function setStatus(v, text) {
    v.status.textContent = text;
  }

  // add shows line l unless it is shown already (a resume sends the last
  // line again), in the next animation frame with the others of a burst.
  function add(v, l) {
    const key = `${l.time}\u0000${l.stream}\u0000${l.text}`;
    if (v.keys.has(key)) return;
    v.keys.add(key);
    if (!v.lastTime || sortable(l.time) > sortable(v.lastTime)) v.lastTime = l.time;
    v.pending.push({ ...l, key });
    // A background tab runs no frames: what waits is capped as the list
    // is, so a noisy container cannot fill the memory meanwhile.
    if (v.pending.length > maxLines) {
      for (const old of v.pending.splice(0, v.pending.length - maxLines)) v.keys.delete(old.key);
    }
    if (!v.frame) v.frame = requestAnimationFrame(() => flush(v));
  }

  function flush(v) {
    v.frame = 0;
    const rows = v.pending.map((l) => row(v, l));
    v.pending = [];
    const stick = v.stick;
    v.list.append(...rows);
    const extra = v.list.children.length - maxLines;
    for (let i = 0; i < extra; i++) {
      const first = v.list.firstElementChild;
      v.keys.delete(first.dataset.key);
      first.remove();
    }
    if (stick) v.list.scrollTop = v.list.scrollHeight;
  }

  function row(v, l) {
    const err = l.stream === 'stderr';
    const r = h(
      'div',
      { className: `log-line ${err ? 'stderr' : 'stdout'}`, dataset: { testid: 'log-line', stream: l.stream, time: l.time, key: l.key } },
      h('time', { className: 'log-time', text: shortClock(l.time), attrs: { datetime: l.time }, title: l.time }),
      // Colour alone would not tell a reader without it: stderr says so.
      h('span', { className: 'log-mark', text: err ? 'err' : '', attrs: { 'aria-label': err ? 'stderr' : 'stdout' } }),
      h('span', { className: 'log-text', dataset: { testid: 'log-text' }, text: l.text }),
    );
    filterRow(v, r);
    return r;
  }

  // filterRow hides a row the search leaves out and marks what matched.
  function filterRow(v, r) {
    const span = r.querySelector('.log-text');
    const text = span.textContent;
    const at = v.query ? text.toLowerCase().indexOf(v.query) : -1;
    r.hidden = Boolean(v.query) && at < 0;
    if (at < 0) {
      if (span.childElementCount) span.textContent = text;
      return;
    }
    const parts = [];
    let from = 0;
    const lower = text.toLowerCase();
    for (let i = at; i >= 0; i = lower.indexOf(v.query, from)) {
      parts.push(text.slice(from, i), h('mark', { text: text.slice(i, i + v.query.length) }));
      from = i + v.query.length;
    }
    parts.push(text.slice(from));
    span.replaceChildren(...parts);
  }

}
