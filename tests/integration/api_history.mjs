#!/usr/bin/env node
// /api/anomalies over live rows merged with the Iceberg history.
//
// Two `tidewatch run --exit-at-eof` runs write the early windows of a
// designed data set into one Iceberg table (SQLite catalog, partitioned by
// hour(window_start), one or more files per run). Then a third run serves
// the API with --no-sinks on a followed file holding the later windows plus
// an overlap with the history whose anomalous rows have other values: the
// live view starts empty of the early windows, so they come only from the
// table. Every answer is checked against the expected merge (each
// (device, window) once, the live row winning): totals, both sorts paged to
// the end across the boundary, every combination of types, q on device and
// time text, from/to inside the history, across the boundary and inside the
// live rows, the CSV export and the summary. Finally DuckDB writes Parquet
// files with COPY (FORMAT parquet) under several codecs and tidewatch's
// reader (parquet_dump) must read the same values back.
//
//   node api_history.mjs --bin BUILD/tidewatch --dump BUILD/parquet_dump --workdir DIR
import fs from 'node:fs';
import path from 'node:path';
import { makeRng, isoUtc } from '../oracle/lib.mjs';
import { getJson, startServe, startTidewatch, waitFor, XSS_DEVICE, TYPES } from './api_lib.mjs';
import { cliArgs, makeChecker, openDuck, run, seedSql, sqliteConnection } from './iceberg_sink_lib.mjs';

const args = cliArgs();
if (!args.bin || !args.dump || !args.workdir) {
  console.error('usage: api_history.mjs --bin TIDEWATCH --dump PARQUET_DUMP --workdir DIR');
  process.exit(2);
}
const { check, finish } = makeChecker('api_history');
const workdir = path.resolve(args.workdir);
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });
const dataDir = path.join(workdir, 'data');

// ---- the data: 60 windows of 10 s for 6 devices ----
const WINDOW_US = 10e6;
const NWIN = 60, HISTORY_END = 40, LIVE_START = 30; // history [0, 40), live [30, 60)
const rng = makeRng(11);
const ids = ['dev-00', 'dev-01', 'dev-02', 'dev-10', 'dev-11', XSS_DEVICE];
const lastStart = Math.floor(Date.now() * 1000 / WINDOW_US) * WINDOW_US - 2 * WINDOW_US;
const startOf = (w) => lastStart - (NWIN - 1 - w) * WINDOW_US;

function windowLines(id, w, mask) {
  const lines = [];
  let lat = 0;
  for (const off of [1e6, 4e6, 7e6]) {
    const l = mask & 1 ? rng.round2(150, 190) : rng.round2(10, 50);
    lat += Math.fround(l);
    lines.push(JSON.stringify({
      device_id: id, timestamp: isoUtc(startOf(w) + off), src_ip: '10.0.0.1', dst_ip: '10.0.0.2',
      protocol: 'TCP', latency_ms: l,
      packet_loss_rate: mask & 2 ? rng.round2(8, 14) : rng.round2(0, 2),
      bandwidth_usage_percent: mask & 4 ? rng.round2(95, 99) : rng.round2(30, 70),
      flow_bytes: rng.int(1024, 1048576),
    }));
  }
  return { lines, avgLatency: lat / 3 };
}

const historyLines = [[], []];
const liveLines = [];
const expected = new Map(); // key -> {device_id, window_start_us, types, avg, source}
const key = (d, ws) => `${ws}|${d}`;
for (let w = 0; w < NWIN; w++) {
  for (const id of ids) {
    let histMask = 0;
    if (w < HISTORY_END) {
      histMask = rng.chance(0.35) ? rng.int(1, 7) : 0;
      const { lines, avgLatency } = windowLines(id, w, histMask);
      historyLines[w < 20 ? 0 : 1].push(...lines);
      if (histMask) expected.set(key(id, startOf(w)), { device_id: id, window_start_us: startOf(w),
        types: TYPES.filter((_, i) => histMask & (1 << i)), avg: avgLatency, source: 'history' });
    }
    if (w >= LIVE_START) {
      // An anomalous history window stays anomalous live, with other values:
      // the live row must win.
      const liveMask = histMask ? rng.int(1, 7) : (rng.chance(0.35) ? rng.int(1, 7) : 0);
      const { lines, avgLatency } = windowLines(id, w, liveMask);
      liveLines.push(...lines);
      if (liveMask) expected.set(key(id, startOf(w)), { device_id: id, window_start_us: startOf(w),
        types: TYPES.filter((_, i) => liveMask & (1 << i)), avg: avgLatency, source: 'live' });
    }
  }
}
const all = [...expected.values()];
const cmp = (a, b) => a.window_start_us - b.window_start_us ||
  (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0);
