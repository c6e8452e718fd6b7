// The HTTP API over real HTTP against `tidewatch run` fed a designed data set
// on stdin: every parameter of /api/anomalies, every combination of types,
// paging totals, bad parameters, the CSV export, devices, series, summary,
// meta, /metrics, and the SSE stream delivering new and cleared anomalies.
//   node tests/integration/api_anomalies.mjs --bin build/tidewatch
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  TYPES, XSS_DEVICE, argValue, designedData, getJson, isoZ, sortRows, startTidewatch, waitFor,
} from './api_lib.mjs';

const bin = argValue('--bin', 'build/tidewatch');
const data = designedData();
let tw;

const api = (path) => getJson(`${tw.url}${path}`);
const keyOf = (r) => `${r.device_id}|${r.window_start}`;
const expKey = (e) => `${e.device_id}|${isoZ(e.window_start_us)}`;
const withTypes = (types) => data.expected.filter((e) => e.types.some((t) => types.includes(t)));
const enc = encodeURIComponent;

before(async () => {
  tw = await startTidewatch(bin);
  await tw.write(data.lines);
  const all = TYPES.join(',');
  await waitFor(async () => (await api(`/api/anomalies?types=${all}&limit=1`)).body.total === data.expected.length,
    `${data.expected.length} anomalies`);
});

after(async () => {
  if (tw) assert.equal(await tw.stop(), 0, tw.stderr());
});

test('health answers {ok: true}', async () => {
  const r = await api('/api/health');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { ok: true });
  assert.equal(r.headers.get('access-control-allow-origin'), null);
});

test('meta lists the types from the is_* columns with the seed thresholds', async () => {
  const r = await api('/api/meta');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.types.map((t) => [t.name, t.column]), [
    ['latency', 'is_high_latency'], ['loss', 'is_high_packet_loss'], ['bandwidth', 'is_bandwidth_saturation']]);
  assert.equal(r.body.types[0].threshold, 100);
});

test('every combination of types gives exactly the matching rows, newest first', async () => {
  for (let mask = 0; mask < 8; mask++) {
    const types = TYPES.filter((_, i) => mask & (1 << i));
    const r = await api(`/api/anomalies?types=${types.join(',')}&limit=2000`);
    assert.equal(r.status, 200);
    const want = sortRows(withTypes(types), true);
    assert.equal(r.body.total, want.length, `types=${types}`);
    assert.deepEqual(r.body.rows.map(keyOf), want.map(expKey), `types=${types}`);
    for (const row of r.body.rows) assert.ok(row.types.some((t) => types.includes(t)));
  }
});

test('a missing types parameter gives no rows (the seed rule)', async () => {
  const r = await api('/api/anomalies');
  assert.equal(r.status, 200);
  assert.deepEqual([r.body.total, r.body.limit, r.body.offset, r.body.rows.length], [0, 15, 0, 0]);
});

