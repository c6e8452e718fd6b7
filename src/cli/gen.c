/* gen.c - `tidewatch gen`: writes the network simulator's NDJSON to a file or
 * stdout, either as fast as possible (--count) or paced in wall-clock time
 * (--rate), replacing the seed demo's Python generator. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "cli/commands.h"
#include "common/arena.h"
#include "common/err.h"
#include "common/timeutil.h"
#include "source/netsim.h"

#define GEN_BUF_BYTES ((size_t)1 << 20)
/* Buffers in flight between the generating and the writing thread. */
#define PIPE_BUFS 4
/* Longest sleep of the paced loop, so a signal or a rate change is noticed. */
#define MAX_SLEEP_US INT64_C(50000)

static const char gen_usage[] =
    "Usage: tidewatch gen [options]\n"
    "\n"
    "Writes simulated network metrics as NDJSON, one message a line, in the seed\n"
    "demo's format (device_id, timestamp, src_ip, dst_ip, protocol, latency_ms,\n"
    "packet_loss_rate, bandwidth_usage_percent, flow_bytes). Latency, packet loss\n"
    "and bandwidth anomalies come independently, in episodes of 2-6 ten-second\n"
    "windows. The same options always give the same bytes.\n"
    "\n"
    "Options:\n"
    "  --devices N         number of devices, 1..1000000 (default 5: router-01,\n"
    "                      router-02, server-01, server-02, switch-01)\n"
    "  --count N           write N messages as fast as possible and exit; event\n"
    "                      times advance at --rate (default 1000 a second) from\n"
    "                      --start\n"
    "  --rate R            messages per second over all devices (0.001..1e9).\n"
    "                      Without --count: paced in real time, forever (until\n"
    "                      Ctrl-C), event times from the wall clock. With --count:\n"
    "                      paced, stops after N.\n"
    "  --seed S            random seed, an unsigned 64-bit integer (default 1)\n"
    "  --start TS          event time of the first message, e.g.\n"
    "                      2026-01-01T00:00:00Z (default that, or now when paced)\n"
    "  --anomaly-rate P    probability that a device/metric starts an anomaly\n"
    "                      episode in a 10-second window, 0..1 (default 0.02)\n"
    "  --latency-anomaly-rate P, --loss-anomaly-rate P,\n"
    "  --bandwidth-anomaly-rate P\n"
    "                      the same for one metric only (default --anomaly-rate)\n"
    "  --out FILE          write to FILE instead of stdout\n"
    "  --threads N         1 or 2 (default 2): with 2 and --count alone, one\n"
    "                      thread generates while the other writes; same bytes\n"
    "  --kafka BOOTSTRAP   produce to Kafka (host:port[,host:port]) instead of\n"
    "                      writing: one message a line, keyed by device_id (a\n"
    "                      device's metrics stay in one partition, in order),\n"
    "                      idempotent producer, flushed before exit; prints the\n"
    "                      delivered and failed counts; exits 1 if any failed\n"
    "  --topic T           the topic for --kafka (default network_metrics)\n"
    "  --kafka-property K=V  a librdkafka producer setting, e.g.\n"
    "                      compression.type=lz4 (repeatable)\n"
    "  -v, --verbose       print a summary (events, seconds, events/s) to stderr\n"
    "                      (default: only when stderr is a terminal)\n"
    "  -h, --help          show this help\n"
    "\n"
    "With neither --count nor --rate, messages are paced at 1000 a second.\n"
    "\n"
    "Examples:\n"
    "  tidewatch gen --count 1000000 --seed 7 --out metrics.ndjson\n"
    "  tidewatch gen --rate 50 --devices 20 | kcat -P -b localhost:9092 -t network_metrics\n"
    "  tidewatch gen --count 100000 --devices 50 --kafka localhost:9092\n";

static volatile sig_atomic_t gen_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    gen_stop = 1;
}

typedef struct gen_args {
    tw_netsim_opts sim;
    bool have_count, have_rate, have_start, verbose;
    uint64_t count;
    unsigned threads;
    const char *out_path;
    const char *kafka_bootstrap;
    const char *kafka_topic;
    const char *kafka_props[64]; /* KEY=VALUE strings from argv */
    unsigned nkafka_props;
} gen_args;

