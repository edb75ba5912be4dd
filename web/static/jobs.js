// jobs.js is the page's one store of jobs (a re-create, an endpoint alias,
// a pull), keyed by job ID. It is fed by the live "job" frames (a job when
// it starts, changes and ends, with every step so far), the "step" frames
// (one step as it changes), and GET /api/jobs on load and after every
// reconnect (frames sent while the page was away are lost; the list also
// holds the re-creates the engine's journals tell of: interrupted, or
// carried out by another dockmap).
//
// It draws the Activity panel: one row per job, newest first, with its
// title, state and steps; an interrupted re-create offers Roll back and
// Finish, a running one that can still be stopped Cancel.
//
// A dialog follows its own job by the ID its POST answered (followJob):
// never by matching titles, which another browser's job could share.

import { errorText } from './api.js';
import { h } from './dom.js';
import { showStep } from './steps.js';

// Rows beyond this are dropped, oldest first (a pull reports many layers,
// but as steps of one job).
const maxJobs = 30;

// endedStates are the states a job does not leave.
const endedStates = new Set(['done', 'failed', 'rolled-back', 'canceled', 'interrupted', 'elsewhere', 'lost']);

// jobEnded tells whether the job info describes a job that is over (or,
// interrupted or elsewhere, not this dockmap's to carry on).
export function jobEnded(info) {
  return !!info && endedStates.has(info.state);
}

const stateText = {
  running: 'running',
  done: 'done',
  failed: 'failed',
  'rolled-back': 'failed, rolled back',
  canceled: 'cancelled, rolled back',
  interrupted: 'interrupted: roll back or finish',
  elsewhere: 'carried out by another dockmap',
  lost: 'outcome unknown',
};

