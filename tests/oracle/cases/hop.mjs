// HOP windows (5 s hop, 20 s size): each row belongs to four windows; rows on
// exact hop boundaries start a window and leave the oldest one.
import path from 'node:path';
import { makeRng, steadyRecords, writeLines, isoUtc, metricsSourceSql, typedSourceSql, METRIC_SCHEMA, plainExpect } from '../lib.mjs';

export default {
  sizes: { full: 60000, san: 6000 },
  generate(dir, n) {
    const rng = makeRng(2);
    const lines = [];
    for (const { i, us, rec } of steadyRecords(rng, n, 120)) {
      if (i % 37 === 0) rec.timestamp = isoUtc(Math.floor(us / 5e6) * 5e6); // on a hop boundary
      if (i % 41 === 0) rec.timestamp = isoUtc(Math.floor(us / 5e6) * 5e6 - 1); // 1 us before one
      lines.push(JSON.stringify(rec));
    }
    const file = path.join(dir, 'hop.ndjson');
    writeLines(file, lines);
    return { sources: { metrics: file }, lines: n };
  },
  sql: metricsSourceSql() + `
CREATE MATERIALIZED VIEW hop_stats AS
SELECT device_id, window_start, window_end,
       AVG(latency_ms) AS avg_latency, COUNT(*) AS n, MAX(bandwidth_usage_percent) AS max_bw
FROM HOP(metrics, timestamp, INTERVAL '5 seconds', INTERVAL '20 seconds')
GROUP BY device_id, window_start, window_end;
`,
  then: 'SELECT * FROM hop_stats ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    SELECT device_id, make_timestamp(s) AS window_start, make_timestamp(s + 20000000) AS window_end,
           AVG(latency_ms) AS avg_latency, COUNT(*) AS n, MAX(bandwidth_usage_percent) AS max_bw
    FROM (SELECT *, unnest(range((epoch_us("timestamp") // 5000000) * 5000000 - 15000000,
                                 (epoch_us("timestamp") // 5000000) * 5000000 + 1, 5000000)) AS s
          FROM ${typedSourceSql(sources.metrics, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
    GROUP BY device_id, s`,
  expect: ({ duck, sources, lines }) => plainExpect(duck, sources.metrics, lines, ['hop_stats']),
};