enum {
    OPT_DEVICES = 256,
    OPT_COUNT,
    OPT_RATE,
    OPT_SEED,
    OPT_START,
    OPT_ANOMALY,
    OPT_LAT_ANOMALY,
    OPT_LOSS_ANOMALY,
    OPT_BW_ANOMALY,
    OPT_OUT,
    OPT_THREADS,
    OPT_KAFKA,
    OPT_TOPIC,
    OPT_KAFKA_PROPERTY,
};

static const struct option gen_options[] = {
    {"devices", required_argument, NULL, OPT_DEVICES},
    {"count", required_argument, NULL, OPT_COUNT},
    {"rate", required_argument, NULL, OPT_RATE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"start", required_argument, NULL, OPT_START},
    {"anomaly-rate", required_argument, NULL, OPT_ANOMALY},
    {"latency-anomaly-rate", required_argument, NULL, OPT_LAT_ANOMALY},
    {"loss-anomaly-rate", required_argument, NULL, OPT_LOSS_ANOMALY},
    {"bandwidth-anomaly-rate", required_argument, NULL, OPT_BW_ANOMALY},
    {"out", required_argument, NULL, OPT_OUT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"kafka", required_argument, NULL, OPT_KAFKA},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"kafka-property", required_argument, NULL, OPT_KAFKA_PROPERTY},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The netsim key each simulator option sets. */
static const char *sim_key(int opt)
{
    switch (opt) {
    case OPT_DEVICES: return "devices";
    case OPT_RATE: return "rate";
    case OPT_SEED: return "seed";
    case OPT_START: return "start";
    case OPT_ANOMALY: return "anomaly_rate";
    case OPT_LAT_ANOMALY: return "latency_anomaly_rate";
    case OPT_LOSS_ANOMALY: return "loss_anomaly_rate";
    case OPT_BW_ANOMALY: return "bandwidth_anomaly_rate";
    default: return NULL;
    }
}

static bool parse_count(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*text == '-' || *text == '\0')
        return false;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Returns 0 to go on, or the exit status (0 after --help, 2 on a bad
 * argument, with the message printed). */
static int parse_args(int argc, char **argv, gen_args *a)
{
    memset(a, 0, sizeof *a);
    tw_netsim_opts_default(&a->sim);
    a->threads = 2;
    optind = 1;
    opterr = 0;
    for (;;) {
        int longindex = -1;
        int opt = getopt_long(argc, argv, ":vh", gen_options, &longindex);
        if (opt == -1)
            break;
        const char *key = sim_key(opt);
        if (key) {
            tw_err err;
            tw_err_clear(&err);
            if (!tw_netsim_opts_set(&a->sim, key, optarg, &err)) {
                fprintf(stderr, "tidewatch gen: --%s: %s\n", gen_options[longindex].name, err.msg);
                return 2;
            }
            a->have_rate |= opt == OPT_RATE;
            a->have_start |= opt == OPT_START;
            continue;
        }
        switch (opt) {
        case OPT_COUNT:
            if (!parse_count(optarg, &a->count)) {
                fprintf(stderr, "tidewatch gen: --count: '%s' is not a non-negative integer\n",
                        optarg);
                return 2;
            }
            a->have_count = true;
            break;
        case OPT_OUT: a->out_path = optarg; break;
        case OPT_KAFKA: a->kafka_bootstrap = optarg; break;
        case OPT_TOPIC: a->kafka_topic = optarg; break;
        case OPT_KAFKA_PROPERTY:
            if (!strchr(optarg, '=') ||
                a->nkafka_props == sizeof a->kafka_props / sizeof a->kafka_props[0]) {
                fprintf(stderr, "tidewatch gen: --kafka-property needs KEY=VALUE (at most 64), "
                                "got '%s'\n", optarg);
                return 2;
            }
            a->kafka_props[a->nkafka_props++] = optarg;
            break;
        case OPT_THREADS:
            if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
                fprintf(stderr, "tidewatch gen: --threads: '%s' is not 1 or 2\n", optarg);
                return 2;
            }
            a->threads = (unsigned)(optarg[0] - '0');
            break;
        case 'v': a->verbose = true; break;
        case 'h': fputs(gen_usage, stdout); return -1;
        case ':':
            fprintf(stderr, "tidewatch gen: option %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr,
                    "tidewatch gen: unknown option '%s'\nRun 'tidewatch gen --help' for the "
                    "options.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if ((a->kafka_topic || a->nkafka_props) && !a->kafka_bootstrap) {
        fprintf(stderr, "tidewatch gen: --topic and --kafka-property need --kafka BOOTSTRAP\n");
        return 2;
    }
    if (a->kafka_bootstrap && a->out_path) {
        fprintf(stderr, "tidewatch gen: --kafka and --out exclude each other\n");
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr,
                "tidewatch gen: unexpected argument '%s'\nRun 'tidewatch gen --help' for the "
                "options.\n",
                argv[optind]);
        return 2;
    }
    return 0;
}

