// WATERMARK FOR ts AS ts - INTERVAL '5' SECOND with EMIT ON WINDOW CLOSE: a row
// is late when ts < (max ts of all earlier rows) - 5 s; late rows are dropped
// and counted on the source; each window is emitted once over the rest.
import path from 'node:path';
import { makeRng, writeLines, isoUtc, KAFKA_WITH, typedSourceSql, tumbleStart, BASE_US, DEVICES } from '../lib.mjs';

const SCHEMA = [['device_id', 'VARCHAR'], ['ts', 'TIMESTAMP'], ['latency_ms', 'DOUBLE'], ['flow_bytes', 'BIGINT']];
const DELAY_US = 5e6;

export default {
  sizes: { full: 60000, san: 6000 },
  generate(dir, n) {
    const rng = makeRng(9);
    const lines = [];
    let base = BASE_US;
    let maxUs = -Infinity;
    let late = 0;
    for (let i = 0; i < n; i++) {
      base += rng.int(0, 200000);
      let us;
      const r = rng.next();
      if (i > 0 && r < 0.05) us = maxUs - DELAY_US - rng.int(1, 60e6); // late
      else if (i > 0 && r < 0.06) us = maxUs - DELAY_US; // exactly at the watermark: kept
      else if (i > 0 && r < 0.07) us = maxUs - DELAY_US - 1; // 1 us past it: late
      else us = base - rng.int(0, 4e6); // disorder within the delay: kept
      if (us < maxUs - DELAY_US) late++;
      maxUs = Math.max(maxUs, us);
      lines.push(JSON.stringify({
        device_id: rng.pick(DEVICES), ts: isoUtc(us),
        latency_ms: Math.round(rng.next() * 20000) / 100, flow_bytes: rng.int(1024, 1048576),
      }));
    }
    const file = path.join(dir, 'watermark.ndjson');
    writeLines(file, lines);
    return { sources: { wm_metrics: file }, lines: n, generatedLate: late };
  },
  sql: `
CREATE SOURCE wm_metrics (
    device_id VARCHAR,
    ts TIMESTAMP,
    latency_ms FLOAT,
    flow_bytes BIGINT,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) ${KAFKA_WITH};

CREATE MATERIALIZED VIEW wm_stats AS
SELECT device_id, window_start, window_end,
       COUNT(*) AS n, AVG(latency_ms) AS avg_lat, SUM(flow_bytes) AS bytes
FROM TUMBLE(wm_metrics, ts, INTERVAL '10' SECOND)
GROUP BY device_id, window_start, window_end
EMIT ON WINDOW CLOSE;
`,
  then: 'SELECT * FROM wm_stats ORDER BY device_id, window_start',
  keys: ['device_id', 'window_start'],
  duck: ({ sources }) => `
    WITH src AS (SELECT * FROM ${typedSourceSql(sources.wm_metrics, SCHEMA)}),
    marked AS (
      SELECT *, ts < MAX(ts) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                     - INTERVAL 5 SECOND AS late
      FROM src)
    SELECT device_id, make_timestamp(ws) AS window_start, make_timestamp(ws + 10000000) AS window_end,
           COUNT(*) AS n, AVG(latency_ms) AS avg_lat, SUM(flow_bytes) AS bytes
    FROM (SELECT *, epoch_us(${tumbleStart('ts', 10)}) AS ws FROM marked
          WHERE ts IS NOT NULL AND late IS NOT TRUE)
    GROUP BY device_id, ws`,
  async expect({ duck, sources, lines, generatedLate }) {
    const late = await duck.scalar(`
      SELECT COUNT(*) FROM (
        SELECT ts < MAX(ts) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                    - INTERVAL 5 SECOND AS late
        FROM ${typedSourceSql(sources.wm_metrics, SCHEMA)}) WHERE late`);
    if (late !== generatedLate) {
      throw new Error(`oracle self-check: DuckDB finds ${late} late rows, generator wrote ${generatedLate}`);
    }
    return { sources: { wm_metrics: { lines, malformed: 0, type_errors: 0, late_rows: late } } };
  },
};
