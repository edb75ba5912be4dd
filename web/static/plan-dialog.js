// plan-dialog.js runs a dialog that shows a plan before anything changes
// and then follows the job that carries it out: the link dialog (add,
// repair or remove a link) and the mount dialog share it.
//
// The dialog's data-state says where it is: loading (asking the plan),
// ready (the plan is shown; Confirm sends it), running (the job runs; its
// steps tick), done, failed (the job or the request failed), error (no plan
// can be made: the server says why).
//
// Confirm sends {confirm: true, plan: <plan id>, recreateDependents}. The
// answer names the job (202 {job, plan}); the dialog follows that job by
// its ID (jobs.js). A 409 answers with the plan of today: the dialog shows
// it with a line saying so, to confirm again; a 428 shows its plan too.

import { api, errorText } from './api.js';
import { openDialog } from './dialogs.js';
import { showText } from './dom.js';
import { jobEnded } from './jobs.js';
import { renderPlan, staleText } from './plan-view.js';
import { showStep, jobFailedText } from './steps.js';

// newContainer is the ID of the container a done job made for the plan's
// subject (the same one when nothing was re-created), or "".
export function newContainer(info) {
  const r = (info && info.result) || {};
  return typeof r.container === 'string' ? r.container : '';
}

// planQuery asks api for the plan at path (GET) with the query params and
// the "re-create dependents too" choice.
export function planQuery(api, path, params, recreateDependents) {
  const q = new URLSearchParams({ ...params, recreateDependents: String(recreateDependents) });
  return api('GET', `${path}?${q}`);
}

// alsoText names the other containers a done job re-created.
export function alsoText(plan) {
  const others = (plan.recreates || []).slice(1).map((r) => r.container?.name).filter(Boolean);
  return others.length ? ` Also re-created, pointing at the new one: ${others.join(', ')}.` : '';
}

