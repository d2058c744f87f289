// The screens: mail, message timeline, recipient, access log, visits, statistics, nginx errors.
// Each takes the <main> element and a context: `params` (from the address bar), `go(route,
// params)` to navigate, `auth()` to ask for the token again, `tz()` / `setTz()` for the
// display time zone the API reports.

import uPlot from './vendor/uPlot.esm.js';
import { AuthError, downloadCsv, getJson } from './api.js';
import { codeLabel, lang, statusLabel, t } from './i18n.js';
import {
  checkbox,
  el,
  errorText,
  field,
  fmtBytes,
  fmtDwell,
  fmtNum,
  fmtPercent,
  fmtSeconds,
  fmtTime,
  load,
  message,
  select,
  statusClass,
  table,
} from './ui.js';

// ---- Period ----

const PRESETS = ['24h', 'today', 'yesterday', '7d', 'custom'];

/** `YYYY-MM-DD` of `date` in `tz`. */
function dateIn(tz, date = new Date()) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

function addDays(ymd, days) {
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** `from`/`to` for the API (dates in the display zone; a `to` date includes that whole day). */
function rangeParams(p, tz, fallback) {
  const preset = PRESETS.includes(p.preset) ? p.preset : fallback;
  const today = dateIn(tz);
  switch (preset) {
    case 'today':
      return { from: today, to: today };
    case 'yesterday':
      return { from: addDays(today, -1), to: addDays(today, -1) };
    case '7d':
      return { from: addDays(today, -6), to: today };
    case 'custom':
      return { from: p.from || undefined, to: p.to || undefined };
    default:
      return {};
  }
}

/** `YYYY-MM-DDTHH:MM` of `seconds` (Unix) in `tz`, for a custom range. */
function localMinute(tz, seconds) {
  const d = new Date(seconds * 1000);
  try {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
        .formatToParts(d)
        .map((x) => [x.type, x.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  } catch {
    return d.toISOString().slice(0, 16);
  }
}

/**
 * The period control: preset radio buttons and, for 期間指定, a date and an optional time for
 * each end (a date alone means the whole day).
 */
function rangeControl(p, fallback, tz) {
  const preset = PRESETS.includes(p.preset) ? p.preset : fallback;
  const [fromDate = '', fromTime = ''] = (p.from || '').split('T');
  const [toDate = '', toTime = ''] = (p.to || '').split('T');
  const end = (name, label, date, time) => [
    el('label', { for: `f-${name}` }, label),
    el('input', { id: `f-${name}`, name, type: 'date', value: date }),
    el('label', { for: `f-${name}_time`, class: 'sr-only' }, `${label} ${t('range_time')}`),
    el('input', { id: `f-${name}_time`, name: `${name}_time`, type: 'time', value: time.slice(0, 5), title: t('range_time') }),
  ];
  const dates = el(
    'div',
    { class: 'range-dates', hidden: preset !== 'custom' },
    el('span', { class: 'range-end' }, end('from', t('range_from'), fromDate, fromTime)),
    el('span', { 'aria-hidden': 'true' }, '〜'),
    el('span', { class: 'range-end' }, end('to', t('range_to'), toDate, toTime)),
  );
  const radios = PRESETS.map((v) =>
    el(
      'label',
      { class: 'seg' },
      el('input', {
        type: 'radio',
        name: 'preset',
        value: v,
        checked: v === preset,
        onchange: (e) => {
          dates.hidden = v !== 'custom';
          // A preset period answers at once (one click); 期間指定 waits for the dates.
          if (v !== 'custom') e.target.form?.requestSubmit();
        },
      }),
      el('span', {}, t(`preset_${v}`)),
    ),
  );
  return el(
    'fieldset',
    { class: 'range' },
    el('legend', {}, t('range')),
    el('div', { class: 'segs' }, radios),
    dates,
    el('p', { class: 'hint' }, t('times_in', { tz: tzName(tz) })),
  );
}

/** The display zone in words: 日本時間（JST） for Asia/Tokyo. */
function tzName(tz) {
  if (tz === 'Asia/Tokyo') return lang() === 'ja' ? '日本時間（JST）' : 'Japan time (JST)';
  return tz;
}

/** The values of a filter form as route parameters (empty ones left out). */
function formParams(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) {
    const s = String(v).trim();
    if (s) out[k] = s;
  }
  for (const box of form.querySelectorAll('input[type=checkbox]')) {
    if (box.checked) out[box.name] = 'true';
  }
  for (const end of ['from', 'to']) {
    const time = out[`${end}_time`];
    delete out[`${end}_time`];
    if (out[end] && time) out[end] = `${out[end]}T${time}`;
  }
  if (out.preset !== 'custom') {
    delete out.from;
    delete out.to;
  }
  return out;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `v` is an IPv4 or IPv6 address (as the access log writes it). */
export function isIp(v) {
  if (IPV4.test(v)) return true;
  if (!/^[0-9a-fA-F:.]+$/.test(v) || !v.includes(':')) return false;
  const parts = v.split('::');
  if (parts.length > 2) return false;
  const groups = parts.flatMap((x) => (x ? x.split(':') : []));
  return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g) || IPV4.test(g)) && (parts.length === 2 ? groups.length < 8 : groups.length === 8);
}

/** Whether `v` looks like a whole email address. */
export function isEmail(v) {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v);
}

/** Checks of the filter fields: name → (value) → label key of the mistake, or null. */
const CHECKS = {
  ip: (v) => (isIp(v) ? null : 'inv_ip'),
  address: (v) => (isEmail(v) ? null : 'inv_email'),
  status: (v) => (v.split(',').every((x) => /^\s*[1-5](\d\d|xx|XX)\s*$/.test(x)) ? null : 'inv_status'),
};

/** Marks the fields of `form` whose values are mistaken, with the mistake in words under each. */
function checkForm(form) {
  let first = null;
  for (const box of form.querySelectorAll('.field-error')) box.remove();
  for (const input of form.querySelectorAll('input')) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
    const check = CHECKS[input.name];
    const v = input.value.trim();
    if (!check || !v) continue;
    const key = check(v);
    if (!key) continue;
    const id = `${input.id}-error`;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.closest('.field').append(el('p', { class: 'field-error', id, role: 'alert' }, t(key)));
    first = first || input;
  }
  const from = form.querySelector('#f-from');
  const to = form.querySelector('#f-to');
  const custom = form.querySelector('input[name=preset][value=custom]');
  if (custom?.checked && from?.value && to?.value && from.value > to.value) {
    from.setAttribute('aria-invalid', 'true');
    from.setAttribute('aria-describedby', 'f-from-error');
    form.querySelector('.range-dates').append(el('p', { class: 'field-error', id: 'f-from-error', role: 'alert' }, t('inv_range')));
    first = first || from;
  }
  first?.focus();
  return !first;
}

function filterForm(ctx, route, fields, { range, fallback, csv, keep = {} }) {
  const form = el(
    'form',
    { class: 'filters', role: 'search', novalidate: true },
    el('div', { class: 'fields' }, fields),
    range ? rangeControl(ctx.params, fallback, ctx.tz()) : null,
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'submit', class: 'primary' }, t('search')),
      csv ? el('button', { type: 'button', class: 'csv', onclick: csv }, t('csv')) : null,
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!checkForm(form)) return;
    ctx.go(route, { ...keep, ...formParams(form) }, { focusResults: true });
  });
  return form;
}