test('rows have the seed shape, UTC times with Z, and flags that match the types', async () => {
  const r = await api('/api/anomalies?types=latency,loss,bandwidth&limit=50');
  for (const row of r.body.rows) {
    for (const k of ['device_id', 'window_start', 'window_end', 'avg_latency_ms', 'avg_packet_loss_rate',
      'avg_bandwidth_usage', 'is_high_latency', 'is_high_packet_loss', 'is_bandwidth_saturation']) {
      assert.ok(k in row, k);
    }
    assert.match(row.window_start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(row.is_high_latency, row.types.includes('latency'));
    assert.equal(row.is_bandwidth_saturation, row.types.includes('bandwidth'));
    assert.equal(Date.parse(row.window_end) - Date.parse(row.window_start), 10000);
  }
});

test('bandwidth alone filters (the seed failed here)', async () => {
  const r = await api('/api/anomalies?types=bandwidth&limit=2000');
  assert.equal(r.body.total, withTypes(['bandwidth']).length);
  assert.ok(r.body.total > 0);
  assert.ok(r.body.rows.every((x) => x.is_bandwidth_saturation));
});

test('sort=time_asc is the reverse order', async () => {
  const r = await api('/api/anomalies?types=latency,loss,bandwidth&sort=time_asc&limit=2000');
  assert.deepEqual(r.body.rows.map(keyOf), sortRows(data.expected, false).map(expKey));
});

test('paging: pages concatenate to the full list and total is stable', async () => {
  const want = sortRows(data.expected, true).map(expKey);
  const got = [];
  for (let offset = 0; offset < want.length + 7; offset += 7) {
    const r = await api(`/api/anomalies?types=latency,loss,bandwidth&limit=7&offset=${offset}`);
    assert.equal(r.body.total, want.length);
    assert.equal(r.body.offset, offset);
    assert.equal(r.body.limit, 7);
    got.push(...r.body.rows.map(keyOf));
  }
  assert.deepEqual(got, want);
  const far = await api('/api/anomalies?types=latency&offset=100000');
  assert.equal(far.body.rows.length, 0);
  assert.equal(far.body.total, withTypes(['latency']).length);
});

test('from and to bound window_start inclusively; Z and offsets are accepted', async () => {
  const starts = [...new Set(data.expected.map((e) => e.window_start_us))].sort((a, b) => a - b);
  const lo = starts[3], hi = starts[starts.length - 4];
  const want = data.expected.filter((e) => e.window_start_us >= lo && e.window_start_us <= hi);
  const r = await api(`/api/anomalies?types=latency,loss,bandwidth&limit=2000&from=${isoZ(lo)}&to=${isoZ(hi)}`);
  assert.equal(r.body.total, want.length);
  assert.deepEqual(r.body.rows.map(keyOf), sortRows(want, true).map(expKey));
  // The same instant written with a +02:00 offset.
  const d = new Date(lo / 1000 + 2 * 3600e3).toISOString().slice(0, 19) + '+02:00';
  const r2 = await api(`/api/anomalies?types=latency,loss,bandwidth&limit=1&from=${enc(d)}&to=${isoZ(hi)}`);
  assert.equal(r2.body.total, want.length);
  const onlyFrom = await api(`/api/anomalies?types=latency,loss,bandwidth&from=${isoZ(hi)}`);
  assert.equal(onlyFrom.body.total, data.expected.filter((e) => e.window_start_us >= hi).length);
  const empty = await api(`/api/anomalies?types=latency&from=${isoZ(hi)}&to=${isoZ(lo)}`);
  assert.equal(empty.body.total, 0);
});

test('q matches device ids case-insensitively and the time as the page shows it', async () => {
  const r = await api('/api/anomalies?types=latency,loss,bandwidth&limit=2000&q=DEV-03');
  assert.equal(r.body.total, data.expected.filter((e) => e.device_id === 'dev-03').length);
  const start = data.expected[5].window_start_us;
  const shown = isoZ(start).slice(0, 19).replace('T', ' '); // "YYYY-MM-DD HH:MM:SS"
  const want = data.expected.filter((e) => e.window_start_us === start);
  const byTime = await api(`/api/anomalies?types=latency,loss,bandwidth&limit=2000&q=${enc(shown)}`);
  assert.equal(byTime.body.total, want.length);
  // In a zone 90 minutes east of UTC the page shows the time shifted.
  const local = isoZ(start + 90 * 60e6).slice(0, 19).replace('T', ' ');
  const tz = await api(`/api/anomalies?types=latency,loss,bandwidth&limit=2000&tz=90&q=${enc(local)}`);
  assert.equal(tz.body.total, want.length);
  const none = await api(`/api/anomalies?types=latency&q=${enc('no such device')}`);
  assert.equal(none.body.total, 0);
  const xss = await api(`/api/anomalies?types=latency,loss,bandwidth&q=${enc('<img')}&limit=1`);
  assert.equal(xss.body.rows[0].device_id, XSS_DEVICE);
});

test('bad parameters answer 400 naming the parameter', async () => {
  const cases = [
    ['limit=0', 'limit'], ['limit=2001', 'limit'], ['limit=ten', 'limit'], ['offset=-1', 'offset'],
    ['sort=newest', 'sort'], ['types=latency,jitter', 'types'], ['from=yesterday', 'from'],
    ['to=2026-13-01T00:00:00Z', 'to'], ['tz=9999', 'tz'], ['colour=red', 'colour'],
    ['limit=5&limit=6', 'limit'], [`q=${'x'.repeat(201)}`, 'q'],
  ];
  for (const [qs, param] of cases) {
    const r = await api(`/api/anomalies?types=latency&${qs}`.replace('types=latency&types', 'types'));
    assert.equal(r.status, 400, qs);
    assert.equal(r.body.parameter, param, qs);
    assert.ok(r.body.error.length > 10, qs);
  }
  const big = await api(`/api/anomalies?q=${'x'.repeat(300)}`);
  assert.equal(big.status, 400);
  assert.equal((await api('/api/series')).body.parameter, 'device');
  assert.equal((await api('/api/summary?bucket=0')).body.parameter, 'bucket');
  assert.equal((await api('/api/devices?limit=x')).body.parameter, 'limit');
  assert.equal((await api('/api/health?x=1')).status, 400);
  assert.equal((await api('/api/nope')).status, 404);
  const post = await getJson(`${tw.url}/api/anomalies`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
});

test('CSV export has every matching row of the filter', async () => {
  const res = await fetch(`${tw.url}/api/anomalies.csv?types=loss&sort=time_asc`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-disposition'), /attachment/);
  const lines = (await res.text()).trim().split('\r\n');
  assert.equal(lines[0].split(',')[0], 'device_id');
  assert.equal(lines[0].split(',').at(-1), 'types');
  assert.equal(lines.length - 1, withTypes(['loss']).length);
  const first = sortRows(withTypes(['loss']), false)[0];
  assert.ok(lines[1].startsWith(`${first.device_id.includes(',') ? '"' : ''}${first.device_id}`) ||
    lines[1].includes(isoZ(first.window_start_us)));
});

test('devices: anomaly counts per device and type, last seen from the series view', async () => {
  const r = await api('/api/devices');
  assert.equal(r.status, 200);
  assert.equal(r.body.total, data.ids.length);
  for (const d of r.body.devices) {
    const mine = data.expected.filter((e) => e.device_id === d.device_id);
    assert.equal(d.anomalies, mine.length, d.device_id);
    assert.equal(d.by_type.latency || 0, mine.filter((e) => e.types.includes('latency')).length);
    assert.equal(d.last_seen, isoZ(data.lastStartUs));
  }
  const counts = r.body.devices.map((d) => d.anomalies);
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
});

test('series: every window of one device, oldest first, bounded by from/to', async () => {
  const r = await api('/api/series?device=dev-02');
  assert.equal(r.status, 200);
  assert.equal(r.body.rows.length, data.series.get('dev-02'));
  assert.equal(r.body.rows[0].window_start, isoZ(data.firstStartUs));
  const anomalies = new Set(data.expected.filter((e) => e.device_id === 'dev-02' && e.types.includes('latency'))
    .map((e) => isoZ(e.window_start_us)));
  for (const row of r.body.rows) assert.equal(row.avg_latency_ms > 100, anomalies.has(row.window_start));
  const some = await api(`/api/series?device=dev-02&from=${isoZ(data.lastStartUs - 50e6)}&to=${isoZ(data.lastStartUs)}`);
  assert.equal(some.body.rows.length, 6);
  const lim = await api('/api/series?device=dev-02&limit=3');
  assert.equal(lim.body.truncated, true);
  assert.equal(lim.body.rows.at(-1).window_start, isoZ(data.lastStartUs));
  assert.equal((await api(`/api/series?device=${enc(XSS_DEVICE)}&limit=1`)).body.rows[0].device_id, XSS_DEVICE);
});

test('summary: counts per type per bucket add up to the anomaly totals', async () => {
  const r = await api('/api/summary?bucket=60');
  assert.equal(r.status, 200);
  assert.equal(r.body.bucket_seconds, 60);
  const sum = (t) => r.body.buckets.reduce((s, b) => s + (t ? b.counts[t] : b.total), 0);
  assert.equal(sum(null), data.expected.length);
  for (const t of TYPES) assert.equal(sum(t), withTypes([t]).length, t);
  const auto = await api('/api/summary?types=loss');
  assert.ok(auto.body.buckets.length <= 61);
  assert.deepEqual(auto.body.types, ['loss']);
  assert.equal(auto.body.buckets.reduce((s, b) => s + b.total, 0), withTypes(['loss']).length);
});

test('metrics: Prometheus text with ingest, view sizes and HTTP requests', async () => {
  const text = await waitFor(async () => {
    const t = await (await fetch(`${tw.url}/metrics`)).text();
    return t.includes(`tidewatch_ingest_rows_total ${data.lines.length}\n`) ? t : null;
  }, 'metrics to count every row');
  assert.match(text, /# TYPE tidewatch_http_requests_total counter/);
  assert.match(text, /tidewatch_http_requests_total\{route="anomalies",status="400"\} \d+/);
  assert.match(text, new RegExp(`tidewatch_view_rows\\{view="network_anomalies"\\} ${data.expected.length}\\b`));
  assert.match(text, /tidewatch_decode_errors_total\{kind="malformed"\} 0/);
});

// Opens /api/stream and collects its events ({type, data}) as they come.
async function openStream() {
  const ctl = new AbortController();
  const res = await fetch(`${tw.url}/api/stream`, { signal: ctl.signal });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const events = [];
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(block), d = /^data: (.*)$/m.exec(block);
        if (ev && d) events.push({ type: ev[1], data: JSON.parse(d[1]) });
      }
    }
  })();
  await waitFor(async () => events.some((e) => e.type === 'hello'), 'hello event');
  return { res, events, close: async () => { ctl.abort(); await pump; } };
}

