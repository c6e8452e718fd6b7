/* kafka.c - see kafka.h.
 *
 * Each assigned partition keeps its own librdkafka queue (not forwarded to
 * the consumer queue), and reads take turns over the partitions. That
 * matters for throughput, not only fairness: librdkafka 2.0 stops fetching
 * a partition whose queue holds queued.min.messages or
 * queued.max.messages.kbytes, and with every partition forwarded into one
 * queue they all count the same shared length, so one large fetch response
 * (a megabyte from each of many partitions) stopped them all at once, and
 * the fetcher looked again only on its next wake-up, up to a second later.
 * Per-partition queues give each partition its own bound, and a partition
 * whose queue is full waits (is not fetched) while the pipeline drains it:
 * that is the backpressure. The consumer queue still carries rebalances and
 * errors; every queue wakes a pipe when it goes from empty to non-empty, so
 * an idle read sleeps on the pipe rather than a fixed interval.
 *
 * Consecutive messages of one partition form a run that becomes one batch;
 * the run's messages stay alive until done(), since the batch's strings
 * point into their payloads. Polling happens only when every message has
 * been handed out and done, so a rebalance never revokes a partition whose
 * rows are in flight; messages polled for a revoked partition are dropped
 * unprocessed (and uncommitted) for the next owner.
 */
#define _GNU_SOURCE /* pipe2 */
#include "source/kafka.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

#include "common/arena.h"
#include "common/timeutil.h"

/* Messages polled at once; a few batches' worth. */
#define POLL_MAX_MESSAGES (8u * TW_BATCH_ROWS)
#define POLL_WAIT_MS 5
/* Bound on each metadata round trip made from the pipeline thread. */
#define QUERY_TIMEOUT_MS 2000
/* Bounded runs retry unknown end offsets at most this often. */
#define END_RETRY_US (INT64_C(100) * 1000)

typedef struct part_state {
    bool assigned;
    bool end_known;          /* bounded: end_offset is valid */
    int64_t end_offset;      /* bounded: offsets from here on belong to later runs */
    int64_t polled_next;     /* offset after the last message polled, -1 none */
    int64_t eof_offset;      /* offset of the last end-of-partition event, -1 none */
    int64_t done_next;       /* offset after the last message processed, -1 none */
    int64_t last_end_try_us;
    bool paused;
    uint64_t messages;
    int64_t resume_offset;   /* from the sink's last commit; -1: the group's offset */
    int64_t committed_offset; /* the group's, from librdkafka's statistics; < 0 none */
    rd_kafka_queue_t *queue; /* the partition's own fetch queue while assigned */
    bool was_full;           /* its queue was seen near queued.min.messages */
    bool throttled;          /* paused while the prefetch is over its budget */
} part_state;

typedef struct broker_state {
    char *name;
    bool down;
} broker_state;

typedef struct kafka_driver {
    tw_source_driver base;
    bool explicit_group; /* properties.group.id was given */
    bool start_latest;   /* scan.startup.mode = 'latest' */
    bool manual;         /* bounded run without a group: assign every partition */
    char *source_name;
    char *topic;
    char *bootstrap;
    rd_kafka_t *rk;
    tw_json_decoder *dec;
    tw_decode_stats stats;
    tw_batch *batch;
    bool bounded;
    bool debug_log; /* properties.debug is set: show librdkafka's log */
    int64_t start_timestamp_ms; /* -1: scan.startup.mode decides */
    rd_kafka_message_t **msgs;
    uint32_t nmsgs, pos;  /* msgs[pos..nmsgs) not handed out yet */
    uint32_t run_start;   /* msgs[run_start..pos) handed out, awaiting done */
    part_state *parts;
    uint32_t nparts;
    uint32_t next_part;         /* where the next round of reads starts */
    rd_kafka_queue_t *consumer_queue; /* rebalances and errors */
    int wake[2];                /* pipe written by librdkafka when a queue gets data */
    uint32_t queue_min_messages; /* librdkafka's queued.min.messages */
    uint64_t budget_bytes;       /* prefetch over all partitions (see budget()) */
    double avg_message_bytes;    /* running estimate, for the prefetch's size */
    uint32_t nthrottled;
    bool assignment_settled; /* an assignment came after the last revocation */
    broker_state *brokers;
    uint32_t nbrokers;
    char last_error[256];
    char last_commit_error[256];
    bool failed;
    tw_err fatal;
    uint64_t bytes;
} kafka_driver;

static const tw_source_driver_ops kafka_ops;

static part_state *part(kafka_driver *k, int32_t partition)
{
    assert(partition >= 0);
    uint32_t idx = (uint32_t)partition;
    if (idx >= k->nparts) {
        uint32_t n = idx + 1;
        k->parts = tw_xrealloc(k->parts, n * sizeof *k->parts);
        for (uint32_t i = k->nparts; i < n; i++)
            k->parts[i] = (part_state){.polled_next = -1,
                                       .eof_offset = -1,
                                       .done_next = -1,
                                       .resume_offset = -1,
                                       .committed_offset = -1};
        k->nparts = n;
    }
    return &k->parts[idx];
}

static void say(const kafka_driver *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const kafka_driver *k, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tidewatch: kafka source '%s': %s\n", k->source_name, msg);
}

