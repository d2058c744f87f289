// The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core)
// against a running logdesk: `cargo xtask browser` starts the demo and sets
//   LOGDESK_URL    http://127.0.0.1:P/
//   LOGDESK_TOKEN  the demo's bearer token
//   SCREENSHOTS    directory for the screenshots (target/screenshots)
// The demo's fixed content is used: a hard bounce to no-such-user@example.co.jp and a visitor
// from 203.0.113.50 browsing / → /products → /products/42 → /cart → /checkout. No test depends
// on exact counts of the generated traffic.
// Every screen is checked at a desk (1366×768) and on a phone (390×844): screenshots, no
// sideways scrolling of the page, and axe-core with no serious or critical violation. The four
// support tasks are timed in clicks (typing and Enter are free) at both sizes.
// Every wait is bounded; the browser runs in the UTC zone so the page must show the API's zone.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.LOGDESK_URL || 'http://127.0.0.1:8080/';
const TOKEN = process.env.LOGDESK_TOKEN || '';
const SHOTS = process.env.SCREENSHOTS || path.resolve('../../target/screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BOUNCED = 'no-such-user@example.co.jp';
const VISITOR = '203.0.113.50';
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/;
const SIZES = {
  desk: { width: 1366, height: 768 },
  phone: { width: 390, height: 844 },
};
const AXE_SOURCE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let context;
let page;
let userDataDir;
const problems = [];

before(async () => {
  userDataDir = await mkdtemp(path.join(tmpdir(), 'logdesk-chromium-'));
  await mkdir(SHOTS, { recursive: true });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: SIZES.desk,
    acceptDownloads: true,
    locale: 'ja-JP',
    timezoneId: 'UTC',
    timeout: 30_000,
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(20_000);
  page.setDefaultNavigationTimeout(20_000);
  // Script errors, CSP violations and failed asset loads are failures of the page.
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[01]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.url().includes('/assets/') && r.status() >= 400) problems.push(`asset ${r.url()}: ${r.status()}`);
  });
});

