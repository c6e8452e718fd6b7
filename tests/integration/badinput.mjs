#!/usr/bin/env node
// Bad input: a file where ~10% of lines are malformed (truncated JSON, invalid
// UTF-8, a 1 MB string cut short, 10000-deep unbalanced nesting, NaN/Infinity,
// trailing garbage, non-objects, syntax errors) mixed with good lines (among
// them empty objects, whitespace, escapes and bad timestamps, which are type
// errors and not malformed). tidewatch over the mixed file must equal DuckDB
// over the good lines only; stats-json must count every malformed line, and
// --dead-letter must hold exactly those lines, byte for byte.
//
//   node tests/integration/badinput.mjs --bin build/tidewatch [--scale full|san] [--workdir DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  makeRng, metricRecord, writeLines, openDuck, runTidewatch, compareResults, checkStats,
  metricsSourceSql, typedSourceSql, duckTypeErrors, tumbleStart, METRIC_SCHEMA, BASE_US,
} from '../oracle/lib.mjs';

const { values: opt } = parseArgs({
  options: {
    bin: { type: 'string' },
    scale: { type: 'string', default: 'full' },
    workdir: { type: 'string' },
  },
});
if (!opt.bin) {
  console.error('usage: badinput.mjs --bin PATH [--scale full|san] [--workdir DIR]');
  process.exit(2);
}
const n = opt.scale === 'san' ? 5000 : 40000;
const dir = path.join(opt.workdir ?? path.join(os.tmpdir(), 'tidewatch-oracle'), `badinput-${opt.scale}`);
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });

const rng = makeRng(11);
const B = (s) => Buffer.from(s, 'latin1'); // byte-exact: each char is one byte

// Each malformed kind turns a good JSON line into a line that is not one valid JSON object.
const MALFORMED = {
  truncated: (good) => good.slice(0, rng.int(1, good.length - 1)),
  invalid_utf8: (good) => {
    const bad = rng.pick(['\xff', '\xc3\x28', '\xc0\xaf', '\xed\xa0\x80', '\xf8\x88\x80\x80\x80', '\xe2\x82']);
    return Buffer.concat([B('{"device_id":"router-'), B(bad), B(good.slice(good.indexOf('"', 14)))]);
  },
  nan_infinity: (good) => good.replace(/"latency_ms":[^,]*/, `"latency_ms":${rng.pick(['NaN', 'Infinity', '-Infinity', 'nan'])}`),
  trailing_garbage: (good) => good + rng.pick([' x', '{}', ',', ']', '}', ' 1', '\x00']),
  not_an_object: () => rng.pick(['[1,2]', '"router-01"', '42', 'null', 'true', '[]', '[{}]']),
  syntax: () => rng.pick([
    "{'device_id':'router-01'}", '{device_id:"router-01"}', '{"device_id":"router-01",}', '{"device_id" "router-01"}',
    '{"flow_bytes":012}', '{"device_id":"tab\there"}', '{"device_id":"\\x41"}', '{"latency_ms":tru}',
    '{"device_id":"\\u12"}', '{"latency_ms":1.}', '{"latency_ms":-}', '{"latency_ms":.5}', '{,}', '{',
  ]),
};
// Few of these: they are large, and each is its own kind of stress.
const huge = () => '{"device_id":"' + 'a'.repeat(1 << 20);
const deepArray = () => '['.repeat(10000);
const deepObject = () => '{"device_id":"router-01","extra":' + '{"a":'.repeat(10000) + '1' + '}'.repeat(10000);

const BAD_TIMESTAMPS = ['"not a time"', '"2026-02-30T10:00:00Z"', '""', '"2026-01-27T25:00:00Z"', '"yesterday"'];

