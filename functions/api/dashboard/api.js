// Calls to the logdesk API. With AUTH_MODE=token every call carries the token kept in
// sessionStorage; a 401 becomes an AuthError so the page can ask for the token again.

import { lang } from './i18n.js';

const TOKEN_KEY = 'logdesk.token';

/** The API refused the token (or none was given). */
export class AuthError extends Error {}

/** The API answered with an error (`code`: bad_parameter, not_found, internal, network, …). */
export class ApiError extends Error {
  constructor(code, message, parameter = null, requestId = null) {
    super(message);
    this.code = code;
    this.parameter = parameter;
    this.requestId = requestId;
  }
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // No storage: the user signs in again after a reload.
  }
}

/** `/v1/<path>?<params>` with `lang`; empty values are left out. */
export function url(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  q.set('lang', lang());
  return `/v1/${path}?${q}`;
}

async function call(path, params) {
  const headers = { Accept: 'application/json, text/csv' };
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  let resp;
  try {
    resp = await fetch(url(path, params), { headers, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError('network', 'network error');
  }
  if (resp.status === 401) throw new AuthError('unauthorized');
  // A Function URL with AWS_IAM auth refuses unsigned browser requests.
  if (resp.status === 403) throw new ApiError('forbidden', 'forbidden');
  if (!resp.ok) {
    let body = null;
    try {
      body = await resp.json();
    } catch {
      // Not our JSON (a proxy's page): reported by status only.
    }
    const e = body && body.error ? body.error : {};
    const code = e.code || (resp.status === 404 ? 'not_found' : resp.status >= 500 ? 'internal' : 'unknown');
    throw new ApiError(code, e.message || `HTTP ${resp.status}`, e.parameter || null, e.request_id || null);
  }
  return resp;
}

/** GET the JSON of `/v1/<path>`. */
export async function getJson(path, params = {}) {
  const resp = await call(path, params);
  try {
    return await resp.json();
  } catch {
    throw new ApiError('unknown', 'response was not JSON');
  }
}

const CSV_MAX_PAGES = 20;

/**
 * Downloads `/v1/<path>` as CSV (same filters, `format=csv`) and saves it under `filename`.
 * Cursors are followed through the `X-Next-Cursor` header (up to 20 answers: 20,000 rows of
 * pages of 1,000) and the answers joined under one header line. `paged: false` for endpoints
 * without pages, like stats: there a cursor continues a partial answer (the rest of the range,
 * or Logs Insights queries still running), so it is followed too. The requests carry the
 * token, so the file is saved through a Blob URL. Resolves to whether the file is complete
 * (no cursor left).
 */
export async function downloadCsv(path, params, filename, { paged = true } = {}) {
  // Response.text() drops a leading byte-order mark, so it is put back once, for Excel.
  const parts = ['\uFEFF'];
  let cursor;
  for (let i = 0; i < CSV_MAX_PAGES; i++) {
    const page = paged ? { cursor, limit: 1000 } : { cursor };
    const resp = await call(path, { ...params, ...page, format: 'csv' });
    let text = (await resp.text()).replace(/^\uFEFF/, '');
    if (i > 0) {
      // Later pages repeat the header line.
      const eol = text.indexOf('\r\n');
      text = eol >= 0 ? text.slice(eol + 2) : '';
    }
    parts.push(text);
    cursor = resp.headers.get('x-next-cursor');
    if (!cursor) break;
  }
  const blob = new Blob(parts, { type: 'text/csv;charset=utf-8' });
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return !cursor;
}