after(async () => {
  await context?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

async function shot(name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function size(name) {
  await page.setViewportSize(SIZES[name]);
}

/** Opens `#/<route>` and waits until the screen has finished loading. */
async function open(route) {
  await page.goto(new URL(`#/${route}`, BASE).href);
  await settled();
}

async function settled() {
  await page.waitForSelector('#screen-title');
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
  // A missing value must never show up as a word.
  const text = await page.textContent('main');
  assert.doesNotMatch(text, /\bnull\b|\bundefined\b|\bNaN\b|\[object /);
}

async function rowsText(selector) {
  return page.$$eval(selector, (els) => els.map((e) => e.textContent));
}

/** axe-core over the whole page; serious and critical violations fail the test. */
async function axe(name) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    // Through the DevTools protocol, so the page's CSP (no inline script) does not apply.
    await page.evaluate(AXE_SOURCE);
  }
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe on ${name}: ${JSON.stringify(bad, null, 1)}`);
}

/** The page itself never scrolls sideways (a wide table scrolls in its own box on a desk). */
async function noSidewaysScroll(name) {
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client + 1, `${name}: the page is ${scroll}px wide in a ${client}px view`);
}

/** Clicks, counted for the task budgets. */
const clicks = { n: 0 };
async function click(selector) {
  clicks.n++;
  await page.click(selector);
}

test('the page loads with its assets and asks for the token', async () => {
  const resp = await page.goto(BASE);
  assert.equal(resp.status(), 200);
  const csp = resp.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.waitForSelector('#token');
  assert.equal(await page.textContent('#screen-title'), 'サインイン');
  await shot('desk-00-signin');
  await axe('signin');
});

test('a wrong token is refused in plain Japanese, the right one signs in', async () => {
  await page.fill('#token', 'not-the-token');
  await page.press('#token', 'Enter');
  await page.waitForSelector('.signin .msg-error');
  assert.match(await page.textContent('.signin .msg-error'), /トークンが正しくない/);
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Enter');
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'メール');
  assert.ok(await page.isVisible('#sign-out'));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('logdesk.token')), TOKEN);
  await page.waitForSelector('table.mail tbody tr');
});

// Every screen, both sizes: screenshot, axe, no sideways scrolling.
const SCREENS = [
  ['01-mail', 'mail', 'table.mail tbody tr'],
  ['02-mail-bounce', `mail?recipient=${encodeURIComponent(BOUNCED)}`, 'table.mail tbody tr[data-status="Bounce"]'],
  ['03-recipient', `recipient?address=${encodeURIComponent(BOUNCED)}`, 'dl.summary'],
  ['04-overview', 'overview', '.card.rate'],
  ['05-access', 'access', 'table.access tbody tr'],
  ['06-access-ip', `access?ip=${VISITOR}`, 'table.access tbody tr'],
  ['07-visits', `visits?ip=${VISITOR}`, 'li.visit'],
  ['08-stats', 'stats', 'figure.chart canvas'],
  ['09-errors', 'errors', '.err-group, .msg-empty'],
  ['10-errors-lines', 'errors?view=lines', 'table.errors tbody tr, .msg-empty'],
];

for (const sizeName of Object.keys(SIZES)) {
  test(`every screen at the ${sizeName} size: screenshots, axe, no sideways scrolling`, async () => {
    await size(sizeName);
    for (const [name, route, ready] of SCREENS) {
      await open(route);
      await page.waitForSelector(ready);
      await noSidewaysScroll(`${sizeName} ${name}`);
      await shot(`${sizeName}-${name}`);
      await axe(`${sizeName} ${name}`);
    }
    // The timeline of the bounce.
    await open(`mail?recipient=${encodeURIComponent(BOUNCED)}`);
    await page.locator('table.mail tbody tr[data-status="Bounce"] td:nth-child(4) a').first().click();
    await page.waitForURL(/#\/message\?id=/);
    await settled();
    await page.waitForSelector('ol.timeline li');
    await noSidewaysScroll(`${sizeName} timeline`);
    await shot(`${sizeName}-11-timeline`);
    await axe(`${sizeName} timeline`);
    await size('desk');
  });
}

// ---- The four support tasks, each in at most 3 clicks at both sizes ----

for (const sizeName of Object.keys(SIZES)) {
  test(`task at the ${sizeName} size: why did mail to X fail`, async () => {
    await size(sizeName);
    await open('access');
    clicks.n = 0;
    await click('nav a[href="#/mail"]');
    await settled();
    await page.fill('#f-recipient', BOUNCED);
    await page.press('#f-recipient', 'Enter');
    await page.waitForURL(/recipient=/);
    await settled();
    const bounce = page.locator('table.mail tbody tr[data-status="Bounce"]').first();
    assert.match(await bounce.getAttribute('class'), /row-bad/);
    const text = await bounce.textContent();
    assert.match(text, /不達/);
    assert.match(text, /存在しない/);
    assert.match(text, /対応：/);
    assert.ok(await bounce.locator('.reason').isVisible(), 'the reason is on screen');
    assert.ok(clicks.n <= 3, `${clicks.n} clicks`);
    await size('desk');
  });

  test(`task at the ${sizeName} size: what did visitor IP do`, async () => {
    await size(sizeName);
    await open('mail');
    clicks.n = 0;
    await click('nav a[href="#/visits"]');
    await settled();
    await page.fill('#f-ip', VISITOR);
    await page.press('#f-ip', 'Enter');
    await page.waitForURL(/ip=203/);
    await settled();
    const visit = page.locator('li.visit').filter({ hasText: VISITOR }).first();
    const paths = await visit.locator('ol.path .page-path').allTextContents();
    const want = ['/', '/products', '/products/42', '/cart', '/checkout'];
    let at = 0;
    for (const p of paths) if (p === want[at]) at++;
    assert.equal(at, want.length, `path in order expected, got ${paths.join(' → ')}`);
    assert.ok(clicks.n <= 3, `${clicks.n} clicks`);
    await size('desk');
  });

  test(`task at the ${sizeName} size: which URLs are slowest today`, async () => {
    await size(sizeName);
    await open('mail');
    clicks.n = 0;
    await click('nav a[href="#/stats"]');
    await settled();
    // 今日: a preset period answers at once.
    await click('label.seg:has(input[value="today"])');
    await page.waitForURL(/preset=today/);
    await settled();
    await page.waitForSelector('table.groups tbody tr');
    if (sizeName === 'desk') {
      // The column header sorts (the header row is hidden on a phone).
      await click('table.groups th button.sort >> text=/95/');
    } else {
      clicks.n++;
      await page.selectOption('#f-sort', 'p95:desc');
    }
    await page.waitForSelector('table.groups th[aria-sort="descending"]', { state: 'attached' });
    const p95 = await page.$$eval('table.groups tbody tr', (trs) =>
      trs.map((tr) => {
        const i = [...tr.closest('table').querySelectorAll('thead th')].findIndex((th) => th.getAttribute('aria-sort'));
        const v = tr.children[i]?.textContent.replace(/[^\d.]/g, '') || '';
        return v ? Number.parseFloat(v) : -1;
      }),
    );
    assert.ok(p95.length > 0);
    for (let i = 1; i < p95.length; i++) assert.ok(p95[i - 1] >= p95[i], `not slowest first: ${p95.join(',')}`);
    assert.ok(clicks.n <= 3, `${clicks.n} clicks`);
    await shot(`${sizeName}-12-stats-slowest`);
    await size('desk');
  });

  test(`task at the ${sizeName} size: what is our bounce rate this week`, async () => {
    await size(sizeName);
    await open('mail');
    clicks.n = 0;
    await click('nav a[href="#/overview"]');
    await settled();
    // The overview covers the last 7 days unless told otherwise.
    assert.ok(await page.isChecked('input[name=preset][value="7d"]'));
    const rate = page.locator('.card.rate').first();
    assert.match(await rate.textContent(), /不達率/);
    assert.match(await rate.locator('.card-value').textContent(), /^\d+(\.\d+)?%$/);
    assert.match(await rate.textContent(), /5(\.0)?%/, 'the SES review level is marked');
    assert.match(await page.locator('.card.rate').nth(1).textContent(), /0\.10?%/);
    // The demo's bounces come from the carriers and mail services staff know, not only その他.
    const providers = await page.locator('table.providers').textContent();
    assert.match(providers, /docomo/);
    assert.match(providers, /au|SoftBank|Gmail|iCloud|Yahoo/);
    assert.ok(clicks.n <= 3, `${clicks.n} clicks`);
    await size('desk');
  });
}

// ---- Details ----

test('a recipient search finds the hard bounce with its Japanese explanation; the back link keeps the search', async () => {
  await open('mail');
  await page.fill('#f-recipient', BOUNCED);
  await page.press('#f-recipient', 'Enter');
  await page.waitForURL(/recipient=/);
  await settled();
  const rows = await rowsText('table.mail tbody tr');
  assert.ok(rows.length >= 1, 'no row for the bounced address');
  assert.ok(rows.every((r) => r.toLowerCase().includes(BOUNCED)), rows.join('\n'));
  const bounce = page.locator('table.mail tbody tr[data-status="Bounce"]').first();
  assert.match(await bounce.getAttribute('class'), /row-bad/);
  // Times are the API's zone (Asia/Tokyo) although the browser runs in UTC.
  const shown = await bounce.locator('td').first().textContent();
  assert.match(shown, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  // The legend explains the colours.
  assert.match(await page.textContent('.legend'), /恒久的な失敗/);
  assert.match(await page.textContent('.legend'), /一時的/);

  await bounce.locator('td').first().click();
  await page.waitForURL(/#\/message\?id=/);
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'メールの経過');
  await page.waitForSelector('ol.timeline li');
  const main = await page.textContent('main');
  assert.match(main, /5\.1\.1/);
  // Codes are translated, the original kept in parentheses.
  assert.match(main, /恒久的（Permanent）|恒久的/);
  assert.doesNotMatch(main, /不達の種類Permanent/);
  await page.click('a.back');
  await page.waitForURL(/#\/mail\?.*recipient=/);
  await settled();
  assert.equal(await page.inputValue('#f-recipient'), BOUNCED);
});

test('the recipient view shows the latest status, the history and the suppression hint', async () => {
  await open(`recipient?address=${encodeURIComponent(BOUNCED)}`);
  await page.waitForSelector('dl.summary');
  const main = await page.textContent('main');
  assert.match(main, /このメールアドレス宛てのメール/);
  assert.match(main, /不達/);
  assert.match(main, /存在しない/);
  assert.match(main, /送信停止リスト/);
  assert.ok((await page.$$('ol.timeline li')).length >= 1, 'no bounce in the history');
});

test('input mistakes are named in the form, not answered with "no records"', async () => {
  await open('access');
  const before = page.url();
  await page.fill('#f-ip', '203.0.113');
  await page.press('#f-ip', 'Enter');
  await page.waitForSelector('#f-ip-error');
  assert.match(await page.textContent('#f-ip-error'), /IP アドレス.*正しくありません/);
  assert.equal(await page.getAttribute('#f-ip', 'aria-invalid'), 'true');
  assert.equal(page.url(), before);
  await axe('access with a mistake');

  await open('recipient');
  await page.fill('#f-address', 'taro.example.co.jp');
  await page.press('#f-address', 'Enter');
  await page.waitForSelector('#f-address-error');
  assert.match(await page.textContent('#f-address-error'), /メールアドレス/);
});

test('lists are newest first with a switch, and say how many rows there are', async () => {
  await open('access');
  await page.waitForSelector('table.access tbody tr');
  const times = await rowsText('table.access tbody tr td:first-child');
  assert.ok(times.length > 1);
  assert.ok(times[0] >= times[times.length - 1], `not newest first: ${times[0]} … ${times[times.length - 1]}`);
  assert.match(await page.textContent('.count'), /全 [\d,]+件中 1–[\d,]+件|1–[\d,]+件（[\d,]+件以上あります）|全 [\d,]+件/);
  await page.selectOption('#f-order', 'asc');
  await page.waitForURL(/order=asc/);
  await settled();
  const asc = await rowsText('table.access tbody tr td:first-child');
  assert.ok(asc[0] <= asc[asc.length - 1], `not oldest first: ${asc[0]} … ${asc[asc.length - 1]}`);
});

/** The first column's times of `route`, newest first by default and oldest first after the switch. */
async function checkOrder(route, selector) {
  await open(route);
  await page.waitForSelector(selector);
  const desc = await rowsText(selector);
  assert.ok(desc.length > 1, `${route}: expected several rows`);
  assert.ok(desc[0] >= desc[desc.length - 1], `${route} not newest first: ${desc[0]} … ${desc[desc.length - 1]}`);
  assert.match(await page.textContent('.count'), /全 [\d,]+件中 1–[\d,]+件|1–[\d,]+件（[\d,]+件以上あります）|全 [\d,]+件/);
  await page.selectOption('#f-order', 'asc');
  await page.waitForURL(/order=asc/);
  await settled();
  const asc = await rowsText(selector);
  assert.ok(asc[0] <= asc[asc.length - 1], `${route} not oldest first: ${asc[0]} … ${asc[asc.length - 1]}`);
  assert.equal(await page.inputValue('#f-order'), 'asc');
}

test('mail, visits and nginx errors are newest first too, each with the switch', async () => {
  await checkOrder('mail', 'table.mail tbody tr td:first-child');
  // The demo's mail list is read in one go: the total is known.
  await open('mail');
  await page.waitForSelector('table.mail tbody tr');
  assert.match(await page.textContent('.count'), /全 [\d,]+件/);
  await checkOrder('visits?bots=true', 'ol.visits > li .visit-head .sub');
  await checkOrder('errors?view=lines', 'table.errors tbody tr td:first-child');
});

test('the access filter narrows the rows to one IP; sources and units are in words', async () => {
  await open('access');
  await page.waitForSelector('table.access tbody tr');
  const before = await rowsText('table.access tbody tr td:nth-child(3)');
  assert.ok(before.some((ip) => ip !== VISITOR), 'the unfiltered page should show other clients');
  await page.fill('#f-ip', VISITOR);
  await page.press('#f-ip', 'Enter');
  await page.waitForURL(/ip=203/);
  await settled();
  const ips = await rowsText('table.access tbody tr td:nth-child(3)');
  assert.ok(ips.length >= 5, `expected the visitor's requests, got ${ips.length}`);
  assert.ok(ips.every((ip) => ip === VISITOR), ips.join(','));
  const sources = await rowsText('table.access tbody tr td:nth-child(2)');
  assert.ok(sources.every((s) => /ロードバランサー|nginx/.test(s)), sources.join(','));
  const ws = await page.$eval('table.access td.request', (td) => getComputedStyle(td).overflowWrap);
  assert.equal(ws, 'anywhere');
  const classes = await page.$$eval('table.access tbody tr td:nth-child(6) .badge', (b) => b.map((x) => x.className));
  assert.ok(classes.every((c) => /s[1-5]xx|sunk/.test(c)), classes.join(','));
});

test('pages follow the API cursor: 次へ and 前へ', async () => {
  await open('access');
  await page.waitForSelector('table.access tbody tr');
  const first = await page.textContent('table.access tbody tr');
  assert.ok(await page.isEnabled('.pager button.next'), 'the demo has more than one page of requests');
  await page.click('.pager button.next');
  await settled();
  assert.match(await page.textContent('.pager span'), /2 ページ目/);
  assert.match(await page.textContent('.count'), /101–/);
  const second = await page.textContent('table.access tbody tr');
  assert.notEqual(second, first);
  await page.click('.pager button:not(.next)');
  await settled();
  assert.match(await page.textContent('.pager span'), /1 ページ目/);
  assert.equal(await page.textContent('table.access tbody tr'), first);
});

test('the access log downloads as CSV with a BOM, the same filter and a file name in the display zone', async () => {
  await open(`access?ip=${VISITOR}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.csv')]);
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const lines = bytes.toString('utf8').slice(1).split('\r\n').filter(Boolean);
  assert.ok(lines.length >= 6, `header and rows expected, got ${lines.length} lines`);
  assert.ok(lines.slice(1).every((l) => l.includes(VISITOR)), 'rows of other clients in the CSV');
  const name = download.suggestedFilename();
  assert.match(name, /^logdesk-access-\d{12}\.csv$/);
  // The browser runs in UTC; the name carries the display zone's (Asia/Tokyo) time.
  const jst = new Date(Date.now() + 9 * 3600 * 1000).toISOString().slice(0, 10).replace(/-/g, '');
  assert.ok(name.includes(`-${jst}`), `${name} is not in Japan time (${jst})`);
  await page.waitForSelector('.csv-status .msg-info');
});

test('the mail list downloads as CSV', async () => {
  await open(`mail?recipient=${encodeURIComponent(BOUNCED)}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.csv')]);
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const text = bytes.toString('utf8');
  assert.ok(text.split('\r\n').filter(Boolean).length >= 2);
  assert.ok(text.includes(BOUNCED));
  assert.ok(JAPANESE.test(text), 'the explanation in the CSV is Japanese');
});

test("the visits screen shows the visitor's path with dwell times", async () => {
  await open(`visits?ip=${VISITOR}`);
  await page.waitForSelector('li.visit');
  const visit = page.locator('li.visit').filter({ hasText: VISITOR }).first();
  const dwell = await visit.locator('ol.path .dwell').allTextContents();
  assert.ok(dwell.some((d) => /滞在 \d/.test(d)), dwell.join(','));
  assert.match(await visit.locator('.visit-head').textContent(), /Chrome/);
});

test('the stats screen: charts with data, hover values, sortable groups, zoom with a reset', async () => {
  await open('stats');
  await page.waitForSelector('figure.chart canvas');
  const charts = await page.$$eval('figure.chart canvas', (cs) =>
    cs.map((c) => {
      const ctx = c.getContext('2d');
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) painted++;
      return { w: c.width, h: c.height, painted };
    }),
  );
  assert.equal(charts.length, 3);
  for (const c of charts) {
    assert.ok(c.w > 200 && c.h > 100, JSON.stringify(c));
    assert.ok(c.painted > 500, `chart has no lines: ${JSON.stringify(c)}`);
  }
  const total = Number((await page.textContent('.card .card-value')).replace(/,/g, ''));
  assert.ok(total > 0);
  assert.ok((await page.$$('table.groups tbody tr')).length > 0);

  // Hovering shows the values at that time.
  const over = page.locator('figure.chart .u-over').first();
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const legend = await page.locator('figure.chart').first().locator('.u-legend').textContent();
  assert.match(legend, /\d/);

  // Dragging across a chart narrows the period (and the tables); the reset goes back.
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForURL(/zoom=1/);
  await settled();
  await page.waitForSelector('button.zoom-reset');
  const zoomed = Number((await page.textContent('.card .card-value')).replace(/,/g, ''));
  assert.ok(zoomed > 0 && zoomed < total, `zoomed count ${zoomed} of ${total}`);
  await shot('desk-13-stats-zoomed');
  await page.click('button.zoom-reset');
  await page.waitForURL((u) => !/zoom=1/.test(u.toString()));
  await settled();
  await page.waitForSelector('figure.chart canvas');
});

test('the stats screen shows Logs Insights answers with their estimates marked', async () => {
  // The demo has no Logs Insights: its own answer is given the shape of one (engine, visitors
  // counted by count_distinct, the busiest URL group merged from several URLs, the per-URL
  // query cut at its row limit), as the API gives it on AWS.
  const pattern = /\/v1\/stats\?/;
  await page.route(pattern, async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    json.engine = 'logs_insights';
    json.stats.groups[0].approximate = true;
    json.stats.breakdowns.approximate = ['unique_visitors', 'groups'];
    await route.fulfill({ response, json });
  });
  try {
    // Another period than the screen before, so the screen asks the API again.
    await Promise.all([page.waitForResponse(pattern), open('stats?preset=7d')]);
    await settled();
    await page.waitForSelector('table.breakdown');
    assert.ok((await page.$$('table.breakdown')).length >= 3);
    const text = await page.textContent('main');
    assert.match(text, /訪問者数（IP アドレスとブラウザーの組）（概算）/);
    assert.match(text, /ステータスコード別/);
    assert.doesNotMatch(text, /ステータスコード別（概算）/);
    // The URL groups are there; the merged group's percentiles say 約, its maximum does not.
    assert.match(text, /URL グループ別（概算）/);
    const busiest = (await rowsText('table.groups tbody tr')).find((r) => /約/.test(r));
    assert.ok(busiest, 'a group marked 約');
    assert.equal((busiest.match(/約/g) || []).length, 3, busiest);
    assert.match(text, /「約」の付いた値は/);
  } finally {
    await page.unroute(pattern);
  }
});

