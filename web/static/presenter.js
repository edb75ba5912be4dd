// presenter.js is the presenter view (key f): the map alone, full screen,
// in large type, with the lesson's current step as a caption, a sentence
// for each thing that happens ("web can now reach database by name"), and
// the camera moving to what changed. It is for a projector: the people at
// the back read the map, the instructor talks.

// How long a sentence stays, and how often the camera may move (a burst
// of deltas moves it once).
const sayMillis = 9000;
const followMillis = 1200;

// Up to this many elements the camera shows the whole map.
const smallMap = 60;

// Label sizes in presenter view, in model pixels at zoom 1 (the map is
// fitted, so what counts is their size next to the nodes). A network's
// box is sized for its label at the normal size: it keeps that, in bold.
const big = { node: 22, network: 17, edge: 17 };

// createPresenter wires the presenter view. cy is the map; fit(eles)
// fits eles (everything shown when undefined) into the free part of the
// view (graph.js fitGraph); onChange
// (on) is told when the view turns on or off.
export function createPresenter({ root = document, cy, fit, onChange = () => {} }) {
  const caption = root.getElementById('presenter-caption');
  const say = root.getElementById('presenter-say');
  let on = false;
  let saved = null; // the map's own style, put back on leaving
  let sayTimer = 0;
  let lastFollow = 0;
  let followTimer = 0;
  let pending = null;

  const enter = () => {
    on = true;
    document.body.classList.add('presenter');
    document.body.dataset.presenter = 'true';
    saved = cy.style().json();
    cy.style()
      .selector('node')
      .style({ 'font-size': big.node, 'font-weight': 'bold', 'text-background-opacity': 1 })
      .selector('node.network')
      .style({ 'font-size': big.network, 'text-background-opacity': 0 })
      .selector('edge')
      .style({ 'font-size': big.edge, 'text-background-color': '#fff', 'text-background-opacity': 1 })
      .update();
    // Full screen needs a user gesture and may be refused (a kiosk, a
    // test's headless browser): the view works in the window all the same.
    if (document.fullscreenEnabled && !document.fullscreenElement) {
      document.documentElement.requestFullscreen?.().catch(() => {});
    }
    refit();
    onChange(true);
  };

  const leave = () => {
    on = false;
    document.body.classList.remove('presenter');
    delete document.body.dataset.presenter;
    if (saved) cy.style().fromJson(saved).update();
    saved = null;
    if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
    refit();
    onChange(false);
  };

  // The layout changes size when the header and the sidebar come and go.
  const refit = () => requestAnimationFrame(() => {
    cy.resize();
    fit();
  });

  // Leaving full screen with the browser's own Esc leaves the view too.
  document.addEventListener('fullscreenchange', () => {
    if (!document.fullscreenElement && on) leave();
  });

  return {
    toggle() {
      if (on) leave();
      else enter();
    },
    leave() {
      if (on) leave();
    },
    active: () => on,
    // step shows the lesson's current step as the caption (null: none).
    step(step, lesson) {
      if (!caption) return;
      if (!step || !lesson) {
        caption.hidden = true;
        caption.textContent = '';
        return;
      }
      const n = lesson.steps.findIndex((s) => s.id === step.id);
      const where = n >= 0 ? `Step ${n + 1} of ${lesson.steps.length}: ` : '';
      const head = document.createElement('strong');
      head.textContent = `${where}${step.title}`;
      const more = document.createElement('span');
      more.className = 'caption-text';
      more.textContent = step.text ? `${lesson.title} · ${step.text}` : lesson.title;
      caption.replaceChildren(head, more);
      caption.dataset.step = step.id || 'done';
      caption.hidden = false;
    },
    // say shows one sentence about what just happened.
    say(text) {
      if (!say || !text) return;
      say.textContent = text;
      say.hidden = false;
      say.classList.remove('fresh');
      void say.offsetWidth; // restart the fade-in
      say.classList.add('fresh');
      clearTimeout(sayTimer);
      sayTimer = setTimeout(() => {
        say.hidden = true;
      }, sayMillis);
    },
    // follow moves the camera to eles and their neighbours, at most once
    // per followMillis; in the normal view it does nothing (the user
    // holds the camera there).
    follow(eles) {
      if (!on || !eles || eles.empty()) return;
      pending = pending ? pending.union(eles) : eles;
      const wait = Math.max(0, lastFollow + followMillis - Date.now());
      clearTimeout(followTimer);
      followTimer = setTimeout(() => {
        const here = pending.filter((e) => e.inside());
        pending = null;
        lastFollow = Date.now();
        if (here.empty()) return;
        // A small lab fits whole (what changed is in it, and nothing
        // jumps); a big map zooms to what changed and its neighbours.
        const all = cy.elements(':visible').not('.overlay');
        fit(all.length <= smallMap ? undefined : here.union(here.neighborhood().not('.overlay')));
      }, wait);
    },
  };
}

// probeSentence says a probe result as the room would say it: "web can
// now reach database by name", "web cannot reach database by name: name
// not resolved". before is the pair's previous result (or undefined), so
// that a change reads as one.
export function probeSentence(r, before, name, failureText = {}) {
  const from = name(r.from) || String(r.from).slice(0, 12);
  const to = name(r.to) || String(r.to).slice(0, 12);
  const how = r.by === 'ip' ? 'by IP' : r.by === 'name' ? 'by name' : r.port ? `on port ${r.port}` : r.by;
  if (r.ok) return `${from} can ${before && !before.ok ? 'now ' : ''}reach ${to} ${how}`;
  const why = failureText[r.failure] || r.failure || '';
  return `${from} cannot ${before && before.ok ? 'any longer ' : ''}reach ${to} ${how}${why ? `: ${why}` : ''}`;
}