/* ---- broker reachability ------------------------------------------------ */

static broker_state *broker(kafka_driver *k, const char *name, size_t len)
{
    for (uint32_t i = 0; i < k->nbrokers; i++)
        if (strlen(k->brokers[i].name) == len && !memcmp(k->brokers[i].name, name, len))
            return &k->brokers[i];
    k->brokers = tw_xrealloc(k->brokers, (k->nbrokers + 1) * sizeof *k->brokers);
    broker_state *b = &k->brokers[k->nbrokers++];
    b->name = tw_xcalloc(1, len + 1);
    memcpy(b->name, name, len);
    b->down = false;
    return b;
}

/* librdkafka names the broker before ": " in transport errors
 * ("127.0.0.1:9092/1: Connect to ... failed: Connection refused",
 * "GroupCoordinator: 127.0.0.1:9092: Disconnected"). */
static void broker_unreachable(kafka_driver *k, const char *reason)
{
    const char *colon = strstr(reason, ": ");
    if (!colon || colon == reason) {
        say(k, "%s; retrying", reason);
        return;
    }
    broker_state *b = broker(k, reason, (size_t)(colon - reason));
    if (b->down)
        return;
    b->down = true;
    say(k, "broker %s unreachable (%s), retrying", b->name, colon + 2);
}

/* Statistics (every second) tell which brokers are connected again. */
/* The group's committed offset of each partition, for the lag of those this
 * process has not processed a message of (a partition taken over at its
 * end is not behind). */
static void learn_committed(kafka_driver *k, json_t *root)
{
    json_t *topic = json_object_get(json_object_get(root, "topics"), k->topic);
    const char *key;
    json_t *pj;
    json_object_foreach(json_object_get(topic, "partitions"), key, pj)
    {
        long id = strtol(key, NULL, 10);
        json_t *committed = json_object_get(pj, "committed_offset");
        if (id >= 0 && (uint32_t)id < k->nparts && json_is_integer(committed))
            k->parts[id].committed_offset = json_integer_value(committed);
    }
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    kafka_driver *k = opaque;
    (void)rk;
    json_t *root = json_loadb(json, len, 0, NULL);
    learn_committed(k, root);
    bool any_down = false;
    for (uint32_t i = 0; i < k->nbrokers; i++)
        any_down |= k->brokers[i].down;
    if (!any_down) {
        json_decref(root);
        return 0;
    }
    json_t *brokers = json_object_get(root, "brokers");
    bool any_learned_up = false;
    const char *name;
    json_t *b;
    json_object_foreach(brokers, name, b) {
        const char *state = json_string_value(json_object_get(b, "state"));
        bool up = state && !strcmp(state, "UP");
        if (up && json_integer_value(json_object_get(b, "nodeid")) >= 0)
            any_learned_up = true;
        broker_state *bs = broker(k, name, strlen(name));
        if (up && bs->down) {
            bs->down = false;
            say(k, "broker %s reachable again", bs->name);
        }
    }
    /* Bootstrap addresses are only used until the cluster answers. */
    for (uint32_t i = 0; any_learned_up && i < k->nbrokers; i++) {
        broker_state *bs = &k->brokers[i];
        if (bs->down && strstr(bs->name, "/bootstrap")) {
            bs->down = false;
            say(k, "cluster reachable again (through %s)", bs->name);
        }
    }
    json_decref(root);
    return 0;
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    kafka_driver *k = opaque;
    char fatal[512];
    if (rd_kafka_fatal_error(rk, fatal, sizeof fatal)) {
        if (!k->failed)
            tw_err_set(&k->fatal, TW_ERR_IO, "kafka: fatal error: %s", fatal);
        k->failed = true;
        return;
    }
    switch (code) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
        broker_unreachable(k, reason);
        return;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        /* Each broker has been reported already. */
        return;
    default:
        if (strcmp(k->last_error, reason)) {
            snprintf(k->last_error, sizeof k->last_error, "%s", reason);
            say(k, "%s", reason);
        }
    }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t code,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    kafka_driver *k = opaque;
    (void)rk;
    (void)offsets;
    if (code == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return; /* nothing new to commit */
    const char *what = code ? rd_kafka_err2str(code) : "";
    if (strcmp(k->last_commit_error, what)) {
        if (code)
            say(k, "committing offsets failed (%s); will retry", what);
        else
            say(k, "committing offsets works again");
        snprintf(k->last_commit_error, sizeof k->last_commit_error, "%s", what);
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *facility, const char *buf)
{
    /* Errors reach on_error; only what librdkafka deems critical is shown,
     * unless its debug output was asked for. */
    const kafka_driver *k = rd_kafka_opaque(rk);
    if (level <= 2 || k->debug_log)
        say(k, "librdkafka %s: %s", facility, buf);
}

/* ---- assignment ----------------------------------------------------------- */

/* Gives each partition of the list its own queue before it is assigned:
 * unforwarded by the application, so librdkafka's fetch start does not
 * forward it to the consumer queue (see the top of the file). */
static void attach_queues(kafka_driver *k, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        part_state *p = part(k, parts->elems[i].partition);
        if (p->queue)
            continue;
        p->queue = rd_kafka_queue_get_partition(k->rk, k->topic, parts->elems[i].partition);
        if (!p->queue)
            continue; /* unknown partition: its messages stay on the consumer queue */
        rd_kafka_queue_forward(p->queue, NULL);
        rd_kafka_queue_io_event_enable(p->queue, k->wake[1], "p", 1);
    }
}