// ---- Lists with pages ----

// The cursors of the pages seen so far, for 前へ / 次へ, and how many rows came before each
// page; reset when the filters change.
const pages = { key: '', cursors: [undefined], before: [0] };

/** The count line: 全 5,062件中 1–100件 when the total is known, else 1–100件（100件以上）. */
function countLine(data, before, shown) {
  const a = fmtNum(shown ? before + 1 : 0);
  const b = fmtNum(before + shown);
  if (typeof data.total === 'number') return t('rows_of_total', { total: fmtNum(data.total), a, b });
  if (data.next_cursor) return t('rows_more', { a, b });
  if (before === 0) return t('rows_all', { n: fmtNum(shown) });
  return t('rows_of_total', { total: b, a, b });
}

/** The order switch (新しい順 / 古い順) of a list; changing it reloads the screen. */
function orderControl(ctx, route, value) {
  const id = 'f-order';
  return el(
    'div',
    { class: 'order' },
    el('label', { for: id }, t('order')),
    el(
      'select',
      {
        id,
        onchange: (e) => ctx.go(route, { ...ctx.params, order: e.target.value }, { focusResults: true }),
      },
      ['desc', 'asc'].map((v) => el('option', { value: v, selected: v === value }, t(`order_${v}`))),
    ),
  );
}

/**
 * Loads a page of `/v1/<path>` with `params` into `target` and renders its rows with
 * `renderRows(rows)`; adds the count, the order switch (`order`: a control), the partial note
 * and the page buttons.
 */
function pagedList(ctx, target, path, params, renderRows, paramLabels, { order = null, after = null } = {}) {
  const key = `${path}?${JSON.stringify(params)}`;
  if (pages.key !== key) {
    pages.key = key;
    pages.cursors = [undefined];
    pages.before = [0];
  }
  const run = () =>
    load(
      target,
      () => getJson(path, { ...params, cursor: pages.cursors[pages.cursors.length - 1] }),
      (data) => {
        if (data.tz) ctx.setTz(data.tz);
        const n = pages.cursors.length;
        const rows = data.rows || [];
        const before = pages.before[n - 1] || 0;
        const nav = el(
          'nav',
          { class: 'pager', 'aria-label': t('page', { n }) },
          el('button', {
            type: 'button',
            disabled: n <= 1,
            onclick: () => {
              pages.cursors.pop();
              pages.before.pop();
              run();
            },
          }, t('prev')),
          el('span', {}, t('page', { n })),
          el('button', {
            type: 'button',
            class: 'next',
            disabled: !data.next_cursor,
            onclick: () => {
              pages.cursors.push(data.next_cursor);
              pages.before.push(before + rows.length);
              run();
            },
          }, t('next')),
        );
        // A partial answer may have no rows yet (Logs Insights still running): 次へ continues.
        const pending = data.partial && data.next_cursor;
        return el(
          'div',
          {},
          el('div', { class: 'list-head' }, el('p', { class: 'count', role: 'status' }, countLine(data, before, rows.length)), order),
          data.partial ? message('warn', t('partial')) : null,
          rows.length ? renderRows(rows) : pending ? null : message('empty', t('empty')),
          rows.length && after ? after(rows) : null,
          rows.length || n > 1 || pending ? nav : null,
        );
      },
      { onAuth: ctx.auth, paramLabels },
    );
  run();
}

/** The CSV button's action: download with the same filters, reporting problems in words. */
function csvAction(ctx, status, path, params, name, opts) {
  return async () => {
    status.replaceChildren();
    // The file name carries the time in the display zone, like every time on the page.
    const stamp = localMinute(ctx.tz(), Date.now() / 1000).replace(/[-:T]/g, '');
    const filename = `logdesk-${name}-${stamp}.csv`;
    try {
      const complete = await downloadCsv(path, params(), filename, opts);
      status.replaceChildren(
        complete ? message('info', t('csv_done', { name: filename })) : message('warn', t('csv_partial', { name: filename })),
      );
    } catch (err) {
      if (err instanceof AuthError) ctx.auth();
      else status.replaceChildren(message('error', errorText(err)));
    }
  };
}

function screen(main, title, ...children) {
  main.replaceChildren(el('h2', { tabindex: '-1', id: 'screen-title' }, title), ...children.filter(Boolean));
}

function pick(p, keys) {
  const out = {};
  for (const k of keys) if (p[k]) out[k] = p[k];
  return out;
}

function badge(text, cls) {
  return el('span', { class: `badge ${cls}` }, text);
}

const FAILED = new Set(['Bounce', 'Complaint', 'Reject', 'Rendering Failure']);

// The colour of each severity the API gives a reason (`reason.severity`).
const SEVERITY_CLASS = { permanent: 'bad', temporary: 'temp', needs_fix: 'fix', info: 'info' };

/** The colour class of a mail result: its reason's severity, else by its status. */
function mailStatusClass(status, reason) {
  const sev = reason && SEVERITY_CLASS[reason.severity];
  if (sev) return sev;
  if (FAILED.has(status)) return 'bad';
  if (status === 'DeliveryDelay') return 'temp';
  if (status === 'Delivery' || status === 'Open' || status === 'Click') return 'good';
  return 'neutral';
}

/** The legend of the colours, under every list of mail. */
function severityLegend() {
  return el(
    'ul',
    { class: 'legend', 'aria-label': t('legend') },
    ['bad', 'temp', 'fix', 'info', 'good'].map((c) => el('li', {}, badge(t(`sev_${c}`), c), t(`sev_${c}_help`))),
  );
}

/** The status of a row or event in words: the API's own label in the page's language when given. */
function mailStatusText(row, status) {
  return row.status_label || statusLabel(status);
}

function reasonBlock(reason, status) {
  if (!reason) {
    return status === 'Delivery' ? el('p', { class: 'delivered-note' }, t('delivered_note')) : null;
  }
  return el(
    'div',
    { class: 'reason' },
    el('strong', {}, reason.title),
    el('p', {}, reason.explanation),
    reason.action ? el('p', { class: 'action' }, `${t('action')}${reason.action}`) : null,
  );
}

function recipientLink(to) {
  return el('a', { href: `#/recipient?address=${encodeURIComponent(to)}` }, address(to));
}

function timelineHref(id) {
  return `#/message?id=${encodeURIComponent(id)}`;
}

// ---- Mail ----

const MAIL_STATUSES = ['Delivery', 'Bounce', 'Complaint', 'DeliveryDelay', 'Reject', 'Send', 'Open', 'Click', 'Rendering Failure'];
const LAST_MAIL_SEARCH = 'logdesk.mailSearch';

/** The last mail search (its address-bar hash), so ← 一覧へ戻る returns to it. */
function lastMailSearch() {
  try {
    return sessionStorage.getItem(LAST_MAIL_SEARCH) || '#/mail';
  } catch {
    return '#/mail';
  }
}

function rememberMailSearch() {
  try {
    sessionStorage.setItem(LAST_MAIL_SEARCH, location.hash || '#/mail');
  } catch {
    // No storage: the back link goes to the plain list.
  }
}

/** An address with a break opportunity after `@` and dots, so it wraps at sensible points. */
function address(text) {
  const parts = String(text).split(/(?<=[@.])/);
  return parts.flatMap((x, i) => (i ? [el('wbr'), x] : [x]));
}

