// toast.js shows one short line over the graph for a few seconds: what a
// button did, or why it could not.

// createToast returns toast(text, kind) for the element el; kind "error"
// shows it in red, and longer.
export function createToast(el) {
  let timer = null;
  return function toast(text, kind = '') {
    el.textContent = text;
    el.className = `toast ${kind}`;
    el.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(
      () => {
        el.hidden = true;
      },
      kind === 'error' ? 8000 : 4000,
    );
  };
}
