// The screens: mail, message timeline, recipient, access log, visits, statistics, nginx errors.
// Each takes the <main> element and a context: `params` (from the address bar), `go(route,
// params)` to navigate, `auth()` to ask for the token again, `tz()` / `setTz()` for the
// display time zone the API reports.

import uPlot from './vendor/uPlot.esm.js';
import { AuthError, downloadCsv, getJson } from './api.js';
import { lang, statusLabel, t } from './i18n.js';
import {
  checkbox,
  el,
  errorText,
  field,
  fmtBytes,
  fmtDwell,
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

/** The period control: preset radio buttons and, for 期間指定, two date inputs. */
function rangeControl(p, fallback, tz) {
  const preset = PRESETS.includes(p.preset) ? p.preset : fallback;
  const dates = el(
    'div',
    { class: 'range-dates', hidden: preset !== 'custom' },
    el('label', { for: 'f-from' }, t('range_from')),
    el('input', { id: 'f-from', name: 'from', type: 'date', value: p.from || '' }),
    el('span', { 'aria-hidden': 'true' }, '〜'),
    el('label', { for: 'f-to' }, t('range_to')),
    el('input', { id: 'f-to', name: 'to', type: 'date', value: p.to || '' }),
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
        onchange: () => {
          dates.hidden = v !== 'custom';
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
    el('p', { class: 'hint' }, t('times_in', { tz })),
  );
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
  if (out.preset !== 'custom') {
    delete out.from;
    delete out.to;
  }
  return out;
}

function filterForm(ctx, route, fields, { range, fallback, csv }) {
  const form = el(
    'form',
    { class: 'filters', role: 'search' },
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
    ctx.go(route, formParams(form), { focusResults: true });
  });
  return form;
}

// ---- Lists with pages ----

// The cursors of the pages seen so far, for 前へ / 次へ; reset when the filters change.
const pages = { key: '', cursors: [undefined] };

/**
 * Loads a page of `/v1/<path>` with `params` into `target` and renders its rows with
 * `renderRows(rows)`; adds the count, the partial note and the page buttons.
 */
function pagedList(ctx, target, path, params, renderRows, paramLabels) {
  const key = `${path}?${JSON.stringify(params)}`;
  if (pages.key !== key) {
    pages.key = key;
    pages.cursors = [undefined];
  }
  const run = () =>
    load(
      target,
      () => getJson(path, { ...params, cursor: pages.cursors[pages.cursors.length - 1] }),
      (data) => {
        if (data.tz) ctx.setTz(data.tz);
        const n = pages.cursors.length;
        const nav = el(
          'nav',
          { class: 'pager', 'aria-label': t('page', { n }) },
          el('button', {
            type: 'button',
            disabled: n <= 1,
            onclick: () => {
              pages.cursors.pop();
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
              run();
            },
          }, t('next')),
        );
        const rows = data.rows || [];
        // A partial answer may have no rows yet (Logs Insights still running): 次へ continues.
        const pending = data.partial && data.next_cursor;
        return el(
          'div',
          {},
          el('p', { class: 'count', role: 'status' }, t('count_rows', { n: rows.length })),
          data.partial ? message('warn', t('partial')) : null,
          rows.length ? renderRows(rows) : pending ? null : message('empty', t('empty')),
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
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '');
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

function mailStatusClass(status, reason) {
  if (FAILED.has(status) || (reason && reason.severity === 'permanent')) return 'bad';
  if (status === 'DeliveryDelay' || (reason && reason.severity === 'temporary')) return 'warn';
  if (status === 'Delivery' || status === 'Open' || status === 'Click') return 'good';
  return 'neutral';
}

function reasonBlock(reason) {
  if (!reason) return null;
  return el(
    'div',
    { class: 'reason' },
    el('strong', {}, reason.title),
    el('p', {}, reason.explanation),
    reason.action ? el('p', { class: 'action' }, `${t('action')}: ${reason.action}`) : null,
  );
}

function recipientLink(address) {
  return el('a', { href: `#/recipient?address=${encodeURIComponent(address)}` }, address);
}

function timelineHref(id) {
  return `#/message?id=${encodeURIComponent(id)}`;
}

// ---- Mail ----

const MAIL_STATUSES = ['Delivery', 'Bounce', 'Complaint', 'DeliveryDelay', 'Reject', 'Send', 'Open', 'Click'];

function mailTable(rows) {
  const trs = rows.map((r) => {
    const cls = mailStatusClass(r.status, r.reason);
    const tr = el(
      'tr',
      { class: `clickable row-${cls}`, dataset: { status: r.status } },
      el('td', { class: 'nowrap' }, fmtTime(r.time)),
      el('td', {}, r.from_name ? el('div', {}, r.from_name) : null, el('div', { class: 'sub' }, r.from || '')),
      el('td', { class: 'wrap' }, r.to ? recipientLink(r.to) : ''),
      el('td', { class: 'wrap' }, el('a', { href: timelineHref(r.message_id), title: t('open_timeline') }, r.subject || t('no_subject'))),
      el('td', { class: 'nowrap' }, badge(statusLabel(r.status), cls), el('div', { class: 'sub' }, fmtTime(r.status_time))),
      el('td', { class: 'wrap reason-cell' }, reasonBlock(r.reason)),
    );
    tr.addEventListener('click', (e) => {
      if (e.target.closest('a, button')) return;
      location.hash = timelineHref(r.message_id);
    });
    return tr;
  });
  return table(
    [[t('col_sent')], [t('col_from')], [t('col_to')], [t('col_subject')], [t('col_status')], [t('col_reason')]],
    trs,
    { caption: t('mail_title'), className: 'mail' },
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
  const apiParams = () => ({ ...pick(p, ['recipient', 'subject', 'status']), ...rangeParams(p, ctx.tz(), '7d') });
  const form = filterForm(
    ctx,
    'mail',
    [
      field('recipient', t('mail_recipient'), p.recipient, { type: 'search', inputmode: 'email' }),
      field('subject', t('mail_subject'), p.subject, { type: 'search' }),
      select('status', t('mail_status'), [['', t('status_all')], ...MAIL_STATUSES.map((s) => [s, statusLabel(s)])], p.status || ''),
    ],
    { range: true, fallback: '7d', csv: csvAction(ctx, csvStatus, 'mail', apiParams, 'mail') },
  );
  const whole = p.recipient && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(p.recipient);
  screen(
    main,
    t('mail_title'),
    form,
    csvStatus,
    whole ? el('p', { class: 'hint' }, recipientLink(p.recipient), ' → ', t('recipient_link')) : null,
    results,
  );
  pagedList(ctx, results, 'mail', apiParams(), mailTable, MAIL_LABELS());
}

// ---- Message timeline ----

function eventDetails(ev) {
  const items = [
    ['ev_bounce_type', [ev.bounce_type, ev.bounce_subtype].filter(Boolean).join(' / ')],
    ['ev_status_code', ev.status_code],
    ['ev_diagnostic', ev.diagnostic],
    ['ev_smtp', ev.smtp_response],
    ['ev_complaint', ev.complaint_type],
    ['ev_delay', ev.delay_type],
    ['ev_reject', ev.reject_reason],
    ['ev_error', ev.error],
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
        el('div', { class: 'ev-head' }, el('time', {}, fmtTime(ev.time)), ' ', badge(statusLabel(ev.event), cls)),
        reasonBlock(ev.reason),
        eventDetails(ev),
      );
    }),
  );
}

export function message_(main, ctx) {
  const id = ctx.params.id || '';
  const body = el('section', { class: 'results', tabindex: '-1' });
  screen(main, t('timeline_title'), el('p', {}, el('a', { href: '#/mail' }, `← ${t('back_to_mail')}`)), body);
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
        (d.recipients || []).map((r) =>
          el(
            'section',
            { class: `recipient row-${mailStatusClass(r.status, r.reason)}` },
            el('h3', {}, r.to ? recipientLink(r.to) : '—', ' ', badge(statusLabel(r.status), mailStatusClass(r.status, r.reason))),
            reasonBlock(r.reason),
            eventList(r.events || []),
          ),
        ),
      ),
    { onAuth: ctx.auth },
  );
}