function mailTable(rows) {
  const trs = rows.map((r) => {
    const cls = mailStatusClass(r.status, r.reason);
    const tr = el(
      'tr',
      { class: `clickable row-${cls}`, dataset: { status: r.status } },
      el('td', { class: 'nowrap' }, fmtTime(r.time)),
      el('td', {}, r.from_name ? el('div', {}, r.from_name) : null, el('div', { class: 'sub addr' }, r.from ? address(r.from) : '')),
      el('td', { class: 'addr' }, r.to ? recipientLink(r.to) : ''),
      el('td', { class: 'wrap' }, el('a', { href: timelineHref(r.message_id), title: t('open_timeline') }, r.subject || t('no_subject'))),
      el('td', { class: 'nowrap' }, badge(mailStatusText(r, r.status), cls), el('div', { class: 'sub' }, fmtTime(r.status_time))),
      el('td', { class: 'wrap reason-cell' }, reasonBlock(r.reason, r.status)),
    );
    tr.addEventListener('click', (e) => {
      if (e.target.closest('a, button')) return;
      location.hash = timelineHref(r.message_id);
    });
    return tr;
  });
  return el(
    'div',
    {},
    table(
      [[t('col_sent')], [t('col_from')], [t('col_to'), '', 3], [t('col_subject')], [t('col_status'), '', 1], [t('col_reason'), '', 2]],
      trs,
      { caption: t('mail_title'), className: 'mail' },
    ),
    severityLegend(),
  );
}

const MAIL_LABELS = () => ({
  recipient: t('mail_recipient'),
  subject: t('mail_subject'),
  status: t('mail_status'),
  from: t('range_from'),
  to: t('range_to'),
});

export function mail(main, ctx) {
  const p = ctx.params;
  const results = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const order = p.order === 'asc' ? 'asc' : 'desc';
  const apiParams = () => ({ ...pick(p, ['recipient', 'subject', 'status']), order, ...rangeParams(p, ctx.tz(), '7d') });
  const form = filterForm(
    ctx,
    'mail',
    [
      field('recipient', t('mail_recipient'), p.recipient, { type: 'search', inputmode: 'email' }),
      field('subject', t('mail_subject'), p.subject, { type: 'search' }),
      select('status', t('mail_status'), [['', t('status_all')], ...MAIL_STATUSES.map((s) => [s, statusLabel(s)])], p.status || ''),
    ],
    { range: true, fallback: '7d', keep: p.order ? { order: p.order } : {}, csv: csvAction(ctx, csvStatus, 'mail', apiParams, 'mail') },
  );
  rememberMailSearch();
  const whole = p.recipient && isEmail(p.recipient);
  screen(
    main,
    t('mail_title'),
    form,
    csvStatus,
    whole ? el('p', { class: 'hint' }, recipientLink(p.recipient), ' → ', t('recipient_link')) : null,
    results,
  );
  pagedList(ctx, results, 'mail', apiParams(), mailTable, MAIL_LABELS(), { order: orderControl(ctx, 'mail', order) });
}

// ---- Message timeline ----

function eventDetails(ev) {
  const bounce = ev.bounce_type_label
    ? [ev.bounce_type_label, ev.bounce_subtype_label].filter(Boolean).join(' / ')
    : [codeLabel('bt', ev.bounce_type), codeLabel('bst', ev.bounce_subtype)].filter(Boolean).join(' / ');
  const items = [
    ['ev_bounce_type', bounce],
    ['ev_complaint', ev.complaint_type_label || codeLabel('ct', ev.complaint_type)],
    ['ev_delay', ev.delay_type_label || codeLabel('dt', ev.delay_type)],
    ['ev_reject', ev.reject_reason_label || codeLabel('rr', ev.reject_reason)],
    ['ev_error', ev.error],
    ['ev_status_code', ev.status_code],
    ['ev_diagnostic', ev.diagnostic],
    ['ev_smtp', ev.smtp_response],
    ['ev_ip', ev.ip],
    ['ev_link', ev.link],
  ].filter(([, v]) => v);
  if (!items.length) return null;
  return el('dl', { class: 'details' }, items.map(([k, v]) => [el('dt', {}, t(k)), el('dd', { class: 'wrap' }, v)]));
}

function eventList(events) {
  return el(
    'ol',
    { class: 'timeline' },
    events.map((ev) => {
      const cls = mailStatusClass(ev.event, ev.reason);
      return el(
        'li',
        { class: `ev row-${cls}` },
        el('div', { class: 'ev-head' }, el('time', {}, fmtTime(ev.time)), ' ', badge(ev.status_label || statusLabel(ev.event), cls)),
        reasonBlock(ev.reason, ev.event),
        eventDetails(ev),
      );
    }),
  );
}

export function message_(main, ctx) {
  const id = ctx.params.id || '';
  const body = el('section', { class: 'results', tabindex: '-1' });
  screen(main, t('timeline_title'), el('p', {}, el('a', { href: lastMailSearch(), class: 'back' }, `← ${t('back_to_mail')}`)), body);
  if (!id) {
    body.replaceChildren(message('empty', t('err_not_found')));
    return;
  }
  load(
    body,
    () => getJson(`mail/${encodeURIComponent(id)}`, {}),
    (d) =>
      el(
        'div',
        {},
        el(
          'dl',
          { class: 'summary' },
          el('dt', {}, t('col_subject')),
          el('dd', {}, d.subject || t('no_subject')),
          el('dt', {}, t('col_from')),
          el('dd', {}, [d.from_name, d.from ? `<${d.from}>` : ''].filter(Boolean).join(' ')),
          el('dt', {}, t('col_sent')),
          el('dd', {}, fmtTime(d.sent)),
          el('dt', {}, t('message_id')),
          el('dd', { class: 'wrap mono' }, d.message_id),
        ),
        d.partial ? message('warn', t('partial_part')) : null,
        severityLegend(),
        (d.recipients || []).map((r) =>
          el(
            'section',
            { class: `recipient row-${mailStatusClass(r.status, r.reason)}` },
            el('h3', { class: 'addr' }, r.to ? recipientLink(r.to) : '—', ' ', badge(mailStatusText(r, r.status), mailStatusClass(r.status, r.reason))),
            reasonBlock(r.reason, r.status),
            eventList(r.events || []),
          ),
        ),
      ),
    { onAuth: ctx.auth },
  );
}

// ---- Recipient ----

