// run.js is the "Run a container" dialog (templates.RunDialog): an image
// from GET /api/images or pulled by name (POST /api/images/pull starts a
// job; the dialog follows that job by its ID, each layer a step), a name,
// a command split on spaces into an argv (no shell) and a network; POST
// /api/containers runs it like docker run -dit. With several engines, an
// Engine select says on which (engine-choice.js).

import { errorText } from './api.js';
import { openDialog } from './dialogs.js';
import { h, showText, shortID, focusSoon, submitting } from './dom.js';
import { createEngineChoice } from './engine-choice.js';
import { onEngine } from './ids.js';

// Pull progress lines shown under the pull row; older ones scroll away.
const maxPullLines = 6;

// splitCommand is the argv of what was typed: words split on white space,
// passed as-is (no shell, no quotes).
export function splitCommand(text) {
  return String(text || '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
}

// createRun wires the dialog, which offers the networks of the graph cy
// and calls api through sendPlanned (a pull is a job it follows); created(id, name) is called after a run. It returns
// {open(prefill?)}, or an open that does nothing on a page without the dialog.
export function createRun({ cy, api, sendPlanned, created = () => {} }) {
  const dlg = document.getElementById('run-dialog');
  if (!dlg) return { open() {} };
  // On a map of several engines: the images and networks offered are the
  // chosen engine's.
  const engine = createEngineChoice({
    form: dlg.querySelector('#run-form'),
    api,
    testid: 'run-engine',
    onChange() {
      fillNetworks();
      loadImages();
    },
  });

  // wire listens to the dialog's form and pull row.
  function wire() {
    dlg.querySelector('#run-form').addEventListener('submit', submit);
    dlg.querySelector('#pull-button').addEventListener('click', pull);
    dlg.querySelector('#pull-image').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        pull();
      }
    });
  }

  // showPullStep shows one step of the pull job (the pull itself, or a
  // layer) as a line of the progress list, updated in place as it changes.
  function showPullStep(s) {
    const list = dlg.querySelector('#pull-progress');
    list.hidden = false;
    const line = [s.text || s.step, s.detail].filter(Boolean).join(' · ');
    let li = [...list.children].find((c) => c.dataset.step === s.step);
    if (!li) {
      li = h('li', { dataset: { step: s.step } });
      list.append(li);
    }
    li.textContent = line;
    li.dataset.state = s.state || '';
    while (list.children.length > maxPullLines) list.firstElementChild.remove();
  }

  // openRun shows the dialog with fresh image and network lists. A lesson's
  // "Show me" passes prefill {name, network} so that only the image is left
  // to choose; a click or a key passes an event, which is no prefill.
  function openRun(prefill) {
    showText(dlg.querySelector('#run-error'), '');
    showText(dlg.querySelector('#pull-error'), '');
    fillNetworks();
    if (prefill && typeof prefill.name === 'string') {
      dlg.querySelector('#run-name').value = prefill.name;
      dlg.querySelector('#run-network').value = prefill.network || '';
    }
    // Images once the engine is known (the list is that engine's).
    engine.refresh().then((name) => {
      if (name) fillNetworks();
      loadImages();
    });
    openDialog(dlg);
    // After the key that opened it is done, so it is not typed in.
    focusSoon(dlg, dlg.querySelector('#run-name'));
  }

  // imageOptions turns GET /api/images into <option>s: one per tag, newest
  // image first; an untagged image by its short ID.
  function imageOptions(images) {
    const sorted = [...images].sort((a, b) => (b.created || 0) - (a.created || 0));
    const opts = [];
    for (const img of sorted) {
      const tags = (img.tags || []).filter((t) => t && t !== '<none>:<none>');
      if (!tags.length) {
        const id = String(img.id || '').replace(/^sha256:/, '');
        opts.push({ value: img.id, text: `${shortID(id)} (untagged)` });
      }
      for (const t of tags) opts.push({ value: t, text: t });
    }
    return opts;
  }

  // loads counts loadImages' calls: only the latest one's answer is shown.
  let loads = 0;
  async function loadImages(select) {
    const sel = dlg.querySelector('#run-image');
    const keep = select || sel.value;
    const n = ++loads;
    // A list already shown stays, and stays usable, until the new one
    // comes: opening the dialog lists the images, and so does a change of
    // engine right after, which emptied a choice just made.
    const listed = [...sel.options].some((o) => o.value);
    if (!listed) {
      sel.replaceChildren(h('option', { value: '', text: 'loading images…' }));
      sel.disabled = true;
    }
    try {
      const imgs = (await api('GET', `/api/images${engine.query()}`)) || [];
      if (n !== loads) return;
      const opts = imageOptions(imgs);
      if (!opts.length) {
        sel.replaceChildren(h('option', { value: '', text: 'no local images: pull one below' }));
        return;
      }
      // What was chosen meanwhile, if anything, else what was asked for.
      const want = select || sel.value || keep;
      sel.replaceChildren(...opts.map((o) => h('option', { value: o.value, text: o.text })));
      if (want && opts.some((o) => o.value === want)) sel.value = want;
    } catch (err) {
      if (n !== loads) return;
      sel.replaceChildren(h('option', { value: '', text: 'could not list images' }));
      showText(dlg.querySelector('#run-error'), `Listing images failed: ${errorText(err)}`);
    } finally {
      if (n === loads) sel.disabled = false;
    }
  }

  // fillNetworks offers the networks of the graph a container can be run on:
  // not host or none, and the default bridge as the empty choice.
  function fillNetworks() {
    const sel = dlg.querySelector('#run-network');
    const keep = sel.value;
    const nets = [];
    const on = engine.name();
    cy.nodes('node.network').forEach((n) => {
      if (on && (n.data('engine') || 'local') !== on) return;
      const net = n.data('network') || {};
      if (net.default || net.driver === 'host' || net.driver === 'null') return;
      nets.push(net.name || n.data('name'));
    });
    nets.sort();
    // A network on several engines (an overlay) is offered once.
    nets.splice(0, nets.length, ...new Set(nets));
    sel.replaceChildren(h('option', { value: '', text: 'bridge (default)' }), ...nets.map((n) => h('option', { value: n, text: n })));
    if (nets.includes(keep)) sel.value = keep;
  }

  async function pull() {
    const input = dlg.querySelector('#pull-image');
    const btn = dlg.querySelector('#pull-button');
    const ref = input.value.trim();
    const err = dlg.querySelector('#pull-error');
    const progress = dlg.querySelector('#pull-progress');
    if (!ref) {
      showText(err, 'Type an image name to pull, such as busybox:latest.');
      input.focus();
      return;
    }
    showText(err, '');
    progress.replaceChildren();
    progress.hidden = true;
    try {
      // The pull is a job: sendPlanned follows it, each layer a step.
      await submitting(btn, 'Pulling…', () => sendPlanned(() => api('POST', `/api/images/pull${engine.query()}`, { image: ref }), showPullStep));
      await loadImages(ref);
    } catch (e) {
      showText(err, `Pull failed: ${errorText(e)}`);
    }
  }

  async function submit(ev) {
    ev.preventDefault();
    const err = dlg.querySelector('#run-error');
    const btn = dlg.querySelector('#run-submit');
    const image = dlg.querySelector('#run-image').value;
    const name = dlg.querySelector('#run-name').value.trim();
    const cmd = splitCommand(dlg.querySelector('#run-cmd').value);
    const network = dlg.querySelector('#run-network').value;
    if (!image) {
      showText(err, 'Choose an image (or pull one first).');
      return;
    }
    if (!name) {
      showText(err, 'Give the container a name.');
      dlg.querySelector('#run-name').focus();
      return;
    }
    showText(err, '');
    const body = { name, image, network };
    if (cmd.length) body.cmd = cmd;
    const on = engine.name();
    const path = `/api/containers${engine.query()}`;
    try {
      const res = await submitting(btn, 'Starting…', () => sendPlanned((conf) => api('POST', path, { ...body, ...conf })));
      dlg.close('done');
      dlg.querySelector('#run-name').value = '';
      dlg.querySelector('#run-cmd').value = '';
      // Another engine's container is "<id>@<engine>" on the map.
      created(res && res.id && onEngine(res.id, on), (res && res.name) || name);
    } catch (e) {
      showText(err, errorText(e));
    }
  }

  wire();
  return { open: openRun };
}