static void detach_queue(part_state *p)
{
    if (!p->queue)
        return;
    rd_kafka_queue_io_event_enable(p->queue, -1, NULL, 0);
    rd_kafka_queue_destroy(p->queue);
    p->queue = NULL;
}

/* Drops polled, not handed out messages of partitions no longer assigned. */
static void drop_unassigned(kafka_driver *k)
{
    assert(k->run_start == k->pos);
    uint32_t keep = k->pos;
    for (uint32_t i = k->pos; i < k->nmsgs; i++) {
        rd_kafka_message_t *m = k->msgs[i];
        if (part(k, m->partition)->assigned)
            k->msgs[keep++] = m;
        else
            rd_kafka_message_destroy(m);
    }
    k->nmsgs = keep;
}

/* With scan.startup.timestamp.millis, partitions the group has no offset
 * for start at the first message at or after that time. */
static void seek_to_timestamp(kafka_driver *k, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_topic_partition_list_t *by_time = rd_kafka_topic_partition_list_new(parts->cnt);
    rd_kafka_resp_err_t e = rd_kafka_committed(k->rk, committed, QUERY_TIMEOUT_MS);
    for (int i = 0; !e && i < committed->cnt; i++)
        if (committed->elems[i].offset < 0)
            rd_kafka_topic_partition_list_add(by_time, committed->elems[i].topic,
                                              committed->elems[i].partition)
                ->offset = k->start_timestamp_ms;
    if (!e && by_time->cnt)
        e = rd_kafka_offsets_for_times(k->rk, by_time, QUERY_TIMEOUT_MS);
    if (e) {
        say(k, "cannot look up offsets for scan.startup.timestamp.millis (%s); starting from "
               "the group's offsets or scan.startup.mode",
            rd_kafka_err2str(e));
    } else {
        for (int i = 0; i < by_time->cnt; i++) {
            rd_kafka_topic_partition_t *t = &by_time->elems[i];
            rd_kafka_topic_partition_t *p =
                rd_kafka_topic_partition_list_find(parts, t->topic, t->partition);
            if (p && !t->err)
                p->offset = t->offset; /* OFFSET_END when nothing is that recent */
        }
    }
    rd_kafka_topic_partition_list_destroy(committed);
    rd_kafka_topic_partition_list_destroy(by_time);
}

/* Commits the stored offsets synchronously (rebalance, close); failures
 * are reported by on_commit. */
static void commit_now(kafka_driver *k)
{
    rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, NULL, 0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        on_commit(k->rk, e, NULL, k);
}

static void describe(const rd_kafka_topic_partition_list_t *parts, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < parts->cnt && n + 16 < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%" PRId32, i ? "," : "", parts->elems[i].partition);
    if (parts->cnt == 0)
        snprintf(buf, cap, "none");
}

/* The partitions this process consumes now, for the log. */
static void describe_assigned(const kafka_driver *k, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < k->nparts && n + 16 < cap; i++)
        if (k->parts[i].assigned)
            n += (size_t)snprintf(buf + n, cap - n, "%s%" PRIu32, n ? "," : "", i);
    if (n == 0)
        snprintf(buf, cap, "none");
}

/* Before partitions are assigned: where each starts (a timestamp given by
 * scan.startup.timestamp.millis; a sink's last commit, which knows better
 * than the group where the rows it has not made durable start) and its own
 * queue. */
static void prepare_assignment(kafka_driver *k, rd_kafka_topic_partition_list_t *parts)
{
    if (k->start_timestamp_ms >= 0)
        seek_to_timestamp(k, parts);
    for (int i = 0; i < parts->cnt; i++) {
        part_state *p = part(k, parts->elems[i].partition);
        if (p->resume_offset >= 0)
            parts->elems[i].offset = p->resume_offset;
        p->resume_offset = -1; /* once: later owners follow the group */
    }
    attach_queues(k, parts);
}

/* After partitions are assigned: fresh reading state, not paused (an
 * earlier pause was lifted by a resume or is gone with a new handle). */
static void mark_assigned(kafka_driver *k, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        part_state *p = part(k, parts->elems[i].partition);
        p->assigned = true;
        p->paused = false;
        if (p->throttled)
            k->nthrottled--;
        p->throttled = false;
        p->polled_next = p->eof_offset = p->done_next = -1;
    }
    k->assignment_settled = true;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t code,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_driver *k = opaque;
    bool cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    char list[512];
    describe(parts, list, sizeof list);
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (code == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        prepare_assignment(k, parts);
        /* librdkafka keeps an application's pause across an unassign: a
         * partition this process paused (throttled, or at its end) and now
         * gets back must fetch again. */
        rd_kafka_resume_partitions(rk, parts);
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            e = rd_kafka_assign(rk, parts);
        mark_assigned(k, parts);
        char now[512];
        describe_assigned(k, now, sizeof now);
        if (parts->cnt > 0 || !cooperative)
            say(k, "assigned partitions %s of '%s' (now consuming %s)", list, k->topic, now);
    } else {
        for (int i = 0; i < parts->cnt; i++)
            part(k, parts->elems[i].partition)->assigned = false;
        if (!cooperative) {
            for (uint32_t i = 0; i < k->nparts; i++)
                k->parts[i].assigned = false;
            k->assignment_settled = false;
        }
        drop_unassigned(k);
        /* What was processed must be committed before the next owner
         * starts from the group's offsets (unless the group has already
         * given the partitions away: then the commit would be refused). */
        if (!rd_kafka_assignment_lost(rk))
            commit_now(k);
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            e = rd_kafka_assign(rk, NULL);
        for (uint32_t i = 0; i < k->nparts; i++)
            if (!k->parts[i].assigned)
                detach_queue(&k->parts[i]);
        char now[512];
        describe_assigned(k, now, sizeof now);
        say(k, "partitions %s of '%s' revoked (now consuming %s)", list, k->topic, now);
    }
    if (error) {
        say(k, "rebalance failed: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (e) {
        say(k, "rebalance failed: %s", rd_kafka_err2str(e));
    }
}