export function recipient(main, ctx) {
  const wanted = (ctx.params.address || '').trim();
  const body = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const csvParams = () => ({ recipient: wanted, from: addDays(dateIn(ctx.tz()), -30) });
  const form = filterForm(ctx, 'recipient', [field('address', t('recipient_address'), wanted, { type: 'email', inputmode: 'email', autocomplete: 'email' })], {
    csv: wanted ? csvAction(ctx, csvStatus, 'mail', csvParams, 'recipient') : null,
  });
  screen(main, t('recipient_title'), el('p', { class: 'hint' }, t('recipient_help')), form, csvStatus, body);
  if (!wanted) return;
  if (!isEmail(wanted)) {
    body.replaceChildren(message('error', t('inv_email')));
    return;
  }
  load(
    body,
    () => getJson(`recipients/${encodeURIComponent(wanted)}`, {}),
    (d) => {
      const msgs = d.messages || [];
      if (!msgs.length && !(d.bounces || []).length && !(d.complaints || []).length) {
        return message('empty', t('no_mail_for'));
      }
      const latestCls = mailStatusClass(d.latest_status, null);
      return el(
        'div',
        {},
        el(
          'dl',
          { class: 'summary' },
          el('dt', {}, t('recipient_address')),
          el('dd', { class: 'addr' }, address(d.address || wanted)),
          el('dt', {}, t('latest_status')),
          el('dd', {}, d.latest_status ? badge(d.latest_status_label || statusLabel(d.latest_status), latestCls) : '—'),
          el('dt', {}, t('latest_time')),
          el('dd', {}, fmtTime(d.latest_time)),
        ),
        d.likely_suppressed ? message('error', t('suppressed')) : message('info', t('not_suppressed')),
        d.partial ? message('warn', t('partial_part')) : null,
        el('h3', {}, t('messages')),
        msgs.length ? mailTable(msgs) : message('empty', t('none')),
        el('h3', {}, t('bounces')),
        (d.bounces || []).length ? eventList(d.bounces) : el('p', {}, t('none')),
        el('h3', {}, t('complaints')),
        (d.complaints || []).length ? eventList(d.complaints) : el('p', {}, t('none')),
      );
    },
    { onAuth: ctx.auth, paramLabels: { address: t('recipient_address') } },
  );
}

// ---- Mail overview ----

/** A rate against SES's review level: the figure, a bar with the level marked, and a verdict. */
function rateCard(label, rate, level) {
  const state = rate == null ? 'none' : rate >= level ? 'over' : rate >= level / 2 ? 'near' : 'ok';
  const cls = state === 'over' ? 'bad' : state === 'near' ? 'warnc' : '';
  // The bar runs to twice the review level, so the level's mark sits in the middle.
  const fill = el('span', { class: `fill ${state === 'over' ? 'bad' : state === 'near' ? 'warn' : ''}` });
  fill.style.width = `${Math.min(100, ((rate || 0) / (2 * level)) * 100)}%`;
  const mark = el('span', { class: 'mark', title: t('review_level', { p: fmtPercent(level) }) });
  mark.style.left = '50%';
  return el(
    'div',
    { class: `card rate ${cls}`, dataset: { state } },
    el('div', { class: 'card-label' }, label),
    el('div', { class: 'card-value' }, rate == null ? '—' : fmtPercent(rate)),
    el('div', { class: 'meter', 'aria-hidden': 'true' }, fill, mark),
    el('div', { class: 'limit' }, t('review_level', { p: fmtPercent(level) })),
    el('p', { class: state === 'over' ? 'field-error' : 'sub' }, t(`rate_${state}`)),
  );
}

function countCard(label, n, sent, cls = '') {
  return card(label, fmtNum(n), sent ? t('ov_of_sent', { p: fmtPercent(n / sent) }) : null, cls);
}

function overviewView(d, tz, width, { onNext }) {
  destroyCharts();
  const s = d.stats || {};
  const c = s.totals || {};
  if (d.partial && d.next_cursor && d.covered_to === d.from) {
    // Logs Insights still counting: 次へ asks again with the cursor, which reads its queries.
    return el(
      'div',
      {},
      message('warn', t('partial')),
      el('nav', { class: 'pager' }, el('button', { type: 'button', class: 'next', onclick: onNext }, t('next'))),
    );
  }
  if (!c.sent && !c.delivered && !c.bounces) return message('empty', t('empty'));
  const b = s.buckets || [];
  const xs = b.map((x) => x.start / 1e6);
  const reasonRows = (s.reasons || []).map((r) =>
    el(
      'tr',
      { class: `row-${SEVERITY_CLASS[r.severity] || 'neutral'}` },
      el('td', {}, badge(r.title || r.code, SEVERITY_CLASS[r.severity] || 'neutral')),
      el('td', { class: 'num' }, fmtNum(r.count)),
    ),
  );
  const destRows = (list, label, link) =>
    (list || []).map((x) =>
      el(
        'tr',
        {},
        el('td', { class: 'wrap' }, link ? el('a', { href: `#/mail?recipient=${encodeURIComponent(`@${x.key}`)}`, title: t('ov_show_mail') }, address(label(x))) : label(x)),
        el('td', { class: 'num' }, fmtNum(x.sent)),
        el('td', { class: 'num' }, fmtNum(x.delivered)),
        el('td', { class: 'num' }, fmtNum(x.bounces)),
        el('td', { class: 'num' }, fmtNum(x.complaints)),
        el('td', { class: 'num' }, fmtNum(x.delays)),
        el('td', { class: 'num' }, fmtPercent(x.problem_rate)),
      ),
    );
  const destColumns = (first) => [[first, '', 1], [t('ov_sent'), 'num'], [t('ov_delivered'), 'num'], [t('ov_bounces'), 'num'], [t('ov_complaints'), 'num'], [t('ov_delays'), 'num'], [t('col_problem_rate'), 'num']];
  return el(
    'div',
    {},
    d.partial ? message('warn', t('partial_part')) : null,
    (s.approximate || []).length ? message('info', t('ov_approximate')) : null,
    el(
      'div',
      { class: 'cards rates' },
      rateCard(t('bounce_rate'), s.bounce_rate, s.bounce_rate_review ?? 0.05),
      rateCard(t('complaint_rate'), s.complaint_rate, s.complaint_rate_review ?? 0.001),
    ),
    el('p', { class: 'hint' }, t('rate_note')),
    el(
      'div',
      { class: 'cards' },
      countCard(t('ov_sent'), c.sent, 0),
      countCard(t('ov_delivered'), c.delivered, c.sent),
      countCard(t('ov_permanent'), c.permanent_bounces, c.sent, c.permanent_bounces ? 'bad' : ''),
      countCard(t('ov_temporary'), c.temporary_bounces, c.sent),
      countCard(t('ov_complaints'), c.complaints, c.sent, c.complaints ? 'bad' : ''),
      countCard(t('ov_delays'), c.delays, c.sent),
      c.rejects ? countCard(t('ov_rejects'), c.rejects, c.sent) : null,
      // Opens and clicks exist only where tracking is on.
      c.opens ? countCard(t('ov_opens'), c.opens, c.sent) : null,
      c.clicks ? countCard(t('ov_clicks'), c.clicks, c.sent) : null,
    ),
    el(
      'div',
      { class: 'charts' },
      chart(t('chart_mail'), [xs, b.map((x) => x.sent), b.map((x) => x.delivered)], [[t('ov_sent'), '#1f5fbf'], [t('ov_delivered'), '#2e7d32']], tz, width),
      chart(
        t('chart_mail_problems'),
        [xs, b.map((x) => x.permanent_bounces), b.map((x) => x.temporary_bounces), b.map((x) => x.complaints), b.map((x) => x.delays)],
        [[t('ov_permanent'), '#c62828'], [t('ov_temporary'), '#b26a00'], [t('ov_complaints'), '#6a1b9a'], [t('ov_delays'), '#5b6470']],
        tz,
        width,
      ),
      c.opens || c.clicks ? chart(t('chart_engagement'), [xs, b.map((x) => x.opens), b.map((x) => x.clicks)], [[t('ov_opens'), '#1f5fbf'], [t('ov_clicks'), '#00796b']], tz, width) : null,
    ),
    el('h3', {}, t('by_reason')),
    reasonRows.length ? table([[t('col_reason_code'), '', 1], [t('col_count'), 'num']], reasonRows, { caption: t('by_reason'), className: 'reasons' }) : el('p', {}, t('none')),
    severityLegend(),
    el('h3', {}, t('by_provider')),
    table(destColumns(t('col_provider')), destRows(s.providers, (x) => x.label || x.key, false), { caption: t('by_provider'), className: 'providers' }),
    el('h3', {}, t('problem_domains')),
    (s.problem_domains || []).length
      ? table(destColumns(t('col_domain')), destRows(s.problem_domains, (x) => x.key, true), { caption: t('problem_domains'), className: 'domains' })
      : el('p', {}, t('none')),
  );
}

