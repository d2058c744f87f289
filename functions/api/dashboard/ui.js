// Small DOM helpers shared by the screens. Everything is built with DOM calls and text nodes
// (never parsed from HTML strings), so log content cannot become markup.

import { lang, t } from './i18n.js';
import { ApiError, AuthError } from './api.js';

/** `el('div', {class: 'x', onclick: f}, 'text', child, …)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** An API time (RFC 3339 in the display zone) as `2026-11-23 10:00:05`, in the same zone. */
export function fmtTime(s) {
  if (!s || typeof s !== 'string' || s.length < 19) return s || '';
  return `${s.slice(0, 10)} ${s.slice(11, 19)}`;
}

/** Seconds as `0.123 秒` / `1.50 s` (the unit in the display language). */
export function fmtSeconds(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '';
  const unit = lang() === 'ja' ? '秒' : 's';
  return v < 1 ? `${v.toFixed(3)} ${unit}` : `${v.toFixed(2)} ${unit}`;
}

/** A count with thousands separators (`5,062`). */
export function fmtNum(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '';
  return Number(n).toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-US');
}

/** A duration in seconds in words (`2分5秒` / `2 min 05 s`). */
export function fmtDwell(seconds, japanese) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  if (japanese) return h ? `${h}時間${m}分` : m ? `${m}分${s % 60}秒` : `${s}秒`;
  return h ? `${h} h ${m} min` : m ? `${m} min ${r} s` : `${s} s`;
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function fmtPercent(rate) {
  if (rate === null || rate === undefined) return '—';
  return `${(rate * 100).toFixed(rate < 0.01 && rate > 0 ? 2 : 1)}%`;
}

/** CSS class of an HTTP status: s2xx … s5xx. */
export function statusClass(code) {
  if (!code) return 'sunk';
  return `s${String(code)[0]}xx`;
}

/** A message box: `kind` is info, empty, error or warn. Errors are announced to screen readers. */
export function message(kind, text) {
  return el('p', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** The plain-language text of an error from the API (never its raw body). */
export function errorText(err, paramLabels = {}) {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'network':
        return t('err_network');
      case 'bad_parameter':
        if (err.parameter === 'from' && /before/.test(err.message)) return t('err_bad_range');
        return t('err_bad', { param: paramLabels[err.parameter] || err.parameter || '?' });
      case 'not_found':
        return t('err_not_found');
      case 'forbidden':
        return t('err_forbidden');
      case 'internal':
        return err.requestId ? t('err_internal', { id: err.requestId }) : t('err_internal_noid');
      default:
        return t('err_unknown');
    }
  }
  return t('err_unknown');
}

/**
 * Runs `load()` showing a loading line in `target`, then replaces it with what `render(data)`
 * returns, or with a plain error message. An AuthError goes to `onAuth`.
 */
export async function load(target, loadFn, render, { onAuth, paramLabels } = {}) {
  target.replaceChildren(message('info', t('loading')));
  target.setAttribute('aria-busy', 'true');
  try {
    const data = await loadFn();
    target.replaceChildren(render(data));
  } catch (err) {
    if (err instanceof AuthError && onAuth) {
      onAuth();
      return;
    }
    if (!(err instanceof ApiError)) console.error(err);
    target.replaceChildren(message('error', errorText(err, paramLabels)));
  } finally {
    target.removeAttribute('aria-busy');
  }
}

/** A labelled text input. */
export function field(name, label, value = '', attrs = {}) {
  const id = `f-${name}`;
  return el(
    'div',
    { class: 'field' },
    el('label', { for: id }, label),
    el('input', { id, name, type: 'text', value: value || '', autocomplete: 'off', ...attrs }),
  );
}

/** A labelled select of `[value, label]` options. */
export function select(name, label, options, value = '') {
  const id = `f-${name}`;
  return el(
    'div',
    { class: 'field' },
    el('label', { for: id }, label),
    el(
      'select',
      { id, name },
      options.map(([v, l]) => el('option', { value: v, selected: v === value }, l)),
    ),
  );
}

/** A labelled checkbox. */
export function checkbox(name, label, checked) {
  const id = `f-${name}`;
  return el(
    'div',
    { class: 'field field-check' },
    el('input', { id, name, type: 'checkbox', checked: !!checked }),
    el('label', { for: id }, label),
  );
}

/**
 * A table: `columns` are `[label, class?, lead?]`, `rows` are `<tr>` elements. Each cell gets
 * its column's label (`data-label`), shown above the value when a narrow screen turns every
 * row into a card; `lead` (1–3) moves the cell to the top of the card, so the answer (status,
 * reason; time, status, path) comes first. The wrapper scrolls sideways on a desk when the
 * table is wide, so it can take the focus (keyboard users scroll it with the arrow keys).
 * `sortable` columns (an array of `[label, class, lead, key]` with `onSort(key)`) get buttons.
 */
export function table(columns, rows, { caption, className = '', sort = null } = {}) {
  for (const tr of rows) {
    [...tr.children].forEach((td, i) => {
      const col = columns[i];
      if (!col) return;
      if (col[0]) td.dataset.label = col[0];
      if (col[2]) td.classList.add(`lead-${col[2]}`);
    });
  }
  const head = columns.map(([label, cls, , key]) => {
    if (!sort || !key) return el('th', { scope: 'col', class: cls }, label);
    const dir = sort.key === key ? (sort.desc ? 'descending' : 'ascending') : false;
    return el(
      'th',
      { scope: 'col', class: cls, 'aria-sort': dir },
      el('button', { type: 'button', class: 'sort', onclick: () => sort.onSort(key) }, label),
    );
  });
  return el(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || t('app_title') },
    el(
      'table',
      { class: `list ${className}` },
      caption ? el('caption', { class: 'sr-only' }, caption) : null,
      el('thead', {}, el('tr', {}, head)),
      el('tbody', {}, rows),
    ),
  );
}
