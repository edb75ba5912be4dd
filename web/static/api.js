// api.js is the one way the page calls dockmap's JSON API: same origin,
// JSON bodies with Content-Type application/json (the server refuses
// anything else for a mutation), and errors as APIError carrying the
// server's {error, detail}, so that every caller can show the detail.

// APIError is a failed call: status is the HTTP status (0 when the server
// did not answer), error the short title, detail the sentence to show,
// plan the plan of today that a 428 or a 409 carries (or null).
export class APIError extends Error {
  constructor(status, error, detail, body = null) {
    super(detail || error || `HTTP ${status}`);
    this.name = 'APIError';
    this.status = status;
    this.error = error;
    this.detail = detail || error || `HTTP ${status}`;
    this.plan = (body && body.plan) || null;
  }
}

// api sends method path with body (JSON-encoded, if not undefined) and
// returns the decoded JSON answer, or null for an empty one (204).
export async function api(method, path, body) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (err) {
    throw new APIError(0, 'no answer', 'The dockmap server did not answer: is it running?');
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.status === 401) {
    // The session is gone (a token changed, the cookie expired): sign in
    // again rather than fail every button.
    window.location.assign('/login');
  }
  if (!res.ok) {
    const title = (data && data.error) || res.statusText || `HTTP ${res.status}`;
    const detail = (data && (data.detail || data.error)) || text.trim().slice(0, 300) || `HTTP ${res.status}`;
    throw new APIError(res.status, title, detail, data);
  }
  return data;
}

// errorText is the sentence to show for err.
export function errorText(err) {
  if (err instanceof APIError) return err.detail;
  return String((err && err.message) || err || 'unknown error');
}
