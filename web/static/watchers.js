// watchers.js shows in the page header (#watchers) how many browsers have
// the map open live, from the /live "watchers" frame
// ({type: "watchers", viewers, operators}; README, "Live protocol"). Each
// open tab counts, the operator's own included.

// initWatchers readies the header element: hidden until the first frame,
// since a count from before a reconnect would be stale.
export function initWatchers(root = document) {
  const el = root.getElementById('watchers');
  if (!el) return;
  el.hidden = true;
  el.textContent = '';
}

// showWatchers puts a watchers frame's counts in the header.
export function showWatchers(frame, root = document) {
  const el = root.getElementById('watchers');
  if (!el || !frame) return;
  const viewers = Number(frame.viewers) || 0;
  const operators = Number(frame.operators) || 0;
  // Short, for a header that must stay one row on a projector; the title
  // and the label say it in words.
  el.textContent = `◉ ${viewers + operators}`;
  el.setAttribute('aria-label', `${viewers + operators} watching`);
  el.title = `${plural(viewers, 'viewer')} and ${plural(operators, 'operator')} have the map open live (each tab counts)`;
  el.dataset.viewers = String(viewers);
  el.dataset.operators = String(operators);
  el.hidden = false;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