const sorted = (rows, desc) => [...rows].sort((a, b) => (desc ? -cmp(a, b) : cmp(a, b)));
check(all.some((r) => r.source === 'history') && all.some((r) => r.source === 'live'), 'the data has both halves');

// ---- the history: two runs into one table ----
const baseSql = (sinkName) => seedSql({ connection: sqliteConnection(), sinkName,
  sinkOptions: { partition_by: 'hour(window_start)' } });
for (let i = 0; i < 2; i++) {
  const input = path.join(workdir, `history-${i}.ndjson`);
  fs.writeFileSync(input, historyLines[i].join('\n') + '\n');
  const sqlFile = path.join(workdir, `history-${i}.sql`);
  // Each run has its own sink name, so it does not resume from the other's
  // recorded source positions.
  fs.writeFileSync(sqlFile, baseSql(`hist_${i}`));
  const r = run(args.bin, ['run', '--exit-at-eof', '--quiet', '--http', 'off', '--data-dir', dataDir,
    '--source', `network_metrics_source=file:${input}`, sqlFile]);
  if (!check(r.status === 0, `history run ${i} exited ${r.status}: ${r.stderr.slice(0, 2000)}`)) finish();
}

// ---- the live run ----
const tw = await startTidewatch(args.bin, { args: ['--data-dir', dataDir, '--pg', '127.0.0.1:0'],
  sql: baseSql('live_sink') });
