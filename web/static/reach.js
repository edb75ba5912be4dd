// reach.js asks the server's explainer (GET /api/reach?from=&to=) whether
// a container can reach another, and why not: a prediction from the graph
// alone, with no engine call, so it is cheap and shown everywhere a probe
// result is (the panel's rows, the matrix, the probe edges), and before
// any probe (the ping form's "predicted" line). When the measured result
// disagrees with the prediction, the page says so: something outside
// Docker (a firewall) is at work. A probe that could not run at all
// (failure "probe-impossible": the source stopped, the exec was refused,
// no helper) measured nothing, so it never disagrees: the page says "could
// not measure" in grey and keeps the prediction.
//
// A prediction: {from, to, byIP, byName, tcp}, each {ok, via, reasons:
// [{code, text, fix}]}.

import { h, notifier } from './dom.js';
import { bareID, containerNode } from './ids.js';

// mismatchText is what the page says when a probe disagrees with the
// prediction.
export const mismatchText = 'measured differs from prediction: something outside Docker (a firewall?) is at work';

// Fetches wait for the graph to be quiet this long: the server answers
// 404 for a container it just removed, and the browser logs that.
const quietMillis = 300;

// createReach keeps the predictions of the graph cy, asked of the server
// through api. It returns {prediction, verdictFor, differs, invalidate,
// onChanged}.
export function createReach({ cy, api }) {
  let changedAt = 0; // when the graph last changed (ms)
  let generation = 0; // bumped on every graph change: predictions go stale
  const cache = new Map(); // "<from>><to>" → {gen, value, pending}
  const queue = new Map(); // "<from>><to>" → {entry, from, to}
  let flushTimer = null;
  const notify = notifier('reach');

  // Only pairs the page's graph holds: the server answers 404 for a
  // container that is gone, and the browser logs that as an error.
  const gone = (from, to) => cy.getElementById(containerNode(from)).empty() || cy.getElementById(containerNode(to)).empty();

  // invalidate forgets every prediction: call it after each graph change.
  // Predictions are fetched again when next asked for, and the old ones
  // are shown until then (no flicker).
  function invalidate() {
    generation++;
    changedAt = Date.now();
    if (flushTimer !== null) scheduleFlush();
  }

  // prediction returns the cached prediction from → to (container IDs),
  // or undefined, and fetches it (again) when missing or stale; listeners
  // hear when it arrives.
  function prediction(from, to) {
    from = bareID(from);
    to = bareID(to);
    if (!from || !to || from === to) return undefined;
    if (gone(from, to)) return undefined;
    const k = `${from}>${to}`;
    const c = cache.get(k);
    if (!c || (c.gen !== generation && !c.pending)) {
      const entry = c || { gen: generation, value: undefined, pending: false };
      entry.gen = generation;
      entry.pending = true;
      cache.set(k, entry);
      queue.set(k, { entry, from, to });
      scheduleFlush();
    }
    return c ? c.value : undefined;
  }

  function scheduleFlush() {
    clearTimeout(flushTimer);
    flushTimer = setTimeout(flush, quietMillis);
  }

  function flush() {
    flushTimer = null;
    for (const [k, { entry, from, to }] of queue) {
      queue.delete(k);
      if (gone(from, to)) {
        entry.pending = false;
        continue;
      }
      const q = new URLSearchParams({ from, to });
      api('GET', `/api/reach?${q}`)
        .then((v) => {
          entry.value = v || undefined;
        })
        .catch(() => {
          // No explainer (yet), or the pair is gone: show nothing.
        })
        .finally(() => {
          entry.pending = false;
          notify.changed();
        });
    }
  }

  // verdictFor is the prediction for a probe result r, or undefined while
  // it is not known.
  function verdictFor(r) {
    return verdict(prediction(r.from, r.to), r.by, r.port);
  }

  // differs tells whether result r disagrees with verdict v. A result
  // measured before the last graph change is not held against the new
  // prediction (the picture changed since), and a probe that could not
  // run is not held against any.
  function differs(r, v) {
    if (!r || !v || unmeasured(r) || v.ok === !!r.ok) return false;
    const at = Date.parse(r.at);
    return !Number.isFinite(at) || at >= changedAt - 500;
  }

  // onChanged calls fn() when predictions arrived (once per burst).
  const onChanged = (fn) => notify.listen(fn);

  return { prediction, verdictFor, differs, invalidate, onChanged };
}

// verdict is the part of prediction p for a probe by "ip" or "name", or a
// TCP probe (a port): {ok, via, reasons} or undefined.
export function verdict(p, by, port) {
  if (!p) return undefined;
  if (port) {
    const t = p?.tcp;
    if (t) return norm(t);
  }
  return norm(by === 'name' ? p?.byName : p?.byIP);
}

function norm(v) {
  if (!v || typeof v !== 'object') return undefined;
  const reasons = (v?.reasons || []).map((r) => ({
    code: r?.code || '',
    text: r?.text || '',
    fix: r?.fix || '',
  }));
  return { ok: !!v?.ok, via: v?.via || '', reasons };
}

// unmeasured tells whether result r is no measure at all: the probe could
// not run, which says nothing about whether the target is reachable.
export function unmeasured(r) {
  return !!r && !r.ok && r.failure === 'probe-impossible';
}

// unmeasuredText says why result r (unmeasured) has no measure.
export function unmeasuredText(r) {
  return r.detail ? `could not measure: ${r.detail}` : 'could not measure';
}

// predictionText says a verdict in one line: "predicted: reachable by name
// via appnet", "predicted: unreachable by IP — they share no network. Fix: …",
// with every reason when there are several.
export function predictionText(v, by) {
  const how = by === 'name' ? 'by name' : by === 'ip' ? 'by IP' : by;
  if (v.ok) return `predicted: reachable ${how}${v.via ? ` via ${v.via}` : ''}`;
  // Every reason that applies (no DNS on the default bridge *and* a link
  // only the other way): fixing one alone would not be enough.
  const rs = v.reasons || [];
  let t = `predicted: unreachable ${how}`;
  const texts = rs.filter((r) => r.text).map((r) => r.text.replace(/\.+$/, ''));
  if (texts.length) t += ` — ${texts.join('; and ')}`;
  const fixes = rs.filter((r) => r.fix).map((r) => r.fix.replace(/\.+$/, ''));
  if (fixes.length) t += `. Fix: ${fixes.join('; ')}`;
  return t;
}

// reasonNodes are the reasons of verdict v as list items (text and fix),
// for a result row.
export function reasonNodes(v) {
  if (!v || v.ok) return [];
  return v.reasons.map((r) =>
    h(
      'li',
      { className: 'reach-reason', dataset: { testid: 'reach-reason', code: r.code } },
      h('span', { className: 'reason-text', text: r.text || r.code }),
      r.fix ? h('span', { className: 'reach-fix', dataset: { testid: 'reach-fix' }, text: ` Fix: ${r.fix}` }) : null,
    ),
  );
}

// reasonLines are the reasons of verdict v as tooltip lines.
export function reasonLines(v) {
  if (!v || v.ok) return [];
  const out = [];
  for (const r of v.reasons) {
    out.push({ text: `why: ${r.text || r.code}`, cls: 'tip-why' });
    if (r.fix) out.push({ text: `fix: ${r.fix}`, cls: 'tip-fix' });
  }
  return out;
}