const metricValue = async (name) => {
  const text = await (await fetch(`${tw.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
};

test('stream: a new anomaly and its clearing arrive as SSE events', async () => {
  const stream = await openStream();
  assert.equal(stream.res.status, 200);
  assert.match(stream.res.headers.get('content-type'), /text\/event-stream/);
  const { events } = stream;
  const start = data.lastStartUs;
  const rec = (lat) => JSON.stringify({ device_id: 'late-joiner', timestamp: isoZ(start + 2e6), latency_ms: lat,
    packet_loss_rate: 1, bandwidth_usage_percent: 40, flow_bytes: 1 });
  const t0 = Date.now();
  await tw.write([rec(180)]);
  const created = await waitFor(async () => events.find((e) => e.type === 'new' && e.data.device_id === 'late-joiner'), 'new event');
  assert.deepEqual(created.data.types, ['latency']);
  assert.ok(Date.now() - t0 < 3000, 'delivered within a few barriers');
  await tw.write([rec(10), rec(10), rec(10), rec(10)]);
  const cleared = await waitFor(async () => events.find((e) => e.type === 'cleared' && e.data.device_id === 'late-joiner'), 'cleared event');
  assert.equal(cleared.data.window_start, isoZ(start));
  await stream.close();
});

test('cache: a page answered from the reply cache shows a new anomaly right after its barrier', async () => {
  const page = '/api/anomalies?types=latency,loss&q=cache-probe&limit=5';
  const before = await api(page);
  assert.equal(before.body.total, 0);
  const hits0 = await metricValue('tidewatch_http_cache_hits_total');
  // The same parameters in another order share the cached reply.
  const again = await api('/api/anomalies?limit=5&q=cache-probe&types=latency,loss');
  assert.deepEqual(again.body, before.body);
  assert.ok(await metricValue('tidewatch_http_cache_hits_total') > hits0, 'the repeat was a cache hit');
  const stream = await openStream();
  await tw.write([JSON.stringify({ device_id: 'cache-probe', timestamp: isoZ(data.lastStartUs + 5e6), latency_ms: 175,
    packet_loss_rate: 1, bandwidth_usage_percent: 40, flow_bytes: 1 })]);
  await waitFor(async () => stream.events.find((e) => e.type === 'new' && e.data.device_id === 'cache-probe'), 'new event');
  // One GET, no polling: the barrier that sent the event made the cached page stale.
  const after = await api(page);
  assert.equal(after.body.total, 1);
  assert.equal(after.body.rows[0].device_id, 'cache-probe');
  assert.equal(after.body.rows[0].window_start, isoZ(data.lastStartUs));
  await stream.close();
});

test('CSV export neutralises a device id that a spreadsheet would run as a formula', async () => {
  await tw.write([JSON.stringify({ device_id: '=1+2', timestamp: isoZ(data.lastStartUs + 3e6), latency_ms: 170,
    packet_loss_rate: 1, bandwidth_usage_percent: 40, flow_bytes: 1 })]);
  const csv = await waitFor(async () => {
    const t = await (await fetch(`${tw.url}/api/anomalies.csv?types=latency&q=${enc('=1+2')}`)).text();
    return t.split('\r\n').length > 2 ? t : null;
  }, 'the formula device');
  assert.ok(csv.split('\r\n')[1].startsWith(`"'=1+2",`), csv);
});
