// panel.js fills the side panel with one container's details.
//
// The details are the ContainerPanel fragment the server renders with templ
// (GET /panel/container/{id}); templ escapes every Docker string, which is
// why this is the one place the page uses innerHTML. Everything else here
// writes text with textContent.

let panel = null; // the <aside id="panel">
let selectedID = null; // node ID of the container shown, or null
let request = 0; // number of the latest fetch; older answers are dropped
let refreshTimer = null;

// Deltas come in bursts (a compose up is dozens); one fetch per burst.
const refreshDelay = 100;

// initPanel binds the module to the panel element.
export function initPanel(el) {
  panel = el;
}

// selectedContainer is the node ID shown in the panel, or null.
export function selectedContainer() {
  return selectedID;
}

// openPanel shows the container with node ID id.
export function openPanel(id) {
  selectedID = id;
  clearTimeout(refreshTimer);
  load(id);
}

// refreshPanel reloads the shown container soon, once per burst of calls.
export function refreshPanel() {
  if (selectedID === null) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    if (selectedID !== null) load(selectedID);
  }, refreshDelay);
}

// clearPanel goes back to the empty state.
export function clearPanel() {
  selectedID = null;
  request++;
  clearTimeout(refreshTimer);
  message('panel-empty', 'Click a container to see its details');
}

// showRemoved says the shown container is gone (docker rm).
export function showRemoved() {
  selectedID = null;
  request++;
  clearTimeout(refreshTimer);
  message('panel-removed', 'container removed');
}

// message replaces the panel's content with one line of text.
function message(testid, text) {
  if (!panel) return;
  const p = document.createElement('p');
  p.className = testid;
  p.dataset.testid = testid;
  p.textContent = text;
  panel.replaceChildren(p);
  panel.classList.remove('loading');
}

async function load(id) {
  if (!panel) return;
  const mine = ++request;
  panel.classList.add('loading');
  let res;
  try {
    res = await fetch(`/panel/container/${encodeURIComponent(id)}`, {
      // HX-Request makes the server's error handler answer with a partial.
      headers: { Accept: 'text/html', 'HX-Request': 'true' },
      credentials: 'same-origin',
    });
  } catch (err) {
    if (mine === request) message('panel-error', 'Could not load details: the server did not answer.');
    return;
  }
  if (mine !== request) return; // the user picked another container meanwhile
  if (res.status === 404) {
    showRemoved();
    return;
  }
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok || !type.startsWith('text/html')) {
    message('panel-error', `Could not load details (HTTP ${res.status}).`);
    return;
  }
  const html = await res.text();
  if (mine !== request) return;
  // Server-rendered, templ-escaped fragment: the only innerHTML of the page.
  panel.innerHTML = html;
  panel.classList.remove('loading');
  // Let htmx wire any hx-* buttons the fragment carries.
  if (window.htmx) window.htmx.process(panel);
}