// createJobs makes the page's one store of jobs, drawn in the Activity
// list (with emptyEl, its "nothing running" line), asking the server
// through api. followed(id), if given, is told when this page starts
// following a job (one it started: the Activity tab comes forward). It
// returns {take, takeStep, sync, follow, wait}: takeJob, takeStep,
// syncJobs, followJob and waitJob below.
export function createJobs({ list = null, empty = null, api, followed = null }) {
  const jobs = new Map(); // job ID → {info, row}
  const followers = new Map(); // job ID → Set of {onStep, onJob}
  const onFollow = followed;
  let syncing = null;
  if (list) list.addEventListener('click', onRowClick);

  // atOf is a step's or job's time, for telling an old report from a newer
  // one (GET /api/jobs may answer after frames that are newer).
  function atOf(s) {
    const t = s && s.at ? Date.parse(s.at) : NaN;
    return Number.isFinite(t) ? t : 0;
  }

  // mergeStep takes step s into steps, by step ID, unless the one there is
  // newer. It returns the merged step.
  function mergeStep(steps, s) {
    const i = steps.findIndex((x) => x.step === s.step);
    if (i < 0) {
      steps.push({ ...s });
      return steps[steps.length - 1];
    }
    const old = steps[i];
    if (atOf(s) < atOf(old)) return old;
    // A frame without text keeps the plan's words.
    steps[i] = { ...old, ...s, text: s.text || old.text };
    return steps[i];
  }

  // takeJob takes one JobInfo, from a job frame or from the API.
  function takeJob(info) {
    if (!info || !info.id) return;
    let j = jobs.get(info.id);
    if (!j) {
      j = { info: { ...info, steps: [] }, row: null };
      jobs.set(info.id, j);
    } else if (!(jobEnded(j.info) && !jobEnded(info))) {
      // An ended job never runs again: a late list does not undo its end.
      j.info = { ...j.info, ...info, steps: j.info.steps };
    }
    for (const s of info.steps || []) mergeStep(j.info.steps, s);
    render(j);
    for (const f of followers.get(info.id) || []) {
      for (const s of j.info.steps) call(f.onStep, s, j.info);
      call(f.onJob, j.info);
    }
  }

  // takeStep takes one step frame {job, step, text, state, detail, deadline,
  // actions, at}.
  function takeStep(msg) {
    if (!msg || !msg.job || !msg.step) return;
    let j = jobs.get(msg.job);
    if (!j) {
      // The step of a job whose start this page missed: the job comes with
      // its frame or the next list.
      j = { info: { id: msg.job, title: msg.job, state: 'running', steps: [] }, row: null };
      jobs.set(msg.job, j);
    }
    const { type: _type, job: _job, ...step } = msg;
    const s = mergeStep(j.info.steps, step);
    render(j);
    for (const f of followers.get(msg.job) || []) call(f.onStep, s, j.info);
  }

  function call(fn, ...args) {
    if (!fn) return;
    try {
      fn(...args);
    } catch (err) {
      console.warn('dockmap: job follower', err);
    }
  }



  // syncJobs asks GET /api/jobs and takes every job in it; a job this page
  // saw running that the list no longer holds (the server restarted) is
  // asked for once more, and marked lost if unknown.
  function syncJobs() {
    if (syncing) return syncing;
    syncing = (async () => {
      try {
        const res = (await api('GET', '/api/jobs')) || {};
        const seen = new Set();
        for (const info of res.jobs || []) {
          seen.add(info.id);
          takeJob(info);
        }
        for (const [id, j] of jobs) {
          if (!seen.has(id) && !jobEnded(j.info)) refetch(id);
        }
      } catch (err) {
        // A viewer may not list jobs; the frames still come.
        console.warn('dockmap: jobs:', errorText(err));
      } finally {
        syncing = null;
      }
    })();
    return syncing;
  }

  async function refetch(id) {
    try {
      takeJob(await api('GET', `/api/jobs/${encodeURIComponent(id)}`));
    } catch (err) {
      if (err.status === 404) {
        takeJob({ id, state: 'lost', error: 'this dockmap no longer knows the job (it restarted): the map shows what happened' });
      }
    }
  }

  // followJob calls onStep(step, info) for every step of job id as it
  // changes and onJob(info) for every change of the job itself, starting
  // with what the store already knows (frames may come before the POST that
  // started the job has answered), and asks the server once, in case frames
  // were missed. It returns a function that stops following.
  function followJob(id, { onStep, onJob } = {}) {
    const f = { onStep, onJob };
    if (!followers.has(id)) {
      followers.set(id, new Set());
      if (onFollow) queueMicrotask(() => onFollow(id));
    }
    followers.get(id).add(f);
    const j = jobs.get(id);
    if (j) {
      for (const s of j.info.steps) call(onStep, s, j.info);
      call(onJob, j.info);
    }
    if (!j || !jobEnded(j.info)) refetch(id);
    return () => {
      const set = followers.get(id);
      if (!set) return;
      set.delete(f);
      if (!set.size) followers.delete(id);
    };
  }

  // waitJob resolves with the info of job id once it has ended; onStep sees
  // its steps meanwhile.
  function waitJob(id, onStep) {
    return new Promise((resolve) => {
      const stop = followJob(id, {
        onStep,
        onJob(info) {
          if (!jobEnded(info)) return;
          // After followJob has returned stop (a known job ends at once).
          setTimeout(() => stop(), 0);
          resolve(info);
        },
      });
    });
  }

  // ---- the Activity panel ----

  function render(j) {
    if (!list) return;
    const info = j.info;
    if (!j.row) {
      j.row = newRow(info.id);
      list.prepend(j.row);
      sortRows();
      while (list.children.length > maxJobs) {
        const old = list.lastElementChild;
        jobs.delete(old.dataset.job);
        old.remove();
      }
      if (empty) empty.hidden = true;
      // The section stays out of the way until there is something to show.
      const section = list.closest('section');
      if (section) section.hidden = false;
    }
    const row = j.row;
    const state = info.state || 'running';
    row.dataset.state = state;
    row.className = `job ${state}`;
    row.querySelector('.job-name').textContent = info.title || info.kind || info.id;
    const status = row.querySelector('.job-status');
    status.textContent = ` · ${stateText[state] || state}${info.error ? `: ${info.error}` : ''}`;
    const steps = row.querySelector('.job-steps');
    for (const s of info.steps) showStep(steps, 'job-step', s, info.id);
    // A stop that waits for the engine's kill is worth seeing unasked: its
    // countdown and Kill now are in the steps.
    if (state === 'running' && info.steps.some((s) => s.state === 'running' && s.deadline)) row.querySelector('details').open = true;
    row.querySelector('.job-actions').replaceChildren(...actionsOf(info));
  }

  function newRow(id) {
    const name = h('span', { className: 'job-name', dataset: { testid: 'job-name' } });
    const status = h('span', { className: 'job-status', dataset: { testid: 'job-status' } });
    const icon = h('span', { className: 'job-icon', attrs: { 'aria-hidden': 'true' } });
    const steps = h('ol', { className: 'job-steps steps', dataset: { testid: 'job-steps' } });
    const actions = h('span', { className: 'job-actions' });
    const details = h('details', {}, h('summary', {}, icon, h('span', { className: 'job-text' }, name, status)), actions, steps);
    return h('li', { className: 'job running', dataset: { testid: 'job', job: id, state: 'running' } }, details);
  }

  // sortRows keeps the newest job on top.
  function sortRows() {
    const started = (row) => Date.parse(jobs.get(row.dataset.job)?.info.started || '') || Date.now();
    const rows = [...list.children].sort((a, b) => started(b) - started(a));
    list.append(...rows);
  }

  // actionsOf are the buttons a job offers now.
  function actionsOf(info) {
    const b = (action, text, title) => h('button', { type: 'button', className: 'small operator', text, title, dataset: { action, testid: `job-${action}`, job: info.id } });
    if (info.state === 'interrupted') {
      return [
        b('rollback', 'Roll back', 'Put the original containers back as they were'),
        b('finish', 'Finish', 'Keep the new containers and remove the old ones'),
      ];
    }
    if (info.state === 'running' && info.cancelable) return [b('cancel', 'Cancel', 'Stop the job; a re-create rolls back')];
    return [];
  }

  async function onRowClick(ev) {
    const btn = ev.target instanceof Element ? ev.target.closest('button[data-action][data-job]') : null;
    if (!btn || !['rollback', 'finish', 'cancel'].includes(btn.dataset.action)) return;
    ev.preventDefault();
    const row = btn.closest('li.job');
    btn.disabled = true;
    try {
      const id = btn.dataset.job;
      await api('POST', `/api/jobs/${encodeURIComponent(id)}/${btn.dataset.action}`, {});
      // An interrupted re-create put right is gone from the list: say how
      // it ended here (a cancel's end comes as a frame).
      if (btn.dataset.action === 'rollback') takeJob({ id, state: 'rolled-back', error: '' });
      if (btn.dataset.action === 'finish') takeJob({ id, state: 'done' });
      await syncJobs();
    } catch (err) {
      btn.disabled = false;
      if (row) row.querySelector('.job-status').textContent = ` · ${btn.textContent} failed: ${errorText(err)}`;
    }
  }

  return { take: takeJob, takeStep, sync: syncJobs, follow: followJob, wait: waitJob };
}
