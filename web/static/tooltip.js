// tooltip.js shows a small box next to the pointer when it rests on a
// node or an edge of the graph: what the element is, and for probes the
// failure detail. The lines come from describe(ele) as [{text, cls}] and
// go in as text, never as HTML.

import { h } from './dom.js';

// How long the pointer must rest before the tooltip shows.
const showDelay = 250;

// initTooltip binds tip (an absolutely positioned element over the graph)
// to cy.
export function initTooltip(cy, tip, describe) {
  let timer = null;
  let current = null;

  const hide = () => {
    clearTimeout(timer);
    timer = null;
    current = null;
    tip.hidden = true;
  };

  const show = (ele, pos) => {
    const lines = describe(ele) || [];
    if (!lines.length) {
      hide();
      return;
    }
    tip.replaceChildren(...lines.map((l) => h('div', { className: l.cls || '', text: l.text })));
    tip.hidden = false;
    place(pos);
  };

  // place puts the box beside the pointer, inside the graph's area.
  const place = (pos) => {
    const w = cy.width();
    const hgt = cy.height();
    const bw = tip.offsetWidth;
    const bh = tip.offsetHeight;
    let x = pos.x + 16;
    let y = pos.y + 16;
    if (x + bw > w - 8) x = Math.max(8, pos.x - bw - 16);
    if (y + bh > hgt - 8) y = Math.max(8, pos.y - bh - 16);
    // CSSOM, not a style attribute: allowed under style-src 'self'.
    tip.style.left = `${Math.round(x)}px`;
    tip.style.top = `${Math.round(y)}px`;
  };

  cy.on('mouseover', 'node, edge', (ev) => {
    const ele = ev.target;
    if (ele.hasClass('overlay')) return;
    current = ele;
    clearTimeout(timer);
    const pos = ev.renderedPosition || ele.renderedPosition();
    timer = setTimeout(() => {
      if (current === ele) show(ele, pos);
    }, showDelay);
  });
  cy.on('mousemove', (ev) => {
    if (!tip.hidden && current && ev.renderedPosition) place(ev.renderedPosition);
  });
  cy.on('mouseout', 'node, edge', (ev) => {
    if (current === ev.target) hide();
  });
  cy.on('viewport tapstart remove', hide);

  return {
    hide,
    // refresh redraws the shown tooltip (its element's data changed).
    refresh() {
      if (current && !tip.hidden && current.inside()) {
        const lines = describe(current) || [];
        tip.replaceChildren(...lines.map((l) => h('div', { className: l.cls || '', text: l.text })));
      }
    },
  };
}
