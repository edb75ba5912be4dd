// recreate.js is the shared part of every confirm that goes through the
// safe re-create (links.js for a link on the default bridge, volumes.js
// for a new mount): it shows the server's preview of what would be lost
// (GET /api/containers/{id}/recreate-preview, or the link plan's
// preview) in the templates.recreatePreview block, and then the steps of
// the job as the live "progress" messages report them.
//
// Everything from Docker (paths, names) goes in through textContent.

import { h } from './dom.js';

// kindText names the kinds of docker diff: A added, C changed, D deleted
// (numbers from the engine's API, letters from the CLI).
const kindText = { A: 'added', C: 'changed', D: 'deleted', 0: 'changed', 1: 'added', 2: 'deleted' };

// peerName is a container named in a preview: a string, or {name, id}.
function peerName(x) {
  return typeof x === 'string' ? x : x?.name || x?.id || '?';
}

// showRecreatePreview fills the recreatePreview block with ids prefixed
// by prefix (link-lost, mount-lost, ...) inside root from preview
// {lostFiles: [{path, kind}], truncated, linkedFrom, netnsUsers}, and
// shows it.
export function showRecreatePreview(root, prefix, preview) {
  const $ = (suffix) => root.querySelector(`#${prefix}-${suffix}`);
  const p = preview || {};
  const files = p?.lostFiles || [];
  const lost = files.map((f) => {
    const kind = f?.kind || '';
    return h(
      'li',
      { dataset: { testid: 'lost-file' } },
      h('span', { className: 'kind', text: kindText[kind] || kind }),
      ' ',
      h('code', { text: f?.path || '' }),
    );
  });
  if (!files.length) lost.push(h('li', { className: 'none', dataset: { testid: 'no-lost-files' }, text: 'no files changed outside volumes' }));
  if (p?.truncated) lost.push(h('li', { className: 'none', text: '… and more' }));
  $('lost').replaceChildren(...lost);
  const from = p?.linkedFrom || [];
  $('dependents').hidden = from.length === 0;
  $('linked-from').replaceChildren(
    ...from.map((l) =>
      h('li', { dataset: { testid: 'linked-from' } }, h('strong', { text: peerName(l) }), ` reaches it as ${l?.alias || '?'}: that link breaks`),
    ),
  );
  const users = p?.netnsUsers || [];
  $('netns').hidden = users.length === 0;
  $('netns-users').replaceChildren(
    ...users.map((u) => h('li', { dataset: { testid: 'netns-user-broken' } }, h('strong', { text: peerName(u) }), ' shares its network stack: it loses its network')),
  );
  $('recreate').hidden = false;
}

// claimJob tells whether the progress message with job string job belongs
// to the run held in mine ({job, submitted}): the first job after Confirm
// that accept(job) takes becomes the run's, and only it counts from then
// on (the server names the job; the page only guesses which one is its).
export function claimJob(mine, job, accept) {
  if (!mine || !mine.submitted) return false;
  job = String(job || '');
  if (mine.job === null || mine.job === undefined) {
    if (!accept(job)) return false;
    mine.job = job;
  }
  return job === mine.job;
}

// addStep shows one progress message in the step list: "stop: running"
// then "stop: done" are one step, "stop", whose state changes. Each row
// gets data-testid testid, data-step and data-state (running, done or
// failed).
export function addStep(list, msg, testid) {
  const status = String(msg.status || '');
  const i = status.indexOf(': ');
  const step = i > 0 ? status.slice(0, i) : status;
  const state = i > 0 ? status.slice(i + 2) : '';
  let li = [...list.children].find((c) => c.dataset.step === step);
  if (!li) {
    li = h('li', { dataset: { testid, step } });
    list.append(li);
  }
  const failed = msg.failed || /fail/i.test(state);
  li.className = failed ? 'failed' : /done|ok/i.test(state) || msg.done ? 'done' : 'running';
  li.dataset.state = li.className;
  li.textContent = msg.detail ? `${status} · ${msg.detail}` : status;
}

// failedStep is " (step: x)" for the first failed step of list, or "".
export function failedStep(list) {
  const failed = list.querySelector('li.failed');
  return failed ? ` (step: ${failed.dataset.step})` : '';
}
