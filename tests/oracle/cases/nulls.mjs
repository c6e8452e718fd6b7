// Missing keys and JSON nulls in every column: a NULL device_id is its own
// group, a NULL timestamp drops the row from TUMBLE, AVG of an all-NULL group
// is NULL while COUNT(*) still counts its rows.
import path from 'node:path';
import { makeRng, steadyRecords, writeLines, metricsSourceSql, typedSourceSql, METRIC_SCHEMA, plainExpect, tumbleStart } from '../lib.mjs';

export default {
  sizes: { full: 50000, san: 5000 },
  generate(dir, n) {
    const rng = makeRng(4);
    const lines = [];
    for (const { rec } of steadyRecords(rng, n, 100)) {
      for (const [k] of METRIC_SCHEMA) {
        if (rng.chance(0.07)) delete rec[k];
        else if (rng.chance(0.07)) rec[k] = null;
      }
      // a device whose numeric columns are always null: all-NULL aggregates
      if (rec.device_id === 'server-02') {
        rec.latency_ms = null;
        delete rec.flow_bytes;
      }
      if (rng.chance(0.01)) lines.push('{}');
      else if (rng.chance(0.01)) lines.push(JSON.stringify({ timestamp: rec.timestamp }));
      else lines.push(JSON.stringify(rec));
    }
    const file = path.join(dir, 'nulls.ndjson');
    writeLines(file, lines);
    return { sources: { metrics: file }, lines: n };
  },
  sql: metricsSourceSql() + `
CREATE MATERIALIZED VIEW null_stats AS
SELECT device_id, window_start, window_end,
       COUNT(*) AS n, COUNT(latency_ms) AS n_lat, AVG(latency_ms) AS avg_lat,
       SUM(flow_bytes) AS sum_bytes, MIN(protocol) AS min_proto, MAX(bandwidth_usage_percent) AS max_bw,
       COUNT(src_ip) AS n_src
FROM TUMBLE(metrics, timestamp, INTERVAL '10 seconds')
GROUP BY device_id, window_start, window_end;
`,
  then: 'SELECT * FROM null_stats ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    SELECT device_id, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
           COUNT(*) AS n, COUNT(latency_ms) AS n_lat, AVG(latency_ms) AS avg_lat,
           SUM(flow_bytes) AS sum_bytes, MIN(protocol) AS min_proto, MAX(bandwidth_usage_percent) AS max_bw,
           COUNT(src_ip) AS n_src
    FROM (SELECT *, epoch_us(${tumbleStart('"timestamp"', 10)}) AS ws
          FROM ${typedSourceSql(sources.metrics, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
    GROUP BY device_id, ws`,
  expect: ({ duck, sources, lines }) => plainExpect(duck, sources.metrics, lines, ['null_stats']),
};
