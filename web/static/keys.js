// keys.js is the keyboard: one key per toolbar action, ignored while
// typing, while a dialog is open (it has the keyboard; Escape closes it by
// itself) and with modifiers (so that the browser's own Ctrl/Cmd shortcuts
// keep working).

import { anyDialogOpen } from './dialogs.js';

// initKeys binds the keys to the functions of toolbar (createToolbar),
// selection (createSelection) and dialogs ({openRun, openNetwork,
// openVolume}), and views ({presenter, tidy, timeline, hosts, classView}:
// the presenter view, Tidy, the timeline, collapsing the selected host,
// and the class view's grid of labs);
// store says whether link mode is on. A
// viewer (readOnly) gets only the keys that change nothing.
export function initKeys({ store, toolbar, selection, dialogs, views, readOnly }) {
  const operator = !readOnly;
  // Keys that open a dialog: without preventDefault the key would be
  // typed into the dialog's first field.
  const opens = { r: dialogs.openRun, n: dialogs.openNetwork, v: dialogs.openVolume };
  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (anyDialogOpen()) return;
    const t = ev.target;
    if (t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    switch (ev.key) {
      case 'Escape':
        // The innermost first: the past, link mode, presenter, selection.
        if (views.timeline.escape()) break;
        if (store.get().linkMode) store.set({ linkMode: false });
        else if (views.presenter.active()) views.presenter.leave();
        else selection.clear();
        break;
      case 'Enter':
      case 'c':
        // A focused button or link has Enter for itself.
        if (ev.key === 'Enter' && t instanceof HTMLElement && ['BUTTON', 'A', 'SUMMARY'].includes(t.tagName)) return;
        if (!views.hosts?.toggleSelected()) return;
        break;
      case 'f':
        views.presenter.toggle();
        break;
      case 't':
        views.tidy();
        break;
      case 'h':
        views.timeline.toggle();
        break;
      case 'g':
        // With one engine there is no class to show: the key stays free.
        if (!views.classView?.available()) return;
        views.classView.toggle();
        break;
      case 'r':
      case 'n':
      case 'v':
        if (!operator) return;
        ev.preventDefault();
        opens[ev.key]();
        break;
      case 'l':
        if (!operator) return;
        toolbar.toggleLinkMode();
        break;
      case 'p':
        if (!operator) return;
        toolbar.pingSelection();
        break;
      case 'w':
        if (!operator) return;
        toolbar.toggleWatch();
        break;
      case 'm':
        toolbar.toggleMatrix();
        break;
      case '/':
        ev.preventDefault(); // or the key would be typed into the box
        toolbar.focusSearch();
        break;
      case '+':
      case '=':
        toolbar.zoomBy(1.25);
        break;
      case '-':
      case '_':
        toolbar.zoomBy(1 / 1.25);
        break;
      case '0':
        toolbar.fit();
        break;
      default:
        return;
    }
  });
}