// ---- Recipient ----

export function recipient(main, ctx) {
  const address = (ctx.params.address || '').trim();
  const body = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const csvParams = () => ({ recipient: address, from: addDays(dateIn(ctx.tz()), -30) });
  const form = filterForm(ctx, 'recipient', [field('address', t('recipient_address'), address, { type: 'email', inputmode: 'email', required: true })], {
    csv: address ? csvAction(ctx, csvStatus, 'mail', csvParams, 'recipient') : null,
  });
  screen(main, t('recipient_title'), el('p', { class: 'hint' }, t('recipient_help')), form, csvStatus, body);
  if (!address) return;
  load(
    body,
    () => getJson(`recipients/${encodeURIComponent(address)}`, {}),
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
          el('dd', { class: 'wrap' }, d.address),
          el('dt', {}, t('latest_status')),
          el('dd', {}, d.latest_status ? badge(statusLabel(d.latest_status), latestCls) : '—'),
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

// ---- Access log ----

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
      el('td', {}, r.source, el('div', { class: 'sub wrap' }, r.server || '')),
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
      el('td', { class: 'nowrap num' }, fmtBytes(r.sent_bytes)),
      el('td', { class: 'nowrap num' }, fmtSeconds(r.response_time)),
      el('td', { class: 'wrap' }, r.referrer && r.referrer !== '-' ? r.referrer : ''),
      el('td', { class: 'wrap ua' }, r.ua && r.ua.label ? el('strong', {}, r.ua.label) : null, el('div', { class: 'sub' }, r.user_agent || '')),
    );
  });
  return table(
    [[t('col_time')], [t('col_source')], [t('col_client')], [t('col_host')], [t('col_request')], [t('col_status')], [t('col_size')], [t('col_rt')], [t('col_referrer')], [t('col_ua')]],
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
  const results = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const apiParams = () => ({ ...pick(p, REQUEST_FILTERS), ...rangeParams(p, ctx.tz(), '24h') });
  const form = filterForm(ctx, 'access', requestFields(p), {
    range: true,
    fallback: '24h',
    csv: csvAction(ctx, csvStatus, 'access', apiParams, 'access'),
  });
  screen(main, t('access_title'), form, csvStatus, results);
  pagedList(ctx, results, 'access', apiParams(), accessTable, requestLabels());
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
  const apiParams = () => ({ ...pick(p, ['ip', 'host', 'path', 'source', 'assets', 'bots']), ...rangeParams(p, ctx.tz(), '24h') });
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
    { range: true, fallback: '24h', csv: csvAction(ctx, csvStatus, 'visits', apiParams, 'visits') },
  );
  screen(main, t('visits_title'), form, csvStatus, results);
  pagedList(ctx, results, 'visits', apiParams(), visitList, requestLabels());
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