const mixed = [];
const good = [];
const malformed = []; // {kind, bytes}
let badTs = 0;
let us = BASE_US;
const special = { huge: opt.scale === 'san' ? 2 : 5, deep_array: 2, deep_object: 2 };
const specialAt = new Map();
for (const [kind, count] of Object.entries(special)) {
  for (let k = 0; k < count; k++) specialAt.set(Math.floor(((k + 0.5) / count) * n) + specialAt.size, kind);
}
for (let i = 0; i < n; i++) {
  us += rng.int(0, 200000);
  const rec = metricRecord(rng, us);
  let line = JSON.stringify(rec);
  const sp = specialAt.get(i);
  if (sp || rng.chance(0.1)) {
    let bytes;
    let kind = sp;
    if (sp === 'huge') bytes = huge();
    else if (sp === 'deep_array') bytes = deepArray();
    else if (sp === 'deep_object') bytes = deepObject();
    else {
      kind = rng.pick(Object.keys(MALFORMED));
      bytes = MALFORMED[kind](line);
    }
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, kind === 'trailing_garbage' || kind === 'truncated' ? 'utf8' : 'latin1');
    malformed.push({ kind, buf });
    mixed.push(buf);
    continue;
  }
  const r = rng.next();
  if (r < 0.01) line = rng.pick(['{}', '{ }', ' {}\t']);
  else if (r < 0.03) {
    line = line.replace(/"timestamp":"[^"]*"/, `"timestamp":${rng.pick(BAD_TIMESTAMPS)}`);
    badTs++;
  } else if (r < 0.05) line = rng.pick([' ', '\t', '  ']) + line + rng.pick([' ', '\t', ' \t ']);
  else if (r < 0.07) line = line.replace(/,"/g, ' , "').replace(/":/g, '" : ');
  else if (r < 0.08) line = line.replace('"router-', '"\\u0072outer-').replace('"server-', '"\\u0073erver\\u002d');
  else if (r < 0.09) line = line.replace(/"device_id":"[^"]*"/, '"device_id":"路由器-01"');
  const buf = Buffer.from(line, 'utf8');
  good.push(buf);
  mixed.push(buf);
}

const mixedPath = path.join(dir, 'mixed.ndjson');
const goodPath = path.join(dir, 'good.ndjson');
const deadPath = path.join(dir, 'dead-letter.ndjson');
const statsPath = path.join(dir, 'stats.json');
const sqlPath = path.join(dir, 'badinput.sql');
writeLines(mixedPath, mixed);
writeLines(goodPath, good);
fs.writeFileSync(sqlPath, metricsSourceSql() + `
CREATE MATERIALIZED VIEW bad_stats AS
SELECT device_id, window_start, window_end,
       COUNT(*) AS n, AVG(latency_ms) AS avg_latency_ms, AVG(packet_loss_rate) AS avg_packet_loss_rate,
       AVG(bandwidth_usage_percent) AS avg_bandwidth_usage, SUM(flow_bytes) AS total_flow_bytes,
       MIN(protocol) AS min_proto, MAX(src_ip) AS max_src
FROM TUMBLE(metrics, timestamp, INTERVAL '10 seconds')
GROUP BY device_id, window_start, window_end;
`);
const then = 'SELECT * FROM bad_stats ORDER BY device_id, window_start';

const problems = [];
const tw = runTidewatch(opt.bin, {
  sqlFiles: [sqlPath], sources: { metrics: mixedPath }, then, statsPath, deadLetter: deadPath,
});
if (tw.error) problems.push(tw.error);

const duck = await openDuck();
const duckSql = `
  SELECT device_id, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
         COUNT(*) AS n, AVG(latency_ms) AS avg_latency_ms, AVG(packet_loss_rate) AS avg_packet_loss_rate,
         AVG(bandwidth_usage_percent) AS avg_bandwidth_usage, SUM(flow_bytes) AS total_flow_bytes,
         MIN(protocol) AS min_proto, MAX(src_ip) AS max_src
  FROM (SELECT *, epoch_us(${tumbleStart('"timestamp"', 10)}) AS ws
        FROM ${typedSourceSql(goodPath, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
  GROUP BY device_id, ws`;