/* ---- bounded runs ------------------------------------------------------- */

static bool reached_end(const part_state *p)
{
    if (!p->end_known)
        return false;
    /* An empty partition, or one whose start is already past the end,
     * reports end-of-partition as soon as it is fetched. */
    return p->polled_next >= p->end_offset || p->eof_offset >= p->end_offset;
}

static void pause_partition(kafka_driver *k, int32_t partition, part_state *p)
{
    if (p->paused)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, k->topic, partition);
    rd_kafka_pause_partitions(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    p->paused = true;
}

/* Takes the end offset of each assigned partition that has none yet, in
 * one ListOffsets request per broker (timestamp -1 means "the end"). A
 * broker that does not answer is asked again a second later. */
static void learn_end_offsets(kafka_driver *k)
{
    int64_t now = tw_now_mono_us();
    rd_kafka_topic_partition_list_t *ask = rd_kafka_topic_partition_list_new(16);
    for (uint32_t i = 0; i < k->nparts; i++) {
        part_state *p = &k->parts[i];
        if (p->assigned && !p->end_known && now - p->last_end_try_us >= END_RETRY_US) {
            p->last_end_try_us = now;
            rd_kafka_topic_partition_list_add(ask, k->topic, (int32_t)i)->offset = RD_KAFKA_OFFSET_END;
        }
    }
    if (ask->cnt && !rd_kafka_offsets_for_times(k->rk, ask, QUERY_TIMEOUT_MS)) {
        for (int i = 0; i < ask->cnt; i++) {
            const rd_kafka_topic_partition_t *t = &ask->elems[i];
            if (t->err || t->offset < 0)
                continue;
            part_state *p = part(k, t->partition);
            p->end_known = true;
            p->end_offset = t->offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(ask);
}

static bool bounded_done(kafka_driver *k)
{
    if (!k->assignment_settled)
        return false;
    learn_end_offsets(k);
    for (uint32_t i = 0; i < k->nparts; i++) {
        part_state *p = &k->parts[i];
        if (p->assigned && !reached_end(p))
            return false;
    }
    return true;
}

/* ---- reading ------------------------------------------------------------ */

/* Takes one polled message or event into msgs, or handles and frees it. */
static void take_message(kafka_driver *k, rd_kafka_message_t *m)
{
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        part_state *p = part(k, m->partition);
        if (m->offset > p->eof_offset)
            p->eof_offset = m->offset;
        rd_kafka_message_destroy(m);
        return;
    }
    if (m->err) {
        on_error(k->rk, m->err, rd_kafka_message_errstr(m), k);
        rd_kafka_message_destroy(m);
        return;
    }
    part_state *p = part(k, m->partition);
    if (!p->assigned) {
        rd_kafka_message_destroy(m);
        return;
    }
    p->polled_next = m->offset + 1;
    if (k->bounded && p->end_known && m->offset >= p->end_offset) {
        /* Written after the run started: left for the next run. */
        pause_partition(k, m->partition, p);
        rd_kafka_message_destroy(m);
        return;
    }
    k->msgs[k->nmsgs++] = m;
}

/* Serves the consumer queue: rebalance and error callbacks run here. A
 * message can only be there for a partition whose own queue could not be
 * had; it is taken like any other. */
static void serve_consumer_queue(kafka_driver *k)
{
    rd_kafka_message_t *m;
    while (k->nmsgs < POLL_MAX_MESSAGES && !k->failed &&
           (m = rd_kafka_consumer_poll(k->rk, 0)) != NULL)
        take_message(k, m);
}

static void drain_wake_pipe(kafka_driver *k)
{
    char buf[256];
    while (read(k->wake[0], buf, sizeof buf) > 0)
        ;
}

/* Restarts the fetching of a partition whose queue was (nearly) full and is
 * now empty. librdkafka 2.0 stops fetching a partition whose queue holds
 * queued.min.messages, and looks again only when its broker thread wakes:
 * on network traffic, or up to a second later. When every partition is
 * full (the pipeline is the bottleneck), nothing is in flight, and the
 * pipeline would drain the queues and then wait out the rest of that
 * second. A seek to the next offset wakes the broker thread at once; it
 * would discard only what the queue holds, and it is empty. */
static void refetch(kafka_driver *k, int32_t partition)
{
    part_state *p = &k->parts[partition];
    p->was_full = false;
    if (p->polled_next < 0 || p->paused)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, k->topic, partition)->offset = p->polled_next;
    rd_kafka_error_t *error = rd_kafka_seek_partitions(k->rk, l, 0);
    if (error)
        rd_kafka_error_destroy(error); /* asynchronous: none is reported */
    rd_kafka_topic_partition_list_destroy(l);
}

