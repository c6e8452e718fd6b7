/* kafka.h - the Kafka source driver (connector = 'kafka').
 *
 * Consumes one topic as a member of a consumer group (librdkafka's
 * high-level consumer), so several tidewatch processes with the same
 * group.id split its partitions and take over each other's on rebalance.
 * Each read hands out rows of one partition decoded straight from
 * librdkafka's message buffers (no copy); the driver owns those messages
 * until the engine calls done, then stores the next offset for the group
 * (committed every second and at close), so committed offsets never run
 * ahead of what the pipeline has processed. A bounded driver (--exit-at-eof)
 * stops each partition at the end offset it had when it was assigned and
 * then reports end of input. Broker trouble is retried by librdkafka and
 * reported on stderr once per change of state; nothing is lost meanwhile.
 */
#ifndef TW_SOURCE_KAFKA_H
#define TW_SOURCE_KAFKA_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "source/source.h"

/* Creates a Kafka driver for source `source_name` from its WITH options
 * keys[i] = values[i] (RisingWave's: topic, properties.bootstrap.server,
 * scan.startup.mode, scan.startup.timestamp.millis; every other properties.*
 * key goes to librdkafka without the prefix; "connector" is ignored).
 * bounded: stop at the end offsets of the run's start (see above). Strings
 * are copied; schema's arrays are borrowed for the driver's lifetime.
 * Returns NULL with err set on a missing, unknown or rejected option. */
tw_source_driver *tw_kafka_driver_new(const char *source_name, const char *const *keys,
                                      const char *const *values, uint32_t count,
                                      const tw_source_schema *schema, bool bounded, tw_err *err);

/* True when d was made by tw_kafka_driver_new. */
bool tw_kafka_driver_is(const tw_source_driver *d);

typedef struct tw_kafka_partition_stats {
    int32_t partition;
    int64_t lag;       /* high watermark minus the next offset to process; -1 unknown */
    uint64_t messages; /* messages processed from this partition by this process */
} tw_kafka_partition_stats;

/* Fills out[0..max) with the partitions currently assigned to this process
 * (ascending) and returns how many there are (may exceed max). The lag uses
 * the high watermark librdkafka last saw (no broker round trip). */
uint32_t tw_kafka_driver_partitions(const tw_source_driver *d, tw_kafka_partition_stats *out,
                                    uint32_t max);

#endif
