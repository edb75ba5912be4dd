// classview.js is the class view (key g): with one engine per participant,
// every participant's lab side by side, small, in a grid over the map. A
// tile says the engine's name and state, draws its containers and networks
// as the map has them (live), and says where the participant is in the
// lesson chosen in the Lesson tab (GET /api/lessons/{id}/progress, the rows
// that carry `engine`). An engine that goes away greys its own tile only.
// A click on a tile (or Enter on it) closes the grid and shows that lab
// alone, full size (focus host:NAME).
//
// It is for an instructor at a projector, and changes nothing: viewers get
// it too. Every text from an engine goes in through textContent.

import { openDialog } from './dialogs.js';
import { h } from './dom.js';
import { collapseHost, isCollapsed } from './graph-hosts.js';

const svgNS = 'http://www.w3.org/2000/svg';

// The default engine is the instructor's own, not a participant's lab.
const localEngine = 'local';

// Sizes in a tile's picture, in pixels on screen whatever the lab's size.
const labelPx = 11;
const dotPx = 7;

// A small lab in a big tile is drawn no larger than the map draws it.
const minScale = 1;

// Longer names are cut: a tile is a glance, the map has the rest.
const maxName = 16;

// createClassView wires the class view in root over the map cy. lesson is
// the Lesson tab (createLesson: the chosen lesson and its progress rows),
// focus shows one host alone (createFocus), fit() fits the view to what is
// shown at once (graph.js fitGraph). engines(list) takes every engines list
// (GET /api/engines, the engines frame).
export function createClassView({ root = document, cy, lesson, focus, fit }) {
  const dlg = root.getElementById('class-view');
  const openBtn = root.getElementById('class-view-open');
  if (!dlg) return { toggle() {}, engines() {}, available: () => false };
  const grid = root.getElementById('class-view-tiles');
  const head = root.getElementById('class-view-lesson');
  const empty = root.getElementById('class-view-empty');

  let list = []; // every engine, in the engines list's order
  let shown = { lesson: null, rows: [] }; // the chosen lesson's progress
  let stopProgress = null;
  let frame = 0;
  const tiles = new Map(); // engine name → its tile

  const labs = () => list.filter((e) => e.name !== localEngine);
  // Worth opening with two engines or more: one is the local engine.
  const available = () => list.length >= 2;

  const open = () => {
    if (!available()) return;
    openDialog(dlg);
    // The rows follow the lesson frames only while the grid is open.
    stopProgress ??= lesson.progress((p) => {
      shown = p;
      render();
    });
    render();
    grid.querySelector('.class-tile')?.focus();
  };

  dlg.addEventListener('close', () => {
    stopProgress?.();
    stopProgress = null;
  });

  // A key while the grid has the keyboard: g closes it as it opened it
  // (Escape closes any dialog by itself).
  dlg.addEventListener('keydown', (ev) => {
    if (ev.key === 'g' && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      dlg.close();
    }
  });
  openBtn?.addEventListener('click', open);

  // openLab closes the grid and shows engine name's lab alone, full size.
  const openLab = (name) => {
    dlg.close();
    if (isCollapsed(cy, name)) collapseHost(cy, name, false);
    focus.show('host', name);
    // What is shown is now that lab alone: fitted as Fit fits it, after
    // the dialog is gone, so that the fit uses the map's own size. The
    // labels kept readable grow as the map zooms out (graph.js
    // keepLabels), so a fit from the whole class's view comes out too
    // small: it is fitted again, a frame later, once they have shrunk,
    // until it holds. body[data-class-lab] then says which lab is open,
    // for tests.
    delete document.body.dataset.classLab;
    let tries = 4;
    const settle = () => {
      const before = cy.zoom();
      fit();
      if (--tries > 0 && Math.abs(cy.zoom() / before - 1) > 0.01) requestAnimationFrame(settle);
      else document.body.dataset.classLab = name;
    };
    requestAnimationFrame(settle);
  };

  // soon redraws once per frame while the grid is open: a delta, a
  // layout moving every node, a state change.
  const soon = () => {
    if (!dlg.open || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  };
  cy.on('add remove position data class', soon);
  // A tile's picture is drawn for its size.
  new ResizeObserver(soon).observe(grid);

  function render() {
    const want = labs();
    if (openBtn) openBtn.hidden = !available();
    empty.hidden = want.length > 0;
    const l = shown.lesson;
    head.textContent = l ? `${l.title} · ${l.steps.length} steps` : 'Choose a lesson in the Lesson tab to see everyone’s progress';
    // Columns for a projector: 12 labs fit 1280×720 as 4×3, without
    // scrolling.
    const n = want.length;
    const cols = n <= 3 ? Math.max(n, 1) : n === 4 ? 2 : n <= 6 ? 3 : n <= 8 ? 4 : n === 9 ? 3 : n <= 12 ? 4 : 5;
    grid.style.setProperty('--cols', String(cols));
    grid.style.setProperty('--rows', String(Math.max(1, Math.ceil(n / cols))));

    for (const name of [...tiles.keys()]) {
      if (!want.some((e) => e.name === name)) tiles.delete(name);
    }
    const ordered = want.map((e) => {
      let tile = tiles.get(e.name);
      if (!tile) {
        tile = makeTile(e.name);
        tiles.set(e.name, tile);
      }
      fill(tile, e);
      return tile.el;
    });
    // Put back in order only when it changed: moving a tile would take
    // the keyboard's focus from it.
    const now = [...grid.children];
    if (now.length !== ordered.length || now.some((el, i) => el !== ordered[i])) grid.replaceChildren(...ordered);
  }

  function makeTile(name) {
    const nameEl = h('strong', { className: 'class-tile-name', text: name });
    const state = h('span', { className: 'class-tile-state', dataset: { testid: 'class-tile-state' } });
    const pic = document.createElementNS(svgNS, 'svg');
    pic.setAttribute('class', 'class-tile-map');
    pic.setAttribute('aria-hidden', 'true');
    const count = h('span', { className: 'class-tile-done', dataset: { testid: 'class-tile-done' } });
    const step = h('span', { className: 'class-tile-step', dataset: { testid: 'class-tile-step' } });
    const stuck = h('span', { className: 'class-tile-stuck', dataset: { testid: 'class-tile-stuck' }, text: 'stuck', hidden: true });
    const el = h(
      'button',
      { type: 'button', className: 'class-tile', dataset: { testid: 'class-tile', engine: name } },
      h('span', { className: 'class-tile-head' }, nameEl, state),
      pic,
      h('span', { className: 'class-tile-progress' }, count, step, stuck),
    );
    el.addEventListener('click', () => openLab(name));
    return { el, state, pic, count, step, stuck };
  }

  // fill brings tile up to date with engine e, its lab on the map and its
  // progress row.
  function fill(tile, e) {
    const { el } = tile;
    el.classList.toggle('down', !e.connected);
    el.dataset.connected = String(!!e.connected);
    tile.state.textContent = e.connected ? 'connected' : `unreachable${e.error ? `: ${e.error}` : ''}`;
    tile.state.title = tile.state.textContent;

    const l = shown.lesson;
    const row = rowOf(shown.rows, e.name);
    const total = l ? l.steps.length : 0;
    const done = row ? row.done : 0;
    el.dataset.done = l ? String(done) : '';
    el.dataset.total = l ? String(total) : '';
    el.dataset.step = row ? row.step || '' : '';
    el.dataset.stuck = String(!!row?.stuck);
    el.classList.toggle('stuck', !!row?.stuck);
    tile.count.textContent = l ? `${done}/${total}` : '';
    tile.step.textContent = !l ? '' : !row ? 'not started' : row.step ? row.stepTitle || row.step : 'all done';
    tile.stuck.hidden = !row?.stuck;
    const where = l ? `, ${done} of ${total} steps done, ${tile.step.textContent}${row?.stuck ? ', stuck' : ''}` : '';
    el.setAttribute('aria-label', `${e.name}: ${tile.state.textContent}${where}. Open full size`);

    draw(tile.pic, e.name);
  }

  // draw puts host name's containers and networks, and the edges between
  // them, into svg at the places they have on the map.
  function draw(svg, name) {
    const nodes = cy.nodes().filter((n) => n.data('host') === name && (n.hasClass('container') || (n.hasClass('network') && !n.hasClass('empty'))));
    const ids = new Set(nodes.map((n) => n.id()));
    const edges = nodes.connectedEdges().not('.overlay').filter((x) => ids.has(x.source().id()) && ids.has(x.target().id()));
    const parts = [];
    if (nodes.nonempty()) {
      const bb = boxOf(nodes);
      // k: model units per screen pixel, as the picture is scaled to fit.
      const w = svg.clientWidth || 280;
      const ht = svg.clientHeight || 120;
      // Room for the names around it, in screen pixels: beside (they are
      // wider than their dot) and below.
      const side = 50;
      const top = 10;
      const below = 2 * labelPx + 6;
      const k = Math.max(bb.w / Math.max(w - 2 * side, 40), bb.h / Math.max(ht - top - below, 30), minScale);
      const vw = w * k;
      const vh = ht * k;
      // Centred in the tile, at that scale.
      const x0 = bb.x1 + bb.w / 2 - vw / 2;
      const y0 = bb.y1 - top * k + (bb.h + (top + below) * k) / 2 - vh / 2;
      svg.setAttribute('viewBox', `${x0} ${y0} ${vw} ${vh}`);
      edges.forEach((x) => {
        const a = x.source().position();
        const b = x.target().position();
        parts.push(svgEl('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: x.data('colour') || '#8a96a3', 'stroke-width': 1.5 * k, class: `edge ${x.data('kind')}` }));
      });
      nodes.filter('.network').forEach((n) => {
        const p = n.position();
        const nw = n.width();
        const nh = n.height();
        const colour = n.data('colour') || '#607d8b';
        parts.push(svgEl('rect', { x: p.x - nw / 2, y: p.y - nh / 2, width: nw, height: nh, rx: 8, fill: colour, 'fill-opacity': 0.18, stroke: colour, 'stroke-width': 1.5 * k, class: 'network' }));
        parts.push(label(n.data('name'), p.x, p.y + labelPx * k * 0.35, k, 'network-label'));
      });
      nodes.filter('.container').forEach((n) => {
        const p = n.position();
        const r = Math.max(dotPx * k, Math.min(n.width(), n.height()) / 2);
        parts.push(svgEl('circle', { cx: p.x, cy: p.y, r, class: n.hasClass('running') ? 'container running' : 'container stopped' }));
        parts.push(label(n.data('name'), p.x, p.y + r + labelPx * k, k, 'container-label'));
      });
    } else {
      svg.setAttribute('viewBox', '0 0 280 120');
      parts.push(label('no containers', 140, 64, 1, 'nothing'));
    }
    svg.replaceChildren(...parts);
    svg.dataset.nodes = String(nodes.length);
  }

  return {
    // toggle opens or closes the grid (key g); with fewer than two
    // engines there is none.
    toggle() {
      if (dlg.open) dlg.close();
      else open();
    },
    available,
    // engines takes the engines list (GET /api/engines, the engines
    // frame): the tiles and their state.
    engines(l) {
      if (!Array.isArray(l)) return;
      list = l;
      if (openBtn) openBtn.hidden = !available();
      if (dlg.open) render();
    },
  };
}

// rowOf is the progress row of engine's participant: the furthest on when
// several prefixes share the engine.
function rowOf(rows, engine) {
  let best = null;
  for (const r of rows || []) {
    if (r.engine !== engine) continue;
    if (!best || r.done > best.done) best = r;
  }
  return best;
}

// boxOf is the box around nodes from their places and sizes: Cytoscape's
// own boundingBox leaves out what is hidden (another host shown alone, a
// collapsed host), and a tile draws its lab all the same.
function boxOf(nodes) {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  nodes.forEach((n) => {
    const p = n.position();
    const w = n.width() / 2;
    const ht = n.height() / 2;
    x1 = Math.min(x1, p.x - w);
    y1 = Math.min(y1, p.y - ht);
    x2 = Math.max(x2, p.x + w);
    y2 = Math.max(y2, p.y + ht);
  });
  return { x1, y1, w: x2 - x1, h: y2 - y1 };
}

function svgEl(tag, attrs) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// label is a text of about labelPx on screen at scale k (model units per
// pixel), centred on x.
function label(text, x, y, k, cls) {
  const s = String(text || '');
  const t = svgEl('text', { x, y, 'font-size': labelPx * k, 'text-anchor': 'middle', class: cls });
  t.textContent = s.length > maxName ? `${s.slice(0, maxName - 1)}…` : s;
  return t;
}
