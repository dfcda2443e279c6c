// api.js: the page's HTTP calls to Muleteer's public interfaces (the web
// API's JSON routes and /api/v2's form routes), with one error type.

/** ApiError: a refused or failed call; status 0 when nothing answered. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let onUnauthorized = () => {};

/** setUnauthorizedHandler(fn): fn() runs when a call finds the session gone. */
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }
/** signalUnauthorized(): the session is gone (/ws closed with 1008 or 4001). */
export function signalUnauthorized() { onUnauthorized(401); }

async function send(method, url, { json, form, expect = 'json' } = {}) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = new URLSearchParams(form);
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, 'Muleteer does not answer (' + e.message + ')');
  }
  const text = await resp.text();
  let body = text;
  if (expect === 'json' || (resp.headers.get('Content-Type') || '').includes('json')) {
    try { body = text === '' ? null : JSON.parse(text); } catch { body = text; }
  }
  if (!resp.ok) {
    // the web API answers 401 without a session; /api/v2 answers 403
    if (resp.status === 401 || (resp.status === 403 && url.startsWith('/api/v2/') && text === 'Forbidden'))
      onUnauthorized(resp.status);
    throw new ApiError(resp.status, errorMessage(resp, body), body);
  }
  return body;
}

function errorMessage(resp, body) {
  if (body && typeof body === 'object') {
    if (body.error && body.error.message) return body.error.message;
    if (body.message) return body.message;
  }
  if (typeof body === 'string' && body !== '') return body;
  return resp.status + ' ' + resp.statusText;
}

/** getJSON(url): GET and parse; throws ApiError. */
export const getJSON = (url) => send('GET', url);
/** sendJSON(method, url, obj): a JSON body; the parsed answer. */
export const sendJSON = (method, url, obj) => send(method, url, { json: obj });
/** postForm(url, params): /api/v2's form POST; the answer's text. */
export const postForm = (url, params) => send('POST', url, { form: params, expect: 'text' });
/** postEmpty(url): a POST without body (Content-Length: 0). */
export const postEmpty = (url) => send('POST', url);

/** qbitOk(text): /api/v2 answers "Fails." with 200 for a refused add. */
export function qbitOk(text) { return text !== 'Fails.'; }
