// feed.js shows the engine's events, newest on top, as plain text.
//
// Event fields come from Docker (names, attributes), so they only ever reach
// the DOM through textContent.

import { clock } from './dom.js';

// Older rows are dropped beyond this: the feed is a ticker, not a log.
const maxRows = 200;

// Actions that read as good or bad news get a colour (by class; the class
// names are ours, never taken from the event).
const goodActions = new Set(['create', 'start', 'restart', 'unpause', 'connect', 'mount']);
const badActions = new Set(['die', 'kill', 'oom', 'stop', 'destroy', 'disconnect', 'unmount', 'remove']);

// eventName is what the event is about: its name, or a short ID.
function eventName(ev) {
  const attrs = ev.attributes || {};
  return ev.name || attrs.name || (ev.id ? String(ev.id).slice(0, 12) : '');
}

// formatEvent is the row's text: "hh:mm:ss container start web".
export function formatEvent(ev) {
  return [clock(ev.time), ev.type, ev.action, eventName(ev)].filter(Boolean).join(' ');
}

// sentence says a network or volume event as a sentence ("web joined
// appnet", "database left appnet", "web mounted shared-data at /data",
// "volume shared-data created"), or returns "" for any other event.
// containerName(id) names a container from the graph.
export function sentence(ev, containerName = () => '') {
  const attrs = ev.attributes || {};
  const cid = String(attrs.container || '');
  const who = (cid && containerName(cid)) || (cid ? cid.slice(0, 12) : 'a container');
  if (ev.type === 'volume') return volumeSentence(ev, attrs, who);
  if (ev.type !== 'network') return '';
  const verb = { connect: 'joined', disconnect: 'left' }[ev.action];
  if (!verb) return '';
  const net = ev.name || attrs.name || (ev.id ? String(ev.id).slice(0, 12) : 'a network');
  return `${who} ${verb} ${net}`;
}

// roomSentence says any event the room cares about as a sentence: what
// sentence says, and a container's life ("web started", "web stopped").
export function roomSentence(ev, containerName = () => '') {
  const said = sentence(ev, containerName);
  if (said || ev.type !== 'container') return said;
  const verb = { start: 'started', die: 'stopped', create: 'was created', destroy: 'was removed', restart: 'restarted', rename: 'was renamed' }[ev.action];
  if (!verb) return '';
  const name = (ev.id && containerName(ev.id)) || ev.name || (ev.attributes || {}).name || 'a container';
  return `${name} ${verb}`;
}

// volumeSentence is sentence for a volume event. An anonymous volume's
// 64-digit name is cut to 12.
function volumeSentence(ev, attrs, who) {
  let vol = String(ev.name || attrs.name || ev.id || '');
  if (/^[0-9a-f]{64}$/.test(vol)) vol = `${vol.slice(0, 12)} (anonymous)`;
  vol = vol || 'a volume';
  switch (ev.action) {
    case 'create':
      return `volume ${vol} created`;
    case 'destroy':
      return `volume ${vol} removed`;
    case 'mount': {
      const at = attrs.destination ? ` at ${attrs.destination}` : '';
      const ro = attrs['read/write'] === 'false' ? ' read-only' : '';
      return `${who} mounted ${vol}${at}${ro}`;
    }
    case 'unmount':
      return `${who} unmounted ${vol}`;
    default:
      return '';
  }
}

// addEvent prepends ev to the list element and trims the list.
// containerName(id), if given, names containers for the sentences.
export function addEvent(list, ev, containerName) {
  const li = document.createElement('li');
  li.dataset.testid = 'event-row';
  li.className = 'event';
  // Docker's actions can carry detail ("exec_start: sh -c ...",
  // "health_status: healthy"); the word before the colon decides colour.
  const verb = String(ev.action || '').split(':')[0];
  if (goodActions.has(verb)) li.classList.add('good');
  if (badActions.has(verb)) li.classList.add('bad');

  const time = document.createElement('time');
  if (ev.time) time.dateTime = ev.time;
  time.textContent = clock(ev.time);
  li.append(time);
  if (ev.engine) {
    // Several engines: say whose event it is.
    const tag = document.createElement('span');
    tag.className = 'ev-engine';
    tag.dataset.testid = 'event-engine';
    tag.textContent = ev.engine;
    li.append(' ', tag);
  }
  const said = sentence(ev, containerName);
  if (said) {
    const span = document.createElement('span');
    span.className = 'ev-sentence';
    span.dataset.testid = 'event-sentence';
    span.textContent = said;
    li.dataset.kind = `${ev.type}-${ev.action}`;
    li.append(' ', span);
  }
  for (const [cls, text] of said ? [] : [['ev-type', ev.type], ['ev-action', ev.action], ['ev-name', eventName(ev)]]) {
    if (!text) continue;
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    li.append(' ', span);
  }
  const title = Object.entries(ev.attributes || {}).map(([k, v]) => `${k}=${v}`).join('\n');
  if (title) li.title = title;

  list.prepend(li);
  while (list.children.length > maxRows) list.lastElementChild.remove();
}
