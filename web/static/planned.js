// planned.js sends a changing request the way the server wants it since
// plans became data, for the forms that have no plan dialog of their own
// (lifecycle buttons, network attach and detach, run, a live link's "×"):
//
//   - 428 {plan}: the plan needs a confirm. It is shown in the confirm
//     dialog, and the request is sent again with {confirm: true, plan: id}.
//   - 409 {plan}: the plan confirmed is out of date; the new one is shown
//     the same way, to confirm again.
//   - 202 {job}: the request started a job; it is followed by its ID
//     until it ends, and a failed job is an error.

import { APIError } from './api.js';
import { confirmAction } from './dialogs.js';
import { staleText } from './plan-view.js';
import { jobFailedText } from './steps.js';

// createPlanned returns sendPlanned for the page's jobs (jobs.js
// createJobs): sendPlanned(send, onStep) calls send(conf) (conf is {}
// first, then {confirm, plan}) and resolves with the answer, a started
// job's final info in its job field. It rejects with the server's error,
// or when the user declines the plan.
export function createPlanned({ jobs }) {
  return (send, onStep) => sendPlanned(jobs, send, onStep);
}

async function sendPlanned(jobs, send, onStep) {
  let conf = {};
  // A plan can change under the user again and again on a busy engine;
  // three rounds are plenty for a person.
  for (let round = 0; round < 3; round++) {
    let res;
    try {
      res = await send(conf);
    } catch (err) {
      if (!(err instanceof APIError) || !err.plan || (err.status !== 428 && err.status !== 409)) throw err;
      const plan = err.plan;
      const ok = await confirmPlan(plan, err.status === 409);
      if (!ok) throw new APIError(0, 'declined', 'Nothing was done: the plan was not confirmed.');
      conf = { confirm: true, plan: plan.id };
      continue;
    }
    if (res && typeof res.job === 'string') {
      const info = await jobs.wait(res.job, onStep);
      if (info.state !== 'done') throw new APIError(info.status || 0, info.state, jobFailedText(info));
      return { ...res, job: info };
    }
    return res;
  }
  throw new APIError(409, 'conflict', 'The containers keep changing: nothing was done; try again.');
}

// confirmPlan shows plan in the confirm dialog and resolves to whether the
// user confirmed it.
function confirmPlan(plan, stale) {
  return confirmAction({
    title: stale ? 'The plan changed' : 'Confirm the plan',
    message: stale ? staleText : plan.summary || '',
    plan,
    confirmLabel: 'Confirm',
    danger: plan.method === 'recreate' || plan.method === 'remove',
  });
}