/* Writes all of buf[0..len) to fd, retrying on short writes and EINTR.
 * Returns false with errno set on an I/O error. */
static bool write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* ---- Kafka output ------------------------------------------------------ */

typedef struct kafka_out {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    const char *topic_name;
    uint64_t delivered, failed;
    char last_error[256];
} kafka_out;

/* Set when --kafka is given: the single-threaded loops produce their
 * buffers of lines instead of writing them. */
static kafka_out *gen_kafka;

static void kafka_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kafka_out *k = opaque;
    (void)rk;
    if (m->err) {
        if (!k->failed++)
            fprintf(stderr, "tidewatch gen: kafka: delivery failed: %s\n", rd_kafka_err2str(m->err));
    } else {
        k->delivered++;
    }
}

static void kafka_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    kafka_out *k = opaque;
    (void)rk;
    (void)code;
    if (strcmp(k->last_error, reason)) {
        snprintf(k->last_error, sizeof k->last_error, "%s", reason);
        fprintf(stderr, "tidewatch gen: kafka: %s (retrying)\n", reason);
    }
}

static void kafka_quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)fac;
    if (level <= 2) /* errors come through kafka_error */
        fprintf(stderr, "tidewatch gen: kafka: %s\n", buf);
}

/* Creates the producer. Prints why and returns NULL when a setting is bad. */
static kafka_out *kafka_out_new(const gen_args *a)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {
        {"bootstrap.servers", a->kafka_bootstrap},
        {"enable.idempotence", "true"},
        {"linger.ms", "5"},
        {"client.id", "tidewatch-gen"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof errstr)) {
            fprintf(stderr, "tidewatch gen: --kafka: %s\n", errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    for (unsigned i = 0; i < a->nkafka_props; i++) {
        char key[256];
        const char *kv = a->kafka_props[i], *eq = strchr(kv, '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        if (rd_kafka_conf_set(conf, key, eq + 1, errstr, sizeof errstr)) {
            fprintf(stderr, "tidewatch gen: --kafka-property %s: %s\n", kv, errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    kafka_out *k = tw_xcalloc(1, sizeof *k);
    k->topic_name = a->kafka_topic ? a->kafka_topic : "network_metrics";
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_delivered);
    rd_kafka_conf_set_error_cb(conf, kafka_error);
    rd_kafka_conf_set_log_cb(conf, kafka_quiet_log);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!k->rk) {
        fprintf(stderr, "tidewatch gen: --kafka: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        free(k);
        return NULL;
    }
    k->topic = rd_kafka_topic_new(k->rk, k->topic_name, NULL);
    return k;
}

/* Produces each line of buf (without its newline), keyed by its device_id.
 * A full local queue waits for deliveries; returns false (errno EINTR) only
 * when a stop signal comes meanwhile. */
static bool kafka_produce_lines(kafka_out *k, const char *buf, size_t len)
{
    static const char key_prefix[] = "{\"device_id\":\"";
    const size_t prefix_len = sizeof key_prefix - 1;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *key = NULL;
        size_t key_len = 0;
        /* The simulator writes device_id first. */
        if ((size_t)(eol - p) > prefix_len && !memcmp(p, key_prefix, prefix_len)) {
            key = p + prefix_len;
            const char *q = memchr(key, '"', (size_t)(eol - key));
            key_len = q ? (size_t)(q - key) : 0;
        }
        while (rd_kafka_produce(k->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)p,
                                (size_t)(eol - p), key, key_len, NULL) != 0) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                k->failed++;
                break;
            }
            if (gen_stop) {
                errno = EINTR;
                return false;
            }
            rd_kafka_poll(k->rk, 10);
        }
        p = eol + 1;
    }
    rd_kafka_poll(k->rk, 0);
    return true;
}