function chart(title, data, series, tz, width) {
  const box = el('figure', { class: 'chart' }, el('figcaption', {}, title));
  const opts = {
    width,
    height: 220,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
    series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, points: { show: false } }))],
    axes: [{ values: (u, splits) => axisTimes(splits, tz) }, { size: 60 }],
    scales: { x: { time: true } },
    legend: { live: false },
  };
  charts.push(new uPlot(opts, data, box));
  return box;
}

function card(label, value, sub) {
  return el('div', { class: 'card' }, el('div', { class: 'card-label' }, label), el('div', { class: 'card-value' }, value), sub ? el('div', { class: 'sub' }, sub) : null);
}

function groupTable(s) {
  const lat = (g, k) => (g.latency ? fmtSeconds(g.latency[k]) : '');
  const rows = (s.groups || []).map((g) =>
    el(
      'tr',
      { class: g.server_errors ? 'row-bad' : '' },
      el('td', {}, g.method || ''),
      el('td', { class: 'wrap mono' }, g.group),
      el('td', { class: 'num' }, g.count),
      el('td', { class: 'num' }, g.client_errors),
      el('td', { class: 'num' }, g.server_errors),
      el('td', { class: 'num' }, lat(g, 'median')),
      el('td', { class: 'num' }, lat(g, 'p90')),
      el('td', { class: 'num' }, lat(g, 'p95')),
      el('td', { class: 'num' }, lat(g, 'p99')),
      el('td', { class: 'num' }, lat(g, 'max')),
    ),
  );
  const num = 'num';
  return table(
    [[t('col_method')], [t('col_group')], [t('col_count'), num], [t('col_4xx'), num], [t('col_5xx'), num], [t('col_median'), num], [t('col_p90'), num], [t('col_p95'), num], [t('col_p99'), num], [t('col_max'), num]],
    rows,
    { caption: t('groups'), className: 'groups' },
  );
}

