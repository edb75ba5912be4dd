// reach.js asks the server's explainer whether a container can reach
// another, and why not: a prediction from the graph alone, with no engine
// call, so it is cheap and shown everywhere a probe result is (the panel's
// rows, the matrix, the probe edges), and before any probe (the ping
// form's "predicted" line). When the measured result disagrees with the
// prediction, the page says so: something outside Docker (a firewall) is
// at work. A probe that could not run at all (failure "probe-impossible":
// the source stopped, the exec was refused, no helper) measured nothing,
// so it never disagrees: the page says "could not measure" in grey and
// keeps the prediction.
//
// The pairs asked for while the graph is quiet go in one request, GET
// /api/reach/matrix?ids=a,b,c[&from=a] (every ordered pair of those
// containers, or only those from the sources, or only the pairs touching
// a few): a 40-container matrix is one request per refresh, not 1,560.
// Each answer carries the graph's seq it was made from, and a prediction
// is asked again only once the page's map is past it by a change that can
// affect it: each /live delta names the containers whose pairs it can
// change (its "affects", the server's reach.Affected, the one place that
// rule lives), so a container starting elsewhere asks nothing again, and
// one joining a network asks again only the pairs it is in. A snapshot,
// or a delta that names none (a Swarm's change, a recording from before),
// makes every prediction stale.
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

// maxIDs is the server's cap on the containers of one request
// (server.maxReachIDs).
const maxIDs = 200;

