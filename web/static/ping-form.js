// ping-form.js runs the panel's Ping section (templates.pingSection): "Ping
// now" probes from the panel's container to the chosen target by IP, by
// name or both, ICMP or TCP to a port; "Ping neighbours" probes to every
// container sharing a network or a link with it. Results show in the
// section (probes.renderPanelResults), on the graph and in the matrix.

import { errorText } from './api.js';
import { h, showText } from './dom.js';
import { onReachChanged, prediction, predictionText, verdict } from './reach.js';
import { onPanelLoad, panelContainer } from './panel.js';
import { onProbesChanged, pingNeighbours, pingPair, renderPanelResults } from './probes.js';

// initPingResults keeps the section's results and prediction current, for
// everyone: a viewer has no form but sees what operators' probes found.
export function initPingResults(panel) {
  onPanelLoad((p) => {
    renderPanelResults(p);
    renderPrediction(p);
  });
  onProbesChanged(() => renderPanelResults(panel));
  onReachChanged(() => {
    renderPanelResults(panel);
    renderPrediction(panel);
  });
}

// initPingForm wires the section's form in panel (operators only); cy is
// the graph.
export function initPingForm(cy, panel) {
  panel.addEventListener('submit', (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.form !== 'ping') return;
    ev.preventDefault();
    pingNow(panel, form);
  });
  panel.addEventListener('click', (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest('button[data-action=ping-neighbours]') : null;
    if (!btn) return;
    ev.preventDefault();
    neighbours(cy, panel, btn);
  });
  panel.addEventListener('change', (ev) => {
    const form = ev.target instanceof Element ? ev.target.closest('form[data-form=ping]') : null;
    if (form) renderPrediction(panel);
  });
}

// renderPrediction shows, under the ping form, what the explainer predicts
// from the panel's container to the chosen target, by IP and/or by name,
// before anything is probed.
export function renderPrediction(panel) {
  const box = panel.querySelector('[data-testid=container-panel] [data-testid=reach-predictions]');
  const form = panel.querySelector('form[data-form=ping]');
  const c = panelContainer();
  if (!box || !form || !c) return;
  const { to, by, port } = formValues(form);
  const p = to ? prediction(c.id, to) : undefined;
  if (!p) {
    box.replaceChildren();
    return;
  }
  const bys = port ? ['tcp'] : by === 'both' ? ['ip', 'name'] : [by];
  const lines = [];
  for (const b of bys) {
    const v = verdict(p, b === 'tcp' ? 'ip' : b, port);
    if (!v) continue;
    lines.push(
      h('p', {
        className: `reach-prediction ${v.ok ? 'ok' : 'fail'}`,
        text: predictionText(v, b === 'tcp' ? `to port ${port}/tcp` : b),
        dataset: { testid: 'reach-prediction', by: b, ok: String(v.ok), to },
      }),
    );
  }
  box.replaceChildren(...lines);
}

function formValues(form) {
  const to = form.querySelector('[data-testid=ping-target]').value;
  const checked = form.querySelector('input[name=by]:checked');
  const by = checked ? checked.value : 'both';
  const port = form.querySelector('[data-testid=ping-port]').value.trim();
  return { to, by, port };
}

function errorEl(panel) {
  return panel.querySelector('[data-testid=ping-error]');
}

async function busy(btn, text, fn) {
  const label = btn.textContent;
  btn.disabled = true;
  btn.classList.add('busy');
  btn.textContent = text;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.classList.remove('busy');
    btn.textContent = label;
  }
}

async function pingNow(panel, form) {
  const c = panelContainer();
  if (!c) return;
  const { to, by, port } = formValues(form);
  if (port && !(Number(port) >= 1 && Number(port) <= 65535)) {
    showText(errorEl(panel), 'The port is a number from 1 to 65535 (or empty for ping).');
    return;
  }
  showText(errorEl(panel), '');
  const btn = form.querySelector('[data-testid=ping-now]');
  try {
    await busy(btn, 'Pinging…', () => pingPair(c.id, to, by, port));
  } catch (err) {
    if (panelContainer()?.id === c.id) showText(errorEl(panel), `Ping failed: ${errorText(err)}`);
  }
}

async function neighbours(cy, panel, btn) {
  const c = panelContainer();
  if (!c) return;
  const node = cy.getElementById(c.nodeID);
  if (node.empty()) return;
  const form = btn.closest('form');
  const { by, port } = form ? formValues(form) : { by: 'both', port: '' };
  showText(errorEl(panel), '');
  const { count, error } = await busy(btn, 'Pinging…', () => pingNeighbours(node, by, port));
  if (panelContainer()?.id !== c.id) return;
  if (error) showText(errorEl(panel), `Ping failed: ${errorText(error)}`);
  else if (count === 0) showText(errorEl(panel), `${c.name} shares no network or link with another container.`);
}
