// The dashboard follows the pipeline's SQL while it runs: a page opened on
// an empty `tidewatch serve` shows the missing view's error; psql creates
// the seed's views (with its latency threshold changed) and the page,
// without a reload, shows rows and a banner with the SQL's threshold; the
// view dropped and re-created with another rule moves the banner again.
//   node tests/e2e/dashboard_rules.mjs --bin build/tidewatch --chromium /usr/bin/chromium --psql psql --out build/tests/e2e-out
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { argValue, designedData, followedSql, startServe, waitFor } from '../integration/api_lib.mjs';

const bin = argValue('--bin', 'build/tidewatch');
const exe = argValue('--chromium', '/usr/bin/chromium');
const psqlBin = argValue('--psql', 'psql');
const out = argValue('--out', 'build/tests/e2e-out');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-rules-'));
const dataPath = path.join(dir, 'metrics.ndjson');
const data = designedData({ devices: 4, minutes: 5, xss: false });
let serve, url, context, page;

const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
const banner = () => page.textContent('#thresholds');

const psql = (args) => serve.psql(args);

before(async () => {
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(dataPath, '');
  serve = await startServe(bin, path.join(dir, 'data'), { psqlBin });
  url = serve.url;
  context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(dir, 'profile-')), {
    executablePath: exe,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
    timezoneId: 'UTC',
  });
  page = context.pages()[0] || await context.newPage();
});

after(async () => {
  if (context) await context.close();
  if (serve) await serve.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('opened before the pipeline exists: the page says which view is missing', async () => {
  await page.goto(`${url}/`);
  await page.waitForFunction(() => !document.getElementById('error').hidden);
  assert.match(await page.textContent('#error'), /network_anomalies' does not exist/);
  await page.waitForFunction(() => document.getElementById('live-state').textContent === 'live');
});

test('psql creates the views: rows and the SQL\'s threshold appear without a reload', async () => {
  const sql = followedSql(dataPath)
    .replace(/CREATE CONNECTION[\s\S]*?\n\);\n/, '')
    .replace(/CREATE SINK[\s\S]*?\n\);\n/, '')
    .replaceAll('avg_latency_ms > 100', 'avg_latency_ms > 120');
  assert.match(sql, /avg_latency_ms > 120 AS is_high_latency/);
  fs.writeFileSync(path.join(dir, 'pipeline.sql'), sql);
  psql(['-f', path.join(dir, 'pipeline.sql')]);
  // Written once every view exists, so the page sees rows arrive live.
  fs.appendFileSync(dataPath, data.lines.map((l) => l + '\n').join(''));
  await page.waitForFunction(() => /avg_latency_ms > 120/.test(document.getElementById('thresholds').textContent));
  assert.match(await banner(), /High Packet Loss: avg_packet_loss_rate > 5 %/);
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length > 0);
  await page.waitForFunction(() => document.getElementById('error').hidden);
  await shot('rules-01-created');
});

test('the view re-created with another rule: the banner follows', async () => {
  psql(['-c', 'DROP MATERIALIZED VIEW network_anomalies']);
  psql(['-c', `CREATE MATERIALIZED VIEW network_anomalies AS
SELECT device_id, window_start, window_end, avg_latency_ms, avg_packet_loss_rate, avg_bandwidth_usage,
       avg_latency_ms >= 150 AS is_high_latency,
       avg_packet_loss_rate > 5 AND avg_latency_ms > 10 AS is_high_packet_loss,
       avg_bandwidth_usage > 90 AS is_bandwidth_saturation
FROM device_metrics_10s
WHERE avg_latency_ms >= 150 OR avg_packet_loss_rate > 5 OR avg_bandwidth_usage > 90`]);
  await page.waitForFunction(() => /avg_latency_ms >= 150/.test(document.getElementById('thresholds').textContent));
  // A rule that is not one comparison gets no threshold rather than a wrong one.
  assert.doesNotMatch(await banner(), /avg_packet_loss_rate/);
  assert.match(await banner(), /Bandwidth Saturation: avg_bandwidth_usage > 90 %/);
  await shot('rules-02-recreated');
});