export function overview(main, ctx) {
  const p = ctx.params;
  const results = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const apiParams = () => ({ ...pick(p, ['interval']), ...rangeParams(p, ctx.tz(), '7d') });
  const form = filterForm(
    ctx,
    'overview',
    [select('interval', t('interval'), [['', t('iv_auto')], ['1h', t('iv_1h')], ['1d', t('iv_1d')]], p.interval || '')],
    { range: true, fallback: '7d' },
  );
  screen(main, t('overview_title'), el('p', { class: 'hint' }, t('overview_help')), form, results);
  const run = (cursor) =>
    load(
      results,
      () => getJson('mail/stats', { ...apiParams(), cursor }),
      (d) => {
        if (d.tz) ctx.setTz(d.tz);
        const inner = main.clientWidth - 48;
        const width = inner < 600 ? Math.max(260, inner + 20) : Math.max(320, Math.min(640, Math.floor(inner / 2)));
        return overviewView(d, d.tz || ctx.tz(), width, { onNext: () => run(d.next_cursor) });
      },
      { onAuth: ctx.auth, paramLabels: { from: t('range_from'), to: t('range_to'), interval: t('interval') } },
    );
  run('');
}

// ---- Access log ----

/** The log a request came from, in words: ロードバランサー（ALB）, nginx. */
function sourceLabel(source) {
  const key = `src_${source}`;
  const label = t(key);
  return label === key ? source || '' : label;
}

function accessTable(rows) {
  const trs = rows.map((r) => {
    const request = r.method || r.path ? [r.method, r.path || r.url, r.protocol].filter(Boolean).join(' ') : r.request || '';
    const statuses = [badge(r.status ?? '—', statusClass(r.status))];
    if (r.target_status && r.target_status !== r.status) {
      statuses.push(el('div', { class: 'sub' }, t('target_status', { s: r.target_status })));
    }
    return el(
      'tr',
      { class: `row-${statusClass(r.status)}`, id: `req-${r.id}` },
      el('td', { class: 'nowrap' }, fmtTime(r.time)),
      el('td', {}, sourceLabel(r.source), el('div', { class: 'sub wrap' }, r.server || '')),
      el('td', { class: 'nowrap' }, r.client_ip ? el('a', { href: `#/visits?ip=${encodeURIComponent(r.client_ip)}`, title: t('show_visits') }, r.client_ip) : ''),
      el('td', { class: 'nowrap' }, r.host || ''),
      el(
        'td',
        { class: 'wrap request' },
        request,
        r.error_reason ? el('div', { class: 'sub' }, r.error_reason) : null,
        r.linked && r.linked.length ? el('div', { class: 'sub' }, r.linked.map((id) =>
                el('button', {
                  type: 'button',
                  class: 'link linked',
                  onclick: () => {
                    const row = document.getElementById(`req-${id}`);
                    if (row) {
                      row.scrollIntoView({ block: 'center' });
                      row.classList.add('flash');
                      setTimeout(() => row.classList.remove('flash'), 1500);
                    }
                  },
                }, t('linked')),
              )) : null,
      ),
      el('td', { class: 'nowrap' }, statuses),
      el('td', { class: 'nowrap num' }, r.sent_bytes != null ? fmtBytes(r.sent_bytes) : ''),
      el('td', { class: 'nowrap num' }, fmtSeconds(r.response_time)),
      el('td', { class: 'wrap' }, r.referrer && r.referrer !== '-' ? r.referrer : ''),
      el('td', { class: 'wrap ua' }, r.ua && r.ua.label ? el('strong', {}, r.ua.label) : null, el('div', { class: 'sub' }, r.user_agent || '')),
    );
  });
  return table(
    [[t('col_time'), '', 1], [t('col_source')], [t('col_client')], [t('col_host')], [t('col_request'), '', 3], [t('col_status'), '', 2], [t('col_size')], [t('col_rt')], [t('col_referrer')], [t('col_ua')]],
    trs,
    { caption: t('access_title'), className: 'access' },
  );
}

const REQUEST_FILTERS = ['ip', 'host', 'path', 'status', 'source', 'trace_id'];

function requestLabels() {
  return {
    ip: t('f_ip'),
    host: t('f_host'),
    path: t('f_path'),
    status: t('f_status'),
    source: t('f_source'),
    trace_id: t('f_trace'),
    from: t('range_from'),
    to: t('range_to'),
    interval: t('interval'),
  };
}

function requestFields(p, { trace = true } = {}) {
  return [
    field('ip', t('f_ip'), p.ip, { inputmode: 'decimal' }),
    field('host', t('f_host'), p.host),
    field('path', t('f_path'), p.path),
    field('status', t('f_status'), p.status),
    select('source', t('f_source'), [['', t('src_all')], ['lb', t('src_lb')], ['nginx', t('src_nginx')]], p.source || ''),
    trace ? field('trace_id', t('f_trace'), p.trace_id) : null,
  ];
}

export function access(main, ctx) {
  const p = ctx.params;
  const order = p.order === 'asc' ? 'asc' : 'desc';
  const results = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const apiParams = () => ({ ...pick(p, REQUEST_FILTERS), order, ...rangeParams(p, ctx.tz(), '24h') });
  const form = filterForm(ctx, 'access', requestFields(p), {
    range: true,
    fallback: '24h',
    keep: p.order ? { order: p.order } : {},
    csv: csvAction(ctx, csvStatus, 'access', apiParams, 'access'),
  });
  screen(main, t('access_title'), form, csvStatus, results);
  pagedList(ctx, results, 'access', apiParams(), accessTable, requestLabels(), { order: orderControl(ctx, 'access', order) });
}

// ---- Visits ----

function deviceLabel(d) {
  const key = `device_${String(d || 'unknown').toLowerCase()}`;
  const s = t(key);
  return s === key ? d : s;
}

function visitList(rows) {
  const ja = lang() === 'ja';
  return el(
    'ol',
    { class: 'visits' },
    rows.map((v) =>
      el(
        'li',
        { class: 'visit' },
        el(
          'div',
          { class: 'visit-head' },
          el('strong', { class: 'mono' }, v.ip),
          ' ',
          el('span', {}, v.ua),
          ' ',
          badge(deviceLabel(v.device), 'neutral'),
          ' ',
          el('span', { class: 'sub' }, t('visit_from_to', { a: fmtTime(v.first), b: fmtTime(v.last) }), ' · ', t('pages', { n: (v.pages || []).length })),
        ),
        v.user_agent ? el('div', { class: 'sub wrap' }, v.user_agent) : null,
        el(
          'ol',
          { class: 'path' },
          (v.pages || []).map((pg) =>
            el(
              'li',
              { class: `row-${statusClass(pg.status)}` },
              el('time', { class: 'nowrap' }, fmtTime(pg.time).slice(11)),
              ' ',
              el('span', { class: 'wrap page-path' }, [pg.method && pg.method !== 'GET' ? `${pg.method} ` : '', pg.path].join('')),
              ' ',
              badge(pg.status ?? '—', statusClass(pg.status)),
              ' ',
              el('span', { class: 'dwell' }, pg.dwell_seconds != null ? t('dwell', { d: fmtDwell(pg.dwell_seconds, ja) }) : t('dwell_last')),
            ),
          ),
        ),
      ),
    ),
  );
}