function statsView(d, tz, width, onNext) {
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
  if (!s.count) return message('empty', t('empty'));
  const lb = s.lb || {};
  const b = s.buckets || [];
  const xs = b.map((x) => x.start / 1e6);
  const num = (v) => (v === null || v === undefined ? null : v);
  return el(
    'div',
    {},
    d.partial ? message('warn', t('partial_part')) : null,
    el(
      'div',
      { class: 'cards' },
      card(t('total_requests'), String(s.count), t('per_second', { n: (s.per_second || 0).toFixed(2) })),
      card(t('client_error_rate'), fmtPercent(lb.client_error_rate), String(lb.client_errors ?? '')),
      card(t('server_error_rate'), fmtPercent(lb.server_error_rate), String(lb.server_errors ?? '')),
      card(t('latency_median'), s.latency ? fmtSeconds(s.latency.median) : '—'),
      card(t('latency_p95'), s.latency ? fmtSeconds(s.latency.p95) : '—'),
    ),
    s.lb_only_server_errors ? message('warn', t('lb_only', { n: s.lb_only_server_errors })) : null,
    el(
      'div',
      { class: 'charts' },
      chart(t('chart_requests'), [xs, b.map((x) => x.count), b.map((x) => x.success)], [[t('total_requests'), '#1f5fbf'], [t('s_success'), '#2e7d32']], tz, width),
      chart(t('chart_errors'), [xs, b.map((x) => x.client_errors), b.map((x) => x.server_errors)], [[t('s_4xx'), '#b26a00'], [t('s_5xx'), '#c62828']], tz, width),
      chart(t('chart_latency'), [xs, b.map((x) => num(x.p50)), b.map((x) => num(x.p95)), b.map((x) => num(x.max))], [[t('s_p50'), '#1f5fbf'], [t('s_p95'), '#6a1b9a'], [t('s_max'), '#999999']], tz, width),
    ),
    el('h3', {}, t('groups')),
    groupTable(s),
    s.other_groups ? el('p', { class: 'hint' }, t('other_groups', { n: s.other_groups })) : null,
  );
}

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
  screen(main, t('stats_title'), form, csvStatus, results);
  const run = (cursor) =>
    load(
      results,
      () => getJson('stats', { ...apiParams(), cursor }),
      (d) => {
        if (d.tz) ctx.setTz(d.tz);
        // Half the content width each, two charts per row on a 1366-pixel screen.
        const width = Math.max(320, Math.min(640, Math.floor((main.clientWidth - 48) / 2)));
        return statsView(d, d.tz || ctx.tz(), width, () => run(d.next_cursor));
      },
      { onAuth: ctx.auth, paramLabels: requestLabels() },
    );
  run(undefined);
}

// ---- nginx errors ----

function errorTable(rows) {
  const levelClass = (l) => (['emerg', 'alert', 'crit', 'error'].includes(l) ? 'bad' : l === 'warn' ? 'warn' : 'neutral');
  const trs = rows.map((r) =>
    el(
      'tr',
      { class: `row-${levelClass(r.level)}` },
      el('td', { class: 'nowrap' }, fmtTime(r.time)),
      el('td', {}, badge(r.level, levelClass(r.level))),
      el('td', { class: 'wrap pre' }, r.message),
      el('td', { class: 'nowrap' }, r.client || ''),
      el('td', { class: 'wrap' }, r.request || ''),
      el('td', { class: 'wrap' }, r.upstream || ''),
      el('td', { class: 'nowrap' }, r.host || r.server || ''),
    ),
  );
  return table(
    [[t('col_time')], [t('col_level')], [t('col_message')], [t('col_client')], [t('col_request')], [t('col_upstream')], [t('col_host')]],
    trs,
    { caption: t('errors_title'), className: 'errors' },
  );
}

export function errors(main, ctx) {
  const p = ctx.params;
  const results = el('section', { class: 'results', tabindex: '-1', 'aria-live': 'polite' });
  const csvStatus = el('div', { class: 'csv-status' });
  const apiParams = () => ({ ...pick(p, ['level', 'text']), ...rangeParams(p, ctx.tz(), '24h') });
  const form = filterForm(
    ctx,
    'errors',
    [
      select('level', t('f_level'), [['', t('level_all')], ['warn', t('level_warn')], ['error', t('level_error')], ['crit', t('level_crit')]], p.level || ''),
      field('text', t('f_text'), p.text, { type: 'search' }),
    ],
    { range: true, fallback: '24h', csv: csvAction(ctx, csvStatus, 'errors', apiParams, 'nginx-errors') },
  );
  screen(main, t('errors_title'), form, csvStatus, results);
  pagedList(ctx, results, 'errors', apiParams(), errorTable, { level: t('f_level'), text: t('f_text'), from: t('range_from'), to: t('range_to') });
}

export { destroyCharts };