// createReach keeps the predictions of the graph cy, asked of the server
// through api. It returns {prediction, verdictFor, differs, invalidate,
// onChanged, seq}.
export function createReach({ cy, api }) {
  let changedAt = 0; // when the graph last changed (ms)
  let shown = 0; // the seq of the graph the page shows
  // "<from>><to>" → {seq, need, value, pending, changedAt, failed}: the
  // answer made from the graph at seq holds until a change at need > seq;
  // changedAt is when that change came; failed is the seq a request for
  // it failed at.
  const cache = new Map();
  const queue = new Map(); // "<from>><to>" → {entry, from, to}
  let flushTimer = null;
  let answered = 0; // the seq of the latest answer
  const notify = notifier('reach');

  // Only pairs the page's graph holds: the server answers 404 for a
  // container that is gone, and the browser logs that as an error.
  const gone = (from, to) => cy.getElementById(containerNode(from)).empty() || cy.getElementById(containerNode(to)).empty();

  // invalidate says the graph changed to seq (a delta's, a snapshot's):
  // the predictions of pairs with an end in affects (container IDs or
  // node IDs; every pair when it is not a list) made before it are asked
  // again when next wanted, and shown until the new ones come (no
  // flicker). A snapshot (baseline) is a new start whatever its number
  // (the server may have restarted and counted from 1 again), so every
  // prediction is then stale.
  function invalidate(seq, baseline = false, affects = undefined) {
    shown = Number.isFinite(seq) ? seq : shown + 1;
    changedAt = Date.now();
    const hit = !baseline && Array.isArray(affects) ? new Set(affects.map(bareID)) : null;
    const touches = (k) => {
      if (!hit) return true;
      const [from, to] = k.split('>');
      return hit.has(from) || hit.has(to);
    };
    let stale = false;
    for (const [k, c] of cache) {
      if (baseline) c.seq = -1;
      if (touches(k)) {
        c.need = shown;
        c.changedAt = changedAt;
      }
      stale = stale || c.pending || c.seq < c.need;
    }
    // Nothing held changed: what is held is the new graph's too.
    if (!stale) answered = Math.max(answered, shown);
    // A queued pair of a container just removed would be answered 404:
    // wait for the graph to be quiet, but only for a change that touches
    // the queue (a busy engine elsewhere must not hold it back).
    if (flushTimer !== null && [...queue.keys()].some(touches)) scheduleFlush();
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
    if (!c || (c.seq < c.need && !c.pending && !(c.failed >= shown))) {
      const entry = c || fresh();
      entry.pending = true;
      cache.set(k, entry);
      queue.set(k, { entry, from, to });
      scheduleFlush();
    }
    return c ? c.value : undefined;
  }

  // fresh is a cache entry never answered. A result measured before the
  // page last saw any change is not held against it (differs).
  const fresh = () => ({ seq: -1, need: 0, value: undefined, pending: false, changedAt });

  function scheduleFlush() {
    clearTimeout(flushTimer);
    flushTimer = setTimeout(flush, quietMillis);
  }

  // flush asks for every queued pair at once: one request for the
  // containers they name (more only past the server's cap).
  function flush() {
    flushTimer = null;
    const pairs = [];
    for (const [k, q] of queue) {
      queue.delete(k);
      if (gone(q.from, q.to)) q.entry.pending = false;
      else pairs.push(q);
    }
    for (const batch of batches(pairs)) ask(batch);
  }

  // batches groups pairs so that each group names at most maxIDs
  // containers, each with the few containers every pair of it touches
  // when there are few (a change's pairs: touch=).
  function batches(pairs) {
    const out = [];
    let cur = null;
    for (const p of pairs) {
      const more = [p.from, p.to].filter((id) => !cur || !cur.ids.has(id)).length;
      if (!cur || cur.ids.size + more > maxIDs) {
        cur = { ids: new Set(), froms: new Set(), pairs: [] };
        out.push(cur);
      }
      cur.ids.add(p.from);
      cur.ids.add(p.to);
      cur.froms.add(p.from);
      cur.pairs.push(p);
    }
    for (const b of out) b.touch = cover(b.pairs, b.ids.size);
    return out;
  }

  // cover is a few containers that every one of pairs has an end among,
  // or null when they would be more than half of the n named: the
  // containers by how many pairs they are in, as many as the pair whose
  // better-ranked end ranks lowest needs. One container's row and column
  // (the pairs one change affected) are that container alone.
  function cover(pairs, n) {
    const degree = new Map();
    for (const p of pairs) for (const id of [p.from, p.to]) degree.set(id, (degree.get(id) || 0) + 1);
    const order = [...degree.keys()].sort((a, b) => degree.get(b) - degree.get(a));
    const rank = new Map(order.map((id, i) => [id, i]));
    let k = 0;
    for (const p of pairs) k = Math.max(k, Math.min(rank.get(p.from), rank.get(p.to)) + 1);
    return k * 2 <= n ? order.slice(0, k) : null;
  }

  // ask fetches the predictions of batch's pairs, and keeps them all: the
  // pairs not asked for come free and may be next. The server answers
  // every pair from a source to any container named; when fewer
  // containers are sources (a panel's rows from its one container), only
  // they are asked from, not the whole square.
  function ask(batch) {
    const asked = shown;
    const q = new URLSearchParams({ ids: [...batch.ids].join(',') });
    if (batch.froms.size < batch.ids.size) q.set('from', [...batch.froms].join(','));
    if (batch.touch) q.set('touch', batch.touch.join(','));
    api('GET', `/api/reach/matrix?${q}`)
      .then((res) => {
        // The answer holds at least for the map the page showed when it
        // asked (which it learnt from this server): a source whose seq
        // counts otherwise (a replay) must not make it ask in a loop.
        const seq = Math.max(Number(res?.seq) || 0, asked);
        for (const p of res?.predictions || []) {
          const k = `${bareID(p.from)}>${bareID(p.to)}`;
          const entry = cache.get(k) || fresh();
          entry.value = p;
          entry.seq = seq;
          cache.set(k, entry);
        }
        answered = Math.max(answered, seq);
      })
      .catch(() => {
        // No explainer (yet), or a container is gone: keep what is shown
        // and ask again after the next change, whatever it touches (the
        // one that removes the container), not in a loop. The pairs stay
        // stale: a change elsewhere must not leave them so for good.
        for (const p of batch.pairs) p.entry.failed = asked;
      })
      .finally(() => {
        for (const p of batch.pairs) p.entry.pending = false;
        notify.changed();
      });
  }

// verdictFor is the prediction for a probe result r, or undefined while
  // it is not known.
  function verdictFor(r) {
    return verdict(prediction(r.from, r.to), r.by, r.port);
  }

  // differs tells whether result r disagrees with verdict v. A result
  // measured before the last change that affected the pair is not held
  // against the new prediction (the picture changed since), and a probe
  // that could not run is not held against any.
  function differs(r, v) {
    if (!r || !v || unmeasured(r) || v.ok === !!r.ok) return false;
    const at = Date.parse(r.at);
    const since = cache.get(`${bareID(r.from)}>${bareID(r.to)}`)?.changedAt ?? changedAt;
    return !Number.isFinite(at) || at >= since - 500;
  }

  // onChanged calls fn() when predictions arrived (once per burst).
  const onChanged = (fn) => notify.listen(fn);

  // seq is the graph's seq of the latest predictions that came.
  const seq = () => answered;

  return { prediction, verdictFor, differs, invalidate, onChanged, seq };
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