/* The prefetch budget across partitions. librdkafka bounds each partition
 * queue on its own, so many partitions could hold many times
 * queued.max.messages.kbytes between them; that setting's documented
 * meaning for the high-level consumer is a bound on everything prefetched,
 * and this restores it. A partition whose queue the pipeline has just
 * drained is paused while the others' queues (counted at the average
 * message size seen) exceed the budget: pausing an empty queue drops
 * nothing (a fetch already in flight for it is, and is fetched again). When
 * they are down to three quarters, the paused partitions resume with a seek
 * to their next offset, which also wakes the fetcher at once (a resume alone
 * runs on librdkafka's main thread and does not). */
static uint64_t prefetched_bytes(const kafka_driver *k)
{
    uint64_t messages = 0;
    /* A paused partition's queue still counts what the pause made stale
     * until it is read, and it is not read while paused. */
    for (uint32_t i = 0; i < k->nparts; i++)
        if (k->parts[i].queue && !k->parts[i].throttled && !k->parts[i].paused)
            messages += rd_kafka_queue_length(k->parts[i].queue);
    return (uint64_t)((double)messages * k->avg_message_bytes);
}

static void throttle(kafka_driver *k, int32_t partition)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, k->topic, partition);
    rd_kafka_pause_partitions(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    k->parts[partition].throttled = true;
    k->nthrottled++;
}

static void unthrottle_all(kafka_driver *k)
{
    for (uint32_t i = 0; i < k->nparts; i++) {
        part_state *p = &k->parts[i];
        if (!p->throttled)
            continue;
        p->throttled = false;
        if (!p->assigned || p->paused)
            continue; /* revoked, or paused for good at its end */
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, k->topic, (int32_t)i);
        rd_kafka_resume_partitions(k->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        p->was_full = true; /* so refetch seeks it */
        refetch(k, (int32_t)i);
    }
    k->nthrottled = 0;
}

/* Polls what librdkafka has fetched into msgs (which is empty): events
 * first, then the next partition in turn that has messages queued. When
 * nothing is queued anywhere, waits up to POLL_WAIT_MS for a queue to
 * wake the pipe, rather than returning to the loop, which would sleep
 * anyway and miss the data's arrival by up to its whole sleep. A fatal
 * error sets k->failed. */
static void poll_messages(kafka_driver *k)
{
    assert(k->pos == k->nmsgs && k->run_start == k->pos);
    k->nmsgs = k->pos = k->run_start = 0;
    if (k->nthrottled && prefetched_bytes(k) <= k->budget_bytes / 4 * 3)
        unthrottle_all(k);
    for (int attempt = 0; attempt < 2 && k->nmsgs == 0 && !k->failed; attempt++) {
        drain_wake_pipe(k);
        serve_consumer_queue(k);
        for (uint32_t n = 0; n < k->nparts && k->nmsgs == 0 && !k->failed; n++) {
            uint32_t i = (k->next_part + n) % k->nparts;
            part_state *p = &k->parts[i];
            if (!p->assigned || !p->queue || p->throttled)
                continue;
            rd_kafka_message_t **got = k->msgs + k->nmsgs;
            size_t cap = POLL_MAX_MESSAGES - k->nmsgs;
            if (rd_kafka_queue_length(p->queue) >= k->queue_min_messages / 2)
                p->was_full = true;
            ssize_t count = rd_kafka_consume_batch_queue(p->queue, 0, got, cap);
            for (ssize_t j = 0; j < count; j++) {
                /* weight 1/1024: follows a change of shape within a few batches */
                k->avg_message_bytes += ((double)got[j]->len - k->avg_message_bytes) / 1024.0;
                take_message(k, got[j]);
            }
            bool drained = count >= 0 && (size_t)count < cap;
            if (drained && k->parts[i].polled_next >= 0 && !k->parts[i].paused &&
                prefetched_bytes(k) > k->budget_bytes)
                throttle(k, (int32_t)i);
            else if (drained && k->parts[i].was_full)
                refetch(k, (int32_t)i);
            if (count > 0)
                k->next_part = i + 1;
        }
        if (k->nmsgs == 0 && attempt == 0) {
            struct pollfd pfd = {.fd = k->wake[0], .events = POLLIN};
            poll(&pfd, 1, POLL_WAIT_MS);
        }
    }
}

/* A bounded run (--exit-at-eof) without a consumer group reads every
 * partition like kcat -e: it assigns them itself and joins no group, which
 * saves the group's join (seconds, by design of the protocol). Until the
 * topic's metadata arrives, it tries again at each read. */
