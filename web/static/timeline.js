// timeline.js is the session's timeline (key t): everything the server
// recorded (events, probes, actions, lesson ticks) as marks on a scrubber.
// Dragging back shows the map as it was at that moment, drawn over the
// live map by a second Cytoscape (the live one keeps up underneath, so
// "Live" is instant); Export downloads the session as a file that
// `dockmap --replay FILE` opens read-only.
//
// The scrubber moves from mark to mark: one step of the arrow keys is one
// thing that happened, and the last step is "now".

import { api, errorText } from './api.js';
import { h, showText, clock } from './dom.js';

// The server caps the marks it sends; the page asks for its latest ones.
const markLimit = 5000;


// createTimeline wires the timeline bar in root. cy is the live map;
// graph is the map's own module ({createGraph, renderSnapshot}) so the
// past is drawn with the same style; onToggle(open) is told when the bar
// opens or closes (the map refits).
export function createTimeline({ root = document, cy, graph, onToggle = () => {} }) {
  const bar = root.getElementById('timeline');
  const range = root.getElementById('timeline-range');
  const ticks = root.getElementById('timeline-marks');
  const timeEl = root.getElementById('timeline-time');
  const live = root.getElementById('timeline-live');
  const errEl = root.getElementById('timeline-error');
  const past = root.getElementById('graph-past');
  const pastNote = root.getElementById('graph-past-note');
  if (!bar || !range) return { toggle() {}, refresh() {}, open: () => false };

  let marks = [];
  let pastCy = null;
  let asked = 0;

  const isLive = () => Number(range.value) >= marks.length;

  const showLive = () => {
    range.value = String(marks.length);
    timeEl.textContent = 'now';
    bar.dataset.at = 'live';
    past.hidden = true;
    if (pastNote) pastNote.hidden = true;
    live.disabled = true;
  };

  const load = async () => {
    try {
      const got = await api('GET', `/api/timeline?limit=${markLimit}`);
      marks = got.marks || [];
      showText(errEl, got.dropped ? `The oldest ${got.dropped} entries were dropped to stay within the server's memory bound.` : '');
      range.max = String(marks.length);
      drawTicks();
      if (bar.dataset.at === 'live' || !bar.dataset.at) showLive();
    } catch (err) {
      showText(errEl, `The timeline could not be loaded: ${errorText(err)}`);
    }
  };

  const drawTicks = () => {
    if (!ticks) return;
    const n = Math.max(marks.length, 1);
    ticks.replaceChildren(
      ...marks.map((m, i) =>
        h('span', {
          className: `timeline-mark mark-${m.type}`,
          title: `${clock(m.t)} ${m.text}`,
          dataset: { i },
        }),
      ),
    );
    // Positions through CSS custom properties (inline style attributes
    // are blocked by the page's CSP; properties set from script are not).
    ticks.querySelectorAll('.timeline-mark').forEach((el, i) => el.style.setProperty('--at', `${(i / n) * 100}%`));
  };

  const showAt = async (i) => {
    if (i >= marks.length) {
      showLive();
      return;
    }
    const m = marks[i];
    bar.dataset.at = m.t;
    timeEl.textContent = `${clock(m.t)} · ${m.text}`;
    live.disabled = false;
    const n = ++asked;
    try {
      const snap = await api('GET', `/api/timeline/at?t=${encodeURIComponent(m.t)}`);
      if (n !== asked || isLive()) return;
      drawPast(snap, m);
    } catch (err) {
      if (n === asked) showText(errEl, errorText(err));
    }
  };

  // drawPast draws snap over the live map, each node where the live map
  // has it (so the eye compares like with like), the others laid out.
  const drawPast = (snap, m) => {
    past.hidden = false;
    if (!pastCy) {
      pastCy = graph.createGraph(past);
      pastCy.autoungrabify(true);
      // For people and browser tests, beside window.cy.
      window.dockmapPast = pastCy;
    }
    graph.renderSnapshot(pastCy, snap);
    pastCy.batch(() => {
      pastCy.nodes().forEach((n) => {
        const l = cy.getElementById(n.id());
        if (l.nonempty()) n.position({ ...l.position() });
      });
    });
    pastCy.viewport({ zoom: cy.zoom(), pan: { ...cy.pan() } });
    if (pastNote) {
      pastNote.textContent = `The map as it was at ${clock(m.t)}. Live (Esc) to come back.`;
      pastNote.hidden = false;
    }
    past.dataset.at = m.t;
  };

  let dragging = 0;
  range.addEventListener('input', () => {
    clearTimeout(dragging);
    const i = Number(range.value);
    timeEl.textContent = i >= marks.length ? 'now' : `${clock(marks[i].t)} · ${marks[i].text}`;
    // While dragging, the map follows at most every 120 ms.
    dragging = setTimeout(() => showAt(i), 120);
  });
  live.addEventListener('click', showLive);
  // The scrubber has the keyboard while in use: Esc there comes back to
  // now, as it does on the map.
  range.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    showLive();
  });
  ticks?.addEventListener('click', (e) => {
    const i = Number(e.target?.dataset?.i);
    if (!Number.isInteger(i)) return;
    range.value = String(i);
    showAt(i);
  });

  let refreshTimer = 0;
  return {
    open: () => !bar.hidden,
    toggle(force) {
      const open = force === undefined ? bar.hidden : force;
      bar.hidden = !open;
      root.getElementById('timeline-toggle')?.setAttribute('aria-pressed', String(open));
      if (open) {
        load();
        range.focus();
      } else {
        showLive();
      }
      onToggle(open);
    },
    // refresh takes new marks while the bar is open (after frames come).
    refresh() {
      if (bar.hidden || refreshTimer) return;
      refreshTimer = setTimeout(() => {
        refreshTimer = 0;
        const wasLive = isLive();
        load().then(() => {
          if (wasLive) showLive();
        });
      }, 1000);
    },
    // escape returns to now; true when it did something.
    escape() {
      if (bar.hidden || isLive()) return false;
      showLive();
      return true;
    },
  };
}
