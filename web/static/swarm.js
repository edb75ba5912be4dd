// swarm.js runs the buttons of the Swarm panels (templates.ServicePanel,
// SwarmNodePanel): Scale… on a service and Activate / Pause / Drain… on a
// Swarm node, each shown as the server's plan first (GET
// /api/plan/scale-service, /api/plan/node-availability), then sent with
// that plan's ID and the confirm (sendPlanned takes a plan that changed
// meanwhile); and the service's probes (POST /api/probes with service),
// each result beside what the explainer predicted for it (GET
// /api/reach?from=&service=), as the container panel's ping section does.
// Errors show in the panel's swarm-error line.

import { errorText } from './api.js';
import { confirmAction } from './dialogs.js';
import { h, showText, submitting } from './dom.js';
import { predictionText } from './reach.js';

// The probes a service panel offers, by its buttons' value: the request's
// fields, the prediction's field, and how the lines say it.
const probeKinds = {
  tasks: { body: (svc) => ({ name: `tasks.${svc.name}` }), predicted: 'pingTasks', how: (p) => `by ping of ${p.tasksName || 'tasks.<service>'}` },
  vip: { body: () => ({ by: 'ip' }), predicted: 'pingVIP', how: (p) => `by ping of the VIP${p.vip ? ` ${p.vip}` : ''}` },
  tcp: { body: (svc, port) => ({ by: 'name', port }), predicted: 'tcp', how: (p, port) => `by TCP to ${p.name || 'the service'}:${port}` },
};

