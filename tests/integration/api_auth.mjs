// The bearer token (flag and environment variable), the cookie the page
// uses, no CORS headers, --http off, and a rule added in SQL appearing as a
// new anomaly type and filter.
//   node tests/integration/api_auth.mjs --bin build/tidewatch
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import {
  SEED_SQL, argValue, designedData, getJson, startTidewatch, waitFor,
} from './api_lib.mjs';

const bin = argValue('--bin', 'build/tidewatch');
const TOKEN = 's3cret-Token_1';

async function checkToken(tw) {
  for (const path of ['/api/health', '/api/anomalies?types=latency', '/api/stream', '/api/meta', '/metrics']) {
    const none = await getJson(`${tw.url}${path}`);
    assert.equal(none.status, 401, path);
    assert.match(none.headers.get('www-authenticate'), /Bearer/);
    if (path.startsWith('/api')) assert.ok(none.body.error, path);
    const wrong = await getJson(`${tw.url}${path}`, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401, path);
  }
  const ok = await getJson(`${tw.url}/api/health`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(ok.status, 200);
  // The page itself holds no data and loads without the token.
  const page = await fetch(`${tw.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy'), /default-src 'none'/);
  // Opening /?token=T sets an HttpOnly cookie and redirects to /.
  const bad = await fetch(`${tw.url}/?token=nope`, { redirect: 'manual' });
  assert.equal(bad.status, 401);
  const login = await fetch(`${tw.url}/?token=${TOKEN}`, { redirect: 'manual' });
  assert.equal(login.status, 303);
  const cookie = login.headers.get('set-cookie');
  assert.match(cookie, /tw_token=.*HttpOnly.*SameSite=Strict/);
  const withCookie = await getJson(`${tw.url}/api/health`, { headers: { Cookie: cookie.split(';')[0] } });
  assert.equal(withCookie.status, 200);
  for (const r of [ok, withCookie]) assert.equal(r.headers.get('access-control-allow-origin'), null);
}

test('--http-token guards every /api route and /metrics', async () => {
  const tw = await startTidewatch(bin, { args: ['--http-token', TOKEN] });
  try {
    await checkToken(tw);
  } finally {
    assert.equal(await tw.stop(), 0);
  }
});

test('TIDEWATCH_HTTP_TOKEN does the same', async () => {
  const tw = await startTidewatch(bin, { env: { TIDEWATCH_HTTP_TOKEN: TOKEN } });
  try {
    await checkToken(tw);
  } finally {
    assert.equal(await tw.stop(), 0);
  }
});

test('a token with characters a header cannot carry is refused at start', () => {
  const r = spawnSync(bin, ['run', '--no-sinks', '--http', '127.0.0.1:0', '--http-token', 'a b;c',
    '--source', 'network_metrics_source=netsim:?count=10', SEED_SQL], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--http-token/);
});

test('--http off serves nothing; a bad address is an error naming the option', () => {
  const off = spawnSync(bin, ['run', '--no-sinks', '--http', 'off', '--exit-at-eof',
    '--source', 'network_metrics_source=netsim:?count=10', SEED_SQL], { encoding: 'utf8' });
  assert.equal(off.status, 0, off.stderr);
  assert.doesNotMatch(off.stderr, /dashboard at/);
  const bad = spawnSync(bin, ['run', '--no-sinks', '--http', 'example.com:80',
    '--source', 'network_metrics_source=netsim:?count=10', SEED_SQL], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--http/);
});

test('a rule added in SQL is a new type and filter', async () => {
  const sql = fs.readFileSync(SEED_SQL, 'utf8').replace(
    'avg_bandwidth_usage > 90 AS is_bandwidth_saturation',
    'avg_bandwidth_usage > 90 AS is_bandwidth_saturation,\n    avg_latency_ms > 100 AND avg_packet_loss_rate > 5 AS is_degraded');
  assert.match(sql, /is_degraded/);
  const tw = await startTidewatch(bin, { sql });
  try {
    const data = designedData({ devices: 4, minutes: 5, xss: false });
    await tw.write(data.lines);
    const meta = await getJson(`${tw.url}/api/meta`);
    assert.deepEqual(meta.body.types.map((t) => t.name), ['latency', 'loss', 'bandwidth', 'degraded']);
    assert.equal(meta.body.types[3].label, 'Degraded');
    // Its rule is not one comparison, so no threshold is claimed for it.
    assert.equal(meta.body.types[3].threshold, undefined);
    assert.deepEqual([meta.body.types[0].metric, meta.body.types[0].op, meta.body.types[0].threshold],
      ['avg_latency_ms', '>', 100]);
    const want = data.expected.filter((e) => e.types.includes('latency') && e.types.includes('loss')).length;
    assert.ok(want > 0);
    const r = await waitFor(async () => {
      const x = await getJson(`${tw.url}/api/anomalies?types=latency,loss,bandwidth&limit=1`);
      return x.body.total === data.expected.length ? x : null;
    }, 'all anomalies');
    assert.ok(r);
    const deg = await getJson(`${tw.url}/api/anomalies?types=degraded&limit=2000`);
    assert.equal(deg.body.total, want);
    assert.ok(deg.body.rows.every((x) => x.is_degraded && x.types.includes('degraded')));
  } finally {
    assert.equal(await tw.stop(), 0);
  }
});