test('the nginx error screen groups identical messages and explains them', async () => {
  await open('errors');
  await page.waitForSelector('.err-group');
  assert.equal(await page.$('.results .msg-error'), null);
  const groups = await rowsText('.err-group');
  const timeout = groups.find((g) => /応答が時間切れ/.test(g));
  assert.ok(timeout, groups.join('\n'));
  assert.match(timeout, /\d+回/);
  assert.match(timeout, /確認すること/);
  assert.match(timeout, /最初：.*最後：/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.csv')]);
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
});

test('an empty result is a plain Japanese sentence; a bad parameter is named', async () => {
  await open('mail?recipient=nobody-at-all-zz%40example.invalid');
  await page.waitForSelector('.results .msg-empty');
  assert.match(await page.textContent('.results .msg-empty'), /条件に合う記録はありません/);
  await open('access?preset=custom&from=2026-02-01&to=2026-01-01');
  await page.waitForSelector('.results .msg-error');
  const err = await page.textContent('.results .msg-error');
  assert.match(err, JAPANESE);
  assert.doesNotMatch(err, /[{}]/);
});

test('keyboard: a screen change focuses its title; tab order runs header → filters; Enter opens', async () => {
  await open('mail');
  await page.click('nav a[href="#/access"]');
  await page.waitForURL(/#\/access/);
  await settled();
  const active = () => page.evaluate(() => document.activeElement.id || document.activeElement.textContent);
  assert.equal(await active(), 'screen-title');
  await page.keyboard.press('Tab');
  assert.equal(await active(), 'f-ip');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'sign-out');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'lang-toggle');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'nginx エラー');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, 'solid');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/errors/);
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'nginx エラーログ');
  await page.goto(new URL('#/mail', BASE).href);
  await settled();
  await page.evaluate(() => document.getElementById('skip').focus());
  await page.keyboard.press('Enter');
  assert.equal(await active(), 'main');
});

test('the English switch changes the labels and the API language, and is remembered', async () => {
  await open(`mail?recipient=${encodeURIComponent(BOUNCED)}`);
  // The accessible name is the visible word.
  assert.equal(await page.getAttribute('#lang-toggle', 'aria-label'), null);
  await page.click('#lang-toggle');
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'Mail');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.waitForSelector('table.mail tbody tr[data-status="Bounce"]');
  const rows = await rowsText('table.mail tbody tr[data-status="Bounce"]');
  assert.ok(rows.every((r) => !/存在しない/.test(r)), 'explanations still in Japanese');
  await shot('desk-14-mail-english');
  await axe('mail in English');
  await page.reload();
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'Mail');
  assert.equal(await page.textContent('#lang-toggle'), '日本語');
  await page.click('#lang-toggle');
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'メール');
});

test('signing out forgets the token', async () => {
  await page.click('#sign-out');
  await page.waitForSelector('#token');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('logdesk.token')), null);
});

test('no script errors, CSP violations or missing assets', () => {
  assert.deepEqual(problems, []);
});
