// dialogs.js opens the page's native <dialog>s and runs the generic
// confirm dialog (templates.ConfirmDialog).
//
// A dialog opened with showModal() closes on Escape by itself; buttons
// marked data-close close it too. Text put into a dialog from Docker goes
// through textContent.

import { errorText } from './api.js';
import { showText } from './dom.js';
import { renderPlan } from './plan-view.js';

// openDialog shows dlg as a modal dialog; its [data-close] buttons close it.
export function openDialog(dlg) {
  if (!dlg) return;
  if (!dlg.dataset.wired) {
    dlg.dataset.wired = '1';
    dlg.addEventListener('click', (ev) => {
      const t = ev.target;
      if (t instanceof Element && t.closest('[data-close]')) {
        ev.preventDefault();
        dlg.close('cancel');
      }
    });
  }
  if (!dlg.open) dlg.showModal();
}

// anyDialogOpen tells whether a modal dialog has the page: keyboard
// shortcuts then stay out of the way.
export function anyDialogOpen() {
  return document.querySelector('dialog[open]') !== null;
}

const confirmDlg = () => document.getElementById('confirm-dialog');
let pending = null; // {resolve} of the confirm dialog's open question

// confirmAction asks before something destructive and runs it from the
// dialog. opts: title, message, confirmLabel, danger (bool), typeName (the
// user must type this to enable the button), plan (a plan from the server
// to show: what will be done, what breaks, what is lost), action (async
// function; an
// error it throws is shown in the dialog, which stays open). It resolves to
// true once action succeeded, false if the user cancelled.
export function confirmAction(opts) {
  const dlg = confirmDlg();
  if (!dlg) return Promise.resolve(false);
  if (pending) {
    pending.resolve(false);
    pending = null;
  }
  const form = dlg.querySelector('form');
  const ok = dlg.querySelector('#confirm-ok');
  const typeRow = dlg.querySelector('#confirm-type-row');
  const typed = dlg.querySelector('#confirm-typed');
  const err = dlg.querySelector('#confirm-error');

  dlg.querySelector('#confirm-title').textContent = opts.title || 'Are you sure?';
  dlg.querySelector('#confirm-message').textContent = opts.message || '';
  const planEl = dlg.querySelector('#confirm-plan');
  if (planEl) {
    planEl.hidden = !opts.plan;
    if (opts.plan) renderPlan(dlg, 'confirm', opts.plan);
  }
  const label = opts.confirmLabel || 'OK';
  ok.textContent = label;
  ok.classList.toggle('danger', !!opts.danger);
  ok.classList.toggle('primary', !opts.danger);
  showText(err, '');
  typeRow.hidden = !opts.typeName;
  typed.value = '';
  const matches = () => !opts.typeName || typed.value === opts.typeName;
  if (opts.typeName) {
    dlg.querySelector('#confirm-type-label').textContent = `Type ${opts.typeName} to confirm`;
  }
  ok.disabled = !matches();
  typed.oninput = () => {
    ok.disabled = !matches();
  };

  return new Promise((resolve) => {
    const mine = { resolve };
    pending = mine;
    let busy = false;
    const finish = (v) => {
      if (pending !== mine) return;
      pending = null;
      form.onsubmit = null;
      dlg.onclose = null;
      resolve(v);
    };
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      if (busy || !matches()) return;
      busy = true;
      ok.disabled = true;
      ok.textContent = `${label.replace(/…$/, '')}…`;
      showText(err, '');
      try {
        if (opts.action) await opts.action();
        finish(true);
        dlg.close('done');
      } catch (e) {
        showText(err, errorText(e));
        ok.disabled = !matches();
      } finally {
        busy = false;
        ok.textContent = label;
      }
    };
    dlg.onclose = () => finish(false);
    openDialog(dlg);
    (opts.typeName ? typed : ok).focus();
  });
}
