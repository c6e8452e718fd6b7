// Values of the wrong JSON type for their column: NULL for that field, one
// type error, row kept. At most one wrong field per line, so per-field and
// per-row counting agree. Valid edge spellings (offsets, space separator,
// integers for FLOAT, BIGINT extremes) must decode without a type error.
import path from 'node:path';
import { makeRng, steadyRecords, writeLines, isoUtc, metricsSourceSql, typedSourceSql, METRIC_SCHEMA, plainExpect, tumbleStart } from '../lib.mjs';

// Raw JSON text spliced in as the value, so numbers keep their exact spelling.
const WRONG = {
  VARCHAR: ['42', '-1.5', 'true', 'false', '{}', '{"a":"b"}', '[]', '["x"]', '0'],
  DOUBLE: ['"12.5"', '""', '"NaN"', 'true', '{}', '[1.5]', '"1e3"'],
  BIGINT: ['1.5', '-0.25', '9223372036854775808', '-9223372036854775809', '18446744073709551616',
    '1e30', '"123"', 'true', '[]', '{}'],
  TIMESTAMP: ['"not a time"', '""', '"2026-13-01T00:00:00Z"', '"2026-02-30T10:00:00Z"', '"2026-01-27"',
    '"20:00:00"', '"2026-01-27T25:00:00Z"', '"2026-01-27T20:61:00Z"', '1769546833', 'true', '{}', '[]',
    '"2026/01/27 20:00:00"', '"2026-01-27T20:00:00ZZ"'],
};
const VALID_BIGINT = ['9223372036854775807', '-9223372036854775808', '0', '-5'];
const VALID_DOUBLE = ['42', '-0.5', '1e-3', '1.5E2', '0'];

export default {
  sizes: { full: 50000, san: 5000 },
  generate(dir, n) {
    const rng = makeRng(5);
    const lines = [];
    let injected = 0;
    for (const { us, rec } of steadyRecords(rng, n, 100)) {
      const raw = {};
      for (const [k, v] of Object.entries(rec)) raw[k] = JSON.stringify(v);
      const r = rng.next();
      if (r < 0.05) raw.timestamp = JSON.stringify(isoUtc(us, { sep: ' ' }));
      else if (r < 0.10) raw.timestamp = JSON.stringify(isoUtc(us + 2 * 3600e6, { zone: '+02:00' }));
      else if (r < 0.15) raw.timestamp = JSON.stringify(isoUtc(us - 5.5 * 3600e6, { zone: '-05:30' }));
      else if (r < 0.20) raw.timestamp = JSON.stringify(isoUtc(us, { zone: '' }));
      else if (r < 0.25) raw.timestamp = JSON.stringify(isoUtc(Math.floor(us / 1000) * 1000, { fracDigits: 3 }));
      if (rng.chance(0.05)) raw.flow_bytes = rng.pick(VALID_BIGINT);
      if (rng.chance(0.05)) raw.latency_ms = rng.pick(VALID_DOUBLE);
      if (rng.chance(0.3)) {
        const [col, type] = rng.pick(METRIC_SCHEMA);
        raw[col] = rng.pick(WRONG[type]);
        injected++;
      }
      lines.push('{' + Object.entries(raw).map(([k, v]) => `"${k}":${v}`).join(',') + '}');
    }
    const file = path.join(dir, 'wrongtypes.ndjson');
    writeLines(file, lines);
    return { sources: { metrics: file }, lines: n, injectedTypeErrors: injected };
  },
  sql: metricsSourceSql() + `
CREATE MATERIALIZED VIEW typed_stats AS
SELECT device_id, window_start, window_end,
       COUNT(*) AS n, COUNT(src_ip) AS n_src, COUNT(dst_ip) AS n_dst, MIN(protocol) AS min_proto,
       AVG(latency_ms) AS avg_lat, MAX(packet_loss_rate) AS max_loss, MIN(bandwidth_usage_percent) AS min_bw,
       MIN(flow_bytes) AS min_bytes, MAX(flow_bytes) AS max_bytes, COUNT(flow_bytes) AS n_bytes
FROM TUMBLE(metrics, timestamp, INTERVAL '10 seconds')
GROUP BY device_id, window_start, window_end;
`,
  then: 'SELECT * FROM typed_stats ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    SELECT device_id, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
           COUNT(*) AS n, COUNT(src_ip) AS n_src, COUNT(dst_ip) AS n_dst, MIN(protocol) AS min_proto,
           AVG(latency_ms) AS avg_lat, MAX(packet_loss_rate) AS max_loss, MIN(bandwidth_usage_percent) AS min_bw,
           MIN(flow_bytes) AS min_bytes, MAX(flow_bytes) AS max_bytes, COUNT(flow_bytes) AS n_bytes
    FROM (SELECT *, epoch_us(${tumbleStart('"timestamp"', 10)}) AS ws
          FROM ${typedSourceSql(sources.metrics, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
    GROUP BY device_id, ws`,
  async expect({ duck, sources, lines, injectedTypeErrors }) {
    const e = await plainExpect(duck, sources.metrics, lines, ['typed_stats']);
    // The oracle checks itself: its SQL reading must find exactly what was injected.
    const found = e.sources.metrics.type_errors;
    if (found !== injectedTypeErrors) {
      throw new Error(`oracle self-check: DuckDB rules count ${found} type errors, generator injected ${injectedTypeErrors}`);
    }
    return e;
  },
};
