/* netsim.h - the built-in network telemetry simulator.
 *
 * Produces the seed demo's message format as NDJSON, one object a line:
 *   {"device_id":"router-01","timestamp":"2026-01-27T20:47:13.482913Z",
 *    "src_ip":"192.168.1.17","dst_ip":"10.0.0.3","protocol":"TCP",
 *    "latency_ms":23.41,"packet_loss_rate":0.52,
 *    "bandwidth_usage_percent":55.1,"flow_bytes":524288}
 * Device names are the seed's five (router-01, router-02, server-01,
 * server-02, switch-01) when devices <= 5, generated names beyond. Times are
 * UTC. Anomalies come per metric (latency, loss, bandwidth each on its own)
 * in episodes lasting several 10-second windows, like real incidents. The
 * output is a pure function of the options: same options, same bytes.
 */
#ifndef TW_SOURCE_NETSIM_H
#define TW_SOURCE_NETSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct tw_netsim_opts {
    uint32_t devices;           /* default 5 */
    uint64_t seed;              /* default 1 */
    int64_t start_us;           /* event time of the first message; default 2026-01-01T00:00:00Z */
    double events_per_sec;      /* event-time rate over all devices; default 1000 */
    double anomaly_rate;        /* probability that a device/metric starts an episode per window; default 0.02 */
    double latency_anomaly_rate;   /* per-metric overrides; < 0 means "use anomaly_rate" */
    double loss_anomaly_rate;
    double bandwidth_anomaly_rate;
} tw_netsim_opts;

/* Fills opts with the defaults above. */
void tw_netsim_opts_default(tw_netsim_opts *opts);

/* Applies "key=value" settings from a URI query or WITH options (devices,
 * rate, seed, start, anomaly_rate, latency_anomaly_rate, loss_anomaly_rate,
 * bandwidth_anomaly_rate). Returns false with a message naming the key on an
 * unknown key or bad value. */
bool tw_netsim_opts_set(tw_netsim_opts *opts, const char *key, const char *value, tw_err *err);

typedef struct tw_netsim tw_netsim;

tw_netsim *tw_netsim_new(const tw_netsim_opts *opts);
void tw_netsim_free(tw_netsim *sim);

/* Writes whole lines (each ending in '\n') into buf, at most max_events of
 * them and never more than cap bytes. Returns the bytes written; *events is
 * set to the number of lines. cap must be at least 1024. */
size_t tw_netsim_fill(tw_netsim *sim, char *buf, size_t cap, uint64_t max_events, uint64_t *events);

/* Event time (UTC microseconds) of the next line tw_netsim_fill will write;
 * a live source uses it to pace output against the wall clock. */
int64_t tw_netsim_next_time_us(const tw_netsim *sim);

#endif