const dk = await duck.query(duckSql);
const typeErrors = await duckTypeErrors(duck, goodPath);
const duckLines = await duck.scalar(`SELECT COUNT(*) FROM read_csv('${goodPath}', header=false, columns={'line':'VARCHAR'}, delim=chr(1), quote='', escape='', auto_detect=false)`);
// The premise checked by an independent strict reader: UTF-8 with fatal errors, then JSON.parse.
const strictObject = (buf) => {
  try {
    const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf));
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
};
const wronglyGood = malformed.filter((m) => strictObject(m.buf));
const wronglyBad = good.filter((g) => !strictObject(g));
if (wronglyGood.length) problems.push(`oracle self-check: ${wronglyGood.length} 'malformed' lines parse, e.g. ${wronglyGood[0].kind}`);
if (wronglyBad.length) problems.push(`oracle self-check: ${wronglyBad.length} good lines fail to parse, e.g. ${wronglyBad[0]}`);
if (typeErrors !== badTs) problems.push(`oracle self-check: DuckDB counts ${typeErrors} type errors, generator wrote ${badTs} bad timestamps`);
if (duckLines !== good.length) problems.push(`oracle self-check: DuckDB reads ${duckLines} good lines, generator wrote ${good.length}`);

if (!tw.error) {
  problems.push(...compareResults(tw.result, dk, ['device_id', 'window_start']));
  problems.push(...checkStats(tw.stats, {
    sources: { metrics: { lines: n, malformed: malformed.length, rows: good.length, type_errors: typeErrors, late_rows: 0 } },
  }));
  problems.push(...checkDeadLetter());
}

function checkDeadLetter() {
  if (!fs.existsSync(deadPath)) return [`--dead-letter ${deadPath} was not written`];
  const data = fs.readFileSync(deadPath);
  const got = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) { got.push(data.subarray(start, i)); start = i + 1; }
  }
  if (start < data.length) got.push(data.subarray(start));
  // Multiset comparison keyed by content: order is not part of the contract.
  const want = new Map();
  for (const m of malformed) {
    const k = m.buf.toString('base64');
    const e = want.get(k) ?? { kind: m.kind, count: 0, buf: m.buf };
    e.count++;
    want.set(k, e);
  }
  const extra = [];
  for (const g of got) {
    const e = want.get(g.toString('base64'));
    if (e && e.count > 0) e.count--;
    else extra.push(g);
  }
  const missing = [...want.values()].filter((e) => e.count > 0);
  if (!missing.length && !extra.length) return [];
  const show = (b) => JSON.stringify(b.subarray(0, 120).toString('latin1')) + (b.length > 120 ? `... (${b.length} bytes)` : '');
  const out = [`dead-letter: ${got.length} lines, expected ${malformed.length}; ${missing.length} expected lines missing, ${extra.length} unexpected`];
  const byKind = {};
  for (const e of missing) byKind[e.kind] = (byKind[e.kind] ?? 0) + e.count;
  if (missing.length) out.push(`  missing by kind: ${JSON.stringify(byKind)}`);
  for (const e of missing.slice(0, 5)) out.push(`  missing (${e.kind}): ${show(e.buf)}`);
  for (const g of extra.slice(0, 5)) out.push(`  unexpected: ${show(g)}`);
  return out;
}

const kinds = {};
for (const m of malformed) kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
const label = `badinput (${opt.scale}, ${n} lines, ${malformed.length} malformed ${JSON.stringify(kinds)}, ${badTs} bad timestamps)`;
if (problems.length) {
  console.error(`FAIL ${label}`);
  if (tw.cmdline) console.error(`  command: ${tw.cmdline}`);
  console.error(`  inputs kept in ${dir}`);
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
console.log(`PASS ${label}: ${dk.rows.length} result rows, tidewatch ${tw.seconds.toFixed(2)} s`);
fs.rmSync(dir, { recursive: true, force: true });
