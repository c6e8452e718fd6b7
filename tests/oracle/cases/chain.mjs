// An MV over an MV over an MV: aggregate, a filter on it, a filter plus
// projection on that. Averages hover around both thresholds and rows arrive
// out of order, so groups enter and leave the filtered views many times.
import path from 'node:path';
import { makeRng, writeLines, isoUtc, metricRecord, metricsSourceSql, typedSourceSql, METRIC_SCHEMA, plainExpect, tumbleStart, BASE_US } from '../lib.mjs';

export default {
  sizes: { full: 60000, san: 6000 },
  generate(dir, n) {
    const rng = makeRng(10);
    const lines = [];
    for (let i = 0; i < n; i++) {
      const us = BASE_US + i * 140000 + Math.round((rng.next() - 0.5) * 40e6);
      const rec = metricRecord(rng, us, { anomalyRate: 0 });
      if (rng.chance(0.35)) rec.latency_ms = rng.round2(100, 200);
      if (rng.chance(0.3)) rec.packet_loss_rate = rng.round2(5, 15);
      lines.push(JSON.stringify(rec));
    }
    const file = path.join(dir, 'chain.ndjson');
    writeLines(file, lines);
    return { sources: { metrics: file }, lines: n };
  },
  sql: metricsSourceSql() + `
CREATE MATERIALIZED VIEW chain_agg AS
SELECT device_id, window_start, window_end,
       AVG(latency_ms) AS avg_lat, AVG(packet_loss_rate) AS avg_loss, COUNT(*) AS n
FROM TUMBLE(metrics, timestamp, INTERVAL '10 seconds')
GROUP BY device_id, window_start, window_end;

CREATE MATERIALIZED VIEW chain_hot AS
SELECT device_id, window_start, window_end, avg_lat, avg_loss, n
FROM chain_agg
WHERE avg_lat > 60;

CREATE MATERIALIZED VIEW chain_alert AS
SELECT device_id, window_start, avg_lat, avg_loss, avg_lat * 2 AS double_lat, avg_loss > 5 AS severe
FROM chain_hot
WHERE avg_loss > 3 OR n < 5;
`,
  then: 'SELECT * FROM chain_alert ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    WITH chain_agg AS (
      SELECT device_id, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
             AVG(latency_ms) AS avg_lat, AVG(packet_loss_rate) AS avg_loss, COUNT(*) AS n
      FROM (SELECT *, epoch_us(${tumbleStart('"timestamp"', 10)}) AS ws
            FROM ${typedSourceSql(sources.metrics, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
      GROUP BY device_id, ws),
    chain_hot AS (SELECT device_id, window_start, window_end, avg_lat, avg_loss, n FROM chain_agg WHERE avg_lat > 60)
    SELECT device_id, window_start, avg_lat, avg_loss, avg_lat * 2 AS double_lat, avg_loss > 5 AS severe
    FROM chain_hot WHERE avg_loss > 3 OR n < 5`,
  expect: ({ duck, sources, lines }) => plainExpect(duck, sources.metrics, lines, ['chain_agg', 'chain_hot', 'chain_alert']),
};
