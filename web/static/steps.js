// steps.js draws one step of a job, the same way wherever it shows: in the
// Activity panel and in the dialogs that follow their own job (link, mount,
// repair). A step is the plan's step ({id, text, container}) as the job
// reports it ({step, text, state, detail, deadline, actions}).
//
// While a stop waits for a main process that ignores its stop signal, the
// step carries the engine's kill deadline: it counts down to it, and with
// the "kill" action it offers Kill now (POST /api/jobs/{id}/kill). One
// ticker redraws every countdown on the page, so a step that is re-drawn
// or removed leaves no timer behind.

import { api, errorText } from './api.js';
import { h } from './dom.js';

// stateText says a step's state in a word or two.
const stateText = {
  pending: 'to do',
  running: 'running…',
  done: 'done',
  failed: 'failed',
  'rolled-back': 'rolled back',
  skipped: 'skipped',
};

// stepItem makes the row of a step: data-testid testid, data-step its ID,
// data-container the container it acts on (for the countdown's words).
export function stepItem(testid, step) {
  const li = h(
    'li',
    { className: 'step pending', dataset: { testid, step: step.id || step.step || '', state: 'pending' } },
    h('span', { className: 'step-text', dataset: { testid: 'step-text' } }),
    ' ',
    h('span', { className: 'step-state', dataset: { testid: 'step-state' } }),
    h('span', { className: 'step-detail', dataset: { testid: 'step-detail' } }),
    h('span', { className: 'step-countdown', dataset: { testid: 'step-countdown' }, hidden: true }),
  );
  if (step.container) li.dataset.container = step.container;
  paintStep(li, { ...step, state: step.state || 'pending' }, '');
  return li;
}

// paintStep shows step (a step frame or a JobInfo step) in its row li, for
// the job with ID jobID. A frame without text keeps the plan's.
// showStep paints step s of job jobID in list, adding an item for it
// (with testid) when the list has none; it tells whether it added one.
export function showStep(list, testid, s, jobID) {
  let li = [...list.children].find((c) => c.dataset.step === s.step);
  const added = !li;
  if (added) {
    li = stepItem(testid, s);
    list.append(li);
  }
  paintStep(li, s, jobID);
  return added;
}

export function paintStep(li, step, jobID) {
  const state = step.state || li.dataset.state || 'pending';
  li.dataset.state = state;
  li.className = `step ${state}`;
  if (jobID) li.dataset.job = jobID;
  const text = li.querySelector('.step-text');
  if (step.text) text.textContent = step.text;
  else if (!text.textContent) text.textContent = step.step || step.id || '';
  li.querySelector('.step-state').textContent = stateText[state] || state;
  const detail = li.querySelector('.step-detail');
  detail.textContent = step.detail ? ` · ${step.detail}` : '';
  const cd = li.querySelector('.step-countdown');
  const deadline = step.deadline ? Date.parse(step.deadline) : NaN;
  if (state === 'running' && Number.isFinite(deadline)) {
    cd.dataset.deadline = String(deadline);
    cd.hidden = false;
    drawCountdown(cd);
    startTicker();
  } else {
    delete cd.dataset.deadline;
    cd.hidden = true;
    cd.textContent = '';
  }
  let kill = li.querySelector('[data-action=kill-job]');
  const canKill = state === 'running' && (step.actions || []).includes('kill') && (jobID || li.dataset.job);
  if (canKill && !kill) {
    kill = h('button', {
      type: 'button',
      className: 'danger small operator',
      text: 'Kill now',
      title: 'Kill the container now instead of waiting for the engine to',
      dataset: { action: 'kill-job', testid: 'step-kill' },
    });
    li.append(kill);
  } else if (!canKill && kill) {
    kill.remove();
  }
  if (kill) kill.dataset.job = jobID || li.dataset.job;
}

// drawCountdown says how long until the engine kills the container of the
// countdown element cd.
function drawCountdown(cd) {
  const left = Math.max(0, Math.ceil((Number(cd.dataset.deadline) - Date.now()) / 1000));
  const li = cd.closest('li');
  const who = li && li.dataset.container ? `${li.dataset.container}'s main process` : 'The main process';
  cd.dataset.seconds = String(left);
  cd.textContent = ` ${who} ignores the stop signal; the engine kills it in ${left} s`;
}

let ticker = null;

// startTicker redraws every countdown on the page four times a second
// while there is one, then stops.
function startTicker() {
  if (ticker !== null) return;
  ticker = setInterval(() => {
    const all = document.querySelectorAll('.step-countdown[data-deadline]');
    if (!all.length) {
      clearInterval(ticker);
      ticker = null;
      return;
    }
    all.forEach(drawCountdown);
  }, 250);
}

// Kill now, wherever its button is: one listener for the whole page, since
// rows are re-drawn as frames come.
document.addEventListener('click', async (ev) => {
  const btn = ev.target instanceof Element ? ev.target.closest('button[data-action=kill-job]') : null;
  if (!btn || !btn.dataset.job) return;
  ev.preventDefault();
  btn.disabled = true;
  btn.textContent = 'Killing…';
  try {
    await api('POST', `/api/jobs/${encodeURIComponent(btn.dataset.job)}/kill`, {});
  } catch (err) {
    btn.disabled = false;
    btn.textContent = 'Kill now';
    btn.title = `Kill failed: ${errorText(err)}`;
  }
});

// failedStepText is " (step: <text>)" for the first failed step of a job's
// steps, or "".
function failedStepText(steps) {
  const f = (steps || []).find((s) => s.state === 'failed');
  return f ? ` (step: ${f.text || f.step})` : '';
}

// jobFailedText says why a job (its JobInfo) did not end done: its error,
// or the state it ended in, and the step that failed.
export function jobFailedText(info) {
  return `${info.error || `the job ended ${info.state}`}${failedStepText(info.steps)}`;
}