static void assign_all(kafka_driver *k)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 1, NULL, &md, 200);
    const rd_kafka_metadata_topic_t *mt = NULL;
    for (int i = 0; !e && md && i < md->topic_cnt && !mt; i++)
        if (!strcmp(md->topics[i].topic, k->topic) && !md->topics[i].err &&
            md->topics[i].partition_cnt > 0)
            mt = &md->topics[i];
    if (!mt) {
        if (md)
            rd_kafka_metadata_destroy(md);
        return;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(mt->partition_cnt);
    for (int i = 0; i < mt->partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, k->topic, mt->partitions[i].id)->offset =
            k->start_latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    prepare_assignment(k, parts);
    e = rd_kafka_assign(k->rk, parts);
    if (e) {
        say(k, "cannot assign the partitions of '%s': %s", k->topic, rd_kafka_err2str(e));
    } else {
        mark_assigned(k, parts);
        /* Ends first: an empty partition is then known to be finished and
         * does not hold event time back. */
        learn_end_offsets(k);
        say(k, "reading all %d partitions of '%s' up to their current ends (no consumer group: "
               "set properties.group.id to share the work)",
            parts->cnt, k->topic);
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

static tw_read_status kafka_read(tw_source_driver *d, tw_batch **out, int32_t *partition,
                                 tw_err *err)
{
    kafka_driver *k = (kafka_driver *)d;
    if (k->manual && !k->assignment_settled)
        assign_all(k);
    assert(k->run_start == k->pos && k->batch->nrows == 0);
    if (k->pos == k->nmsgs)
        poll_messages(k);
    if (k->failed) {
        *err = k->fatal;
        return TW_READ_ERROR;
    }
    if (k->pos == k->nmsgs) {
        if (k->bounded && bounded_done(k))
            return TW_READ_EOF;
        return TW_READ_AGAIN;
    }
    int32_t p = k->msgs[k->pos]->partition;
    tw_batch *b = k->batch;
    while (k->pos < k->nmsgs && b->nrows < b->capacity && k->msgs[k->pos]->partition == p) {
        const rd_kafka_message_t *m = k->msgs[k->pos++];
        tw_json_decode_message(k->dec, m->payload, m->payload ? m->len : 0, b, &k->stats);
        k->bytes += m->len;
    }
    *out = b;
    *partition = p;
    return TW_READ_DATA;
}

static void kafka_done(tw_source_driver *d)
{
    kafka_driver *k = (kafka_driver *)d;
    tw_batch_reset(k->batch);
    if (k->run_start == k->pos)
        return;
    rd_kafka_message_t *last = k->msgs[k->pos - 1];
    int32_t partition = last->partition;
    part_state *p = part(k, partition);
    /* The run is processed: the group may resume after it. */
    rd_kafka_offset_store(last->rkt, last->partition, last->offset);
    p->done_next = last->offset + 1;
    p->messages += k->pos - k->run_start;
    for (uint32_t i = k->run_start; i < k->pos; i++)
        rd_kafka_message_destroy(k->msgs[i]);
    k->run_start = k->pos;
    if (k->bounded && p->end_known && p->done_next >= p->end_offset)
        pause_partition(k, partition, p);
}

static bool kafka_batch_position(const tw_source_driver *d, uint64_t *position)
{
    const kafka_driver *k = (const kafka_driver *)d;
    if (k->run_start >= k->nmsgs)
        return false;
    *position = (uint64_t)k->msgs[k->run_start]->offset;
    return true;
}

static bool kafka_seek(tw_source_driver *d, int32_t partition, uint64_t position, tw_err *err)
{
    kafka_driver *k = (kafka_driver *)d;
    if (partition < 0)
        return tw_err_set(err, TW_ERR_CONFIG, "no partition %d in topic '%s'", partition, k->topic);
    part(k, partition)->resume_offset = (int64_t)position;
    return true;
}

static uint32_t kafka_live_partitions(const tw_source_driver *d, int32_t *out, uint32_t max)
{
    const kafka_driver *k = (const kafka_driver *)d;
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->nparts && n < max; i++) {
        const part_state *p = &k->parts[i];
        /* Finished: read to its end, and every row polled has gone through
         * the pipeline (rows still buffered here are not in windows yet). */
        bool finished = k->bounded && reached_end(p) &&
                        (p->polled_next < 0 || p->done_next >= p->polled_next);
        if (p->assigned && !finished)
            out[n++] = (int32_t)i;
    }
    return n;
}

static void kafka_stats(const tw_source_driver *d, tw_decode_stats *out)
{
    *out = ((const kafka_driver *)d)->stats;
}

static bool kafka_is_finite(const tw_source_driver *d)
{
    return ((const kafka_driver *)d)->bounded;
}

static uint64_t kafka_bytes(const tw_source_driver *d)
{
    return ((const kafka_driver *)d)->bytes;
}

static void kafka_close(tw_source_driver *d)
{
    kafka_driver *k = (kafka_driver *)d;
    for (uint32_t i = k->run_start; i < k->nmsgs; i++)
        rd_kafka_message_destroy(k->msgs[i]);
    for (uint32_t i = 0; i < k->nparts; i++)
        detach_queue(&k->parts[i]);
    if (k->consumer_queue) {
        rd_kafka_queue_io_event_enable(k->consumer_queue, -1, NULL, 0);
        rd_kafka_queue_destroy(k->consumer_queue);
    }
    if (k->rk) {
        /* Commit, then leave the group, so another member takes the
         * partitions over from exactly there. */
        commit_now(k);
        rd_kafka_consumer_close(k->rk);
        rd_kafka_destroy(k->rk);
    }
    tw_json_decoder_free(k->dec);
    tw_batch_free(k->batch);
    for (uint32_t i = 0; i < k->nbrokers; i++)
        free(k->brokers[i].name);
    free(k->brokers);
    for (int i = 0; i < 2; i++)
        if (k->wake[i] >= 0)
            close(k->wake[i]);
    free(k->msgs);
    free(k->parts);
    free(k->source_name);
    free(k->topic);
    free(k->bootstrap);
    free(k);
}

static const tw_source_driver_ops kafka_ops = {
    .name = "kafka",
    .read = kafka_read,
    .done = kafka_done,
    .batch_position = kafka_batch_position,
    .seek = kafka_seek,
    .live_partitions = kafka_live_partitions,
    .stats = kafka_stats,
    .is_finite = kafka_is_finite,
    .bytes = kafka_bytes,
    .close = kafka_close,
};

/* ---- creation ------------------------------------------------------------- */

static bool conf_set(const kafka_driver *k, rd_kafka_conf_t *conf, const char *key,
                     const char *value, const char *option, tw_err *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return true;
    return tw_err_set(err, TW_ERR_CONFIG, "source '%s': option %s = '%s': %s", k->source_name,
                      option, value, errstr);
}

static bool parse_options(kafka_driver *k, rd_kafka_conf_t *conf, const char *const *keys,
                          const char *const *values, uint32_t count, tw_err *err)
{
    const char *mode = "earliest";
    bool have_group = false;
    k->start_latest = false;
    for (uint32_t i = 0; i < count; i++) {
        const char *key = keys[i], *value = values[i];
        if (!strcmp(key, "connector")) {
            continue;
        } else if (!strcmp(key, "topic")) {
            free(k->topic);
            k->topic = tw_xstrdup(value);
        } else if (!strcmp(key, "properties.bootstrap.server") ||
                   !strcmp(key, "properties.bootstrap.servers")) {
            free(k->bootstrap);
            k->bootstrap = tw_xstrdup(value);
        } else if (!strcmp(key, "scan.startup.mode")) {
            if (strcmp(value, "earliest") && strcmp(value, "latest"))
                return tw_err_set(err, TW_ERR_CONFIG,
                                  "source '%s': scan.startup.mode must be 'earliest' or "
                                  "'latest', not '%s'",
                                  k->source_name, value);
            mode = value;
            k->start_latest = !strcmp(value, "latest");
        } else if (!strcmp(key, "scan.startup.timestamp.millis") ||
                   !strcmp(key, "scan.startup.timestamp_millis")) {
            char *end;
            long long ms = strtoll(value, &end, 10);
            if (!*value || *end || ms < 0)
                return tw_err_set(err, TW_ERR_CONFIG,
                                  "source '%s': %s must be milliseconds since 1970, not '%s'",
                                  k->source_name, key, value);
            k->start_timestamp_ms = ms;
        } else if (!strncmp(key, "properties.", 11) && key[11]) {
            const char *rdkey = key + 11;
            if (!strcmp(rdkey, "enable.auto.offset.store"))
                return tw_err_set(err, TW_ERR_CONFIG,
                                  "source '%s': %s cannot be set: tidewatch stores offsets "
                                  "itself, once rows are processed",
                                  k->source_name, key);
            have_group |= !strcmp(rdkey, "group.id");
            k->debug_log |= !strcmp(rdkey, "debug");
            if (!conf_set(k, conf, rdkey, value, key, err))
                return false;
        } else {
            return tw_err_set(err, TW_ERR_CONFIG,
                              "source '%s': '%s' is not a Kafka source option (known: topic, "
                              "properties.bootstrap.server, scan.startup.mode, "
                              "scan.startup.timestamp.millis; librdkafka settings go in "
                              "properties.*)",
                              k->source_name, key);
        }
    }
    if (!k->topic)
        return tw_err_set(err, TW_ERR_CONFIG, "source '%s': connector 'kafka' needs topic = '...'",
                          k->source_name);
    if (!k->bootstrap)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "source '%s': connector 'kafka' needs properties.bootstrap.server = "
                          "'host:port' (or --source %s=kafka://host:port/%s)",
                          k->source_name, k->source_name, k->topic);
    if (!conf_set(k, conf, "bootstrap.servers", k->bootstrap, "properties.bootstrap.server", err) ||
        !conf_set(k, conf, "auto.offset.reset", mode, "scan.startup.mode", err))
        return false;
    k->explicit_group = have_group;
    if (!have_group) {
        size_t n = strlen(k->source_name) + 16;
        char *group = tw_xmalloc(n);
        snprintf(group, n, "tidewatch-%s", k->source_name);
        bool ok = conf_set(k, conf, "group.id", group, "group.id", err);
        free(group);
        if (!ok)
            return false;
    }
    return true;
}