let failed = false;
try {
  await tw.write(liveLines);
  const liveCount = all.filter((r) => r.window_start_us >= startOf(HISTORY_END)).length;
  const url = (q) => `${tw.url}/api/anomalies?${q}`;
  await waitFor(async () => (await getJson(url(`types=${TYPES.join(',')}&limit=1&from=${isoUtc(startOf(HISTORY_END))}`))).body.total === liveCount,
    `the live view to hold its ${liveCount} anomalies`, 20000);

  // Pages through a query to its end; checks total and every row.
  async function checkQuery(params, rows, desc, what, pageSize = 7) {
    const want = sorted(rows, desc);
    const got = [];
    let total = -1;
    for (let offset = 0; offset < want.length + pageSize; offset += pageSize) {
      const res = await getJson(url(`${params}&sort=${desc ? 'time_desc' : 'time_asc'}&limit=${pageSize}&offset=${offset}`));
      if (!check(res.status === 200, `${what}: status ${res.status} ${JSON.stringify(res.body)}`)) return;
      total = res.body.total;
      got.push(...res.body.rows);
      if (res.body.rows.length < pageSize) break;
    }
    check(total === want.length, `${what}: total ${total}, expected ${want.length}`);
    check(got.length === want.length, `${what}: ${got.length} rows paged, expected ${want.length}`);
    const seen = new Set();
    for (let i = 0; i < Math.min(got.length, want.length); i++) {
      const g = got[i], w = want[i];
      const k = `${g.window_start}|${g.device_id}`;
      check(!seen.has(k), `${what}: ${k} appears twice`);
      seen.add(k);
      if (!check(g.device_id === w.device_id && g.window_start === isoUtc(w.window_start_us),
        `${what}: row ${i} is ${g.device_id} ${g.window_start}, expected ${w.device_id} ${isoUtc(w.window_start_us)} (${w.source})`)) break;
      check(JSON.stringify([...g.types].sort()) === JSON.stringify([...w.types].sort()),
        `${what}: row ${i} types ${g.types} expected ${w.types} (${w.source})`);
      check(Math.abs(g.avg_latency_ms - w.avg) < 1e-3 * Math.max(1, w.avg),
        `${what}: row ${i} avg_latency_ms ${g.avg_latency_ms} expected ${w.avg} (${w.source})`);
    }
  }

  const allTypes = `types=${TYPES.join(',')}`;
  await checkQuery(allTypes, all, true, 'everything, newest first');
  await checkQuery(allTypes, all, false, 'everything, oldest first', 13);
  for (let m = 1; m < 8; m++) {
    const sel = TYPES.filter((_, i) => m & (1 << i));
    await checkQuery(`types=${sel.join(',')}`, all.filter((r) => r.types.some((t) => sel.includes(t))), true,
      `types=${sel.join(',')}`, 50);
  }
  const fromTo = (a, b) => all.filter((r) => r.window_start_us >= a && r.window_start_us <= b);
  const ranges = [[startOf(3), startOf(17), 'inside the history'], [startOf(25), startOf(45), 'across the boundary'],
    [startOf(50), startOf(59), 'inside the live rows'], [startOf(35), startOf(35), 'one overlapping window']];
  for (const [a, b, what] of ranges)
    for (const desc of [true, false])
      await checkQuery(`${allTypes}&from=${isoUtc(a)}&to=${isoUtc(b)}`, fromTo(a, b), desc, `from/to ${what}`, 5);
  await checkQuery(`${allTypes}&q=dev-1`, all.filter((r) => r.device_id.includes('dev-1')), true, 'q=dev-1', 20);
  await checkQuery(`${allTypes}&q=${encodeURIComponent('<IMG')}`, all.filter((r) => r.device_id === XSS_DEVICE), false, 'q=<IMG', 20);
  const shown = isoUtc(startOf(5), { sep: ' ', zone: '', fracDigits: 0 }).slice(0, 16);
  await checkQuery(`${allTypes}&q=${encodeURIComponent(shown)}`,
    all.filter((r) => isoUtc(r.window_start_us, { sep: ' ', zone: '' }).startsWith(shown)), true, `q=${shown}`, 20);
  await checkQuery(`types=latency&q=dev-0&from=${isoUtc(startOf(10))}&to=${isoUtc(startOf(55))}`,
    all.filter((r) => r.types.includes('latency') && r.device_id.includes('dev-0') &&
      r.window_start_us >= startOf(10) && r.window_start_us <= startOf(55)), false, 'types+q+from+to', 4);

  // A page straddling the boundary in one request.
  const asc = sorted(all, false);
  const firstLive = asc.findIndex((r) => r.window_start_us >= startOf(HISTORY_END));
  const page = await getJson(url(`${allTypes}&sort=time_asc&limit=10&offset=${Math.max(0, firstLive - 5)}`));
  check(JSON.stringify(page.body.rows.map((r) => `${r.window_start}|${r.device_id}`)) ===
    JSON.stringify(asc.slice(Math.max(0, firstLive - 5), firstLive + 5).map((r) => `${isoUtc(r.window_start_us)}|${r.device_id}`)),
    'a page straddling history and live rows');

  // CSV export and summary over the merge.
  const csv = await fetch(`${tw.url}/api/anomalies.csv?${allTypes}&sort=time_asc`).then((r) => r.text());
  const csvRows = csv.trim().split('\r\n').slice(1);
  check(csvRows.length === all.length, `CSV has ${csvRows.length} rows, expected ${all.length}`);
  const summary = await getJson(`${tw.url}/api/summary?bucket=60`);
  const bucketTotal = (summary.body.buckets || []).reduce((s, b) => s + b.total, 0);
  check(bucketTotal === all.length, `summary buckets count ${bucketTotal}, expected ${all.length}`);

  // The rule is re-created over psql with its columns in another order and
  // one more type: the history's cached row groups, decoded for the old
  // layout, must not be read with the new one (the same rows, right values).
  const pgPort = /PostgreSQL protocol on 127\.0\.0\.1:(\d+)/.exec(tw.stderr())[1];
  const psql = run('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', pgPort, '-d', 'dev', '-U', 'root', '-c',
    `DROP SINK live_sink; DROP MATERIALIZED VIEW network_anomalies;
     CREATE MATERIALIZED VIEW network_anomalies AS SELECT
       avg_latency_ms > 150 AS is_extreme_latency, avg_bandwidth_usage > 90 AS is_bandwidth_saturation,
       avg_bandwidth_usage, avg_packet_loss_rate > 5 AS is_high_packet_loss, window_end, device_id,
       avg_packet_loss_rate, avg_latency_ms > 100 AS is_high_latency, window_start, avg_latency_ms
     FROM device_metrics_10s
     WHERE avg_latency_ms > 100 OR avg_packet_loss_rate > 5 OR avg_bandwidth_usage > 90`]);
  check(psql.status === 0, `psql re-create: ${psql.stdout}${psql.stderr}`);
  await waitFor(async () => (await getJson(`${tw.url}/api/meta`)).body.types?.length === 4, 'the re-created view to be served');
  // (The live rows now also carry the new type; the history's rows are
  // what this checks.)
  const [a, b] = ranges[0];
  await checkQuery(`${allTypes}&from=${isoUtc(a)}&to=${isoUtc(b)}`, fromTo(a, b), true, 're-created view: the history', 5);
} catch (e) {
  failed = true;
  check(false, `${e.stack}\n${tw.stderr().slice(-2000)}`);
} finally {
  await tw.stop();
}

