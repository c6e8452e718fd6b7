// Events shuffled within +-3 minutes, no watermark: every window stays open
// until EOF, so the result equals the batch result and nothing is late.
import path from 'node:path';
import { makeRng, writeLines, isoUtc, metricRecord, metricsSourceSql, typedSourceSql, METRIC_SCHEMA, plainExpect, tumbleStart, BASE_US } from '../lib.mjs';

export default {
  sizes: { full: 60000, san: 6000 },
  generate(dir, n) {
    const rng = makeRng(6);
    const lines = [];
    for (let i = 0; i < n; i++) {
      const us = BASE_US + i * 50000 + Math.round((rng.next() - 0.5) * 360e6);
      const rec = metricRecord(rng, us);
      rec.timestamp = isoUtc(us);
      lines.push(JSON.stringify(rec));
    }
    const file = path.join(dir, 'outoforder.ndjson');
    writeLines(file, lines);
    return { sources: { metrics: file }, lines: n };
  },
  sql: metricsSourceSql() + `
CREATE MATERIALIZED VIEW ooo_stats AS
SELECT device_id, window_start, window_end,
       COUNT(*) AS n, AVG(latency_ms) AS avg_lat, SUM(flow_bytes) AS bytes, MAX(packet_loss_rate) AS max_loss
FROM TUMBLE(metrics, timestamp, INTERVAL '10 seconds')
GROUP BY device_id, window_start, window_end;
`,
  then: 'SELECT * FROM ooo_stats ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    SELECT device_id, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
           COUNT(*) AS n, AVG(latency_ms) AS avg_lat, SUM(flow_bytes) AS bytes, MAX(packet_loss_rate) AS max_loss
    FROM (SELECT *, epoch_us(${tumbleStart('"timestamp"', 10)}) AS ws
          FROM ${typedSourceSql(sources.metrics, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
    GROUP BY device_id, ws`,
  expect: ({ duck, sources, lines }) => plainExpect(duck, sources.metrics, lines, ['ooo_stats']),
};