tw_source_driver *tw_kafka_driver_new(const char *source_name, const char *const *keys,
                                      const char *const *values, uint32_t count,
                                      const tw_source_schema *schema, bool bounded, tw_err *err)
{
    kafka_driver *k = tw_xcalloc(1, sizeof *k);
    k->base.ops = &kafka_ops;
    k->source_name = tw_xstrdup(source_name);
    k->bounded = bounded;
    k->start_timestamp_ms = -1;
    k->wake[0] = k->wake[1] = -1;
    /* Non-blocking both ways: librdkafka's threads must never block on a
     * full pipe, and draining stops when it is empty. */
    if (pipe2(k->wake, O_NONBLOCK | O_CLOEXEC)) {
        tw_err_set(err, TW_ERR_IO, "source '%s': cannot create a pipe: %s", source_name,
                   strerror(errno));
        kafka_close(&k->base);
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    /* Defaults first: the user's properties.* may override all but the
     * offset store. */
    static const char *const defaults[][2] = {
        {"client.id", "tidewatch"},
        {"enable.auto.commit", "true"},
        {"auto.commit.interval.ms", "1000"},
        {"statistics.interval.ms", "1000"},
        /* A restarted pipeline rejoins its group; when the broker has not
         * seen the old member leave, it waits out this timeout (librdkafka's
         * default was 10 s before 2.0 made it 45 s). */
        {"session.timeout.ms", "10000"},
        /* Messages prefetched per partition: librdkafka's 100000 is tens
         * of megabytes a partition once each has its own queue. */
        {"queued.min.messages", "20000"},
        /* Only one fetch is in flight per broker; one that holds only
         * partitions with nothing new waits this long on the broker, and
         * a partition that becomes fetchable meanwhile waits with it. */
        {"fetch.wait.max.ms", "100"},
        /* A member joining or leaving moves only the partitions that change
         * owner, and they are revoked (and committed) while the group is
         * stable, so the next owner starts exactly after what was processed. */
        {"partition.assignment.strategy", "cooperative-sticky"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!conf_set(k, conf, defaults[i][0], defaults[i][1], defaults[i][0], err))
            goto fail;
    if (!parse_options(k, conf, keys, values, count, err) ||
        !conf_set(k, conf, "enable.auto.offset.store", "false", "enable.auto.offset.store", err) ||
        !conf_set(k, conf, "enable.partition.eof", bounded ? "true" : "false",
                  "enable.partition.eof", err))
        goto fail;
    char value[32];
    size_t value_len = sizeof value;
    if (rd_kafka_conf_get(conf, "queued.min.messages", value, &value_len) == RD_KAFKA_CONF_OK)
        k->queue_min_messages = (uint32_t)strtoul(value, NULL, 10);
    value_len = sizeof value;
    if (rd_kafka_conf_get(conf, "queued.max.messages.kbytes", value, &value_len) == RD_KAFKA_CONF_OK)
        k->budget_bytes = (uint64_t)strtoull(value, NULL, 10) * 1024;
    k->avg_message_bytes = 256; /* until messages say otherwise */
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_log_cb(conf, on_log);
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!k->rk) {
        tw_err_set(err, TW_ERR_CONFIG, "source '%s': cannot create the Kafka consumer: %s",
                   source_name, errstr);
        goto fail; /* rd_kafka_new keeps conf only on success */
    }
    conf = NULL;
    rd_kafka_poll_set_consumer(k->rk);
    k->consumer_queue = rd_kafka_queue_get_consumer(k->rk);
    rd_kafka_queue_io_event_enable(k->consumer_queue, k->wake[1], "c", 1);
    k->manual = bounded && !k->explicit_group;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!k->manual) {
        rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, k->topic, RD_KAFKA_PARTITION_UA);
        e = rd_kafka_subscribe(k->rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
    }
    if (e) {
        tw_err_set(err, TW_ERR_CONFIG, "source '%s': cannot subscribe to topic '%s': %s",
                   source_name, k->topic, rd_kafka_err2str(e));
        goto fail;
    }
    k->dec = tw_json_decoder_new(schema->names, schema->types, schema->ncols);
    if (schema->dead_letter)
        tw_json_decoder_set_dead_letter(k->dec, schema->dead_letter, schema->dead_letter_ctx);
    k->batch = tw_batch_new(schema->types, schema->ncols, TW_BATCH_ROWS);
    k->msgs = tw_xmalloc(POLL_MAX_MESSAGES * sizeof *k->msgs);
    return &k->base;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    kafka_close(&k->base);
    return NULL;
}

/* ---- metrics ---------------------------------------------------------- */

bool tw_kafka_driver_is(const tw_source_driver *d)
{
    return d && d->ops == &kafka_ops;
}

uint32_t tw_kafka_driver_partitions(const tw_source_driver *d, tw_kafka_partition_stats *out,
                                    uint32_t max)
{
    assert(tw_kafka_driver_is(d));
    const kafka_driver *k = (const kafka_driver *)d;
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->nparts; i++) {
        const part_state *p = &k->parts[i];
        if (!p->assigned)
            continue;
        if (n < max) {
            int64_t low = -1, high = -1;
            int64_t lag = -1;
            if (!rd_kafka_get_watermark_offsets(k->rk, k->topic, (int32_t)i, &low, &high) &&
                high >= 0) {
                int64_t next = p->done_next >= 0        ? p->done_next
                               : p->committed_offset >= 0 ? p->committed_offset
                               : k->start_latest          ? high
                                                          : low;
                lag = next >= 0 && high >= next ? high - next : -1;
            }
            out[n] = (tw_kafka_partition_stats){(int32_t)i, lag, p->messages};
        }
        n++;
    }
    return n;
}
