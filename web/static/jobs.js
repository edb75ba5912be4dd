// jobs.js is the Activity list: one row per long job (an image pull, a
// re-create), fed by the live "progress" messages
// {type: "progress", job, status, detail, done, failed}. A row shows the
// job's latest status, a spinner while it runs and green or red once it is
// done; its steps unfold under it. Nothing is kept across reloads.
//
// Other modules follow a job's steps with onJob (the link dialog shows the
// steps of its own re-create).

import { h } from './dom.js';

// Rows beyond this are dropped, oldest first; steps beyond this per job
// too (a pull reports every layer many times).
const maxJobs = 30;
const maxSteps = 200;

let list = null;
let empty = null;
const jobs = new Map(); // job key → {row, steps, status, detail, state}
const listeners = new Set();

// initJobs binds the module to the Activity list and its empty message.
export function initJobs(listEl, emptyEl) {
  list = listEl;
  empty = emptyEl;
}

// onJob calls fn(msg, job) for every progress message; it returns a
// function that stops that.
export function onJob(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// jobState is what a job's messages so far add up to.
export function jobState(key) {
  const j = jobs.get(key);
  return j ? { state: j.state, status: j.status, detail: j.detail, steps: j.steps.slice() } : null;
}

// stepText is one step as a line: "status: detail" (pull progress bars
// and error messages go in detail).
export function stepText(msg) {
  return msg.detail ? `${msg.status} · ${msg.detail}` : String(msg.status || '');
}

// addProgress takes one progress message.
export function addProgress(msg) {
  if (!msg || !msg.job) return;
  const key = String(msg.job);
  let j = jobs.get(key);
  // A finished job that starts again (a second pull of the same image)
  // is a new run: start its row over, on top.
  if (j && j.state !== 'running' && !msg.done) {
    j.row.remove();
    jobs.delete(key);
    j = null;
  }
  if (!j) j = newJob(key);
  const step = { status: String(msg.status || ''), detail: String(msg.detail || ''), failed: !!msg.failed };
  // The same status again (a layer's download progress) updates the last
  // step rather than adding one.
  const last = j.steps[j.steps.length - 1];
  if (last && last.status === step.status && !step.failed) last.detail = step.detail;
  else j.steps.push(step);
  if (j.steps.length > maxSteps) j.steps.splice(0, j.steps.length - maxSteps);
  j.status = step.status;
  j.detail = step.detail;
  if (msg.done) j.state = msg.failed ? 'failed' : 'done';
  else if (msg.failed) j.failedStep = step.status;
  render(j);
  for (const fn of listeners) {
    try {
      fn(msg, j);
    } catch (err) {
      console.warn('dockmap: job listener', err);
    }
  }
}

function newJob(key) {
  const name = h('span', { className: 'job-name', text: key, dataset: { testid: 'job-name' } });
  const status = h('span', { className: 'job-status', dataset: { testid: 'job-status' } });
  const icon = h('span', { className: 'job-icon', attrs: { 'aria-hidden': 'true' } });
  const steps = h('ol', { className: 'job-steps', dataset: { testid: 'job-steps' } });
  const details = h('details', {}, h('summary', {}, icon, h('span', { className: 'job-text' }, name, status)), steps);
  const row = h('li', { className: 'job running', dataset: { testid: 'job', job: key, state: 'running' } }, details);
  const j = { key, row, stepsEl: steps, statusEl: status, steps: [], status: '', detail: '', state: 'running' };
  jobs.set(key, j);
  if (list) {
    list.prepend(row);
    while (list.children.length > maxJobs) {
      const old = list.lastElementChild;
      jobs.delete(old.dataset.job);
      old.remove();
    }
  }
  if (empty) empty.hidden = true;
  // The section stays out of the way until there is something to show.
  if (list && list.closest('section')) list.closest('section').hidden = false;
  return j;
}

function render(j) {
  j.row.dataset.state = j.state;
  j.row.classList.remove('running', 'done', 'failed');
  j.row.classList.add(j.state);
  j.statusEl.textContent = j.detail && j.state === 'failed' ? `${j.status}: ${j.detail}` : j.status;
  j.statusEl.title = stepTextOf(j);
  const lis = j.steps.map((s) =>
    h('li', { className: s.failed ? 'failed' : '', dataset: { testid: 'job-step' } }, s.detail ? `${s.status} · ${s.detail}` : s.status),
  );
  j.stepsEl.replaceChildren(...lis);
}

function stepTextOf(j) {
  return j.detail ? `${j.status}\n${j.detail}` : j.status;
}
