// The HTTP API follows the catalog of a running `tidewatch serve`: started
// empty, /api answers 503; psql runs the seed SQL over the PostgreSQL
// protocol and /api serves the views at once (no restart), with the
// thresholds read from the view's SQL; DROP MATERIALIZED VIEW gives 503 with
// a clear error; re-creating the view with another threshold brings the
// rows back and /api/meta (and the stream's meta event) follow it. Also
// checks that every real in the JSON is the shortest text that reads back.
//   node tests/integration/api_catalog.mjs --bin build/tidewatch [--psql psql]
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TYPES, argValue, designedData, followedSql, getJson, startServe, waitFor } from './api_lib.mjs';

const bin = argValue('--bin', 'build/tidewatch');
const psqlBin = argValue('--psql', 'psql');
const data = designedData({ xss: false });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-catalog-'));
const dataPath = path.join(dir, 'metrics.ndjson');
let serve, url;
const events = [];

const api = (p) => getJson(`${url}${p}`);
const all = TYPES.join(',');

// The seed's views and source only: this test is about the API, not sinks.
function pipelineSql() {
  return followedSql(dataPath)
    .replace(/CREATE CONNECTION[\s\S]*?\n\);\n/, '')
    .replace(/CREATE SINK[\s\S]*?\n\);\n/, '');
}

function anomalyView(latencyThreshold) {
  return `CREATE MATERIALIZED VIEW network_anomalies AS
SELECT device_id, window_start, window_end, avg_latency_ms, avg_packet_loss_rate,
       avg_bandwidth_usage,
       avg_latency_ms > ${latencyThreshold} AS is_high_latency,
       avg_packet_loss_rate > 5 AS is_high_packet_loss,
       avg_bandwidth_usage > 90 AS is_bandwidth_saturation
FROM device_metrics_10s
WHERE avg_latency_ms > ${latencyThreshold} OR avg_packet_loss_rate > 5 OR avg_bandwidth_usage > 90;`;
}

const psql = (args) => serve.psql(args);

// Reads /api/stream in the background, keeping every event name.
async function followStream() {
  const res = await fetch(`${url}/api/stream`);
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      for (const m of dec.decode(value).matchAll(/^event: (\w+)$/gm)) events.push(m[1]);
    }
  })();
}

before(async () => {
  fs.writeFileSync(dataPath, '');
  serve = await startServe(bin, path.join(dir, 'data'), { psqlBin });
  url = serve.url;
});

after(async () => {
  if (serve) assert.equal(await serve.stop(), 0, serve.stderr());
  fs.rmSync(dir, { recursive: true, force: true });
});

test('started empty: the view routes answer 503 naming the view, meta has no view', async () => {
  const r = await api(`/api/anomalies?types=${all}`);
  assert.equal(r.status, 503);
  assert.match(r.body.error, /materialized view 'network_anomalies' does not exist/);
  const s = await api('/api/series?device=dev-00');
  assert.equal(s.status, 503);
  const m = await api('/api/meta');
  assert.equal(m.status, 200);
  assert.equal(m.body.anomaly_view, null);
  assert.deepEqual(m.body.types, []);
  await followStream();
});

test('psql runs the seed SQL: /api serves the views without a restart', async () => {
  fs.writeFileSync(path.join(dir, 'pipeline.sql'), pipelineSql());
  psql(['-f', path.join(dir, 'pipeline.sql')]);
  fs.appendFileSync(dataPath, data.lines.map((l) => l + '\n').join(''));
  await waitFor(async () => (await api(`/api/anomalies?types=${all}&limit=1`)).body.total === data.expected.length,
    `${data.expected.length} anomalies`);
  const s = await api('/api/series?device=dev-00');
  assert.equal(s.status, 200);
  assert.equal(s.body.total, data.series.get('dev-00'));
  await waitFor(() => events.includes('meta') && events.includes('new'), 'meta and new events');
});

test('meta reports each type\'s rule as the SQL wrote it', async () => {
  const m = await api('/api/meta');
  assert.equal(m.body.anomaly_view, 'network_anomalies');
  assert.deepEqual(m.body.types.map((t) => [t.name, t.metric, t.op, t.threshold]), [
    ['latency', 'avg_latency_ms', '>', 100],
    ['loss', 'avg_packet_loss_rate', '>', 5],
    ['bandwidth', 'avg_bandwidth_usage', '>', 90]]);
});

test('every real is the shortest text that reads back', async () => {
  const res = await fetch(`${url}/api/anomalies?types=${all}&limit=2000`);
  const text = await res.text();
  const reals = [...text.matchAll(/[:,\[](-?\d+\.\d+(?:e[-+]?\d+)?)(?=[,}\]])/g)].map((m) => m[1]);
  assert.ok(reals.length > 100, 'enough reals to check');
  for (const r of reals) {
    // JavaScript prints a double as its shortest round-trip text too.
    const js = String(Number(r));
    assert.equal(js.includes('.') ? js : `${js}.0`, r);
  }
});

test('DROP MATERIALIZED VIEW: 503 with a clear error, the other view still served', async () => {
  const before = events.length;
  psql(['-c', 'DROP MATERIALIZED VIEW network_anomalies']);
  const r = await api(`/api/anomalies?types=${all}`);
  assert.equal(r.status, 503);
  assert.match(r.body.error, /'network_anomalies' does not exist \(not created yet, or dropped\)/);
  assert.equal((await api('/api/summary')).status, 503);
  assert.equal((await api('/api/anomalies.csv?types=latency')).status, 503);
  assert.equal((await api('/api/meta')).body.anomaly_view, null);
  assert.equal((await api('/api/series?device=dev-00')).status, 200);
  await waitFor(() => events.slice(before).includes('meta'), 'a meta event for the drop');
});

test('re-created with another threshold: rows and meta follow the new SQL', async () => {
  psql(['-c', anomalyView(160)]);
  const m = await api('/api/meta');
  assert.equal(m.body.anomaly_view, 'network_anomalies');
  assert.equal(m.body.types[0].threshold, 160);
  assert.equal(m.body.types[1].threshold, 5);
  // New windows, after the designed ones: the re-created view holds the
  // designed windows at its threshold (backfilled from device_metrics_10s)
  // and must add these as they arrive.
  const start = data.lastStartUs + 10e6;
  const lines = [];
  for (const [dev, lat] of [['dev-a', 150], ['dev-b', 170]]) {
    for (const off of [1e6, 4e6]) {
      lines.push(JSON.stringify({ device_id: dev, timestamp: new Date((start + off) / 1000).toISOString(),
        src_ip: '10.0.0.1', dst_ip: '10.0.0.2', protocol: 'TCP', latency_ms: lat,
        packet_loss_rate: 1, bandwidth_usage_percent: 50, flow_bytes: 1024 }));
    }
  }
  fs.appendFileSync(dataPath, lines.map((l) => l + '\n').join(''));
  const r = await waitFor(async () => {
    const x = await api(`/api/anomalies?types=latency&from=${new Date(start / 1000).toISOString()}`);
    return x.status === 200 && x.body.total >= 1 ? x : null;
  }, 'the re-created view to serve rows');
  // 150 ms is under the new threshold of 160: only dev-b is anomalous.
  assert.deepEqual(r.body.rows.map((x) => [x.device_id, x.avg_latency_ms]), [['dev-b', 170.0]]);
});