export function visits(main, ctx) {
  const p = ctx.params;
  const results = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const order = p.order === 'asc' ? 'asc' : 'desc';
  const apiParams = () => ({ ...pick(p, ['ip', 'host', 'path', 'source', 'assets', 'bots']), order, ...rangeParams(p, ctx.tz(), '24h') });
  const form = filterForm(
    ctx,
    'visits',
    [
      field('ip', t('f_ip'), p.ip, { inputmode: 'decimal' }),
      field('host', t('f_host'), p.host),
      field('path', t('f_path'), p.path),
      select('source', t('f_source'), [['', t('src_all')], ['lb', t('src_lb')], ['nginx', t('src_nginx')]], p.source || ''),
      checkbox('assets', t('f_assets'), p.assets === 'true'),
      checkbox('bots', t('f_bots'), p.bots === 'true'),
    ],
    { range: true, fallback: '24h', keep: p.order ? { order: p.order } : {}, csv: csvAction(ctx, csvStatus, 'visits', apiParams, 'visits') },
  );
  screen(main, t('visits_title'), form, csvStatus, results);
  pagedList(ctx, results, 'visits', apiParams(), visitList, requestLabels(), { order: orderControl(ctx, 'visits', order) });
}

// ---- Statistics ----

let charts = [];

function destroyCharts() {
  for (const c of charts) c.destroy();
  charts = [];
}

/** Tick labels in the display zone, 24-hour: `13:00`, or `11/23 13:00` over several days. */
function axisTimes(splits, tz) {
  const span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
  const opts = { timeZone: tz, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' };
  if (span > 86400) Object.assign(opts, { month: 'numeric', day: 'numeric' });
  let f;
  try {
    f = new Intl.DateTimeFormat(lang() === 'ja' ? 'ja-JP' : 'en-GB', opts);
  } catch {
    f = new Intl.DateTimeFormat('en-GB', { ...opts, timeZone: 'UTC' });
  }
  return splits.map((ts) => f.format(new Date(ts * 1000)));
}

/** A value on the hover legend: counts with separators, seconds with their unit. */
function hoverValue(kind) {
  return (u, v) => (v === null || v === undefined ? '—' : kind === 'seconds' ? fmtSeconds(v) : fmtNum(v));
}

/**
 * A time chart. Hovering shows every series' value at that time in the legend; dragging across
 * it calls `onZoom(fromSeconds, toSeconds)`. `log` draws the y axis on a log scale (latency,
 * where one 60-second request would otherwise flatten the median).
 */
function chart(title, data, series, tz, width, { kind = 'count', log = false, onZoom = null } = {}) {
  const box = el('figure', { class: 'chart' }, el('figcaption', {}, title));
  const opts = {
    width,
    height: 220,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
    series: [
      { label: t('col_time'), value: (u, ts) => (ts == null ? '—' : localMinute(tz, ts).replace('T', ' ')) },
      ...series.map(([label, stroke]) => ({ label, stroke, width: 2, points: { show: false }, value: hoverValue(kind) })),
    ],
    axes: [
      { values: (u, splits) => axisTimes(splits, tz) },
      { size: kind === 'seconds' ? 84 : 64, values: (u, splits) => splits.map((v) => (kind === 'seconds' ? fmtSeconds(v) : fmtNum(v))) },
    ],
    scales: { x: { time: true }, y: log ? { distr: 3, log: 10 } : {} },
    legend: { live: true },
    cursor: { drag: { x: true, y: false, setScale: false } },
    hooks: {
      setSelect: [
        (u) => {
          if (!onZoom || u.select.width < 4) return;
          const lo = u.posToVal(u.select.left, 'x');
          const hi = u.posToVal(u.select.left + u.select.width, 'x');
          onZoom(lo, hi);
        },
      ],
    },
  };
  charts.push(new uPlot(opts, data, box));
  return box;
}

function card(label, value, sub, cls = '') {
  return el('div', { class: `card ${cls}` }, el('div', { class: 'card-label' }, label), el('div', { class: 'card-value' }, value), sub ? el('div', { class: 'sub' }, sub) : null);
}

// How the URL-group table is sorted (kept while the screen is reloaded).
const groupSort = { key: 'count', desc: true };

const GROUP_VALUES = {
  host: (g) => g.host || '',
  group: (g) => g.group,
  count: (g) => g.count,
  client_errors: (g) => g.client_errors,
  server_errors: (g) => g.server_errors,
  median: (g) => g.latency?.median ?? -1,
  p95: (g) => g.latency?.p95 ?? -1,
  p99: (g) => g.latency?.p99 ?? -1,
  max: (g) => g.latency?.max ?? -1,
};

const SORT_CHOICES = [
  ['count', 'desc', 'sort_count'],
  ['p95', 'desc', 'sort_p95'],
  ['median', 'desc', 'sort_median'],
  ['max', 'desc', 'sort_max'],
  ['server_errors', 'desc', 'sort_5xx'],
  ['client_errors', 'desc', 'sort_4xx'],
  ['group', 'asc', 'sort_group'],
];

function sortedGroups(groups) {
  const value = GROUP_VALUES[groupSort.key] || GROUP_VALUES.count;
  const dir = groupSort.desc ? -1 : 1;
  return [...groups].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return (x < y ? -1 : x > y ? 1 : 0) * dir || b.count - a.count;
  });
}

