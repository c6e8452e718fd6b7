// GROUP BY device_id, protocol, window with HAVING COUNT(*) > 3 (groups enter
// as they pass 3 rows; NULL protocol is a group), then an MV projecting it
// with CASE, integer and float arithmetic, COALESCE, ABS and CAST.
import path from 'node:path';
import { makeRng, steadyRecords, writeLines, metricsSourceSql, typedSourceSql, METRIC_SCHEMA, plainExpect, tumbleStart } from '../lib.mjs';

export default {
  sizes: { full: 60000, san: 6000 },
  generate(dir, n) {
    const rng = makeRng(8);
    const lines = [];
    for (const { rec } of steadyRecords(rng, n, 150, { anomalyRate: 0.3 })) {
      if (rng.chance(0.05)) rec.protocol = null;
      if (rng.chance(0.1)) delete rec.packet_loss_rate;
      if (rng.chance(0.05)) delete rec.flow_bytes;
      lines.push(JSON.stringify(rec));
    }
    const file = path.join(dir, 'multikey.ndjson');
    writeLines(file, lines);
    return { sources: { metrics: file }, lines: n };
  },
  sql: metricsSourceSql() + `
CREATE MATERIALIZED VIEW proto_stats AS
SELECT device_id, protocol, window_start, window_end,
       COUNT(*) AS n, AVG(latency_ms) AS avg_lat, SUM(flow_bytes) AS bytes, MAX(packet_loss_rate) AS max_loss
FROM TUMBLE(metrics, timestamp, INTERVAL '10 seconds')
GROUP BY device_id, protocol, window_start, window_end
HAVING COUNT(*) > 3;

CREATE MATERIALIZED VIEW proto_report AS
SELECT device_id, protocol, window_start, n,
       CASE WHEN avg_lat > 100 THEN 'high' WHEN avg_lat > 30 THEN 'mid' ELSE 'low' END AS band,
       bytes / n AS bytes_per_row,
       CAST(bytes AS DOUBLE PRECISION) / n AS exact_bytes_per_row,
       COALESCE(max_loss, -1.0) AS max_loss_or_neg,
       ABS(avg_lat - 30.0) AS lat_dist,
       CAST(n AS DOUBLE PRECISION) * 0.5 + 1 AS half_n_plus_1,
       COALESCE(protocol, 'none') AS proto
FROM proto_stats;
`,
  then: 'SELECT * FROM proto_report ORDER BY device_id, protocol, window_start',
  keys: ['device_id', 'protocol', 'window_start'],
  duck: ({ sources }) => `
    WITH proto_stats AS (
      SELECT device_id, protocol, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
             COUNT(*) AS n, AVG(latency_ms) AS avg_lat, SUM(flow_bytes) AS bytes, MAX(packet_loss_rate) AS max_loss
      FROM (SELECT *, epoch_us(${tumbleStart('"timestamp"', 10)}) AS ws
            FROM ${typedSourceSql(sources.metrics, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
      GROUP BY device_id, protocol, ws
      HAVING COUNT(*) > 3)
    SELECT device_id, protocol, window_start, n,
           CASE WHEN avg_lat > 100 THEN 'high' WHEN avg_lat > 30 THEN 'mid' ELSE 'low' END AS band,
           CAST(bytes // n AS BIGINT) AS bytes_per_row,
           CAST(bytes AS DOUBLE) / n AS exact_bytes_per_row,
           COALESCE(max_loss, -1.0) AS max_loss_or_neg,
           ABS(avg_lat - 30.0) AS lat_dist,
           CAST(n AS DOUBLE) * 0.5 + 1 AS half_n_plus_1,
           COALESCE(protocol, 'none') AS proto
    FROM proto_stats`,
  expect: ({ duck, sources, lines }) => plainExpect(duck, sources.metrics, lines, ['proto_stats', 'proto_report']),
};