// ---- tidewatch serve: the sink created over psql ----
// serve starts with no pipeline; the history is opened when the sink on
// the anomaly view is created, with no restart.
{
  const emptyInput = path.join(workdir, 'serve-input.ndjson');
  fs.writeFileSync(emptyInput, '');
  const serve = await startServe(args.bin, path.join(workdir, 'serve-data-link'), {
    args: ['--source', `network_metrics_source=file:${emptyInput}`] });
  try {
    const sqlFile = path.join(workdir, 'serve.sql');
    // The same SQLite catalog and warehouse, by absolute path.
    fs.writeFileSync(sqlFile, seedSql({ sinkName: 'serve_sink', sinkOptions: { partition_by: 'hour(window_start)' },
      connection: sqliteConnection(`sqlite:${path.join(dataDir, 'catalog.db')}`, path.join(dataDir, 'warehouse')) }));
    serve.psql(['-f', sqlFile]);
    const lo = startOf(3), hi = startOf(17);
    const want = all.filter((r) => r.window_start_us >= lo && r.window_start_us <= hi);
    const got = await getJson(`${serve.url}/api/anomalies?types=${TYPES.join(',')}&from=${isoUtc(lo)}&to=${isoUtc(hi)}&limit=1000`);
    check(got.status === 200 && got.body.total === want.length,
      `serve, sink created over psql: ${got.body.total} history rows, expected ${want.length}`);
    const key = (dev, ws) => `${dev}|${ws}`;
    const wantKeys = new Set(want.map((r) => key(r.device_id, isoUtc(r.window_start_us))));
    check((got.body.rows || []).every((r) => wantKeys.has(key(r.device_id, r.window_start))),
      'serve: the history rows are the table\'s');
  } catch (e) {
    failed = true;
    check(false, `serve: ${e.stack}\n${serve.stderr().slice(-2000)}`);
  } finally {
    await serve.stop();
  }
}

// ---- DuckDB-written Parquet read by tidewatch's reader ----
const duck = await openDuck();
const rowsSql = `SELECT i::INTEGER AS i32, (i * 1000003 - 5000000000)::BIGINT AS i64, (i % 300)::SMALLINT AS i16,
    i % 3 = 0 AS flag, i / 7.0 AS dbl, (i * 0.5)::FLOAT AS flt,
    CASE WHEN i % 11 = 0 THEN NULL ELSE 'dev-' || (i % 17) END AS dev,
    'unique-' || i AS uniq, TIMESTAMP '2026-01-27 20:47:10' + INTERVAL (i) SECOND AS ts,
    CASE WHEN i % 5 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-01-27 20:47:10+00' + INTERVAL (i * 1000) MICROSECOND END AS tstz
  FROM range(0, 30000) t(i)`;
for (const codec of ['snappy', 'zstd', 'gzip', 'uncompressed']) {
  const file = path.join(workdir, `duck-${codec}.parquet`);
  await duck.rows(`COPY (${rowsSql}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 8192)`);
  const want = await duck.rows(`SELECT i32, i64::VARCHAR AS i64, i16, flag, dbl, flt, dev, uniq,
      epoch_us(ts)::VARCHAR AS ts, epoch_us(tstz)::VARCHAR AS tstz FROM read_parquet('${file}')`);
  const r = run(args.dump, [file]);
  if (!check(r.status === 0, `parquet_dump ${codec}: ${r.stderr}`)) continue;
  const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  check(got.length === want.length, `DuckDB ${codec}: ${got.length} rows read, expected ${want.length}`);
  let bad = 0;
  for (let i = 0; i < Math.min(got.length, want.length) && bad < 5; i++) {
    const g = got[i], w = want[i];
    const same = Number(g[0]) === w.i32 && g[1] === w.i64 && Number(g[2]) === w.i16 && g[3] === w.flag &&
      g[4] === w.dbl && g[5] === w.flt && g[6] === w.dev && g[7] === w.uniq && g[8] === w.ts && g[9] === w.tstz;
    if (!check(same, `DuckDB ${codec}: row ${i} read as ${JSON.stringify(g)}, DuckDB says ${JSON.stringify(w)}`)) bad++;
  }
}
duck.close();
if (!failed) fs.rmSync(workdir, { recursive: true, force: true });
finish();