/** The URL groups, sortable by each column (the box re-renders itself on a click). */
function groupTable(s, box = el('div', { class: 'groups-box' })) {
  // A group of several URLs counted by Logs Insights has estimated percentiles (約); its
  // maximum is exact.
  const lat = (g, k) => {
    if (!g.latency) return '';
    const v = fmtSeconds(g.latency[k]);
    return g.approximate && k !== 'max' ? t('about', { v }) : v;
  };
  const groups = s.groups || [];
  const hosts = groups.some((g) => g.host);
  const rows = sortedGroups(groups).map((g) =>
    el(
      'tr',
      { class: g.server_errors ? 'row-bad' : '' },
      hosts ? el('td', { class: 'wrap' }, g.host || '') : null,
      el('td', { class: 'wrap mono' }, [g.method, g.group].filter(Boolean).join(' ')),
      el('td', { class: 'num' }, fmtNum(g.count)),
      el('td', { class: 'num' }, fmtNum(g.client_errors)),
      el('td', { class: 'num' }, fmtNum(g.server_errors)),
      el('td', { class: 'num' }, lat(g, 'median')),
      el('td', { class: 'num' }, lat(g, 'p95')),
      el('td', { class: 'num' }, lat(g, 'p99')),
      el('td', { class: 'num' }, lat(g, 'max')),
    ),
  );
  const num = 'num';
  const sort = {
    ...groupSort,
    onSort: (key) => {
      groupSort.desc = groupSort.key === key ? !groupSort.desc : key !== 'group' && key !== 'host';
      groupSort.key = key;
      groupTable(s, box);
      box.querySelector(`th[aria-sort] button`)?.focus();
    },
  };
  const columns = [
    hosts ? [t('col_host'), '', 0, 'host'] : null,
    [t('col_group'), '', 1, 'group'],
    [t('col_count'), num, 0, 'count'],
    [t('col_4xx'), num, 0, 'client_errors'],
    [t('col_5xx'), num, 0, 'server_errors'],
    [t('col_median'), num, 0, 'median'],
    [t('col_p95'), num, 0, 'p95'],
    [t('col_p99'), num, 0, 'p99'],
    [t('col_max'), num, 0, 'max'],
  ].filter(Boolean);
  // The same choice as a list, for phones (where the header row is hidden) and keyboards.
  const choice = el(
    'div',
    { class: 'field sort-field' },
    el('label', { for: 'f-sort' }, t('sort_label')),
    el(
      'select',
      { id: 'f-sort', onchange: (e) => {
        const [key, dir] = e.target.value.split(':');
        groupSort.key = key;
        groupSort.desc = dir === 'desc';
        groupTable(s, box);
        box.querySelector('#f-sort')?.focus();
      } },
      SORT_CHOICES.map(([key, dir, label]) => el('option', { value: `${key}:${dir}`, selected: groupSort.key === key && groupSort.desc === (dir === 'desc') }, t(label))),
    ),
  );
  const estimated = groups.some((g) => g.approximate) ? el('p', { class: 'hint' }, t('groups_estimated')) : null;
  box.replaceChildren(...[choice, table(columns, rows, { caption: t('groups'), className: 'groups', sort }), estimated].filter(Boolean));
  return box;
}

/** One breakdown (status codes, browsers, …) as a small table with a bar per row. */
function breakdown(title, items, total, label = (x) => x.key) {
  if (!items || !items.length) return null;
  const rows = items.map((x) => {
    const bar = el('span', { class: 'bar' });
    bar.style.width = `${Math.max(1, Math.round((x.count / Math.max(1, total)) * 100))}%`;
    return el('tr', {}, el('td', { class: 'wrap' }, label(x), bar), el('td', { class: 'num' }, fmtNum(x.count)), el('td', { class: 'num' }, fmtPercent(x.count / Math.max(1, total))));
  });
  return el('section', {}, el('h4', {}, title), table([[t('col_name'), '', 1], [t('col_count'), 'num'], [t('col_share'), 'num']], rows, { caption: title, className: 'breakdown' }));
}

/** Whether the answer marks breakdown `key` as approximate (Logs Insights' count_distinct, or
 * a breakdown cut at the rows a query returns): its title and value then say 概算. */
function approximate(s, key) {
  return (s.breakdowns?.approximate || []).includes(key);
}

function approxTitle(s, key, title) {
  return approximate(s, key) ? `${title}${t('approximate_mark')}` : title;
}

/** The breakdowns, whichever engine answered (the local engine's are exact; Logs Insights'
 * visitors and any cut breakdown are marked 概算). */
function breakdowns(s) {
  const b = s.breakdowns;
  if (!b) return null;
  const n = s.count || 0;
  return el(
    'div',
    {},
    el('h3', {}, t('breakdowns')),
    b.unique_visitors != null ? el('p', {}, `${approxTitle(s, 'unique_visitors', t('unique_visitors'))}：${fmtNum(b.unique_visitors)}`) : null,
    el(
      'div',
      { class: 'breakdowns' },
      breakdown(approxTitle(s, 'status', t('by_status')), b.status, n, (x) => el('span', {}, badge(x.key, statusClass(Number(x.key))))),
      breakdown(approxTitle(s, 'browser', t('by_browser')), b.browser, n, (x) => (x.key === 'unknown' ? t('unknown') : x.key)),
      breakdown(approxTitle(s, 'os', t('by_os')), b.os, n, (x) => (x.key === 'unknown' ? t('unknown') : x.key)),
      breakdown(approxTitle(s, 'device', t('by_device')), b.device, n, (x) => deviceLabel(x.key)),
      breakdown(approxTitle(s, 'referrer', t('by_referrer')), b.referrer, n, (x) => x.key || t('no_referrer')),
    ),
  );
}

function statsView(d, tz, width, { onNext, onZoom, zoom }) {
  destroyCharts();
  const s = d.stats || {};
  if (d.partial && d.next_cursor && d.covered_to === d.from) {
    // Nothing counted yet (Logs Insights still running, or not one bucket read in time):
    // 次へ asks again with the cursor, which reads the running queries.
    return el(
      'div',
      {},
      message('warn', t('partial')),
      el('nav', { class: 'pager' }, el('button', { type: 'button', class: 'next', onclick: onNext }, t('next'))),
    );
  }
  if (!s.count) return el('div', {}, zoom, message('empty', t('empty')));
  const lb = s.lb || {};
  const b = s.buckets || [];
  const xs = b.map((x) => x.start / 1e6);
  // A log scale has no zero: a bucket without a latency is a gap.
  const pos = (v) => (v === null || v === undefined || v <= 0 ? null : v);
  return el(
    'div',
    {},
    d.partial ? message('warn', t('partial_part')) : null,
    el(
      'div',
      { class: 'cards' },
      card(t('total_requests'), fmtNum(s.count), t('per_second', { n: (s.per_second || 0).toFixed(2) })),
      card(t('client_error_rate'), fmtPercent(lb.client_error_rate), fmtNum(lb.client_errors ?? '')),
      card(t('server_error_rate'), fmtPercent(lb.server_error_rate), fmtNum(lb.server_errors ?? '')),
      card(t('latency_median'), s.latency ? fmtSeconds(s.latency.median) : '—'),
      card(t('latency_p95'), s.latency ? fmtSeconds(s.latency.p95) : '—'),
      s.breakdowns?.unique_visitors != null ? card(approxTitle(s, 'unique_visitors', t('unique_visitors')), fmtNum(s.breakdowns.unique_visitors)) : null,
    ),
    s.lb_only_server_errors ? message('warn', t('lb_only', { n: fmtNum(s.lb_only_server_errors) })) : null,
    el('div', { class: 'chart-tools' }, zoom || el('p', { class: 'hint' }, t('zoom_hint'))),
    el(
      'div',
      { class: 'charts' },
      chart(t('chart_requests'), [xs, b.map((x) => x.count), b.map((x) => x.success)], [[t('total_requests'), '#1f5fbf'], [t('s_success'), '#2e7d32']], tz, width, { onZoom }),
      chart(t('chart_errors'), [xs, b.map((x) => x.client_errors), b.map((x) => x.server_errors)], [[t('s_4xx'), '#b26a00'], [t('s_5xx'), '#c62828']], tz, width, { onZoom }),
      chart(
        `${t('chart_latency')}・${t('latency_scale')}`,
        [xs, b.map((x) => pos(x.p50)), b.map((x) => pos(x.p95)), b.map((x) => pos(x.max))],
        [[t('s_p50'), '#1f5fbf'], [t('s_p95'), '#6a1b9a'], [t('s_max'), '#999999']],
        tz,
        width,
        { kind: 'seconds', log: true, onZoom },
      ),
    ),
    el('h3', {}, approxTitle(s, 'groups', t('groups'))),
    groupTable(s),
    s.other_groups ? el('p', { class: 'hint' }, t('other_groups', { n: fmtNum(s.other_groups) })) : null,
    breakdowns(s),
  );
}

