// live.js keeps one WebSocket to /live open and hands its messages to the
// page, in order, exactly once.
//
// Protocol (README, "Live protocol"; internal/protocol/frames.go): the
// server sends a snapshot first, then deltas numbered seq+1, seq+2, ...,
// plus event, engine, engines, probe, job, step, share and audit frames. A delta with
// seq <= lastSeq is a duplicate and is dropped; a gap (seq > lastSeq + 1)
// means we missed something, so we reconnect and take a fresh snapshot.
// After any close we reconnect with jittered exponential backoff.

// Backoff: 250 ms doubling to 5 s, each delay randomised by ±50% so that a
// classroom of browsers does not reconnect in lockstep after a restart.
const backoffBase = 250;
const backoffMax = 5000;

// backoffDelay is the wait before reconnect attempt number attempt (0-based).
export function backoffDelay(attempt, random = Math.random) {
  const d = Math.min(backoffMax, backoffBase * 2 ** attempt);
  return Math.round(d * (0.5 + random()));
}

// liveURL is the /live WebSocket URL on the page's own origin.
export function liveURL(loc = window.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/live`;
}

// startLive connects and keeps reconnecting until stop() is called.
// handlers: onSnapshot(msg), onDelta(msg), onEvent(event), onEngine(state),
// onJob(jobInfo) (a job started, changed or ended), onStep(msg) (one step
// of a job: {job, step, text, state, detail, deadline, actions, at}),
// onProbe(result),
// onShare(msg) (one share-test result: {volume, result}), onLesson(msg)
// (a participant's steps in a lesson), onWatchers(msg) (how many watch),
// onStatus('connecting' | 'live' | 'reconnecting'), onSeq(lastSeq).
// A handler that throws is treated like a gap: the picture may be wrong,
// so we start over from a snapshot rather than drift.
export function startLive(handlers, url = liveURL()) {
  let ws = null;
  let lastSeq = null; // null until the first snapshot of a connection
  let attempt = 0; // failed connections since the last snapshot
  let timer = null;
  let stopped = false;
  let everLive = false;

  const status = (s) => handlers.onStatus && handlers.onStatus(s);

  function connect() {
    timer = null;
    status(everLive ? 'reconnecting' : 'connecting');
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (err) {
      console.warn('dockmap: WebSocket', err);
      schedule();
      return;
    }
    ws = sock;
    lastSeq = null;
    // Handlers check sock === ws so that a late event from an old socket
    // can never act on the current state.
    sock.onmessage = (ev) => {
      if (sock !== ws) return;
      try {
        handle(sock, JSON.parse(ev.data));
      } catch (err) {
        console.error('dockmap: live message failed; resyncing', err);
        resync(sock);
      }
    };
    sock.onclose = () => {
      if (sock !== ws) return;
      ws = null;
      schedule();
    };
    // An error is always followed by close, which does the work.
    sock.onerror = () => {};
  }

  function handle(sock, msg) {
    switch (msg.type) {
      case 'snapshot':
        // A snapshot is a new baseline, whatever its number: the server
        // may have restarted and counted from 1 again.
        handlers.onSnapshot(msg);
        lastSeq = msg.seq;
        // Only a snapshot that was applied resets the backoff: a server
        // that accepts and then fails must not be hammered.
        attempt = 0;
        everLive = true;
        handlers.onSeq && handlers.onSeq(lastSeq);
        status('live');
        break;
      case 'delta':
        if (lastSeq === null || msg.seq > lastSeq + 1) {
          console.warn(`dockmap: delta gap (have ${lastSeq}, got ${msg.seq}); resyncing`);
          resync(sock);
          return;
        }
        if (msg.seq <= lastSeq) return; // duplicate
        lastSeq = msg.seq;
        handlers.onDelta(msg);
        handlers.onSeq && handlers.onSeq(lastSeq);
        break;
      case 'event':
        handlers.onEvent && handlers.onEvent(onMap(msg.event, msg.engine));
        break;
      case 'engine':
        handlers.onEngine && handlers.onEngine(msg.engine);
        break;
      case 'engines':
        handlers.onEngines && handlers.onEngines(msg);
        break;
      case 'job':
        handlers.onJob && handlers.onJob(msg.job);
        break;
      case 'step':
        handlers.onStep && handlers.onStep(msg);
        break;
      case 'probe':
        handlers.onProbe && handlers.onProbe(msg.result);
        break;
      case 'share':
        handlers.onShare && handlers.onShare(msg);
        break;
      case 'audit':
        handlers.onAudit && handlers.onAudit(msg.entry);
        break;
      case 'lesson':
        handlers.onLesson && handlers.onLesson(msg);
        break;
      case 'watchers':
        handlers.onWatchers && handlers.onWatchers(msg);
        break;
      default:
        // Newer servers may send more; not an error.
        break;
    }
  }

  // resync drops the connection; onclose reconnects and the new
  // connection starts with a snapshot.
  function resync(sock) {
    if (sock !== ws) return;
    ws = null;
    sock.onmessage = null;
    sock.onclose = null;
    sock.close();
    schedule();
  }

  function schedule() {
    if (stopped || timer !== null) return;
    if (everLive) status('reconnecting');
    const delay = backoffDelay(attempt);
    attempt++;
    timer = setTimeout(connect, delay);
  }

  connect();
  return {
    // stop closes the connection for good (used by tests and page unload).
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      if (ws) {
        const sock = ws;
        ws = null;
        sock.close();
      }
    },
  };
}

// onMap names what an event of another engine is about as the merged map
// does (ids.js onEngine: "<id>@lab1"), so that the feed, the flash and
// the room's sentence find its node; the engine rides along for the feed.
function onMap(ev, engine) {
  if (!engine || engine === 'local') return ev;
  return { ...ev, id: ev.id ? `${ev.id}@${engine}` : ev.id, engine };
}
