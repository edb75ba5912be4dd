// invite.js is the header's Invite… dialog (templates.InviteDialog), for
// operators: it makes a one-use login link for a viewer or an operator
// (POST /api/login-codes) and shows it with a Copy button and the time it
// expires. The link is a secret until used: it is shown in this dialog
// only, and forgotten when the dialog closes.

import { api, errorText } from './api.js';
import { openDialog } from './dialogs.js';
import { showText } from './dom.js';

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

  const reset = () => {
    result.hidden = true;
    urlField.value = '';
    expiry.textContent = '';
    copy.textContent = 'Copy';
    showText(err, '');
  };
  // A used-up dialog keeps no link around.
  dlg.addEventListener('close', reset);

  open.addEventListener('click', () => {
    reset();
    openDialog(dlg);
    submit.focus();
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
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
