// lesson.js is the Lesson tab: the lesson being followed, whose containers
// it looks at (a participant's name prefix, when several people share one
// engine), and each step ticking green as the map satisfies it. The server
// evaluates the steps (GET /api/lessons/{id}?prefix= and the live "lesson"
// frames); this module only shows them. "Class" shows everyone's progress
// for the instructor (GET /api/lessons/{id}/progress), a participant with an
// engine of their own by that engine's name; progress(fn) hands the same
// rows to the class view (classview.js).
//
// The choice of lesson and prefix is kept per browser.
//
// For an operator, a step that can be taken now has "Show me": it opens the
// page's own dialog for that step, filled in for the participant's names,
// so that the change still goes through its plan and Confirm. Nothing is
// changed without that click, except a probe (which changes nothing).

import { api, errorText } from './api.js';
import { h, showText } from './dom.js';
import { containerID, networkID } from './ids.js';
import { loadPref, storePref } from './prefs.js';

const lessonKey = 'dockmap.lesson';
const prefixKey = 'dockmap.lesson.prefix';

const stateIcon = { done: '✓', todo: '○', failed: '✗' };
const stateWords = { done: 'done', todo: 'to do', failed: 'not yet: the check fails' };

// createLesson wires the Lesson tab in root. dock is the sidebar's dock
// (dock.js); onStep(step, lesson) is told the current step whenever it
// changes (the presenter view's caption), null when no lesson is chosen.
// showMe, given with the graph cy to a page that is not readOnly, holds the
// dialogs a step's "Show me" opens: {run({name, network}), link(from, to,
// alias), newNetwork(name), attach(container, network), probe(from, to,
// by), mount(container, body, what)}, containers and networks as {id, name}.
export function createLesson({ root = document, dock, onStep = () => {}, cy = null, showMe = null, readOnly = false } = {}) {
  const section = root.getElementById('lesson');
  if (!section) return { onFrame() {}, refresh() {}, current: () => null };
  const select = root.getElementById('lesson-select');
  const prefixField = root.getElementById('lesson-prefix');
  const classBtn = root.getElementById('lesson-class');
  const errEl = root.getElementById('lesson-error');
  const summary = root.getElementById('lesson-summary');
  const list = root.getElementById('lesson-steps');
  const progress = root.getElementById('lesson-progress');
  const progressRows = root.getElementById('lesson-progress-rows');
  const progressEmpty = root.getElementById('lesson-progress-empty');

  let lessons = [];
  let chosen = null; // the lesson definition chosen
  let states = []; // its steps' states for this prefix
  let asked = 0; // the latest request, so that an older answer is ignored
  let lastStep = undefined;

  const prefix = () => prefixField.value.trim();
  const canShow = !readOnly && !!showMe && !!cy;

  // containerNamed finds a container on the map by its full name.
  const containerNamed = (name) => {
    const n = cy.nodes('node.container').filter((x) => x.data('name') === name).first();
    return n.nonempty() ? { id: containerID(n), name, node: n } : null;
  };
  const networkNamed = (name) => {
    const n = cy.nodes('node.network').filter((x) => x.data('name') === name).first();
    return n.nonempty() ? { id: (n.data('network') || {}).id || networkID(n), name, node: n } : null;
  };
  const isMember = (c, net) => c.node.connectedEdges('edge.member').some((e) => e.target().same(net.node) || e.source().same(net.node));
  // volumeOf is a named volume container c mounts, and where.
  const volumeOf = (c) => {
    const e = c.node
      .connectedEdges('edge.mount')
      .filter((x) => x.source().same(c.node) && x.target().hasClass('volume'))
      .first();
    return e.nonempty() ? { name: e.target().data('name'), target: (e.data('mount') || {}).destination } : null;
  };

  // showPlan says what "Show me" would do for step def now: {act, title}
  // when it can, {blocked} (what to do first) when the map is not ready
  // for it (a container missing, or there but stopped), null when the step
  // has nothing to show. It is asked again on
  // the click, since the map moves between lesson frames.
  const showPlan = (def) => {
    const c = def.check || {};
    const p = prefix();
    const need = (...short) => {
      const found = short.map((s) => containerNamed(p + s));
      const i = found.indexOf(null);
      return i < 0 ? { found } : { blocked: `Run ${p + short[i]} first` };
    };
    switch (c.kind) {
      case 'running': {
        // Run would only be refused: the name is taken.
        const there = containerNamed(p + c.container);
        if (there) return { blocked: `${there.name} is there but not running: Start it in its panel` };
        return { title: `Opens Run with the name ${p + c.container} filled in`, act: () => showMe.run({ name: p + c.container, network: '' }) };
      }
      case 'link': {
        const got = need(c.from, c.to);
        if (!got.found) return got;
        const [f, t] = got.found;
        return { title: `Opens the plan for linking ${f.name} to ${t.name} as ${c.to}`, act: () => showMe.link(f, t, c.to) };
      }
      case 'network': {
        const got = need(c.a, c.b);
        if (!got.found) return got;
        // The engine's own networks are everyone's (internal/lesson networkName).
        const name = !c.network ? '' : ['bridge', 'host', 'none'].includes(c.network) ? c.network : p + c.network;
        const net = name ? networkNamed(name) : null;
        if (!net) return { title: `Opens New network${name ? ` with the name ${name}` : ''}`, act: () => showMe.newNetwork(name) };
        const off = got.found.find((x) => !isMember(x, net));
        if (!off) return null;
        return { title: `Opens Attach ${off.name} to ${net.name}`, act: () => showMe.attach(off, net) };
      }
      case 'probe': {
        const got = need(c.from, c.to);
        if (!got.found) return got;
        const [f, t] = got.found;
        return { title: `Pings ${t.name} from ${f.name} by ${c.by}`, act: () => showMe.probe(f, t, c.by) };
      }
      case 'volume': {
        const got = need(c.a, c.b);
        if (!got.found) return got;
        const [a, b] = got.found;
        const vol = volumeOf(a);
        if (!vol) return { blocked: `Mount a volume in ${a.name} first` };
        const target = vol.target || '/data';
        return { title: `Opens the plan for mounting ${vol.name} into ${b.name} at ${target}`, act: () => showMe.mount(b, { volume: vol.name, target, readOnly: false }, vol.name) };
      }
    }
    return null;
  };

  // showButton is step def's "Show me", or null when it has none: done, or
  // waiting for a step it needs.
  const showButton = (def, st, byID) => {
    if (!canShow || st.state === 'done') return null;
    if ((def.needs || []).some((n) => byID.get(n)?.state !== 'done')) return null;
    const plan = showPlan(def);
    if (!plan) return null;
    const btn = h('button', {
      type: 'button',
      className: 'small lesson-show-me',
      text: 'Show me',
      title: plan.blocked || plan.title,
      disabled: !!plan.blocked,
      dataset: { testid: 'lesson-show-me', step: def.id },
    });
    btn.addEventListener('click', async () => {
      const now = showPlan(def);
      if (!now) return;
      if (now.blocked) {
        showText(errEl, `${now.blocked}.`);
        return;
      }
      showText(errEl, '');
      try {
        await now.act();
      } catch (err) {
        showText(errEl, errorText(err));
      }
    });
    return btn;
  };

  const render = () => {
    if (!chosen) {
      list.replaceChildren();
      showText(summary, '');
      tellStep(null);
      return;
    }
    const byID = new Map(states.map((s) => [s.id, s]));
    const current = states.find((s) => s.state !== 'done');
    const done = states.filter((s) => s.state === 'done').length;
    showText(summary, `${chosen.summary || chosen.title} · ${done} of ${chosen.steps.length} done`);
    summary.dataset.done = String(done);
    list.replaceChildren(
      ...chosen.steps.map((def, i) => {
        const st = byID.get(def.id) || { state: 'todo', detail: '' };
        const isCurrent = current && current.id === def.id;
        return h(
          'li',
          {
            className: `lesson-step state-${st.state}${isCurrent ? ' current' : ''}`,
            dataset: { testid: 'lesson-step', step: def.id, state: st.state },
            attrs: isCurrent ? { 'aria-current': 'step' } : {},
          },
          h('span', { className: 'step-icon', text: stateIcon[st.state] || '○', attrs: { 'aria-label': stateWords[st.state] || st.state } }),
          h(
            'div',
            { className: 'step-body' },
            h('strong', { className: 'step-title', text: `${i + 1}. ${def.title}` }),
            def.text ? h('p', { className: 'step-text', text: def.text }) : null,
            st.detail ? h('p', { className: 'step-detail', dataset: { testid: 'lesson-step-detail' }, text: st.detail }) : null,
            def.hint && st.state !== 'done'
              ? h('details', { className: 'step-hint' }, h('summary', { text: 'Hint' }), h('code', { text: def.hint }))
              : null,
            showButton(def, st, byID),
          ),
        );
      }),
    );
    tellStep(current ? chosen.steps.find((s) => s.id === current.id) : { id: '', title: 'All steps done', text: '' });
  };

  const tellStep = (step) => {
    const key = step ? `${chosen?.id}/${step.id}` : null;
    if (key === lastStep) return;
    lastStep = key;
    onStep(step, chosen);
  };

  const fetchStates = async () => {
    if (!chosen) return;
    // The rule for a prefix is the server's (lesson.ValidPrefix): a bad
    // one comes back as an error that says what is wrong.
    const p = prefix();
    const n = ++asked;
    try {
      const got = await api('GET', `/api/lessons/${encodeURIComponent(chosen.id)}?prefix=${encodeURIComponent(p)}`);
      if (n !== asked) return;
      showText(errEl, '');
      states = got.steps || [];
      render();
    } catch (err) {
      if (n === asked) showText(errEl, errorText(err));
    }
  };

  // Who else reads the progress rows (the class view), while they do.
  const progressListeners = new Set();
  const tellProgress = (p) => {
    for (const fn of progressListeners) fn(p);
  };

  const fetchProgress = async () => {
    if (!chosen) {
      tellProgress({ lesson: null, rows: [] });
      return;
    }
    if (progress.hidden && progressListeners.size === 0) return;
    const asking = chosen;
    try {
      const rows = (await api('GET', `/api/lessons/${encodeURIComponent(asking.id)}/progress`)) || [];
      // Another lesson chosen meanwhile asks for its own rows.
      if (asking !== chosen) return;
      tellProgress({ lesson: asking, rows });
      progressEmpty.hidden = rows.length > 0;
      progressRows.replaceChildren(
        ...rows.map((r) =>
          h(
            'tr',
            { className: r.stuck ? 'stuck' : '', dataset: { testid: 'lesson-progress-row', prefix: r.prefix, engine: r.engine || '', step: r.step || '' } },
            // A participant with an engine of their own is that engine
            // (their prefix is usually none).
            h('th', { scope: 'row', text: who(r) }),
            h('td', { text: r.stepTitle || (r.done === r.total ? 'all done' : r.step) }),
            h('td', { text: `${r.done}/${r.total}` }),
            h('td', { text: `${since(r.since)}${r.stuck ? ' · stuck' : ''}` }),
          ),
        ),
      );
    } catch (err) {
      showText(errEl, errorText(err));
    }
  };

  // Lesson frames come in bursts (a class acting at once): the table is
  // fetched at most twice a second.
  let progressTimer = 0;
  const progressSoon = () => {
    if (progressTimer) return;
    progressTimer = setTimeout(() => {
      progressTimer = 0;
      fetchProgress();
    }, 500);
  };

  const choose = (id, { remember = true } = {}) => {
    chosen = lessons.find((l) => l.id === id) || null;
    select.value = chosen ? chosen.id : '';
    states = [];
    section.dataset.lesson = chosen ? chosen.id : '';
    if (remember) storePref(lessonKey, chosen ? chosen.id : '');
    render();
    fetchStates();
    fetchProgress();
  };

  select.addEventListener('change', () => {
    choose(select.value);
    if (chosen) dock?.select('lesson');
  });
  let typing = 0;
  prefixField.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      storePref(prefixKey, prefix());
      states = [];
      fetchStates();
    }, 250);
  });
  classBtn.addEventListener('click', () => {
    const on = classBtn.getAttribute('aria-pressed') !== 'true';
    classBtn.setAttribute('aria-pressed', String(on));
    progress.hidden = !on;
    fetchProgress();
  });
  // "Since" ages while the table is open.
  setInterval(() => {
    if ((!progress.hidden || progressListeners.size > 0) && !document.hidden) fetchProgress();
  }, 15000);

  const load = async () => {
    try {
      lessons = (await api('GET', '/api/lessons')) || [];
    } catch (err) {
      showText(errEl, `The lessons could not be loaded: ${errorText(err)}`);
      return;
    }
    select.replaceChildren(
      h('option', { value: '', text: 'Choose a lesson…' }),
      ...lessons.map((l) => h('option', { value: l.id, text: l.title })),
    );
    prefixField.value = loadPref(prefixKey) || '';
    const saved = loadPref(lessonKey);
    if (saved && lessons.some((l) => l.id === saved)) choose(saved, { remember: false });
  };
  load();

  return {
    // onFrame takes a live "lesson" frame: a participant's steps changed.
    onFrame(f) {
      if (!chosen || f.lesson !== chosen.id) return;
      progressSoon();
      // The steps shown are the prefix's on the default engine; a lab
      // engine's participant with the same prefix (none) is someone else.
      if ((f.engine || '') !== '' || (f.prefix || '') !== prefix()) return;
      states = f.steps || [];
      render();
      dock?.bump('lesson');
    },
    // refresh asks again, after a reconnect (frames sent meanwhile are lost).
    refresh() {
      fetchStates();
      fetchProgress();
    },
    current: () => (chosen ? { lesson: chosen, steps: states } : null),
    // progress calls fn({lesson, rows}) with the chosen lesson's progress
    // rows now, after each lesson frame (at most twice a second) and on
    // another lesson being chosen ({lesson: null} for none), until the
    // function it returns is called.
    progress(fn) {
      progressListeners.add(fn);
      fetchProgress();
      return () => progressListeners.delete(fn);
    },
  };
}

// who names a row's participant: their engine and prefix, or their prefix.
function who(r) {
  if (r.engine) return r.prefix ? `engine ${r.engine} · ${r.prefix}` : `engine ${r.engine}`;
  return r.prefix || '(no prefix)';
}

// since says how long ago t was, for the class table.
function since(t) {
  if (!t) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(t)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
