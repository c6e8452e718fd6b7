// Every aggregate over every column type per device per TUMBLE: count(*) vs
// count(col), min/max/sum of BIGINT and FLOAT, min/max of VARCHAR (byte order,
// non-ASCII), AVG; device ids that need csv quoting, and the empty string.
import path from 'node:path';
import { makeRng, steadyRecords, writeLines, metricsSourceSql, typedSourceSql, METRIC_SCHEMA, plainExpect, tumbleStart } from '../lib.mjs';

const ODD_DEVICES = ['dev,comma', 'dev"quote', 'dev\nnewline', '', 'dév-é', '日本-01', 'Router-01', ' router-01'];
const ODD_PROTOCOLS = ['tcp', 'Tcp', 'ÜDP', 'HTTP/2', 'a', 'zz', '', 'ICMPv6'];

export default {
  sizes: { full: 60000, san: 6000 },
  generate(dir, n) {
    const rng = makeRng(3);
    const lines = [];
    for (const { rec } of steadyRecords(rng, n, 100)) {
      if (rng.chance(0.2)) rec.device_id = rng.pick(ODD_DEVICES);
      if (rng.chance(0.2)) rec.protocol = rng.pick(ODD_PROTOCOLS);
      if (rng.chance(0.1)) delete rec.protocol;
      if (rng.chance(0.1)) delete rec.latency_ms;
      if (rng.chance(0.05)) rec.flow_bytes = null;
      // full-precision doubles, negatives and zero; ints across signs and magnitudes
      if (rng.chance(0.3)) rec.latency_ms = (rng.next() - 0.3) * 1000;
      if (rng.chance(0.05)) rec.latency_ms = 0;
      if (rng.chance(0.2)) rec.flow_bytes = rng.int(-1e6, 1e6) * 1000003;
      // this device never reports latency: its min/max/sum/avg are NULL
      if (rec.device_id === 'switch-01') delete rec.latency_ms;
      lines.push(JSON.stringify(rec));
    }
    const file = path.join(dir, 'aggs.ndjson');
    writeLines(file, lines);
    return { sources: { metrics: file }, lines: n };
  },
  sql: metricsSourceSql() + `
CREATE MATERIALIZED VIEW agg_stats AS
SELECT device_id, window_start, window_end,
       COUNT(*) AS n, COUNT(latency_ms) AS n_lat,
       MIN(latency_ms) AS min_lat, MAX(latency_ms) AS max_lat, SUM(latency_ms) AS sum_lat,
       AVG(packet_loss_rate) AS avg_loss,
       MIN(flow_bytes) AS min_bytes, MAX(flow_bytes) AS max_bytes, SUM(flow_bytes) AS sum_bytes,
       COUNT(protocol) AS n_proto, MIN(protocol) AS min_proto, MAX(protocol) AS max_proto,
       MIN(src_ip) AS min_src, MAX(dst_ip) AS max_dst
FROM TUMBLE(metrics, timestamp, INTERVAL '10 seconds')
GROUP BY device_id, window_start, window_end;
`,
  then: 'SELECT * FROM agg_stats ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    SELECT device_id, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
           COUNT(*) AS n, COUNT(latency_ms) AS n_lat,
           MIN(latency_ms) AS min_lat, MAX(latency_ms) AS max_lat, SUM(latency_ms) AS sum_lat,
           AVG(packet_loss_rate) AS avg_loss,
           MIN(flow_bytes) AS min_bytes, MAX(flow_bytes) AS max_bytes, SUM(flow_bytes) AS sum_bytes,
           COUNT(protocol) AS n_proto, MIN(protocol) AS min_proto, MAX(protocol) AS max_proto,
           MIN(src_ip) AS min_src, MAX(dst_ip) AS max_dst
    FROM (SELECT *, epoch_us(${tumbleStart('"timestamp"', 10)}) AS ws
          FROM ${typedSourceSql(sources.metrics, METRIC_SCHEMA)} WHERE "timestamp" IS NOT NULL)
    GROUP BY device_id, ws`,
  expect: ({ duck, sources, lines }) => plainExpect(duck, sources.metrics, lines, ['agg_stats']),
};
