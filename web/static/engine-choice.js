// engine-choice.js is the "Engine" select of the dialogs that create
// something (Run, new network, new volume) on a map of several engines:
// the server makes the new object on the engine ?engine=NAME names, and
// on the default engine without it (internal/server dispatch.go). With
// one engine the select stays hidden and nothing changes.

import { h } from './dom.js';

// The default engine's name (internal/engines Local): no ?engine= for it.
const localEngine = 'local';

// createEngineChoice adds the select (data-testid testid) at the top of
// form, under its title; api lists the engines. onChange(name) hears a
// new choice. It returns {refresh, name, query}.
export function createEngineChoice({ form, api, testid, onChange = () => {} }) {
  const sel = h('select', { dataset: { testid }, attrs: { 'aria-label': 'Engine' } });
  const field = h('label', { className: 'field', hidden: true }, h('span', { text: 'Engine' }), sel);
  const title = form.querySelector('h2');
  if (title) title.after(field);
  else form.prepend(field);
  // What was chosen last: a form reset must not take it back.
  let chosen = localEngine;
  sel.addEventListener('change', () => {
    chosen = sel.value;
    onChange(name());
  });

  // name is the chosen engine, or '' with one engine.
  const name = () => (field.hidden ? '' : sel.value);

  return {
    // refresh lists the engines again (one may have come or gone); an
    // engine that is down is offered but cannot be chosen.
    async refresh() {
      let list = [];
      try {
        list = (await api('GET', '/api/engines')) || [];
      } catch {
        // No list: the default engine, as with one.
      }
      field.hidden = list.length < 2;
      sel.replaceChildren(
        ...list.map((e) => h('option', { value: e.name, text: e.connected ? e.name : `${e.name} (unreachable)`, disabled: !e.connected })),
      );
      sel.value = list.some((e) => e.name === chosen && e.connected) ? chosen : localEngine;
      return name();
    },
    name,
    // query is what the request's path takes: "?engine=lab1", or ''.
    query() {
      const n = name();
      return n && n !== localEngine ? `?engine=${encodeURIComponent(n)}` : '';
    },
  };
}