/* Waits until every message is delivered or failed (or a stop signal), then
 * prints the counts. Returns false when any failed or was not delivered. */
static bool kafka_out_finish(kafka_out *k)
{
    while (rd_kafka_outq_len(k->rk) > 0 && !gen_stop)
        rd_kafka_flush(k->rk, 100);
    uint64_t pending = (uint64_t)rd_kafka_outq_len(k->rk);
    fprintf(stderr, "tidewatch gen: %llu delivered, %llu failed%s to topic '%s'\n",
            (unsigned long long)k->delivered, (unsigned long long)(k->failed + pending),
            pending ? " (stopped before delivery)" : "", k->topic_name);
    return k->failed == 0 && pending == 0;
}

static void kafka_out_free(kafka_out *k)
{
    if (!k)
        return;
    rd_kafka_topic_destroy(k->topic);
    rd_kafka_destroy(k->rk);
    free(k);
}

static bool emit_lines(int fd, const char *buf, size_t len)
{
    return gen_kafka ? kafka_produce_lines(gen_kafka, buf, len) : write_all(fd, buf, len);
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL); /* an interrupting signal just ends the sleep early */
}

/* The run_* functions return 0 or the errno of the failed write. */

/* Fast mode: fills and writes until count events are out. */
static int run_fast(tw_netsim *sim, int fd, char *buf, uint64_t count, uint64_t *written)
{
    while (*written < count && !gen_stop) {
        uint64_t n;
        size_t len = tw_netsim_fill(sim, buf, GEN_BUF_BYTES, count - *written, &n);
        if (!emit_lines(fd, buf, len))
            return errno;
        *written += n;
    }
    return 0;
}

/* Fast mode on two threads: this one fills buffers while a writer thread
 * hands the previous ones to write(2), so generating overlaps the kernel's
 * copy into the page cache (which is most of the cost for a file). The
 * bytes are those of run_fast: one simulator, buffers written in order. */
typedef struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    char *buf[PIPE_BUFS];
    size_t len[PIPE_BUFS];
    uint64_t filled, drained; /* buffers handed over / written */
    bool done, failed;
    int write_errno;
    int fd;
} pipeline;

static void *pipeline_writer(void *arg)
{
    pipeline *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->drained == p->filled && !p->done)
            pthread_cond_wait(&p->changed, &p->mu);
        if (p->drained == p->filled)
            break;
        unsigned slot = (unsigned)(p->drained % PIPE_BUFS);
        pthread_mutex_unlock(&p->mu);
        bool ok = write_all(p->fd, p->buf[slot], p->len[slot]);
        int saved_errno = errno;
        pthread_mutex_lock(&p->mu);
        if (!ok) {
            p->failed = true;
            p->write_errno = saved_errno;
            pthread_cond_broadcast(&p->changed);
            break;
        }
        p->drained++;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int run_fast_threaded(tw_netsim *sim, int fd, uint64_t count, uint64_t *written)
{
    pipeline p = {.fd = fd};
    pthread_t writer;
    int error = 0;
    bool started = false;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.changed, NULL);
    for (unsigned i = 0; i < PIPE_BUFS; i++) {
        p.buf[i] = malloc(GEN_BUF_BYTES);
        if (!p.buf[i]) {
            error = ENOMEM;
            goto cleanup;
        }
    }
    /* Signals go to this thread, whose loop checks gen_stop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&writer, NULL, pipeline_writer, &p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        error = rc;
        goto cleanup;
    }
    started = true;
    while (*written < count && !gen_stop) {
        pthread_mutex_lock(&p.mu);
        while (p.filled - p.drained == PIPE_BUFS && !p.failed)
            pthread_cond_wait(&p.changed, &p.mu);
        bool failed = p.failed;
        pthread_mutex_unlock(&p.mu);
        if (failed)
            break;
        unsigned slot = (unsigned)(p.filled % PIPE_BUFS);
        uint64_t n;
        p.len[slot] = tw_netsim_fill(sim, p.buf[slot], GEN_BUF_BYTES, count - *written, &n);
        *written += n;
        pthread_mutex_lock(&p.mu);
        p.filled++;
        pthread_cond_broadcast(&p.changed);
        pthread_mutex_unlock(&p.mu);
    }

cleanup:
    if (started) {
        pthread_mutex_lock(&p.mu);
        p.done = true;
        pthread_cond_broadcast(&p.changed);
        pthread_mutex_unlock(&p.mu);
        pthread_join(writer, NULL);
        if (p.failed)
            error = p.write_errno;
    }
    for (unsigned i = 0; i < PIPE_BUFS; i++)
        free(p.buf[i]);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.changed);
    return error;
}

/* Paced mode: writes each event once the wall clock has reached its offset
 * from the start, in batches of what is due. */
