// badges.js keeps the header's two badges current: the engine (connected,
// with its version, or unreachable, with why) and the live connection
// (connecting, live, reconnecting). The graph is dimmed while either says
// the picture may be old.

const statusText = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' };

// engineParts matches templates.engineState and engineDetail, so the
// server-rendered badge and the live one read the same. A narrow screen
// hides the detail when it is only the version (style.css).
function engineParts(e) {
  if (e.connected) return ['connected', e.version ? ` · Docker ${e.version}` : ''];
  return ['engine unreachable', e.lastError ? `: ${e.lastError}` : ''];
}

// createBadges draws the engine badge engineEl and the live status liveEl
// and dims graphEl, keeping engine and connected in store. With signedIn
// (access control on), a failing live connection asks api whether the
// session is still good. It returns {setEngine(engineState),
// setLiveStatus(status)}.
export function createBadges({ store, api, graphEl, engineEl, liveEl, signedIn }) {
  function setEngine(e) {
    if (!e) return;
    store.set({ engine: e });
    const [text, detail] = engineParts(e);
    const span = document.createElement('span');
    span.className = 'badge-detail';
    span.textContent = detail;
    engineEl.replaceChildren(text, span);
    engineEl.classList.toggle('ok', !!e.connected);
    engineEl.classList.toggle('down', !e.connected);
    engineEl.dataset.connected = String(!!e.connected);
    // The title keeps the version that a narrow screen leaves out; it
    // matches templates.engineTitle.
    const title = [e.host, e.version ? `Docker ${e.version}` : ''].filter(Boolean).join(' · ');
    if (title) engineEl.title = title;
    // The graph shows the last known picture; dimming says it may be old.
    graphEl.classList.toggle('engine-down', !e.connected);
  }

  function setLiveStatus(s) {
    store.set({ connected: s === 'live' });
    if (s === 'reconnecting' && signedIn) checkSession();
    liveEl.textContent = statusText[s] || s;
    liveEl.classList.remove('connecting', 'live', 'reconnecting');
    liveEl.classList.add(s);
    graphEl.classList.toggle('stale', s === 'reconnecting');
  }

  // checkSession asks, at most every 3 s while the live connection fails,
  // whether this browser is still signed in: a WebSocket refused for want
  // of a session looks like any other failure, but GET /api/session
  // answers 401, and api() then opens the login page.
  let sessionCheckedAt = 0;
  function checkSession() {
    if (Date.now() - sessionCheckedAt < 3000) return;
    sessionCheckedAt = Date.now();
    api('GET', '/api/session').catch(() => {});
  }

  return { setEngine, setLiveStatus };
}