// The periods before each zoom, so 絞り込みを解除 goes back.
const zoomStack = [];

export function stats(main, ctx) {
  const p = ctx.params;
  const results = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const apiParams = () => ({ ...pick(p, ['ip', 'host', 'path', 'status', 'source', 'interval']), ...rangeParams(p, ctx.tz(), '24h') });
  const form = filterForm(
    ctx,
    'stats',
    [
      ...requestFields(p, { trace: false }),
      select('interval', t('interval'), [['', t('iv_auto')], ['1m', t('iv_1m')], ['5m', t('iv_5m')], ['1h', t('iv_1h')], ['1d', t('iv_1d')]], p.interval || ''),
    ],
    { range: true, fallback: '24h', csv: csvAction(ctx, csvStatus, 'stats', apiParams, 'stats', { paged: false }) },
  );
  if (!p.zoom) zoomStack.length = 0;
  const zoom = p.zoom
    ? el(
        'div',
        { class: 'zoomed', role: 'status' },
        t('zoomed', { a: (p.from || '').replace('T', ' '), b: (p.to || '').replace('T', ' ') }),
        ' ',
        el('button', {
          type: 'button',
          class: 'zoom-reset',
          onclick: () => ctx.go('stats', zoomStack.pop() || { ...p, zoom: '', preset: '', from: '', to: '' }),
        }, t('zoom_reset')),
      )
    : null;
  const onZoom = (lo, hi) => {
    const tz = ctx.tz();
    zoomStack.push({ ...p });
    ctx.go('stats', { ...pick(p, ['ip', 'host', 'path', 'status', 'source']), preset: 'custom', from: localMinute(tz, lo), to: localMinute(tz, hi + 59), zoom: '1' });
  };
  screen(main, t('stats_title'), form, csvStatus, results);
  const run = (cursor) =>
    load(
      results,
      () => getJson('stats', { ...apiParams(), cursor }),
      (d) => {
        if (d.tz) ctx.setTz(d.tz);
        // Half the content width each, two charts per row on a 1366-pixel screen; the whole
        // width on a phone.
        const inner = main.clientWidth - 48;
        const width = inner < 600 ? Math.max(260, inner + 20) : Math.max(320, Math.min(640, Math.floor(inner / 2)));
        return statsView(d, d.tz || ctx.tz(), width, { onNext: () => run(d.next_cursor), onZoom, zoom });
      },
      { onAuth: ctx.auth, paramLabels: requestLabels() },
    );
  run(undefined);
}

// ---- nginx errors ----

const levelClass = (l) => (['emerg', 'alert', 'crit', 'error'].includes(l) ? 'bad' : l === 'warn' ? 'warn' : 'neutral');

/** A log level in words (警告, エラー, 重大), the level itself when unknown. */
function levelLabel(level) {
  const key = `lv_${level}`;
  const label = t(key);
  return label === key ? level || '' : label;
}

function errorTable(rows) {
  const trs = rows.map((r) =>
    el(
      'tr',
      { class: `row-${levelClass(r.level)}` },
      el('td', { class: 'nowrap' }, fmtTime(r.time)),
      el('td', {}, badge(levelLabel(r.level), levelClass(r.level))),
      el('td', { class: 'wrap' }, r.explanation ? el('strong', {}, r.explanation.title) : null, el('div', { class: 'pre sub' }, r.message)),
      el('td', { class: 'nowrap' }, r.client || ''),
      el('td', { class: 'wrap' }, r.request || ''),
      el('td', { class: 'wrap' }, r.upstream || ''),
      el('td', { class: 'nowrap' }, r.host || r.server || ''),
    ),
  );
  return table(
    [[t('col_time'), '', 1], [t('col_level'), '', 2], [t('col_message'), '', 3], [t('col_client')], [t('col_request')], [t('col_upstream')], [t('col_host')]],
    trs,
    { caption: t('errors_title'), className: 'errors' },
  );
}

/** Identical messages (by the API's `group` key) as one entry with a count, first and last time. */
function errorGroups(rows) {
  const groups = new Map();
  for (const r of rows) {
    const key = `${r.level}\u0000${r.group || r.message}`;
    const g = groups.get(key) || { rows: [], first: r.time, last: r.time, hosts: new Set() };
    g.rows.push(r);
    if (r.time < g.first) g.first = r.time;
    if (r.time > g.last) g.last = r.time;
    if (r.host || r.server) g.hosts.add(r.host || r.server);
    groups.set(key, g);
  }
  const sorted = [...groups.values()].sort((a, b) => b.rows.length - a.rows.length || (a.last < b.last ? 1 : -1));
  return el(
    'div',
    {},
    el('p', { class: 'hint' }, t('err_groups_note', { n: fmtNum(rows.length) })),
    el(
      'ol',
      { class: 'err-groups' },
      sorted.map((g) => {
        const r = g.rows[0];
        const ex = r.explanation;
        return el(
          'li',
          { class: `err-group row-${levelClass(r.level)}` },
          el(
            'h4',
            {},
            badge(levelLabel(r.level), levelClass(r.level)),
            ' ',
            ex ? ex.title : t('col_message'),
            ' ',
            el('span', { class: 'count-badge' }, t('err_times', { n: fmtNum(g.rows.length) })),
          ),
          el('p', { class: 'sub' }, t('err_first_last', { a: fmtTime(g.first), b: fmtTime(g.last) }), g.hosts.size ? `　${[...g.hosts].join('、')}` : ''),
          ex ? el('p', {}, ex.explanation) : el('p', {}, t('err_unexplained')),
          ex ? el('p', { class: 'check' }, el('strong', {}, t('err_check')), ex.check) : null,
          el('details', {}, el('summary', {}, t('err_raw')), el('div', { class: 'pre wrap' }, r.message)),
        );
      }),
    ),
  );
}

export function errors(main, ctx) {
  const p = ctx.params;
  const order = p.order === 'asc' ? 'asc' : 'desc';
  const grouped = p.view !== 'lines';
  const results = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const apiParams = () => ({ ...pick(p, ['level', 'text']), order, ...rangeParams(p, ctx.tz(), '24h') });
  const form = filterForm(
    ctx,
    'errors',
    [
      select('level', t('f_level'), [['', t('level_all')], ['warn', t('level_warn')], ['error', t('level_error')], ['crit', t('level_crit')]], p.level || ''),
      field('text', t('f_text'), p.text, { type: 'search' }),
      select('view', t('err_view'), [['groups', t('err_view_groups')], ['lines', t('err_view_lines')]], grouped ? 'groups' : 'lines'),
    ],
    { range: true, fallback: '24h', keep: p.order ? { order: p.order } : {}, csv: csvAction(ctx, csvStatus, 'errors', apiParams, 'nginx-errors') },
  );
  screen(main, t('errors_title'), form, csvStatus, results);
  const labels = { level: t('f_level'), text: t('f_text'), from: t('range_from'), to: t('range_to') };
  // Grouped, a page holds 1,000 messages, so the groups count every occurrence in most ranges.
  const params = grouped ? { ...apiParams(), limit: 1000 } : apiParams();
  pagedList(ctx, results, 'errors', params, grouped ? errorGroups : errorTable, labels, { order: orderControl(ctx, 'errors', order) });
}

export { destroyCharts };
