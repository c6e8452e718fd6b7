// The dashboard in Debian's chromium (driven by playwright-core) against a
// running pipeline fed a designed data set: rows arrive live, every filter
// and quick range, paging, drill-down, CSV export, reload from the URL, an
// XSS device id shown as text, and a 375 px wide layout. Screenshots go to
// --out (kept as test artefacts); --docs also refreshes docs/images.
//   node tests/e2e/dashboard.mjs --bin build/tidewatch --chromium /usr/bin/chromium --out build/tests/e2e-out
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { XSS_DEVICE, argValue, designedData, getJson, isoZ, startTidewatch, waitFor } from '../integration/api_lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = argValue('--bin', 'build/tidewatch');
const exe = argValue('--chromium', '/usr/bin/chromium');
const out = argValue('--out', 'build/tests/e2e-out');
const docsImage = path.join(here, '..', '..', 'docs', 'images', 'dashboard.png');
const data = designedData();
const total = data.expected.length;
const count = (pred) => data.expected.filter(pred).length;
let tw, context, page, profile;
const dialogs = [];

const showing = async () => (await page.textContent('#showing')).trim();
const waitShowing = (re) => page.waitForFunction((src) => new RegExp(src).test(document.getElementById('showing').textContent), re.source);
const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });

before(async () => {
  fs.mkdirSync(out, { recursive: true });
  tw = await startTidewatch(bin);
  await tw.write(data.lines);
  await waitFor(async () => (await getJson(`${tw.url}/api/anomalies?types=latency,loss,bandwidth&limit=1`)).body.total === total, 'data');
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-chromium-'));
  // A persistent context is how playwright takes a temporary --user-data-dir.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    timezoneId: 'UTC',
  });
  page = context.pages()[0] || await context.newPage();
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  // The page must make no request outside the server.
  await context.route((url) => !url.href.startsWith(tw.url), (route) => { throw new Error(`external request ${route.request().url()}`); });
});

after(async () => {
  if (context) await context.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  if (tw) await tw.stop();
});

test('the page loads with rows, paging text and type filters from the view', async () => {
  await page.goto(`${tw.url}/`);
  await waitShowing(new RegExp(`^Showing 15 of ${total}$`));
  assert.equal(await page.locator('#rows tr').count(), 15);
  assert.deepEqual(await page.locator('#types input').evaluateAll((els) => els.map((e) => e.value)), ['latency', 'loss', 'bandwidth']);
  assert.match(await page.textContent('#thresholds'), /avg_latency_ms > 100/);
  // As the seed's page: the last 24 hours by default, "Last 24h" active and
  // the pickers filled with that window.
  assert.equal(await page.getAttribute('[data-range="24h"]', 'class').then((c) => /\bactive\b/.test(c)), true);
  const from = Date.parse(await page.inputValue('#from') + 'Z');
  const to = Date.parse(await page.inputValue('#to') + 'Z');
  assert.ok(Math.abs(to - from - 24 * 3600e3) < 120e3, `pickers ${from}..${to}`);
  assert.ok(Math.abs(to - Date.now()) < 120e3, `the window ends now, not ${new Date(to).toISOString()}`);
  assert.ok(await page.locator('#chart rect').count() > 0);
  assert.ok(await page.locator('#top-devices li').count() > 0);
  await page.waitForFunction(() => document.getElementById('live-state').textContent === 'live');
  await shot('01-loaded');
});

test('a new anomaly arrives live without a reload', async () => {
  await tw.write([JSON.stringify({ device_id: 'live-device', timestamp: isoZ(data.lastStartUs + 10e6 + 1e6),
    latency_ms: 175, packet_loss_rate: 1, bandwidth_usage_percent: 40, flow_bytes: 1 })]);
  await page.locator('#rows tr[data-device="live-device"]').waitFor({ timeout: 10000 });
  await waitShowing(new RegExp(`of ${total + 1}$`));
  await shot('02-live');
});

test('type toggles filter the rows', async () => {
  await page.uncheck('#type-latency');
  await page.uncheck('#type-loss');
  const bw = count((e) => e.types.includes('bandwidth'));
  await waitShowing(new RegExp(`^Showing 15 of ${bw}$`));
  const tags = await page.locator('#rows tr').evaluateAll((trs) => trs.map((tr) => tr.lastElementChild.textContent));
  assert.ok(tags.every((t) => t.includes('Bandwidth Saturation')), tags.join('|'));
  await page.check('#type-latency');
  await page.check('#type-loss');
  await waitShowing(new RegExp(`of ${total + 1}$`));
});

test('quick ranges: last 10 minutes shows only recent windows, All time everything', async () => {
  await page.click('[data-range="10m"]');
  const since = Date.now() - 10 * 60e3;
  await page.waitForFunction((t) => !/of (\d+)$/.exec(document.getElementById('showing').textContent) ||
    Number(/of (\d+)$/.exec(document.getElementById('showing').textContent)[1]) < t, total);
  const n = Number(/of (\d+)$/.exec(await showing())[1]);
  const approx = count((e) => e.window_start_us / 1000 >= since) + 1;
  assert.ok(Math.abs(n - approx) <= 6, `${n} vs ${approx}`);
  const times = await page.locator('#rows tr td:nth-child(2)').allTextContents();
  assert.ok(times.every((t) => Date.parse(t.replace(' ', 'T') + 'Z') >= since - 10e3), times.join(','));
  assert.match(page.url(), /range=10m/);
  for (const r of ['1h', '24h']) {
    await page.click(`[data-range="${r}"]`);
    await waitShowing(new RegExp(`of ${total + 1}$`));
  }
  await page.click('[data-range="all"]');
  await waitShowing(new RegExp(`of ${total + 1}$`));
});

