// WHERE before GROUP BY: IN over strings (case-sensitive), a strict > on a
// FLOAT with values exactly at the bound, NULLs in both filtered columns.
import path from 'node:path';
import { makeRng, steadyRecords, writeLines, metricsSourceSql, typedSourceSql, METRIC_SCHEMA, plainExpect, tumbleStart } from '../lib.mjs';

export default {
  sizes: { full: 60000, san: 6000 },
  generate(dir, n) {
    const rng = makeRng(7);
    const lines = [];
    for (const { rec } of steadyRecords(rng, n, 100)) {
      if (rng.chance(0.1)) rec.latency_ms = 20;
      if (rng.chance(0.03)) rec.latency_ms = 20.000000000000004;
      if (rng.chance(0.05)) rec.latency_ms = null;
      if (rng.chance(0.05)) rec.protocol = null;
      if (rng.chance(0.05)) rec.protocol = rng.pick(['tcp', 'https', 'TCP ', 'HTTPS2']);
      lines.push(JSON.stringify(rec));
    }
    const file = path.join(dir, 'filter.ndjson');
    writeLines(file, lines);
    return { sources: { metrics: file }, lines: n };
  },
  sql: metricsSourceSql() + `
CREATE MATERIALIZED VIEW filtered_stats AS
SELECT device_id, window_start, window_end,
       COUNT(*) AS n, AVG(latency_ms) AS avg_lat, SUM(flow_bytes) AS bytes, MIN(latency_ms) AS min_lat
FROM TUMBLE(metrics, timestamp, INTERVAL '10 seconds')
WHERE protocol IN ('TCP', 'HTTPS') AND latency_ms > 20
GROUP BY device_id, window_start, window_end;
`,
  then: 'SELECT * FROM filtered_stats ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    SELECT device_id, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
           COUNT(*) AS n, AVG(latency_ms) AS avg_lat, SUM(flow_bytes) AS bytes, MIN(latency_ms) AS min_lat
    FROM (SELECT *, epoch_us(${tumbleStart('"timestamp"', 10)}) AS ws
          FROM ${typedSourceSql(sources.metrics, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
    WHERE protocol IN ('TCP', 'HTTPS') AND latency_ms > 20
    GROUP BY device_id, ws`,
  expect: ({ duck, sources, lines }) => plainExpect(duck, sources.metrics, lines, ['filtered_stats']),
};