// planDialog drives the dialog dlg whose ids start with prefix, following
// its job in jobs (jobs.js createJobs). toast(text, kind) tells what a job
// the user closed the dialog on came to.
export function planDialog(dlg, prefix, jobs, toast = () => {}) {
  const $ = (suffix) => dlg.querySelector(`#${prefix}-${suffix}`);
  let cur = null; // {req, plan, job, stop}

  dlg.querySelector('form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    confirm();
  });
  // A re-create can be stopped until its new containers are up: it then
  // rolls back, and the job's end says so.
  $('cancel-job')?.addEventListener('click', async () => {
    const mine = cur;
    const btn = $('cancel-job');
    if (!mine || !mine.job) return;
    btn.disabled = true;
    try {
      await api('POST', `/api/jobs/${encodeURIComponent(mine.job)}/cancel`, {});
    } catch (err) {
      if (cur === mine) showText($('error'), `Could not stop it: ${errorText(err)}`);
      btn.disabled = false;
    }
  });
  // "re-create them too" asks the plan again: which containers are
  // re-created, and what breaks, is the server's to say.
  $('recreate-dependents')?.addEventListener('change', () => {
    const mine = cur;
    if (mine && dlg.dataset.state === 'ready') ask(mine, '');
  });
  // A job still running when the dialog closes is told of when it ends,
  // in a toast (confirm's follower does it).
  dlg.addEventListener('close', () => {
    cur = null;
    dlg.dataset.state = 'idle';
  });

  function state(s) {
    dlg.dataset.state = s;
  }

  // open shows the dialog for req: {title, action (for data-action),
  // plan(recreateDependents) → Promise of the plan, send(body) → Promise
  // of the answer, confirmLabel(plan), doneText(jobInfo, plan),
  // after(jobInfo), check() → an error sentence or ""}.
  async function open(req) {
    if (cur && cur.stop) cur.stop();
    const mine = { req, plan: null, job: null, stop: null };
    cur = mine;
    dlg.dataset.action = req.action || '';
    $('title').textContent = req.title;
    showText($('stale'), '');
    showText($('error'), '');
    showText($('done'), '');
    $('plan').hidden = true;
    const box = $('recreate-dependents');
    if (box) {
      // Everyone keeps working unless the user says otherwise.
      box.checked = true;
      box.disabled = false;
    }
    const ok = $('confirm');
    ok.hidden = false;
    ok.disabled = true;
    ok.textContent = 'Confirm';
    $('cancel').textContent = 'Cancel';
    showCancelJob(null);
    openDialog(dlg);
    $('cancel').focus();
    const bad = req.check ? req.check() : '';
    if (bad) {
      failPlan(mine, bad);
      return;
    }
    await ask(mine, '');
  }

  // ask asks the plan (with the choice of the checkbox) and shows it.
  async function ask(mine, stale) {
    state('loading');
    $('loading').hidden = false;
    $('confirm').disabled = true;
    const box = $('recreate-dependents');
    let plan;
    try {
      plan = await mine.req.plan(box ? box.checked : true);
    } catch (err) {
      failPlan(mine, errorText(err));
      return;
    }
    if (cur !== mine) return;
    showPlan(mine, plan, stale);
  }

  function failPlan(mine, text) {
    if (cur !== mine) return;
    state('error');
    $('loading').hidden = true;
    showText($('error'), text);
  }

  // showPlan shows plan, ready to be confirmed; stale is the line to show
  // over it when it replaced the plan the user confirmed.
  function showPlan(mine, plan, stale) {
    mine.plan = plan || {};
    mine.job = null;
    $('loading').hidden = true;
    renderPlan(dlg, prefix, mine.plan);
    $('plan').hidden = false;
    showText($('stale'), stale);
    showText($('error'), '');
    const box = $('recreate-dependents');
    if (box) box.disabled = false;
    const ok = $('confirm');
    ok.hidden = false;
    ok.textContent = mine.req.confirmLabel ? mine.req.confirmLabel(mine.plan) : 'Confirm';
    ok.disabled = false;
    state('ready');
    ok.focus();
  }

  async function confirm() {
    const mine = cur;
    if (!mine || !mine.plan || dlg.dataset.state !== 'ready') return;
    state('running');
    const ok = $('confirm');
    ok.disabled = true;
    ok.textContent = 'Working…';
    const box = $('recreate-dependents');
    if (box) box.disabled = true;
    $('cancel').textContent = 'Close';
    showText($('error'), '');
    showText($('stale'), '');
    const body = { confirm: true, plan: mine.plan.id, recreateDependents: box ? box.checked : true };
    let res;
    try {
      res = (await mine.req.send(body)) || {};
    } catch (err) {
      if (cur !== mine) {
        toast(`${mine.req.title} failed: ${errorText(err)}`, 'error');
        return;
      }
      if ((err.status === 409 || err.status === 428) && err.plan) {
        showPlan(mine, err.plan, err.status === 409 ? staleText : '');
        return;
      }
      fail(mine, errorText(err));
      return;
    }
    if (cur !== mine) return;
    if (typeof res.job !== 'string') {
      // Done at once (a link removed in place: 204).
      finish(mine, { state: 'done', steps: [] });
      return;
    }
    mine.job = res.job;
    let ended = false;
    const stop = jobs.follow(res.job, {
      onStep: (s) => cur === mine && tick(mine, s),
      onJob: (info) => {
        if (cur === mine) showCancelJob(info);
        if (ended || !jobEnded(info)) return;
        ended = true;
        // A job that ended before its 202 came is replayed inside
        // jobs.follow, before it has returned stop.
        if (mine.stop) mine.stop();
        mine.stop = null;
        if (cur === mine) {
          finish(mine, info);
        } else if (info.state === 'done') {
          toast(mine.req.doneText(info, mine.plan));
          if (mine.req.after) mine.req.after(info);
        } else {
          toast(`${mine.req.title} failed: ${jobFailedText(info)}`, 'error');
        }
      },
    });
    if (ended) stop();
    else mine.stop = stop;
  }

  // showCancelJob offers to stop the job while it can still be stopped.
  function showCancelJob(info) {
    const btn = $('cancel-job');
    if (!btn) return;
    btn.hidden = !(info && info.state === 'running' && info.cancelable);
    if (btn.hidden) btn.disabled = false;
  }

  // tick shows one step of the job in the plan's list; a step the plan did
  // not list (a rollback step) is added under it.
  function tick(mine, s) {
    if (showStep($('steps'), `${prefix}-step`, s, mine.job)) $('steps-section').hidden = false;
  }

  function finish(mine, info) {
    $('confirm').hidden = true;
    $('cancel').textContent = 'Close';
    if (info.state === 'done') {
      state('done');
      showText($('done'), mine.req.doneText(info, mine.plan));
      $('cancel').focus();
      if (mine.req.after) mine.req.after(info);
      return;
    }
    // A job refused as out of date answers with the plan of today.
    const fresh = info.result && info.result.plan;
    if (fresh && typeof fresh === 'object' && fresh.id) {
      showPlan(mine, fresh, `${staleText} (${info.error || 'the job was refused'})`);
      return;
    }
    if (info.state === 'canceled') {
      fail(mine, 'Stopped on request: the re-create rolled back, and the containers are as they were.');
      return;
    }
    fail(mine, jobFailedText(info));
  }

  function fail(mine, text) {
    state('failed');
    $('confirm').hidden = true;
    showText($('error'), text);
  }

  return { open };
}
