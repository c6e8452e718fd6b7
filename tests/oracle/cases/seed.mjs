// The seed pipeline, verbatim, over `tidewatch gen` output: network_anomalies
// at EOF must equal the seed's SQL run as one batch query over the whole file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, tumbleStart } from '../lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SEED_SQL = path.join(here, '../../data/sql/seed.sql');

export default {
  sizes: { full: 1000000, san: 100000 },
  generate(dir, n, { bin }) {
    const file = path.join(dir, 'seed.ndjson');
    const r = run(bin, ['gen', '--count', String(n), '--seed', '1', '--out', file]);
    if (r.status !== 0) throw new Error(`tidewatch gen failed (${r.status}): ${r.stderr}`);
    return { sources: { network_metrics_source: file }, lines: n };
  },
  sqlFile: SEED_SQL,
  then: 'SELECT * FROM network_anomalies ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    WITH src AS (
      SELECT * FROM read_json('${sources.network_metrics_source}', format='newline_delimited',
        columns={device_id:'VARCHAR', "timestamp":'TIMESTAMP', src_ip:'VARCHAR', dst_ip:'VARCHAR',
                 protocol:'VARCHAR', latency_ms:'DOUBLE', packet_loss_rate:'DOUBLE',
                 bandwidth_usage_percent:'DOUBLE', flow_bytes:'BIGINT'})),
    device_metrics_10s AS (
      SELECT device_id, ws AS window_start, ws + INTERVAL 10 SECOND AS window_end,
             AVG(latency_ms) AS avg_latency_ms, AVG(packet_loss_rate) AS avg_packet_loss_rate,
             AVG(bandwidth_usage_percent) AS avg_bandwidth_usage, SUM(flow_bytes) AS total_flow_bytes
      FROM (SELECT *, ${tumbleStart('"timestamp"', 10)} AS ws FROM src WHERE "timestamp" IS NOT NULL)
      GROUP BY device_id, ws)
    SELECT device_id, window_start, window_end, avg_latency_ms, avg_packet_loss_rate, avg_bandwidth_usage,
           avg_latency_ms > 100 AS is_high_latency, avg_packet_loss_rate > 5 AS is_high_packet_loss,
           avg_bandwidth_usage > 90 AS is_bandwidth_saturation
    FROM device_metrics_10s
    WHERE avg_latency_ms > 100 OR avg_packet_loss_rate > 5 OR avg_bandwidth_usage > 90`,
  async expect({ lines }) {
    return {
      sources: { network_metrics_source: { lines, rows: lines, malformed: 0, type_errors: 0, late_rows: 0 } },
      mvs: { device_metrics_10s: { late_rows: 0 }, network_anomalies: { late_rows: 0 } },
    };
  },
  cleanup: true,
};
