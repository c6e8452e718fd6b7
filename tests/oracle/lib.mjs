// Shared pieces of the DuckDB oracle: a seeded PRNG, NDJSON writers, running
// tidewatch, parsing its CSV output, rendering DuckDB results in the same
// canonical text, the typed-JSON reader that reproduces tidewatch's decoding
// rules in SQL, and the row-for-row comparison. Used by tests/oracle/oracle.mjs,
// tests/integration/badinput.mjs and bench/duckdb_bench.mjs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

// mulberry32: small, fast and deterministic across platforms and node versions.
export function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    round2: (lo, hi) => Math.round((lo + next() * (hi - lo)) * 100) / 100,
  };
}

export const BASE_US = Date.UTC(2026, 0, 27, 20, 0, 0) * 1000;
export const DEVICES = ['router-01', 'router-02', 'server-01', 'server-02', 'switch-01'];
export const PROTOCOLS = ['TCP', 'UDP', 'ICMP', 'HTTP', 'HTTPS'];

// ISO-8601 UTC with Z; the fraction is written only when non-zero, like the seed.
export function isoUtc(us, { sep = 'T', zone = 'Z', fracDigits = 6 } = {}) {
  const sec = Math.floor(us / 1e6);
  const frac = us - sec * 1e6;
  const d = new Date(sec * 1000);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  let s = `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}` +
    `${sep}${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  if (frac !== 0) s += '.' + String(frac).padStart(6, '0').slice(0, fracDigits);
  return s + zone;
}

// Formats a canonical TIMESTAMP value the way tidewatch's csv output does.
export function fmtTimestamp(us) {
  const s = isoUtc(Number(us), { zone: '' });
  return s;
}

// A seed-shaped metrics record; callers mutate it for edge cases.
export function metricRecord(rng, us, { tsKey = 'timestamp', anomalyRate = 0.1 } = {}) {
  const bad = rng.chance(anomalyRate);
  return {
    device_id: rng.pick(DEVICES),
    [tsKey]: isoUtc(us),
    src_ip: rng.pick(['192.168.1.', '10.0.0.', '172.16.0.']) + rng.int(1, 254),
    dst_ip: rng.pick(['192.168.1.', '10.0.0.', '172.16.0.']) + rng.int(1, 254),
    protocol: rng.pick(PROTOCOLS),
    latency_ms: bad ? rng.round2(100, 200) : rng.round2(10, 50),
    packet_loss_rate: bad ? rng.round2(5, 15) : rng.round2(0, 2),
    bandwidth_usage_percent: bad ? rng.round2(90, 100) : rng.round2(30, 70),
    flow_bytes: rng.int(1024, 1048576),
  };
}

// Writes lines (strings or Buffers) as NDJSON, each followed by "\n".
export function writeLines(path, lines) {
  const fd = fs.openSync(path, 'w');
  let chunk = [];
  let size = 0;
  const flush = () => {
    if (chunk.length) fs.writeSync(fd, Buffer.concat(chunk));
    chunk = [];
    size = 0;
  };
  const nl = Buffer.from('\n');
  for (const l of lines) {
    const b = Buffer.isBuffer(l) ? l : Buffer.from(l, 'utf8');
    chunk.push(b, nl);
    size += b.length + 1;
    if (size > 1 << 20) flush();
  }
  flush();
  fs.closeSync(fd);
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  return r;
}

// Parses tidewatch's csv output (one result). Unquoted empty field = NULL,
// quoted empty field = ''. Returns {header, rows} with null or string cells.
export function parseCsv(text) {
  const records = [];
  let rec = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let fieldStarted = false;
  const endField = () => {
    rec.push(quoted || field !== '' ? field : null);
    field = '';
    quoted = false;
    fieldStarted = false;
  };
  const endRecord = () => {
    endField();
    records.push(rec);
    rec = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else inQuotes = false;
      } else field += c;
      continue;
    }
    if (c === '"' && !fieldStarted) { inQuotes = true; quoted = true; fieldStarted = true; continue; }
    if (c === ',') { endField(); continue; }
    if (c === '\r' && text[i + 1] === '\n') continue;
    if (c === '\n') { endRecord(); continue; }
    field += c;
    fieldStarted = true;
  }
  if (inQuotes) throw new Error('csv: unterminated quoted field');
  if (field !== '' || quoted || rec.length) endRecord();
  if (records.length === 0) throw new Error('csv: no header row in tidewatch output');
  return { header: records[0].map((h) => h ?? ''), rows: records.slice(1) };
}

const FLOAT_TYPES = new Set(['DOUBLE', 'FLOAT', 'REAL']);

export async function openDuck() {
  const inst = await DuckDBInstance.create(':memory:', {
    threads: '1',
    preserve_insertion_order: 'true',
  });
  const conn = await inst.connect();
  return {
    conn,
    async query(sql) {
      const r = await conn.runAndReadAll(sql);
      const types = r.columnTypes().map((t) => t.toString());
      const rows = r.getRows().map((row) => row.map((v, i) => canon(v, types[i])));
      return { names: r.columnNames(), types, rows };
    },
    async scalar(sql) {
      const r = await conn.runAndReadAll(sql);
      const v = r.getRows()[0][0];
      return typeof v === 'bigint' ? Number(v) : v;
    },
  };
}

// DuckDB value -> the text tidewatch's csv output would hold (floats stay numbers).
function canon(v, type) {
  if (v === null || v === undefined) return null;
  if (type === 'BOOLEAN') return v ? 'true' : 'false';
  if (FLOAT_TYPES.has(type)) return Number(v);
  if (type === 'TIMESTAMP') return fmtTimestamp(v.micros);
  if (type === 'TIMESTAMP WITH TIME ZONE') return fmtTimestamp(v.micros) + 'Z';
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  return String(v);
}

// Raw lines of an NDJSON file, numbered in file order (threads=1 keeps order).
export function rawLinesSql(path) {
  return `SELECT row_number() OVER () AS seq, line FROM read_csv('${path}', header=false,
    columns={'line':'VARCHAR'}, delim=chr(1), quote='', escape='', auto_detect=false,
    max_line_size=4000000, strict_mode=false)`;
}

// The decoding rules as SQL over a column `line` holding one JSON object:
// missing/null -> NULL; wrong JSON type -> NULL plus a type error (te_<col> = 1).
export function typedColumnsSql(schema) {
  const cols = [];
  const tes = [];
  for (const [name, type] of schema) {
    const path = `'$."${name}"'`;
    const t = `json_type(line, ${path})`;
    const raw = `json_extract(line, ${path})`;
    const str = `json_extract_string(line, ${path})`;
    let ok;
    let val;
    if (type === 'VARCHAR') {
      ok = `${t} = 'VARCHAR'`;
      val = str;
    } else if (type === 'DOUBLE') {
      ok = `${t} IN ('BIGINT', 'UBIGINT', 'DOUBLE')`;
      val = `CAST(${raw} AS DOUBLE)`;
    } else if (type === 'BIGINT') {
      ok = `(${t} = 'BIGINT' OR (${t} = 'UBIGINT' AND TRY_CAST(${str} AS UBIGINT) <= 9223372036854775807))`;
      val = `CAST(${str} AS BIGINT)`;
    } else if (type === 'TIMESTAMP') {
      ok = `(${t} = 'VARCHAR' AND regexp_full_match(${str},
        '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-5][0-9])?')
        AND TRY_CAST(${str} AS TIMESTAMPTZ) IS NOT NULL)`;
      val = `CAST(TRY_CAST(${str} AS TIMESTAMPTZ) AS TIMESTAMP)`;
    } else if (type === 'BOOLEAN') {
      ok = `${t} = 'BOOLEAN'`;
      val = `CAST(${raw} AS BOOLEAN)`;
    } else throw new Error(`typedColumnsSql: unsupported type ${type}`);
    cols.push(`CASE WHEN ${ok} THEN ${val} END AS "${name}"`);
    tes.push(`CASE WHEN ${t} IS NOT NULL AND ${t} <> 'NULL' AND NOT (${ok}) THEN 1 ELSE 0 END AS "te_${name}"`);
  }
  return [...cols, ...tes].join(',\n  ');
}

// A subquery: seq, the typed columns, te_<col> flags, from an NDJSON file.
export function typedSourceSql(path, schema) {
  return `(SELECT seq, ${typedColumnsSql(schema)} FROM (${rawLinesSql(path)}))`;
}

export const METRIC_SCHEMA = [
  ['device_id', 'VARCHAR'], ['timestamp', 'TIMESTAMP'], ['src_ip', 'VARCHAR'],
  ['dst_ip', 'VARCHAR'], ['protocol', 'VARCHAR'], ['latency_ms', 'DOUBLE'],
  ['packet_loss_rate', 'DOUBLE'], ['bandwidth_usage_percent', 'DOUBLE'], ['flow_bytes', 'BIGINT'],
];

export const METRIC_DDL_COLUMNS = `
    device_id VARCHAR,
    timestamp TIMESTAMP,
    src_ip VARCHAR,
    dst_ip VARCHAR,
    protocol VARCHAR,
    latency_ms FLOAT,
    packet_loss_rate FLOAT,
    bandwidth_usage_percent FLOAT,
    flow_bytes BIGINT`;

export const KAFKA_WITH = `WITH (
    connector = 'kafka',
    topic = 'network_metrics',
    properties.bootstrap.server = 'localhost:9092',
    scan.startup.mode = 'earliest'
) FORMAT PLAIN ENCODE JSON`;

// SQL expressions for epoch-aligned windows over a TIMESTAMP expression.
export const tumbleStart = (ts, sizeS) =>
  `make_timestamp((epoch_us(${ts}) // ${sizeS * 1e6}) * ${sizeS * 1e6})`;

function floatsEqual(a, b) {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  const diff = Math.abs(a - b);
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return diff <= 1e-12 || diff <= 1e-9 * scale;
}

// Compares tidewatch's csv result with a DuckDB result. Both sides are sorted
// by `keys` (column names). Returns a list of human-readable problems.
export function compareResults(tw, duck, keys) {
  const problems = [];
  if (tw.header.join(',') !== duck.names.join(',')) {
    problems.push(`columns differ: tidewatch [${tw.header.join(', ')}] vs duckdb [${duck.names.join(', ')}]`);
    return problems;
  }
  const ncol = duck.names.length;
  const isFloat = duck.types.map((t) => FLOAT_TYPES.has(t));
  const keyIdx = keys.map((k) => {
    const i = duck.names.indexOf(k);
    if (i < 0) throw new Error(`sort key ${k} is not a result column`);
    return i;
  });
  const bad = tw.rows.findIndex((r) => r.length !== ncol);
  if (bad >= 0) {
    problems.push(`tidewatch row ${bad + 1} has ${tw.rows[bad].length} fields, expected ${ncol}: ${JSON.stringify(tw.rows[bad])}`);
    return problems;
  }
  const keyOf = (row) => JSON.stringify(keyIdx.map((i) => (row[i] === null ? null : String(row[i]))));
  const cmpKey = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const twRows = tw.rows.map((r) => ({ k: keyOf(r), r })).sort((a, b) => cmpKey(a.k, b.k));
  const dkRows = duck.rows.map((r) => ({ k: keyOf(r), r })).sort((a, b) => cmpKey(a.k, b.k));
  const cellEq = (t, d, i) => {
    if (t === null || d === null) return t === null && d === null;
    if (isFloat[i]) {
      const x = Number(t);
      return t.trim() !== '' && floatsEqual(x, d);
    }
    return t === d;
  };
  const onlyTw = [];
  const onlyDk = [];
  const differ = [];
  let i = 0;
  let j = 0;
  while (i < twRows.length || j < dkRows.length) {
    if (j >= dkRows.length || (i < twRows.length && twRows[i].k < dkRows[j].k)) onlyTw.push(twRows[i++].r);
    else if (i >= twRows.length || dkRows[j].k < twRows[i].k) onlyDk.push(dkRows[j++].r);
    else {
      const a = twRows[i++].r;
      const b = dkRows[j++].r;
      const cols = [];
      for (let c = 0; c < ncol; c++) if (!cellEq(a[c], b[c], c)) cols.push(duck.names[c]);
      if (cols.length) differ.push({ a, b, cols });
    }
  }
  if (onlyTw.length || onlyDk.length || differ.length) {
    const show = (r) => JSON.stringify(r);
    problems.push(`row counts: tidewatch ${tw.rows.length}, duckdb ${duck.rows.length}; ` +
      `${differ.length} rows differ in values, ${onlyTw.length} only in tidewatch, ${onlyDk.length} only in duckdb`);
    for (const d of differ.slice(0, 5)) {
      problems.push(`  differ in [${d.cols.join(', ')}]:\n    tidewatch ${show(d.a)}\n    duckdb    ${show(d.b)}`);
    }
    for (const r of onlyTw.slice(0, 5)) problems.push(`  only in tidewatch: ${show(r)}`);
    for (const r of onlyDk.slice(0, 5)) problems.push(`  only in duckdb:    ${show(r)}`);
  }
  return problems;
}

// Runs `tidewatch run` over sql files with file sources; returns the parsed
// csv result, the stats json and the raw process result.
export function runTidewatch(bin, { sqlFiles, sources, then, statsPath, deadLetter, env }) {
  const args = ['run', '--exit-at-eof', '--no-sinks', '--quiet', '--format', 'csv'];
  for (const [name, path] of Object.entries(sources)) args.push('--source', `${name}=file:${path}`);
  if (statsPath) args.push('--stats-json', statsPath);
  if (deadLetter) args.push('--dead-letter', deadLetter);
  args.push('--then', then);
  args.push(...sqlFiles);
  const t0 = process.hrtime.bigint();
  const r = run(bin, args, { env: { ...process.env, ...env } });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cmdline = [bin, ...args.map((a) => (/[\s'*]/.test(a) ? `'${a}'` : a))].join(' ');
  if (r.status !== 0) {
    return { error: `tidewatch exited with ${r.status ?? r.signal}\n  command: ${cmdline}\n  stderr: ${r.stderr.slice(0, 4000)}` };
  }
  let result;
  try {
    result = parseCsv(r.stdout);
  } catch (e) {
    return { error: `cannot parse tidewatch output: ${e.message}\n  command: ${cmdline}\n  stdout: ${r.stdout.slice(0, 2000)}` };
  }
  let stats = null;
  if (statsPath) {
    try {
      stats = JSON.parse(fs.readFileSync(statsPath, 'utf8'));
    } catch (e) {
      return { error: `cannot read --stats-json ${statsPath}: ${e.message}\n  command: ${cmdline}` };
    }
  }
  return { result, stats, seconds, cmdline, stderr: r.stderr };
}

// Checks stats.sources[name][field] == value for each expectation.
export function checkStats(stats, expect) {
  const problems = [];
  for (const [section, byName] of Object.entries(expect)) {
    for (const [name, fields] of Object.entries(byName)) {
      const got = stats?.[section]?.[name];
      if (!got) {
        problems.push(`stats-json has no ${section}.${name} (got ${JSON.stringify(stats)})`);
        continue;
      }
      for (const [f, want] of Object.entries(fields)) {
        if (got[f] !== want) problems.push(`stats-json ${section}.${name}.${f}: expected ${want}, got ${got[f]}`);
      }
    }
  }
  return problems;
}

// CREATE SOURCE for the seed's columns under another name (tidewatch side).
export function metricsSourceSql(name = 'metrics') {
  return `CREATE SOURCE ${name} (${METRIC_DDL_COLUMNS}\n) ${KAFKA_WITH};\n`;
}

// Sum of type-error flags that the DuckDB decoding rules count in a file.
export async function duckTypeErrors(duck, file, schema = METRIC_SCHEMA) {
  const sum = schema.map(([n]) => `"te_${n}"`).join(' + ');
  return duck.scalar(`SELECT COALESCE(SUM(${sum}), 0) FROM ${typedSourceSql(file, schema)}`);
}

// What a clean run reports: every line a row, nothing malformed, nothing late;
// type errors as DuckDB's reading of the same file counts them.
export async function plainExpect(duck, file, lines, mvNames, source = 'metrics', schema = METRIC_SCHEMA) {
  const typeErrors = await duckTypeErrors(duck, file, schema);
  const mvs = {};
  for (const m of mvNames) mvs[m] = { late_rows: 0 };
  return {
    sources: { [source]: { lines, rows: lines, malformed: 0, type_errors: typeErrors, late_rows: 0 } },
    mvs,
  };
}

// Metric records at a steady event rate with the given mean step between rows.
export function* steadyRecords(rng, n, stepMs, opts = {}) {
  let us = BASE_US;
  for (let i = 0; i < n; i++) {
    us += Math.floor(rng.next() * 2 * stepMs * 1000);
    yield { i, us, rec: metricRecord(rng, us, opts) };
  }
}