test('from/to pickers bound the window start', async () => {
  const lo = data.lastStartUs - 60e6, hi = data.lastStartUs - 20e6;
  await page.fill('#from', isoZ(lo).slice(0, 19));
  await page.dispatchEvent('#from', 'change');
  await page.fill('#to', isoZ(hi).slice(0, 19));
  await page.dispatchEvent('#to', 'change');
  const want = count((e) => e.window_start_us >= lo && e.window_start_us <= hi);
  await waitShowing(new RegExp(`of ${want}$`));
  await page.click('[data-range="all"]');
  await waitShowing(new RegExp(`of ${total + 1}$`));
});

test('search (debounced) matches device ids and the time as shown', async () => {
  await page.fill('#q', 'DEV-03');
  await waitShowing(new RegExp(`of ${count((e) => e.device_id === 'dev-03')}$`));
  const shown = await page.locator('#rows tr td:nth-child(2)').first().textContent();
  await page.fill('#q', shown);
  const start = Date.parse(shown.replace(' ', 'T') + 'Z') * 1000;
  await waitShowing(new RegExp(`of ${count((e) => e.window_start_us === start) + (start === data.lastStartUs + 10e6 ? 1 : 0)}$`));
  await page.fill('#q', '');
  await waitShowing(new RegExp(`of ${total + 1}$`));
});

test('sort and paging', async () => {
  await page.selectOption('#sort', 'time_asc');
  await page.waitForFunction((t) => document.querySelector('#rows tr td:nth-child(2)')?.textContent === t,
    isoZ(data.firstStartUs).slice(0, 19).replace('T', ' '));
  await page.click('#next');
  await page.waitForFunction(() => document.getElementById('page').textContent.startsWith('Page 2 of'));
  assert.match(page.url(), /page=2/);
  await page.click('#prev');
  await page.waitForFunction(() => document.getElementById('page').textContent.startsWith('Page 1 of'));
  await page.selectOption('#sort', 'time_desc');
});

test('drill into a device: its series with the thresholds drawn in', async () => {
  await page.locator('#top-devices button').first().click();
  await page.locator('#drill:not([hidden])').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#drill-charts polyline').length === 3);
  assert.equal(await page.locator('#drill-charts line.threshold').count(), 3);
  assert.match(page.url(), /device=/);
  await shot('03-drill');
  await page.keyboard.press('Escape');
  await page.locator('#drill').waitFor({ state: 'hidden' });
});

test('CSV export downloads every row of the current filter', async () => {
  await page.uncheck('#type-latency');
  await waitShowing(new RegExp(`of ${count((e) => e.types.includes('loss') || e.types.includes('bandwidth'))}$`));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\r\n');
  assert.equal(lines.length - 1, count((e) => e.types.includes('loss') || e.types.includes('bandwidth')));
  assert.ok(lines.slice(1).every((l) => !/(^|,)latency$/.test(l)));
  await page.check('#type-latency');
});

test('the filter state survives a reload from the URL', async () => {
  await page.fill('#q', 'dev-0');
  await page.waitForURL(/q=dev-0/);
  await page.uncheck('#type-loss');
  await page.selectOption('#sort', 'time_asc');
  await page.locator('#rows tr').first().click();
  await page.locator('#drill:not([hidden])').waitFor();
  const before = await showing();
  const url = page.url();
  assert.match(url, /q=dev-0/);
  await page.reload();
  await page.locator('#drill:not([hidden])').waitFor();
  await waitShowing(new RegExp(`^${before}$`));
  assert.equal(await page.inputValue('#q'), 'dev-0');
  assert.equal(await page.isChecked('#type-loss'), false);
  assert.equal(await page.inputValue('#sort'), 'time_asc');
  await page.goto(`${tw.url}/`);
  await waitShowing(new RegExp(`of ${total + 1}$`));
});

test('a device id with HTML is shown as text, never run', async () => {
  await page.fill('#q', '<img');
  await page.waitForURL(/q=%3Cimg/);
  await waitShowing(/^Showing \d+ of \d+$/);
  await page.waitForFunction(() => [...document.querySelectorAll('#rows td.device')].every((td) => td.textContent.startsWith('<')));
  const cells = await page.locator('#rows tr td.device').allTextContents();
  assert.ok(cells.length > 0 && cells.every((c) => c === XSS_DEVICE), cells.join('|'));
  assert.equal(await page.locator('#rows img, #top-devices img, #drill img').count(), 0);
  await page.locator('#rows tr').first().click();
  await page.waitForFunction((d) => document.getElementById('drill-device').textContent === d, XSS_DEVICE);
  assert.deepEqual(dialogs, []);
  await shot('04-xss-as-text');
  await page.goto(`${tw.url}/`);
});

test('375 px wide: the page still works; the overview screenshot', async () => {
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 15);
  await page.waitForTimeout(500);
  await shot('05-desktop');
  fs.mkdirSync(path.dirname(docsImage), { recursive: true });
  if (process.argv.includes('--docs')) fs.copyFileSync(path.join(out, '05-desktop.png'), docsImage);
  await page.setViewportSize({ width: 375, height: 800 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 380, `page is ${width}px wide`);
  await page.fill('#q', 'dev-01');
  await waitShowing(new RegExp(`of ${count((e) => e.device_id === 'dev-01')}$`));
  await shot('06-narrow');
  assert.deepEqual(dialogs, []);
});
