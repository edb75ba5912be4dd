// volumes.js runs everything about volumes the page can change or ask:
// the "Create a volume" dialog (templates.VolumeDialog, key v), the
// volume panel's buttons (Size, Test sharing, Remove…), and the container
// panel's "Mount…" form with its confirm (templates.MountDialog), all
// through the JSON API:
//
//   POST   /api/volumes {name, labels}
//   DELETE /api/volumes/{name}?confirm={name}
//   GET    /api/volumes/{name}/usage           → {size, refCount} (slow)
//   POST   /api/volumes/{name}/share-test      → {results: [...]}, each
//          result also streamed live as {type: "share", volume, result}
//   GET    /api/plan/mount?container=&volume=|volumesFrom=|bind=&target=
//          &readOnly=&recreateDependents= first: the plan, shown as the
//          link dialog shows its own (plan-dialog.js); then
//   POST   /api/containers/{id}/mounts {volume | volumesFrom | bind,
//          target, readOnly, recreateDependents, confirm, plan}, which
//          starts a job the dialog follows by its ID.
//
// The graph changes by itself through the live deltas. What only the page
// holds (a measured size, share-test rows) is kept per volume and put back
// whenever the panel is re-rendered.

import { withPlan } from './actions.js';
import { errorText } from './api.js';
import { confirmAction, openDialog } from './dialogs.js';
import { h, showText, shortID, focusSoon, submitting } from './dom.js';
import { containerNode, onEngine, volumeNode } from './ids.js';
import { createEngineChoice } from './engine-choice.js';
import { alsoText, newContainer, planDialog, planQuery } from './plan-dialog.js';

// parseLabels turns "a=1\nb=2" into {a: "1", b: "2"}; it throws on a line
// with no key.
export function parseLabels(text) {
  const labels = {};
  for (const raw of String(text || '').split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf('=');
    const key = (i < 0 ? line : line.slice(0, i)).trim();
    if (!key) throw new Error(`Label line "${line}" has no key: write key=value.`);
    labels[key] = i < 0 ? '' : line.slice(i + 1).trim();
  }
  return labels;
}

