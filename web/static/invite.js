// invite.js is the header's Invite… dialog (templates.InviteDialog), for
// operators. It makes either a one-use login link for a viewer or an
// operator (POST /api/login-codes), shown with a Copy button and the time
// it expires, or a viewer invite for the class (POST /api/invites), shown
// as a QR code big enough for a projector, with its URL and the list of
// open invites, each with an End button (DELETE /api/invites/{id}). A link
// or a QR code is a secret until used: it is shown in this dialog only,
// and forgotten when the dialog closes (the server cannot show an
// invite's QR code again either: it keeps only a hash of the code).

import { api, errorText } from './api.js';
import { openDialog } from './dialogs.js';
import { h, showText } from './dom.js';

// initInvite wires the dialog, when the page has it (operators with
// access control on).
export function initInvite(root = document) {
  const open = root.getElementById('invite-open');
  const dlg = root.getElementById('invite-dialog');
  if (!open || !dlg) return;
  const form = dlg.querySelector('#invite-form');
  const submit = dlg.querySelector('#invite-submit');
  const result = dlg.querySelector('#invite-result');
  const urlField = dlg.querySelector('#invite-url');
  const copy = dlg.querySelector('#invite-copy');
  const expiry = dlg.querySelector('#invite-expiry');
  const err = dlg.querySelector('#invite-error');
  const cls = classInvite(dlg, err);

  const reset = () => {
    result.hidden = true;
    urlField.value = '';
    expiry.textContent = '';
    copy.textContent = 'Copy';
    showText(err, '');
    cls.reset();
  };
  // A used-up dialog keeps no link around.
  dlg.addEventListener('close', reset);

  const kind = () => form.querySelector('input[name=kind]:checked')?.value || 'link';
  // showKind shows the half of the dialog the chosen kind needs.
  const showKind = () => {
    const isClass = kind() === 'class';
    dlg.querySelector('#invite-link-part').hidden = isClass;
    dlg.querySelector('#invite-class-part').hidden = !isClass;
    dlg.classList.toggle('invite-class-mode', isClass);
    submit.textContent = isClass ? 'Make invite' : 'Make link';
    showText(err, '');
    if (isClass) cls.refresh();
  };
  for (const r of form.querySelectorAll('input[name=kind]')) r.addEventListener('change', showKind);

  open.addEventListener('click', () => {
    reset();
    showKind();
    openDialog(dlg);
    submit.focus();
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    if (kind() === 'class') {
      submit.disabled = true;
      try {
        await cls.mint();
      } finally {
        submit.disabled = false;
      }
      return;
    }
    const role = form.querySelector('input[name=role]:checked')?.value || 'viewer';
    reset();
    submit.disabled = true;
    try {
      const link = await api('POST', '/api/login-codes', { role });
      urlField.value = link.url;
      expiry.textContent = expiryText(link.role, link.expires);
      result.hidden = false;
      urlField.focus();
      urlField.select();
    } catch (e) {
      showText(err, errorText(e));
    } finally {
      submit.disabled = false;
    }
  });

  copy.addEventListener('click', async () => {
    copy.textContent = (await copyText(urlField)) ? 'Copied' : 'Select and copy it';
  });
}

// classInvite runs the dialog's class half: make an invite and show its
// QR code, list the open ones, end one. Errors go to the dialog's err.
function classInvite(dlg, err) {
  const label = dlg.querySelector('#class-label');
  const result = dlg.querySelector('#class-result');
  const qr = dlg.querySelector('#class-qr');
  const urlField = dlg.querySelector('#class-url');
  const copy = dlg.querySelector('#class-copy');
  const full = dlg.querySelector('#class-full');
  const list = dlg.querySelector('#class-list');
  const none = dlg.querySelector('#class-none');
  let shown = null; // the ID of the invite whose QR code is shown

  const hideResult = () => {
    shown = null;
    result.hidden = true;
    qr.removeAttribute('src');
    urlField.value = '';
    copy.textContent = 'Copy';
  };

  // refresh lists the open invites; a failure leaves the list as it was.
  const refresh = async () => {
    let invites;
    try {
      invites = (await api('GET', '/api/invites')).invites || [];
    } catch (e) {
      showText(err, errorText(e));
      return;
    }
    list.replaceChildren(...invites.map(row));
    none.hidden = invites.length > 0;
    if (shown && !invites.some((i) => i.id === shown)) hideResult();
  };

  // row is one open invite with its End button.
  const row = (inv) => {
    const end = h('button', { type: 'button', text: 'End', title: 'Stop this invite: its link stops working and everyone who joined with it is signed out', dataset: { testid: 'class-end' } });
    end.addEventListener('click', async () => {
      end.disabled = true;
      try {
        await api('DELETE', `/api/invites/${encodeURIComponent(inv.id)}`);
        showText(err, '');
      } catch (e) {
        // A 404: it ended meanwhile (another tab, its lifetime); the
        // list below says so by leaving it out.
        if (e.status !== 404) showText(err, errorText(e));
      }
      if (shown === inv.id) hideResult();
      await refresh();
    });
    const made = new Date(inv.created).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return h('li', { className: 'class-item', dataset: { testid: 'class-item', id: inv.id } },
      h('span', { className: 'class-item-label', text: inv.label || 'class invite' }),
      h('span', { className: 'class-item-meta', text: `made ${made}, opened ${inv.joins} time${inv.joins === 1 ? '' : 's'}` }),
      end);
  };

  const mint = async () => {
    showText(err, '');
    hideResult();
    try {
      const inv = await api('POST', '/api/invites', { label: label.value.trim() });
      shown = inv.id;
      qr.src = inv.qr;
      urlField.value = inv.url;
      result.hidden = false;
      label.value = '';
    } catch (e) {
      showText(err, errorText(e));
    }
    await refresh();
  };

  copy.addEventListener('click', async () => {
    copy.textContent = (await copyText(urlField)) ? 'Copied' : 'Select and copy it';
  });
  // On a projector the dialog is small: the QR code alone on the whole
  // screen is what a phone at the back of the room can read.
  full.addEventListener('click', () => {
    if (qr.requestFullscreen) qr.requestFullscreen().catch(() => {});
  });

  return { refresh, mint, reset: () => { hideResult(); label.value = ''; } };
}

// expiryText says who the link is for and until when it works.
function expiryText(role, expires) {
  const at = new Date(expires);
  const mins = Math.max(0, Math.round((at - Date.now()) / 60000));
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return `${role} link: one use, expires at ${time} (in ${mins} minute${mins === 1 ? '' : 's'})`;
}

// copyText puts the field's text on the clipboard: the Clipboard API where
// the page is a secure context (https, or localhost), else the older
// selection copy that plain http on a LAN address still allows.
async function copyText(field) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(field.value);
      return true;
    } catch {
      // Refused (no permission): fall back.
    }
  }
  field.focus();
  field.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}