// createSwarm wires the Swarm panels of panel (createPanel), calling api
// (plans) and sendPlanned (planned.js) for changes, and probes
// (createProbes) to draw probe results on the map like any other.
export function createSwarm({ panel, api, sendPlanned, probes }) {
  // The service probes' rows per service node, so that a refresh of the
  // panel (it re-renders on every change of the map) keeps them.
  const rows = new Map(); // service node ID → [{how, result, prediction}]

  function wire() {
    panel.el.addEventListener('submit', (ev) => {
      const form = ev.target;
      if (!(form instanceof HTMLFormElement)) return;
      if (form.dataset.action === 'scale-service') {
        ev.preventDefault();
        scale(form);
      } else if (form.dataset.action === 'probe-service') {
        ev.preventDefault();
        probeService(form, ev.submitter);
      }
    });
    panel.el.addEventListener('click', (ev) => {
      const btn = ev.target instanceof Element ? ev.target.closest('button[data-action=node-availability]') : null;
      if (!btn || !panel.el.contains(btn)) return;
      ev.preventDefault();
      availability(btn);
    });
    panel.onLoad((p) => renderRows(p));
  }

  // service and swarmNode describe the panel's subject, or null.
  function service() {
    const art = panel.el.querySelector('[data-testid=service-panel]');
    return art ? { nodeID: art.dataset.id, id: art.dataset.service, name: art.dataset.name } : null;
  }
  function swarmNode() {
    const art = panel.el.querySelector('[data-testid=swarm-node-panel]');
    return art ? { nodeID: art.dataset.id, id: art.dataset.node, name: art.dataset.name } : null;
  }

  function showError(text) {
    showText(panel.el.querySelector('[data-testid=swarm-error]'), text);
  }

  // planned asks the plan at path with params, shows it, and once the
  // user confirms sends it to post with body, the plan's ID and the
  // confirm. It resolves to whether the change was made.
  async function planned(btn, { path, params, title, label, post, body }) {
    showError('');
    let plan;
    try {
      plan = await submitting(btn, '', () => api('GET', `${path}?${new URLSearchParams(params)}`));
    } catch (err) {
      showError(errorText(err));
      return false;
    }
    const ok = await confirmAction({ title, message: plan.summary || '', plan, confirmLabel: label, danger: (plan.loses || []).length > 0 });
    if (!ok) return false;
    try {
      await submitting(btn, 'Working…', () =>
        sendPlanned((conf) => api('POST', post, { ...body, confirm: true, plan: plan.id, ...conf })),
      );
      return true;
    } catch (err) {
      showError(errorText(err));
      return false;
    }
  }

  async function scale(form) {
    const svc = service();
    if (!svc) return;
    const replicas = Number(form.elements.replicas.value);
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 200) {
      showError('Replicas is a whole number from 0 to 200.');
      return;
    }
    await planned(form.querySelector('[data-testid=scale-service]'), {
      path: '/api/plan/scale-service',
      params: { service: svc.id, replicas: String(replicas) },
      title: `Scale ${svc.name} to ${replicas}?`,
      label: 'Scale',
      post: `/api/services/${encodeURIComponent(svc.id)}/scale`,
      body: { replicas },
    });
  }

  async function availability(btn) {
    const node = swarmNode();
    if (!node) return;
    const to = btn.dataset.availability;
    const verb = { active: 'Activate', pause: 'Pause', drain: 'Drain' }[to] || to;
    await planned(btn, {
      path: '/api/plan/node-availability',
      params: { node: node.id, availability: to },
      title: `${verb} ${node.name}?`,
      label: verb,
      post: `/api/swarm-nodes/${encodeURIComponent(node.id)}/availability`,
      body: { availability: to },
    });
  }

  // probeService runs the probe the clicked button names, and lists its
  // result with the prediction beside it.
  async function probeService(form, submitter) {
    const svc = service();
    const how = submitter?.value || 'tasks';
    const kind = probeKinds[how];
    const from = form.elements.from?.value;
    if (!svc || !kind || !from) return;
    const port = Number(submitter?.dataset.port) || 0;
    showError('');
    const body = { from, service: svc.id, ...kind.body(svc, port) };
    try {
      const [res, pred] = await submitting(submitter, 'Probing…', () =>
        Promise.all([api('POST', '/api/probes', body), api('GET', `/api/reach?${new URLSearchParams({ from, service: svc.id })}`).catch(() => null)]),
        { busy: true },
      );
      const results = (res && res.results) || [];
      results.forEach((r) => probes.addResult(r));
      const list = rows.get(svc.nodeID) || [];
      for (const r of results) list.unshift({ how, result: r, prediction: pred, port });
      rows.set(svc.nodeID, list.slice(0, 12));
      renderRows(panel.el);
    } catch (err) {
      if (service()?.nodeID === svc.nodeID) showError(`Probe failed: ${errorText(err)}`);
    }
  }

  // renderRows fills the service panel's result list: each result (target,
  // verdict, detail) with the line the explainer predicted for it.
  function renderRows(root) {
    const art = root && root.querySelector('[data-testid=service-panel]');
    const list = art && art.querySelector('[data-testid=service-probe-results]');
    if (!list) return;
    const items = (rows.get(art.dataset.id) || []).map(({ how, result: r, prediction: p, port }) => {
      const kind = probeKinds[how];
      const out = p && p[kind.predicted];
      const v = out ? { ok: !!out.ok, via: out.via || '', reasons: out.reasons || [] } : null;
      const verdict = r.ok ? '✓ ok' : '✗ failed';
      const target = `${r.target || ''}${r.resolved && r.resolved !== r.target ? ` → ${r.resolved}` : ''}${r.port ? ` port ${r.port}/tcp` : ''}`;
      return h(
        'li',
        { className: r.ok ? 'ok' : 'fail', dataset: { testid: 'service-probe-result', how, ok: String(!!r.ok), predicted: v ? String(v.ok) : '' } },
        h('span', { className: 'result-line', text: `${verdict} ${target}${r.ok && typeof r.rttMs === 'number' ? ` · ${r.rttMs.toFixed(2)} ms` : ''}` }),
        r.ok ? null : h('span', { className: 'result-detail', dataset: { testid: 'service-probe-detail' }, text: r.detail || r.failure || '' }),
        v ? h('span', { className: `reach-prediction ${v.ok ? 'ok' : 'fail'}`, dataset: { testid: 'service-probe-prediction' }, text: predictionText(v, kind.how(p, port)) }) : null,
      );
    });
    list.replaceChildren(...items);
  }

  wire();
}
