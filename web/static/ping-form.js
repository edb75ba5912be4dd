// ping-form.js runs the panel's Ping section (templates.pingSection): "Ping
// now" probes from the panel's container to the chosen target by IP, by
// name or both, ICMP or TCP to a port; "Ping neighbours" probes to every
// container sharing a network or a link with it. Results show in the
// section (probes.renderPanelResults), on the graph and in the matrix.

import { errorText } from './api.js';
import { h, showText, submitting } from './dom.js';
import { predictionText, verdict } from './reach.js';

// createPingForm shows the section of panel (createPanel) with the
// results of probes (createProbes) and the predictions of reach
// (createReach); unless readOnly it also wires the form, probing on the
// graph cy.
export function createPingForm({ cy, panel, probes, reach, readOnly }) {
  // showResults keeps the section's results and prediction current, for
  // everyone: a viewer has no form but sees what operators' probes found.
  function showResults() {
    panel.onLoad((p) => {
      probes.renderPanelResults(p);
      renderPrediction();
    });
    probes.onProbesChanged(() => probes.renderPanelResults(panel.el));
    reach.onChanged(() => {
      probes.renderPanelResults(panel.el);
      renderPrediction();
    });
  }

  // wireForm wires the section's form (operators only).
  function wireForm() {
    panel.el.addEventListener('submit', (ev) => {
      const form = ev.target;
      if (!(form instanceof HTMLFormElement) || form.dataset.form !== 'ping') return;
      ev.preventDefault();
      pingNow(form);
    });
    panel.el.addEventListener('click', (ev) => {
      const btn = ev.target instanceof Element ? ev.target.closest('button[data-action=ping-neighbours]') : null;
      if (!btn) return;
      ev.preventDefault();
      neighbours(btn);
    });
    panel.el.addEventListener('change', (ev) => {
      const form = ev.target instanceof Element ? ev.target.closest('form[data-form=ping]') : null;
      if (form) renderPrediction();
    });
  }

  // renderPrediction shows, under the ping form, what the explainer predicts
  // from the panel's container to the chosen target, by IP and/or by name,
  // before anything is probed.
  function renderPrediction() {
    const box = panel.el.querySelector('[data-testid=container-panel] [data-testid=reach-predictions]');
    const form = panel.el.querySelector('form[data-form=ping]');
    const c = panel.container();
    if (!box || !form || !c) return;
    const { to, by, port } = formValues(form);
    const p = to ? reach.prediction(c.id, to) : undefined;
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

  function errorEl() {
    return panel.el.querySelector('[data-testid=ping-error]');
  }

  async function pingNow(form) {
    const c = panel.container();
    if (!c) return;
    const { to, by, port } = formValues(form);
    if (port && !(Number(port) >= 1 && Number(port) <= 65535)) {
      showText(errorEl(), 'The port is a number from 1 to 65535 (or empty for ping).');
      return;
    }
    showText(errorEl(), '');
    const btn = form.querySelector('[data-testid=ping-now]');
    try {
      await submitting(btn, 'Pinging…', () => probes.pingPair(c.id, to, by, port), { busy: true });
    } catch (err) {
      if (panel.container()?.id === c.id) showText(errorEl(), `Ping failed: ${errorText(err)}`);
    }
  }

  async function neighbours(btn) {
    const c = panel.container();
    if (!c) return;
    const node = cy.getElementById(c.nodeID);
    if (node.empty()) return;
    const form = btn.closest('form');
    const { by, port } = form ? formValues(form) : { by: 'both', port: '' };
    showText(errorEl(), '');
    const { count, error } = await submitting(btn, 'Pinging…', () => probes.pingNeighbours(node, by, port), { busy: true });
    if (panel.container()?.id !== c.id) return;
    if (error) showText(errorEl(), `Ping failed: ${errorText(error)}`);
    else if (count === 0) showText(errorEl(), `${c.name} shares no network or link with another container.`);
  }

  showResults();
  if (!readOnly) wireForm();
}
