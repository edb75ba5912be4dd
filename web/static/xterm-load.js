// xterm-load.js loads xterm.js 3.8.1 the first time a page needs a
// terminal: xterm's stylesheet and xterm/xterm-3.8.1.bundle.js, which
// "go generate ./web" makes from Debian's files in vendor/xterm-3.8.1/,
// each wrapped unmodified (web/xterm.go). Pages without a terminal load
// neither.

const base = new URL('./', import.meta.url);
// The asset version this module was loaded with busts their caches too.
const version = new URL(import.meta.url).search;

let loading = null;

// loadXterm resolves to {Terminal, fit} (fit(term) sizes term to its
// element's parent), loading the files once per page.
export function loadXterm() {
  if (!loading) {
    loading = load().catch((err) => {
      loading = null; // a later click tries again
      throw err;
    });
  }
  return loading;
}

async function load() {
  const css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = new URL('vendor/xterm-3.8.1/xterm.css' + version, base).href;
  document.head.append(css);
  await new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = new URL('xterm/xterm-3.8.1.bundle.js' + version, base).href;
    s.onload = ok;
    s.onerror = () => fail(new Error('could not load xterm.js'));
    document.head.append(s);
  });
  const xt = globalThis.dockmapXterm;
  if (!xt || typeof xt.Terminal !== 'function' || typeof xt.fit !== 'function') throw new Error('xterm.js did not load');
  return xt;
}