// formatBytes says n bytes as a person reads it: "4.2 MB".
export function formatBytes(n) {
  if (typeof n !== 'number' || n < 0 || !Number.isFinite(n)) return 'unknown';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

// shareText says a share-test state in words.
const shareText = {
  written: 'wrote the marker file',
  seen: 'sees the marker file',
  'not-seen': 'does not see the marker file',
  'read-only': 'read-only: its write was refused',
  writable: 'writable!',
  impossible: 'could not test',
};
const goodStates = new Set(['written', 'seen', 'read-only']);

// shareKey tells results apart: a container may report its read (seen)
// and its write attempt (read-only) separately.
function shareKey(r) {
  const phase = r.state === 'read-only' || r.state === 'writable' || r.state === 'written' ? 'write' : 'read';
  return `${r.containerId}|${r.role}|${phase}`;
}

// createVolumes wires the volume dialog, the mount dialog (following its
// job in jobs) and the panel's volume and mount forms (panel is
// createPanel's), flashing share tests on the graph cy and calling api
// (sendPlanned for a removal the server wants confirmed). toast(text, kind) tells the user something
// short, selectNode(nodeID) selects a node made here, mounted(containerID)
// is called after a mount re-created a container. It returns
// {openVolumeDialog, addShare, openMountDialog}.
export function createVolumes({ cy, panel, api, jobs, sendPlanned, toast = () => {}, selectNode = () => {}, mounted = () => {} }) {
  // With several engines, the dialog's Engine select (engine-choice.js).
  const engineForm = document.querySelector('#volume-dialog form');
  const engine = engineForm ? createEngineChoice({ form: engineForm, api, testid: 'volume-engine' }) : null;
  // usage holds per volume name {state: measuring|done|failed, text}.
  const usage = new Map();
  // shares holds per volume name {running, rows: Map(key → result), error}.
  const shares = new Map();

  // wire listens to the dialogs and the panel.
  function wire() {
    const dlg = document.getElementById('volume-dialog');
    if (dlg) dlg.querySelector('form').addEventListener('submit', (ev) => createVolume(ev, dlg));
    panel.el.addEventListener('click', (ev) => {
      const btn = ev.target instanceof Element ? ev.target.closest('button[data-action]') : null;
      if (!btn || !panel.el.contains(btn)) return;
      const handler = { 'volume-size': measure, 'share-test': shareTest, 'remove-volume': removeVolume }[btn.dataset.action];
      if (!handler) return;
      ev.preventDefault();
      handler(btn);
    });
    panel.el.addEventListener('submit', (ev) => {
      const form = ev.target;
      if (!(form instanceof HTMLFormElement) || form.dataset.form !== 'mount') return;
      ev.preventDefault();
      submitMountForm(form);
    });
    panel.el.addEventListener('change', (ev) => {
      const t = ev.target;
      if (t instanceof HTMLInputElement && t.name === 'kind' && t.form && t.form.dataset.form === 'mount') showKind(t.form);
    });
    panel.onLoad((el) => {
      const form = el.querySelector('form[data-form=mount]');
      if (form) showKind(form);
      const v = panel.volume();
      if (v) {
        drawUsage(v.name);
        drawShares(v.name);
      }
    });
  }

  // ---- create ----

  // openVolumeDialog shows "Create a volume" with a fresh form.
  function openVolumeDialog() {
    const dlg = document.getElementById('volume-dialog');
    if (!dlg) return;
    dlg.querySelector('form').reset();
    engine?.refresh();
    showText(dlg.querySelector('#volume-dialog-error'), '');
    openDialog(dlg);
    focusSoon(dlg, dlg.querySelector('#volume-name'));
  }

  async function createVolume(ev, dlg) {
    ev.preventDefault();
    const form = ev.target;
    const err = dlg.querySelector('#volume-dialog-error');
    const name = form.elements.name.value.trim();
    if (!name) {
      showText(err, 'Type a name for the volume, such as shared-data.');
      form.elements.name.focus();
      return;
    }
    let labels;
    try {
      labels = parseLabels(form.elements.labels.value);
    } catch (e) {
      showText(err, errorText(e));
      return;
    }
    const btn = form.querySelector('[data-testid=volume-create]');
    showText(err, '');
    const on = engine ? engine.name() : '';
    const path = `/api/volumes${engine ? engine.query() : ''}`;
    try {
      const res = (await submitting(btn, 'Creating…', () => api('POST', path, { name, labels }))) || {};
      dlg.close('done');
      const made = res.name || name;
      toast(`Volume ${made} created.`);
      selectNode(onEngine(volumeNode(made), on));
    } catch (e) {
      showText(err, errorText(e));
    }
  }

  // ---- size ----

  async function measure() {
    const v = panel.volume();
    if (!v) return;
    const name = v.name;
    if (usage.get(name)?.state === 'measuring') return;
    usage.set(name, { state: 'measuring', text: 'measuring… (the engine adds up every file; this can take a while)' });
    drawUsage(name);
    try {
      const res = (await api('GET', `/api/volumes/${encodeURIComponent(name)}/usage`)) || {};
      const refs = Number(res.refCount);
      const refText = Number.isFinite(refs) && refs >= 0 ? ` · ${refs} container${refs === 1 ? '' : 's'} reference it` : '';
      usage.set(name, { state: 'done', text: `${formatBytes(res.size)}${refText}` });
    } catch (e) {
      usage.set(name, { state: 'failed', text: `could not measure: ${errorText(e)}` });
    }
    drawUsage(name);
  }

  function drawUsage(name) {
    const v = panel.volume();
    if (!v || v.name !== name) return;
    const dd = panel.el.querySelector('[data-testid=volume-usage]');
    const btn = panel.el.querySelector('[data-testid=volume-size]');
    const u = usage.get(name);
    if (!dd || !u) return;
    dd.dataset.state = u.state;
    dd.replaceChildren(
      u.state === 'measuring' ? h('span', { className: 'spinner', attrs: { 'aria-hidden': 'true' } }) : null,
      h('span', { className: u.state === 'failed' ? 'error-text' : '', text: u.text, dataset: { testid: 'volume-usage-text' } }),
    );
    if (btn) {
      btn.disabled = u.state === 'measuring';
      btn.classList.toggle('busy', u.state === 'measuring');
    }
  }

  // ---- share test ----

  // addShare takes one live {type: "share", volume, result} message.
  function addShare(msg) {
    if (!msg || !msg.volume || !msg.result) return;
    const s = shares.get(msg.volume);
    if (!s) return; // a test started elsewhere: nothing on this page asks
    takeResult(msg.volume, s, msg.result);
  }

  function takeResult(volume, s, r) {
    if (!r || !r.containerId) return;
    s.rows.set(shareKey(r), r);
    flashMounts(volume, r);
    drawShares(volume);
  }

  // flashMounts marks the mount edge of the result's container to the
  // volume green or red for a moment.
  function flashMounts(volume, r) {
    const cls = goodStates.has(r.state) ? 'share-ok' : 'share-fail';
    const edges = cy
      .edges('edge.mount')
      .filter((e) => e.source().id() === containerNode(r.containerId) && e.target().id() === volumeNode(volume));
    if (edges.empty()) return;
    edges.removeClass('share-ok share-fail').addClass(cls);
    setTimeout(() => edges.removeClass(cls), 2500);
  }

  async function shareTest() {
    const v = panel.volume();
    if (!v) return;
    const name = v.name;
    const prev = shares.get(name);
    if (prev && prev.running) return;
    const s = { running: true, rows: new Map(), error: '' };
    shares.set(name, s);
    drawShares(name);
    try {
      const res = (await api('POST', `/api/volumes/${encodeURIComponent(name)}/share-test`, {})) || {};
      for (const r of res.results || []) s.rows.set(shareKey(r), r);
      if (!s.rows.size) s.error = 'No running container mounts this volume: nothing to test.';
    } catch (e) {
      s.error = errorText(e);
    }
    s.running = false;
    drawShares(name);
  }

  function drawShares(name) {
    const v = panel.volume();
    if (!v || v.name !== name) return;
    const list = panel.el.querySelector('[data-testid=share-results]');
    const btn = panel.el.querySelector('[data-testid=volume-share-test]');
    const s = shares.get(name);
    if (!list || !s) return;
    const rows = [...s.rows.values()]
      .sort((a, b) => (a.role === b.role ? String(a.name).localeCompare(String(b.name)) : a.role === 'writer' ? -1 : 1))
      .map((r) => {
        const state = String(r.state || '');
        const cls = goodStates.has(state) ? 'ok' : state === 'writable' ? 'warn' : 'fail';
        return h(
          'li',
          {
            className: `share-result ${cls}`,
            dataset: { testid: 'share-result', containerId: r.containerId, name: r.name || '', role: r.role || '', state },
            title: r.detail || '',
          },
          h('strong', { text: r.name || shortID(r.containerId) }),
          h('span', { className: 'role', text: ` (${r.role || '?'}) ` }),
          h('span', { className: 'share-state', dataset: { testid: 'share-state' }, text: shareText[state] || state }),
          r.detail ? h('span', { className: 'detail', text: ` · ${r.detail}` }) : null,
        );
      });
    if (s.running) rows.push(h('li', { className: 'none running', dataset: { testid: 'share-running' } }, h('span', { className: 'spinner', attrs: { 'aria-hidden': 'true' } }), ' testing…'));
    if (s.error) rows.push(h('li', { className: 'error', dataset: { testid: 'share-error' }, text: s.error }));
    if (!s.running && !s.error) rows.push(h('li', { className: 'none', dataset: { testid: 'share-done' }, text: 'done; the marker file was removed' }));
    list.replaceChildren(...rows);
    list.dataset.state = s.running ? 'running' : s.error ? 'failed' : 'done';
    if (btn) {
      btn.disabled = s.running;
      btn.classList.toggle('busy', s.running);
    }
  }

  // ---- remove ----

  function removeVolume(btn) {
    const v = panel.volume();
    if (!v) return;
    const err = panel.el.querySelector('[data-testid=volume-error]');
    if (v.inUse) {
      showText(err, `${v.name} is in use by ${btn.dataset.users || 'a container'}: the engine refuses to remove it. Remove those containers (or re-create them without it) first.`);
      return;
    }
    showText(err, '');
    confirmAction({
      title: `Remove the volume ${v.name}?`,
      message: `Its data goes: every file in ${v.name} is deleted, and that cannot be undone.`,
      confirmLabel: 'Remove volume',
      danger: true,
      typeName: v.name,
      action: () => sendPlanned((conf) => api('DELETE', withPlan(`/api/volumes/${encodeURIComponent(v.name)}?confirm=${encodeURIComponent(v.name)}`, conf))),
    }).then((done) => {
      if (done) toast(`Volume ${v.name} removed.`);
    });
  }

  // ---- mount into a container ----

  // showKind shows the mount form's fields for the chosen source.
  function showKind(form) {
    const kind = form.querySelector('input[name=kind]:checked')?.value || 'volume';
    form.querySelectorAll('[data-kind]').forEach((el) => {
      el.hidden = !el.dataset.kind.split(' ').includes(kind);
    });
  }

  function submitMountForm(form) {
    const c = panel.container();
    const err = form.querySelector('[data-testid=mount-form-error]');
    if (!c) return;
    const kind = form.querySelector('input[name=kind]:checked')?.value || 'volume';
    const target = (form.elements.target?.value || '').trim();
    const readOnly = !!form.elements.readOnly?.checked;
    const body = { readOnly };
    let what;
    if (kind === 'volumesFrom') {
      const opt = form.elements.volumesFrom?.selectedOptions[0];
      if (!opt || !opt.value) return showText(err, 'Choose the container whose volumes to mount.');
      body.volumesFrom = opt.value;
      what = `the volumes of ${opt.dataset.name || opt.textContent.trim()}`;
    } else {
      if (kind === 'bind') {
        const path = (form.elements.bind?.value || '').trim();
        if (!path.startsWith('/')) return showText(err, 'The host path must be absolute, such as /srv/data.');
        body.bind = path;
        what = path;
      } else {
        const vol = form.elements.volume?.value || '';
        if (!vol) return showText(err, 'Choose a volume, or create one first (v).');
        body.volume = vol;
        what = vol;
      }
      if (!target.startsWith('/')) return showText(err, 'The path in the container must be absolute, such as /data.');
      body.target = target;
    }
    showText(err, '');
    openMountDialog({ id: c.id, name: c.name }, body, what);
  }

  const mountDlg = document.getElementById('mount-dialog');
  const mount = mountDlg ? planDialog(mountDlg, 'mount', jobs, toast) : null; // the mount dialog's planDialog

  function mountTitle(c, body, what) {
    const at = body.target ? ` at ${body.target}` : '';
    return `Mount ${what} into ${c.name}${at}${body.readOnly ? ' (read-only)' : ''}`;
  }

  // openMountDialog shows the server's plan for mounting body into container
  // c ({id, name}) and carries it out on Confirm.
  function openMountDialog(c, body, what) {
    if (!mount) return;
    const at = body.target ? ` at ${body.target}` : '';
    mount.open({
      action: 'mount',
      title: mountTitle(c, body, what),
      plan: (deps) => {
        const params = { container: c.id };
        for (const k of ['volume', 'volumesFrom', 'bind', 'target']) if (body[k]) params[k] = body[k];
        if (body.readOnly) params.readOnly = 'true';
        return planQuery(api, '/api/plan/mount', params, deps);
      },
      send: (conf) => api('POST', `/api/containers/${encodeURIComponent(c.id)}/mounts`, { ...body, ...conf }),
      confirmLabel: () => `Re-create ${c.name} and mount`,
      doneText: (info, plan) => `Done: ${c.name} was re-created; it mounts ${what}${at}${body.readOnly ? ' read-only' : ''}.${alsoText(plan)}`,
      after: (info) => {
        const id = newContainer(info);
        if (id) mounted(id);
      },
    });
  }

  wire();
  return { openVolumeDialog, addShare, openMountDialog };
}
