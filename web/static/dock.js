// dock.js is the sidebar below the details panel: the lesson, the
// activity and the engine events as tabs (one shown at a time, in the
// room the panel leaves), and the separator that gives the panel more or
// less of the sidebar. Both choices are kept per browser, so a projector
// set up before class stays set up after a reload.
//
// Tabs follow the WAI-ARIA tabs pattern: arrow keys move between tabs,
// Home/End go to the ends, and only the selected tab is in the tab order.
// The separator moves with the mouse, a finger, or the arrow keys.

import { loadPref, storePref } from './prefs.js';

const tabKey = 'dockmap.dock.tab';
const shareKey = 'dockmap.dock.panelShare';

// The panel's share of the sidebar, in percent: never so small that its
// title is gone, never so large that the tabs are.
const minShare = 20;
const maxShare = 85;
const keyStep = 5;

// createDock wires the dock in root and returns what other modules need:
// select(tab) shows a tab, bump(tab) counts something that arrived on a
// tab not shown (a badge the user can see from the others).
export function createDock(root = document) {
  const dock = root.getElementById('dock');
  const sidebar = root.getElementById('sidebar');
  const resizer = root.getElementById('sidebar-resizer');
  if (!dock || !sidebar) return { select() {}, bump() {}, current: () => '' };
  const tabs = [...dock.querySelectorAll('[role=tab]')];
  const usable = () => tabs.filter((t) => !t.hidden);
  const unseen = new Map();

  const select = (name, { focus = false, remember = true } = {}) => {
    const tab = usable().find((t) => t.dataset.tab === name) || usable()[0];
    if (!tab) return;
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      root.getElementById(t.dataset.tab)?.classList.toggle('current', on);
    }
    unseen.set(tab.dataset.tab, 0);
    showCount(tab);
    dock.classList.add('ready');
    if (focus) tab.focus();
    if (remember) storePref(tabKey, tab.dataset.tab);
  };

  const showCount = (tab) => {
    const n = unseen.get(tab.dataset.tab) || 0;
    const badge = tab.querySelector('.tab-count');
    if (!badge) return;
    badge.hidden = n === 0;
    badge.textContent = n > 99 ? '99+' : String(n);
  };

  const current = () => tabs.find((t) => t.getAttribute('aria-selected') === 'true')?.dataset.tab || '';

  const bump = (name) => {
    if (current() === name) return;
    const tab = tabs.find((t) => t.dataset.tab === name);
    if (!tab || tab.hidden) return;
    unseen.set(name, (unseen.get(name) || 0) + 1);
    showCount(tab);
  };

  for (const t of tabs) t.addEventListener('click', () => select(t.dataset.tab));
  dock.querySelector('[role=tablist]')?.addEventListener('keydown', (e) => {
    const list = usable();
    const at = list.findIndex((t) => t.dataset.tab === current());
    let next = -1;
    if (e.key === 'ArrowRight') next = (at + 1) % list.length;
    else if (e.key === 'ArrowLeft') next = (at - 1 + list.length) % list.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = list.length - 1;
    if (next < 0) return;
    e.preventDefault();
    select(list[next].dataset.tab, { focus: true });
  });

  select(loadPref(tabKey) || 'event-feed', { remember: false });
  if (resizer) wireResizer(sidebar, resizer);
  return { select, bump, current };
}

// wireResizer lets the separator set the panel's share of the sidebar.
function wireResizer(sidebar, resizer) {
  const apply = (share, remember) => {
    const s = Math.round(Math.min(maxShare, Math.max(minShare, share)));
    sidebar.style.setProperty('--panel-share', `${s}%`);
    resizer.setAttribute('aria-valuenow', String(s));
    if (remember) storePref(shareKey, String(s));
    return s;
  };
  resizer.setAttribute('aria-valuemin', String(minShare));
  resizer.setAttribute('aria-valuemax', String(maxShare));
  const saved = Number(loadPref(shareKey));
  let share = apply(Number.isFinite(saved) && saved > 0 ? saved : 62, false);

  resizer.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    resizer.setPointerCapture(e.pointerId);
    const box = sidebar.getBoundingClientRect();
    const move = (ev) => {
      share = apply(((ev.clientY - box.top) / box.height) * 100, false);
    };
    const up = () => {
      resizer.removeEventListener('pointermove', move);
      resizer.removeEventListener('pointerup', up);
      resizer.removeEventListener('pointercancel', up);
      storePref(shareKey, String(share));
    };
    resizer.addEventListener('pointermove', move);
    resizer.addEventListener('pointerup', up);
    resizer.addEventListener('pointercancel', up);
  });
  resizer.addEventListener('keydown', (e) => {
    const to = { ArrowUp: share - keyStep, ArrowDown: share + keyStep, Home: minShare, End: maxShare }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    share = apply(to, true);
  });
  resizer.addEventListener('dblclick', () => {
    share = apply(62, true);
  });
}