static int run_paced(tw_netsim *sim, int fd, char *buf, const gen_args *a, uint64_t *written)
{
    int64_t first_event_us = tw_netsim_next_time_us(sim);
    int64_t t0_mono_us = tw_now_mono_us();
    uint64_t limit = a->have_count ? a->count : UINT64_MAX;
    while (*written < limit && !gen_stop) {
        int64_t elapsed_us = tw_now_mono_us() - t0_mono_us;
        double due_f = (double)elapsed_us * a->sim.events_per_sec / 1e6 + 1;
        uint64_t due = due_f >= (double)limit ? limit : (uint64_t)due_f;
        if (due > *written) {
            uint64_t n;
            size_t len = tw_netsim_fill(sim, buf, GEN_BUF_BYTES, due - *written, &n);
            if (!emit_lines(fd, buf, len))
                return errno;
            *written += n;
            continue;
        }
        int64_t wait_us = tw_netsim_next_time_us(sim) - first_event_us - elapsed_us;
        sleep_us(wait_us < 1000 ? 1000 : wait_us > MAX_SLEEP_US ? MAX_SLEEP_US : wait_us);
    }
    return 0;
}

int tw_cmd_gen(int argc, char **argv)
{
    gen_args a;
    int status = parse_args(argc, argv, &a);
    if (status)
        return status < 0 ? 0 : status;

    bool paced = a.have_rate || !a.have_count;
    if (paced && !a.have_start)
        a.sim.start_us = tw_now_wall_us();

    int fd = STDOUT_FILENO;
    char *buf = NULL;
    tw_netsim *sim = NULL;
    status = 1;
    if (a.out_path) {
        fd = open(a.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "tidewatch gen: cannot open --out %s: %s\n", a.out_path,
                    strerror(errno));
            return 1;
        }
    }
    if (a.kafka_bootstrap && !(gen_kafka = kafka_out_new(&a)))
        goto cleanup;
    buf = malloc(GEN_BUF_BYTES);
    sim = tw_netsim_new(&a.sim);
    if (!buf || !sim) {
        fprintf(stderr, "tidewatch gen: out of memory\n");
        goto cleanup;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: sleeps and writes return early */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed reader shows as EPIPE instead */

    uint64_t written = 0;
    int64_t t0_us = tw_now_mono_us();
    int error = paced            ? run_paced(sim, fd, buf, &a, &written)
                : a.threads == 2 && !gen_kafka ? run_fast_threaded(sim, fd, a.count, &written)
                                 : run_fast(sim, fd, buf, a.count, &written);
    double seconds = (double)(tw_now_mono_us() - t0_us) / 1e6;
    /* EPIPE: the reader went away (gen | head), which ends the output. */
    if (gen_kafka) {
        if (!kafka_out_finish(gen_kafka))
            goto cleanup;
        error = 0; /* only a stop signal interrupts producing; the counts say it all */
    }
    if (error && error != EPIPE) {
        fprintf(stderr, "tidewatch gen: write to %s failed: %s\n",
                a.out_path ? a.out_path : "stdout", strerror(error));
        goto cleanup;
    }
    if (a.verbose || isatty(STDERR_FILENO))
        fprintf(stderr, "tidewatch gen: %llu events in %.3f s (%.0f events/s)\n",
                (unsigned long long)written, seconds, seconds > 0 ? written / seconds : 0.0);
    status = 0;

cleanup:
    kafka_out_free(gen_kafka);
    gen_kafka = NULL;
    tw_netsim_free(sim);
    free(buf);
    if (a.out_path && fd >= 0 && close(fd) != 0 && status == 0) {
        fprintf(stderr, "tidewatch gen: closing %s failed: %s\n", a.out_path, strerror(errno));
        status = 1;
    }
    return status;
}
