// The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core)
// against a running logdesk: `cargo xtask browser` starts the demo and sets
//   LOGDESK_URL    http://127.0.0.1:P/
//   LOGDESK_TOKEN  the demo's bearer token
//   SCREENSHOTS    directory for the screenshots (target/screenshots)
// The demo's fixed content is used: a hard bounce to no-such-user@example.co.jp and a visitor
// from 203.0.113.50 browsing / → /products → /products/42 → /cart → /checkout.
// Every wait is bounded; the browser runs in the UTC zone so the page must show the API's zone.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
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
    viewport: { width: 1366, height: 768 },
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

test('the page loads with its assets and asks for the token', async () => {
  const resp = await page.goto(BASE);
  assert.equal(resp.status(), 200);
  const csp = resp.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.waitForSelector('#token');
  assert.equal(await page.textContent('#screen-title'), 'サインイン');
  await shot('00-signin');
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
  await shot('01-mail');
});

test('a recipient search finds the hard bounce with its Japanese explanation', async () => {
  await open('mail');
  await page.fill('#f-recipient', BOUNCED);
  await page.press('#f-recipient', 'Enter');
  await page.waitForURL(/recipient=/);
  await settled();
  const rows = await rowsText('table.mail tbody tr');
  assert.ok(rows.length >= 1, 'no row for the bounced address');
  assert.ok(rows.every((r) => r.toLowerCase().includes(BOUNCED)), rows.join('\n'));
  // The user-unknown bounce (the address may have later, other bounces too).
  const bounce = page.locator('table.mail tbody tr[data-status="Bounce"]', { hasText: 'アドレスが存在しない' }).first();
  assert.match(await bounce.getAttribute('class'), /row-bad/);
  const text = await bounce.textContent();
  assert.match(text, /不達/);
  assert.match(text, /アドレスが存在しない/);
  assert.match(text, /このメールアドレスは受信側に存在しません/);
  // Times are the API's zone (Asia/Tokyo) although the browser runs in UTC.
  const shown = await bounce.locator('td').first().textContent();
  assert.match(shown, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  await shot('02-mail-bounce');

  // Click the row: the message's timeline.
  await bounce.locator('td').first().click();
  await page.waitForURL(/#\/message\?id=/);
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'メールの経過');
  await page.waitForSelector('ol.timeline li');
  assert.match(await page.textContent('main'), /550 5\.1\.1|5\.1\.1/);
  await shot('03-timeline');
});

test('the recipient view shows the latest status, the history and the suppression hint', async () => {
  await open(`recipient?address=${encodeURIComponent(BOUNCED)}`);
  await page.waitForSelector('dl.summary');
  const main = await page.textContent('main');
  assert.match(main, /このアドレス宛のメール/);
  assert.match(main, /不達/);
  assert.match(main, /アドレスが存在しない/);
  assert.match(main, /抑制リスト/);
  assert.ok((await page.$$('ol.timeline li')).length >= 1, 'no bounce in the history');
  await shot('04-recipient');
});

test('the access filter narrows the rows to one IP; request lines wrap', async () => {
  await open('access');
  await page.waitForSelector('table.access tbody tr');
  const before = await rowsText('table.access tbody tr td:nth-child(3)');
  const others = before.filter((ip) => ip !== VISITOR);
  assert.ok(others.length > 0, 'the unfiltered page should show other clients');
  await shot('05-access');

  await page.fill('#f-ip', VISITOR);
  await page.press('#f-ip', 'Enter');
  await page.waitForURL(/ip=203/);
  await settled();
  const ips = await rowsText('table.access tbody tr td:nth-child(3)');
  assert.ok(ips.length >= 5, `expected the visitor's requests, got ${ips.length}`);
  assert.ok(ips.every((ip) => ip === VISITOR), ips.join(','));
  const ws = await page.$eval('table.access td.request', (td) => getComputedStyle(td).overflowWrap);
  assert.equal(ws, 'anywhere');
  // Status colours: every status badge has its class.
  const classes = await page.$$eval('table.access tbody tr td:nth-child(6) .badge', (b) => b.map((x) => x.className));
  assert.ok(classes.every((c) => /s[1-5]xx|sunk/.test(c)), classes.join(','));
  await shot('06-access-ip');
});

test('pages follow the API cursor: 次へ and 前へ', async () => {
  await open('access');
  await page.waitForSelector('table.access tbody tr');
  const first = await page.textContent('table.access tbody tr');
  assert.ok(await page.isEnabled('.pager button.next'), 'the demo has more than one page of requests');
  await page.click('.pager button.next');
  await settled();
  assert.match(await page.textContent('.pager span'), /2 ページ目/);
  const second = await page.textContent('table.access tbody tr');
  assert.notEqual(second, first);
  await page.click('.pager button:not(.next)');
  await settled();
  assert.match(await page.textContent('.pager span'), /1 ページ目/);
  assert.equal(await page.textContent('table.access tbody tr'), first);
});

test('the access log downloads as CSV with a BOM and the same filter', async () => {
  await open(`access?ip=${VISITOR}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.csv')]);
  const file = await download.path();
  const bytes = await readFile(file);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const lines = bytes.toString('utf8').slice(1).split('\r\n').filter(Boolean);
  assert.ok(lines.length >= 6, `header and rows expected, got ${lines.length} lines`);
  assert.ok(lines.slice(1).every((l) => l.includes(VISITOR)), 'rows of other clients in the CSV');
  assert.match(download.suggestedFilename(), /^logdesk-access-\d+\.csv$/);
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
  const paths = await visit.locator('ol.path .page-path').allTextContents();
  const want = ['/', '/products', '/products/42', '/cart', '/checkout'];
  let at = 0;
  for (const p of paths) if (p === want[at]) at++;
  assert.equal(at, want.length, `path in order expected, got ${paths.join(' → ')}`);
  const dwell = await visit.locator('ol.path .dwell').allTextContents();
  assert.ok(dwell.some((d) => /滞在 \d/.test(d)), dwell.join(','));
  assert.match(await visit.locator('.visit-head').textContent(), /Chrome/);
  await shot('07-visits');
});

test('the stats screen draws its charts with data and lists URL groups', async () => {
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
  const total = Number(await page.textContent('.card .card-value'));
  assert.ok(total > 0);
  assert.ok((await page.$$('table.groups tbody tr')).length > 0);
  await shot('08-stats');
});

test('the nginx error screen loads', async () => {
  await open('errors');
  await page.waitForSelector('table.errors tbody tr, .msg-empty');
  assert.equal(await page.$('.results .msg-error'), null);
  assert.ok((await page.$$('table.errors tbody tr')).length > 0, 'the demo writes nginx errors');
  await shot('09-errors');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.csv')]);
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
});

test('an empty result is a plain Japanese sentence', async () => {
  await open('mail?recipient=nobody-at-all-zz%40example.invalid');
  await page.waitForSelector('.results .msg-empty');
  assert.match(await page.textContent('.results .msg-empty'), /条件に合う記録はありません/);
  // A bad parameter is explained in words, never as JSON.
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
  // Backwards: the header's buttons, then the navigation.
  await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'sign-out');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'lang-toggle');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'nginx エラー');
  // Focus is visible.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, 'solid');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/errors/);
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'nginx エラーログ');
  // The skip link moves the focus to the content.
  await page.goto(new URL('#/mail', BASE).href);
  await settled();
  await page.evaluate(() => document.getElementById('skip').focus());
  await page.keyboard.press('Enter');
  assert.equal(await active(), 'main');
});

test('the English switch changes the labels and the API language, and is remembered', async () => {
  await open(`mail?recipient=${encodeURIComponent(BOUNCED)}`);
  await page.click('#lang-toggle');
  await settled();
  assert.equal(await page.textContent('#screen-title'), 'Mail');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.waitForSelector('table.mail tbody tr[data-status="Bounce"]');
  const rows = await rowsText('table.mail tbody tr[data-status="Bounce"]');
  assert.ok(rows.some((r) => /Address does not exist/.test(r)), rows.join('\n'));
  assert.ok(rows.every((r) => !/アドレスが存在しない/.test(r)), 'explanations still in Japanese');
  await shot('10-mail-english');
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
