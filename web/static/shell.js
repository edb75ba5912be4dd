// shell.js is the terminal of the container panel's Shell section
// (templates.shellSection: operators of a dockmap started with --shell,
// running containers). "Open a shell" loads xterm.js (xterm-load.js) and
// opens GET /api/containers/{id}/shell, a WebSocket:
//
//   - keystrokes and pastes go as binary frames, what the shell prints
//     comes back as binary frames;
//   - text frames are JSON control messages: the page sends
//     {type: "resize", cols, rows} whenever the terminal's size changes
//     (the panel or the window was resized); the server sends "ready",
//     "resized", "error" (a message) and "end" (why the session ended).
//
// One terminal per page. The panel's content is replaced on every refresh,
// so the terminal's element lives here and goes back into the section each
// time the panel shows its container; while another subject is shown the
// session goes on out of sight. Keys typed in the terminal stay there:
// its input is a textarea, which keys.js leaves alone (Escape included).

import { bareID } from './ids.js';
import { loadXterm } from './xterm-load.js';

// createShell wires the Shell section of panel (createPanel).
export function createShell({ panel }) {
  // session is the terminal of this page, or null:
  // {id, name, shell, term, host, ws, fit, observer, ended, status}.
  let session = null;
  let opening = false;

  panel.el.addEventListener('click', (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest('button[data-action^="shell-"]') : null;
    if (!btn || !panel.el.contains(btn)) return;
    if (btn.dataset.action === 'shell-open') open();
    else if (session) end(session, 'session ended: closed here', true);
  });
  panel.onLoad(() => show());

  function section() {
    return panel.el.querySelector('[data-testid=shell]');
  }

  // refOf names the panel's container c for the API: its node ID without
  // "c:", so that another engine's keeps its "@engine" (the dispatch
  // sends it there), which c.id, the bare Docker ID, has not.
  const refOf = (c) => bareID(c.nodeID);

  // mine is the session when the panel shows its container.
  function mine() {
    const c = panel.container();
    return session && c && refOf(c) === session.id ? session : null;
  }

  // show brings the panel's Shell section up to date: the terminal back
  // in its slot, the buttons and the status line.
  function show() {
    const sec = section();
    if (!sec) return;
    const s = mine();
    const live = !!s && !s.ended;
    sec.querySelector('[data-action=shell-open]').hidden = live;
    sec.querySelector('[data-action=shell-close]').hidden = !live;
    const status = sec.querySelector('[data-testid=shell-status]');
    status.textContent = s ? s.status : '';
    if (!s) return;
    const slot = sec.querySelector('[data-testid=shell-slot]');
    if (s.host.parentElement !== slot) {
      const focused = document.activeElement && s.host.contains(document.activeElement);
      slot.append(s.host);
      if (focused) s.term.focus();
    }
    requestAnimationFrame(() => s.fit());
  }

  function setStatus(s, text) {
    s.status = text;
    if (mine() === s) show();
  }

  async function open() {
    const c = panel.container();
    const sec = section();
    // One at a time: a second click (or Enter and its click) while the
    // first is opening would make a second session.
    if (!c || !sec || opening) return;
    opening = true;
    try {
      await openIn(c, sec);
    } finally {
      opening = false;
    }
  }

  async function openIn(c, sec) {
    if (session) drop(session);
    sec.querySelector('[data-testid=shell-status]').textContent = `Opening a shell in ${c.name}…`;
    let xt;
    try {
      xt = await loadXterm();
    } catch (err) {
      sec.querySelector('[data-testid=shell-status]').textContent = `Could not load the terminal: ${err.message}`;
      return;
    }
    const now = panel.container();
    if (!now || refOf(now) !== refOf(c)) return; // the user moved on meanwhile
    const host = document.createElement('div');
    host.className = 'shell-term';
    host.dataset.testid = 'shell-term';
    section().querySelector('[data-testid=shell-slot]').append(host);
    // screenReaderMode keeps the screen's text in the DOM as well as on
    // the canvas, for screen readers (and the page's tests).
    const term = new xt.Terminal({ screenReaderMode: true, cursorBlink: true, fontSize: 13, scrollback: 2000 });
    term.open(host);
    const s = {
      id: refOf(c),
      name: c.name,
      shell: '',
      term,
      host,
      ws: null,
      ended: false,
      status: `Opening a shell in ${c.name}…`,
      // fit sizes the terminal to its slot while it is in the page.
      fit: () => {
        if (host.isConnected && host.clientWidth > 0) xt.fit(term);
      },
    };
    session = s;
    s.fit();
    show();
    connect(s);
    s.observer = new ResizeObserver(() => s.fit());
    s.observer.observe(host);
    term.focus();
  }

  function connect(s) {
    const url = new URL(`/api/containers/${encodeURIComponent(s.id)}/shell`, location.href);
    url.searchParams.set('cols', String(s.term.cols));
    url.searchParams.set('rows', String(s.term.rows));
    const httpURL = url.href;
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url.href);
    ws.binaryType = 'arraybuffer';
    s.ws = ws;
    let opened = false;
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    // What is typed before the socket opens waits for it.
    const early = [];
    ws.onopen = () => {
      opened = true;
      for (const d of early.splice(0)) ws.send(d);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        s.term.write(dec.decode(new Uint8Array(ev.data), { stream: true }));
        return;
      }
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      switch (m.type) {
        case 'ready':
          s.shell = m.shell;
          setStatus(s, `${m.shell} in ${m.container}, ${m.cols}×${m.rows}`);
          // The size may have changed while the socket opened.
          sendSize(s);
          break;
        case 'resized':
          setStatus(s, `${s.shell} in ${s.name}, ${m.cols}×${m.rows}`);
          break;
        case 'error':
          setStatus(s, m.message);
          break;
        case 'end':
          end(s, m.message || 'session ended', false);
          break;
      }
    };
    ws.onclose = async (ev) => {
      if (s.ended) return;
      if (!opened) {
        // A refused upgrade tells the browser nothing: the same URL
        // without the upgrade says why.
        end(s, `Could not open a shell in ${s.name}: ${await refusal(httpURL)}`, false);
        return;
      }
      end(s, ev.reason || 'session ended: the connection was lost', false);
    };
    s.term.on('data', (d) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d));
      else if (ws.readyState === WebSocket.CONNECTING) early.push(enc.encode(d));
    });
    s.term.on('resize', () => sendSize(s));
  }

  function sendSize(s) {
    if (s.ws && s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify({ type: 'resize', cols: s.term.cols, rows: s.term.rows }));
  }

  // end closes session s with message; the terminal stays, with what it
  // showed, until another shell is opened (drop). closeSocket says the
  // page ends it (the server then hangs the shell up).
  function end(s, message, closeSocket) {
    if (s.ended) return;
    s.ended = true;
    if (closeSocket && s.ws && s.ws.readyState <= WebSocket.OPEN) s.ws.close(1000, 'closed by the user');
    s.observer?.disconnect();
    s.term.write(`\r\n\x1b[7m ${message} \x1b[0m\r\n`);
    s.term.setOption('cursorBlink', false);
    setStatus(s, message);
  }

  // drop ends session s and takes its terminal away.
  function drop(s) {
    end(s, 'session ended: another shell was opened', true);
    s.term.dispose();
    s.host.remove();
    if (session === s) session = null;
  }

  return { open };
}

// refusal is the reason the server gives for refusing url, as a sentence.
async function refusal(url) {
  try {
    const res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    const body = await res.json().catch(() => null);
    return (body && (body.detail || body.error)) || `HTTP ${res.status}`;
  } catch {
    return 'the server did not answer';
  }
}
