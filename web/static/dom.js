// dom.js builds DOM nodes without HTML strings: every text goes in through
// textContent (or a text node), so Docker-provided names, labels and
// messages can never become markup.

// h creates an element. props may hold className, text (its textContent),
// dataset (data-* attributes), attrs (other attributes, set as strings),
// and any writable property (title, hidden, disabled, type, value, ...).
// children are nodes or strings (strings become text nodes); null and
// false are skipped.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k === 'attrs') for (const [ak, av] of Object.entries(v)) el.setAttribute(ak, String(av));
    else if (k === 'className') el.className = v;
    else el[k] = v;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// showText sets el's text and shows it, or hides it when text is empty.
export function showText(el, text) {
  if (!el) return;
  el.textContent = text || '';
  el.hidden = !text;
}

// clock formats an RFC 3339 time as local hh:mm:ss (now if unparsable).
export function clock(time) {
  let d = new Date(time);
  if (Number.isNaN(d.getTime())) d = new Date();
  const pad2 = (n) => String(n).padStart(2, '0');
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

// shortID cuts a Docker ID to the 12 digits docker ps shows.
export function shortID(id) {
  return String(id || '').slice(0, 12);
}

// notifier coalesces "something changed" into one call of every listener
// per burst (one frame), so a flood of results repaints once.
export function notifier(what) {
  const listeners = new Set();
  let timer = null;
  return {
    listen(fn) {
      listeners.add(fn);
    },
    changed() {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        for (const fn of listeners) {
          try {
            fn();
          } catch (err) {
            console.warn(`dockmap: ${what} listener`, err);
          }
        }
      }, 16);
    },
  };
}

// focusSoon focuses el once the dialog has opened, unless the user (or a
// test typing fast) is already in another field of it: a late timer must
// never pull the caret out from under someone typing.
export function focusSoon(dlg, el) {
  setTimeout(() => {
    const active = document.activeElement;
    if (active && active !== dlg && dlg.contains(active)) return;
    el.focus();
  }, 50);
}

// submitting runs fn (an API call) with btn disabled and showing
// busyLabel, and puts btn back as it was however fn ends; it returns what
// fn returns. With busy the button also wears class "busy" (a spinner).
// The panel may have been re-rendered meanwhile: then btn is no longer in
// the page and restoring it does no harm.
export async function submitting(btn, busyLabel, fn, { busy = false } = {}) {
  const label = btn.textContent;
  btn.disabled = true;
  if (busy) btn.classList.add('busy');
  if (busyLabel) btn.textContent = busyLabel;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    if (busy) btn.classList.remove('busy');
    if (busyLabel) btn.textContent = label;
  }
}
