// engines.js shows in the page header (#engines) how many of the engines
// dockmap connects to answer ("3/4" beside a dot, amber while one is down), from GET /api/engines and
// the /live "engines" frame ({type: "engines", engines: [{name, host,
// connected, version, error, since}]}; README, "Several engines"). It
// stays hidden with the local engine alone: the engine badge says it all
// then.

// createEngines fills el, asking api for the list on refresh() (on load
// and after every reconnect, since frames sent meanwhile are lost) and
// taking every engines frame given to onFrame(msg).
// onList(list) hears every list (the hosts of the map grey a down engine's);
// so does every fn given to listen(fn), from the latest list on.
export function createEngines({ el, api, onList = () => {} }) {
  // A frame that comes while a refresh is in flight is newer than its
  // answer: gen tells the answer it is stale.
  let gen = 0;
  let last = null;
  const listeners = new Set([onList]);

  function show(list) {
    if (Array.isArray(list)) {
      last = list;
      for (const fn of listeners) fn(list);
    }
    if (!el || !Array.isArray(list)) return;
    if (list.length < 2) {
      el.hidden = true;
      return;
    }
    const up = list.filter((e) => e.connected).length;
    // Short, a dot and the count: the header must keep to one row on a
    // 1280 px projector, with a few pixels to spare. The title and the
    // label say it in words.
    el.textContent = `${up}/${list.length}`;
    el.title = [`${up} of ${list.length} engines connected:`, ...list.map(line)].join('\n');
    el.setAttribute('aria-label', `${up} of ${list.length} engines connected`);
    el.classList.toggle('some-down', up < list.length);
    el.dataset.connected = String(up);
    el.dataset.total = String(list.length);
    el.hidden = false;
  }

  async function refresh() {
    const mine = ++gen;
    try {
      const list = await api('GET', '/api/engines');
      if (mine === gen) show(list);
    } catch {
      // The live connection's own badge says when dockmap is away.
    }
  }

  function onFrame(msg) {
    gen++;
    show(msg && msg.engines);
  }

  function listen(fn) {
    listeners.add(fn);
    if (last) fn(last);
  }

  return { refresh, onFrame, listen };
}

function line(e) {
  if (e.connected) return `${e.name}: connected${e.version ? ` · Docker ${e.version}` : ''} (${e.host})`;
  return `${e.name}: unreachable${e.error ? `: ${e.error}` : ''} (${e.host})`;
}
