/* netsim.c - see netsim.h.
 *
 * Speed comes from three choices. Every line is assembled from precomputed
 * fragments (device prefix, IP strings, protocol, digit tables) copied with
 * fixed-size memcpy into a buffer that always has room for a whole line, so
 * the copies need no length checks. Random numbers are counter-based: the
 * draws of event k are a pure function of (seed, k), so the output does not
 * depend on how the caller chunks its fill calls, tw_netsim_next_time_us can
 * tell the next time without drawing, and a simulator could start at any
 * event. Anomaly episodes are likewise a pure function of (seed, device,
 * metric, window), with windows aligned to the epoch like TUMBLE's.
 * No floating point is used per event: metric values are integer hundredths.
 */
#include "source/netsim.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

#define WINDOW_US (INT64_C(10) * TW_USEC_PER_SEC)
#define MAX_JITTER_US INT64_C(5000)
#define MAX_DEVICES UINT32_C(1000000)
#define MIN_RATE 0.001
#define MAX_RATE 1e9
/* Upper bound of one line including the slack of the fixed-size copies. */
#define LINE_MAX_BYTES 512
/* Out of 65536: the share of messages in an episode whose metric is abnormal.
 * 95% keeps the 10-second bandwidth average (0.95*95 + 0.05*50 = 92.75) well
 * above the seed's 90 threshold even with a few hundred messages a window. */
#define ABNORMAL_SHARE_16 UINT32_C(62259)
#define EPISODE_MIN_WINDOWS 2
#define EPISODE_SPAN_WINDOWS 5 /* lengths 2..6 */

enum { METRIC_LATENCY, METRIC_LOSS, METRIC_BANDWIDTH, METRIC_COUNT };

/* Ranges in hundredths: [lo, lo + span). */
static const uint32_t normal_lo[METRIC_COUNT] = {1000, 0, 3000};
static const uint32_t normal_span[METRIC_COUNT] = {4001, 201, 4001};
static const uint32_t abnormal_lo[METRIC_COUNT] = {10000, 500, 9000};
static const uint32_t abnormal_span[METRIC_COUNT] = {10001, 1001, 1001};

#define FLOW_MIN 1024u
#define FLOW_SPAN (1048576u - 1024u + 1u)

static const char *const kinds[] = {"router", "switch", "server", "firewall", "ap"};
/* Device i has kind kind_cycle[i % 10]: mostly routers, switches and servers. */
static const uint8_t kind_cycle[10] = {0, 1, 2, 2, 1, 4, 0, 2, 1, 3};
static const char *const seed_names[5] = {"router-01", "router-02", "server-01", "server-02",
                                          "switch-01"};
static const char *const ip_prefixes[3] = {"192.168.1.", "10.0.0.", "172.16.0."};
static const char *const protocols[5] = {"TCP", "UDP", "ICMP", "HTTP", "HTTPS"};

#define N_IPS (3 * 254)

typedef struct frag {
    char s[64];
    uint32_t len;
} frag;

typedef struct short_frag {
    char s[4];
    uint32_t len;
} short_frag;

typedef struct device_state {
    int64_t window_start_us; /* the window anomaly_mask belongs to */
    uint32_t anomaly_mask;   /* bit m set: metric m in an episode */
} device_state;

struct tw_netsim {
    tw_netsim_opts opts;
    uint32_t devices;
    uint64_t key;                       /* seed mixed once, base of all draws */
    uint64_t interval_fp;               /* time between events, microseconds * 2^32 */
    uint32_t jitter_range_us;           /* jitter drawn in [0, range) */
    uint64_t episode_thr[METRIC_COUNT]; /* start an episode when draw >> 11 < thr */
    uint64_t next_event;                /* index of the next event */
    uint32_t next_device;               /* next_event % devices */
    int64_t cached_sec;                 /* second whose text is in sec_text */
    char sec_text[48];
    uint32_t sec_len;
    device_state *dev;
    frag *dev_frag;            /* {"device_id":"NAME","timestamp":" */
    frag src_frag[N_IPS];      /* Z","src_ip":"IP","dst_ip":" */
    frag dst_frag[N_IPS];      /* IP","protocol":" */
    frag proto_frag[5];        /* PROTO","latency_ms": */
    short_frag int_part[201];  /* 0..200 */
    short_frag frac_part[100]; /* "" is never used: .0 .01 ... .1 ... .99 */
    char pair[100][2];
    char triple[1000][3];
};

void tw_netsim_opts_default(tw_netsim_opts *opts)
{
    assert(opts);
    opts->devices = 5;
    opts->seed = 1;
    opts->start_us = INT64_C(1767225600000000); /* 2026-01-01T00:00:00Z */
    opts->events_per_sec = 1000;
    opts->anomaly_rate = 0.02;
    opts->latency_anomaly_rate = -1;
    opts->loss_anomaly_rate = -1;
    opts->bandwidth_anomaly_rate = -1;
}

static bool parse_double(const char *value, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *value, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*value == '-' || *value == '\0')
        return false;
    unsigned long long v = strtoull(value, &end, 0);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool tw_netsim_opts_set(tw_netsim_opts *opts, const char *key, const char *value, tw_err *err)
{
    assert(opts && key && value);
    if (!strcmp(key, "devices")) {
        uint64_t v;
        if (!parse_u64(value, 1, MAX_DEVICES, &v))
            return tw_err_set(err, TW_ERR_CONFIG,
                              "netsim option devices: '%s' is not an integer in 1..%" PRIu32, value,
                              MAX_DEVICES);
        opts->devices = (uint32_t)v;
        return true;
    }
    if (!strcmp(key, "rate")) {
        if (!parse_double(value, MIN_RATE, MAX_RATE, &opts->events_per_sec))
            return tw_err_set(err, TW_ERR_CONFIG,
                              "netsim option rate: '%s' is not a number of events per second "
                              "in 0.001..1000000000",
                              value);
        return true;
    }
    if (!strcmp(key, "seed")) {
        if (!parse_u64(value, 0, UINT64_MAX, &opts->seed))
            return tw_err_set(err, TW_ERR_CONFIG,
                              "netsim option seed: '%s' is not an unsigned 64-bit integer", value);
        return true;
    }
    if (!strcmp(key, "start")) {
        int64_t us;
        /* Years 1970..9999 keep the timestamp text at its fixed width. */
        if (!tw_timestamp_parse(value, strlen(value), &us) || us < 0 ||
            us > INT64_C(253402300799999999))
            return tw_err_set(err, TW_ERR_CONFIG,
                              "netsim option start: '%s' is not a timestamp between "
                              "1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z "
                              "(form 2026-01-01T00:00:00Z)",
                              value);
        opts->start_us = us;
        return true;
    }
    static const char *const rate_keys[] = {"anomaly_rate", "latency_anomaly_rate",
                                            "loss_anomaly_rate", "bandwidth_anomaly_rate"};
    double *rate_fields[] = {&opts->anomaly_rate, &opts->latency_anomaly_rate,
                             &opts->loss_anomaly_rate, &opts->bandwidth_anomaly_rate};
    for (size_t i = 0; i < sizeof rate_keys / sizeof rate_keys[0]; i++) {
        if (strcmp(key, rate_keys[i]))
            continue;
        if (!parse_double(value, 0, 1, rate_fields[i]))
            return tw_err_set(err, TW_ERR_CONFIG,
                              "netsim option %s: '%s' is not a probability in 0..1", key, value);
        return true;
    }
    return tw_err_set(err, TW_ERR_CONFIG,
                      "netsim: unknown option '%s' (known: devices, rate, seed, start, "
                      "anomaly_rate, latency_anomaly_rate, loss_anomaly_rate, "
                      "bandwidth_anomaly_rate)",
                      key);
}

/* ---- random numbers ---------------------------------------------------- */

#define WY_INC UINT64_C(0xa0761d6478bd642f)
#define WY_XOR UINT64_C(0xe7037ed1a0b428db)
#define DRAWS_PER_EVENT 5

static inline uint64_t wymix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Draw i (0 <= i < DRAWS_PER_EVENT) of event k: wyrand's output for the
 * counter value it would have after k * DRAWS_PER_EVENT + i + 1 steps. */
static inline uint64_t draw(uint64_t key, uint64_t event, unsigned i)
{
    uint64_t s = key + (event * DRAWS_PER_EVENT + i + 1) * WY_INC;
    return wymix(s, s ^ WY_XOR);
}

static inline uint64_t splitmix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Uniform in [0, span) from 32 random bits (multiply-shift; the bias is
 * below 2^-20 for every span used here). */
static inline uint32_t below(uint32_t bits, uint32_t span)
{
    return (uint32_t)(((uint64_t)bits * span) >> 32);
}

/* ---- time -------------------------------------------------------------- */

static inline int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - ((a % b) != 0 && ((a < 0) != (b < 0)));
}

static inline int64_t event_time_us(const tw_netsim *sim, uint64_t event)
{
    int64_t nominal = (int64_t)(((__uint128_t)event * sim->interval_fp) >> 32);
    uint32_t jitter = below((uint32_t)draw(sim->key, event, 0), sim->jitter_range_us);
    return sim->opts.start_us + nominal + jitter;
}

/* ---- anomaly episodes -------------------------------------------------- */

/* Whether (device, metric) is in an episode during window w: some window
 * w' in w-5..w started an episode long enough to cover w. Episodes that
 * overlap merge into one longer incident. */
static bool in_episode(const tw_netsim *sim, uint32_t device, unsigned metric, int64_t window)
{
    uint64_t thr = sim->episode_thr[metric];
    if (!thr)
        return false;
    for (int64_t back = 0; back < EPISODE_MIN_WINDOWS + EPISODE_SPAN_WINDOWS - 1; back++) {
        uint64_t h = splitmix(sim->key ^ UINT64_C(0x5851f42d4c957f2d));
        h = splitmix(h ^ (uint64_t)(window - back));
        h = splitmix(h ^ ((uint64_t)device << 2 | metric));
        if ((h >> 11) >= thr)
            continue;
        uint32_t len = EPISODE_MIN_WINDOWS + below((uint32_t)h, EPISODE_SPAN_WINDOWS);
        if (back < len)
            return true;
    }
    return false;
}

static void refresh_device(tw_netsim *sim, uint32_t device, int64_t t_us)
{
    int64_t window = floor_div(t_us, WINDOW_US);
    uint32_t mask = 0;
    for (unsigned m = 0; m < METRIC_COUNT; m++)
        if (in_episode(sim, device, m, window))
            mask |= 1u << m;
    sim->dev[device].window_start_us = window * WINDOW_US;
    sim->dev[device].anomaly_mask = mask;
}

/* ---- construction ------------------------------------------------------ */

static void set_frag(frag *f, const char *text)
{
    size_t n = strlen(text);
    assert(n < sizeof f->s);
    memset(f->s, 0, sizeof f->s);
    memcpy(f->s, text, n);
    f->len = (uint32_t)n;
}

static unsigned digits(uint32_t v)
{
    unsigned d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static void build_device_names(tw_netsim *sim)
{
    char text[64];
    if (sim->devices <= 5) {
        for (uint32_t i = 0; i < sim->devices; i++) {
            snprintf(text, sizeof text, "{\"device_id\":\"%s\",\"timestamp\":\"", seed_names[i]);
            set_frag(&sim->dev_frag[i], text);
        }
        return;
    }
    uint32_t per_kind[5] = {0};
    for (uint32_t i = 0; i < sim->devices; i++)
        per_kind[kind_cycle[i % 10]]++;
    uint32_t most = 0;
    for (unsigned k = 0; k < 5; k++)
        most = per_kind[k] > most ? per_kind[k] : most;
    /* At least four digits, and enough for the largest kind, so names sort. */
    int width = (int)(digits(most) > 4 ? digits(most) : 4);
    uint32_t number[5] = {0};
    for (uint32_t i = 0; i < sim->devices; i++) {
        unsigned k = kind_cycle[i % 10];
        snprintf(text, sizeof text, "{\"device_id\":\"%s-%0*" PRIu32 "\",\"timestamp\":\"",
                 kinds[k], width, ++number[k]);
        set_frag(&sim->dev_frag[i], text);
    }
}

static void build_tables(tw_netsim *sim)
{
    char text[64];
    for (unsigned p = 0; p < 3; p++) {
        for (unsigned host = 1; host <= 254; host++) {
            unsigned i = p * 254 + host - 1;
            snprintf(text, sizeof text, "Z\",\"src_ip\":\"%s%u\",\"dst_ip\":\"", ip_prefixes[p],
                     host);
            set_frag(&sim->src_frag[i], text);
            snprintf(text, sizeof text, "%s%u\",\"protocol\":\"", ip_prefixes[p], host);
            set_frag(&sim->dst_frag[i], text);
        }
    }
    for (unsigned i = 0; i < 5; i++) {
        snprintf(text, sizeof text, "%s\",\"latency_ms\":", protocols[i]);
        set_frag(&sim->proto_frag[i], text);
    }
    for (unsigned v = 0; v <= 200; v++) {
        short_frag *f = &sim->int_part[v];
        memset(f->s, 0, sizeof f->s);
        f->len = (uint32_t)snprintf(text, sizeof text, "%u", v);
        memcpy(f->s, text, f->len);
    }
    /* Shortest form of the hundredths: 7.5 not 7.50, 7.0 not 7 (a float
     * stays visibly a float, as the seed's Python json.dumps printed it). */
    for (unsigned v = 0; v < 100; v++) {
        short_frag *f = &sim->frac_part[v];
        memset(f->s, 0, sizeof f->s);
        if (v % 10 == 0)
            f->len = (uint32_t)snprintf(text, sizeof text, ".%u", v / 10);
        else
            f->len = (uint32_t)snprintf(text, sizeof text, ".%02u", v);
        memcpy(f->s, text, f->len);
    }
    for (unsigned v = 0; v < 100; v++) {
        sim->pair[v][0] = (char)('0' + v / 10);
        sim->pair[v][1] = (char)('0' + v % 10);
    }
    for (unsigned v = 0; v < 1000; v++) {
        sim->triple[v][0] = (char)('0' + v / 100);
        sim->triple[v][1] = (char)('0' + v / 10 % 10);
        sim->triple[v][2] = (char)('0' + v % 10);
    }
}

static uint64_t episode_threshold(double rate)
{
    assert(rate >= 0 && rate <= 1);
    return (uint64_t)(rate * 9007199254740992.0); /* rate * 2^53, exact for 1 */
}

tw_netsim *tw_netsim_new(const tw_netsim_opts *opts)
{
    assert(opts && opts->devices >= 1 && opts->devices <= MAX_DEVICES);
    assert(opts->events_per_sec >= MIN_RATE && opts->events_per_sec <= MAX_RATE);
    tw_netsim *sim = calloc(1, sizeof *sim);
    if (!sim)
        return NULL;
    sim->opts = *opts;
    sim->devices = opts->devices;
    sim->dev = calloc(opts->devices, sizeof *sim->dev);
    sim->dev_frag = calloc(opts->devices, sizeof *sim->dev_frag);
    if (!sim->dev || !sim->dev_frag) {
        tw_netsim_free(sim);
        return NULL;
    }
    sim->key = splitmix(opts->seed);
    /* One correctly rounded division and conversion: the same on every
     * IEEE-754 machine. */
    sim->interval_fp = (uint64_t)llround(1e6 / opts->events_per_sec * 4294967296.0);
    if (sim->interval_fp == 0)
        sim->interval_fp = 1;
    /* Less than one device's spacing keeps each device's times in order. */
    uint64_t max_jitter_fp = (uint64_t)MAX_JITTER_US << 32;
    if (sim->interval_fp >= max_jitter_fp / sim->devices)
        sim->jitter_range_us = MAX_JITTER_US;
    else
        sim->jitter_range_us = (uint32_t)((sim->interval_fp * sim->devices) >> 32);
    double rates[METRIC_COUNT] = {opts->latency_anomaly_rate, opts->loss_anomaly_rate,
                                  opts->bandwidth_anomaly_rate};
    for (unsigned m = 0; m < METRIC_COUNT; m++)
        sim->episode_thr[m] = episode_threshold(rates[m] < 0 ? opts->anomaly_rate : rates[m]);
    for (uint32_t d = 0; d < sim->devices; d++)
        sim->dev[d].window_start_us = INT64_MIN;
    sim->cached_sec = INT64_MIN;
    build_device_names(sim);
    build_tables(sim);
    return sim;
}

void tw_netsim_free(tw_netsim *sim)
{
    if (!sim)
        return;
    free(sim->dev);
    free(sim->dev_frag);
    free(sim);
}

int64_t tw_netsim_next_time_us(const tw_netsim *sim)
{
    assert(sim);
    return event_time_us(sim, sim->next_event);
}

/* ---- the hot path ------------------------------------------------------ */

#define PUT_CONST(p, lit)                                                                          \
    do {                                                                                           \
        memcpy((p), (lit), sizeof(lit) - 1);                                                       \
        (p) += sizeof(lit) - 1;                                                                    \
    } while (0)

static inline char *put_frag(char *p, const frag *f, size_t copy)
{
    memcpy(p, f->s, copy);
    return p + f->len;
}

static inline char *put_hundredths(const tw_netsim *sim, char *p, uint32_t v)
{
    assert(v <= 20000);
    const short_frag *i = &sim->int_part[v / 100];
    memcpy(p, i->s, 4);
    p += i->len;
    const short_frag *f = &sim->frac_part[v % 100];
    memcpy(p, f->s, 4);
    return p + f->len;
}

static inline uint32_t metric_value(uint32_t bits, unsigned metric, bool abnormal)
{
    if (abnormal)
        return abnormal_lo[metric] + below(bits, abnormal_span[metric]);
    return normal_lo[metric] + below(bits, normal_span[metric]);
}

static void cache_second(tw_netsim *sim, int64_t sec)
{
    char text[64];
    size_t n = tw_timestamp_format(sec * TW_USEC_PER_SEC, text, "");
    assert(n < sizeof sim->sec_text);
    memset(sim->sec_text, 0, sizeof sim->sec_text);
    memcpy(sim->sec_text, text, n);
    sim->sec_len = (uint32_t)n;
    sim->cached_sec = sec;
}

static char *write_line(tw_netsim *sim, char *p)
{
    uint64_t event = sim->next_event;
    uint32_t device = sim->next_device;
    int64_t t_us = event_time_us(sim, event);
    uint64_t r0 = draw(sim->key, event, 0);
    uint64_t r1 = draw(sim->key, event, 1);
    uint64_t r2 = draw(sim->key, event, 2);
    uint64_t r3 = draw(sim->key, event, 3);

    device_state *ds = &sim->dev[device];
    if (t_us < ds->window_start_us || t_us >= ds->window_start_us + WINDOW_US)
        refresh_device(sim, device, t_us);
    uint32_t abnormal = 0;
    if (ds->anomaly_mask) {
        uint64_t r4 = draw(sim->key, event, 4);
        for (unsigned m = 0; m < METRIC_COUNT; m++)
            if ((ds->anomaly_mask >> m & 1) && ((r4 >> (16 * m)) & 0xffff) < ABNORMAL_SHARE_16)
                abnormal |= 1u << m;
    }

    p = put_frag(p, &sim->dev_frag[device], 64);

    int64_t sec = t_us >= 0 ? t_us / TW_USEC_PER_SEC : floor_div(t_us, TW_USEC_PER_SEC);
    uint32_t frac_us = (uint32_t)(t_us - sec * TW_USEC_PER_SEC);
    if (sec != sim->cached_sec)
        cache_second(sim, sec);
    memcpy(p, sim->sec_text, 32);
    p += sim->sec_len;
    if (frac_us) {
        *p = '.';
        memcpy(p + 1, sim->triple[frac_us / 1000], 3);
        memcpy(p + 4, sim->triple[frac_us % 1000], 3);
        p += 7;
    }

    p = put_frag(p, &sim->src_frag[below((uint32_t)r1, N_IPS)], 48);
    p = put_frag(p, &sim->dst_frag[below((uint32_t)(r1 >> 32), N_IPS)], 32);
    p = put_frag(p, &sim->proto_frag[below((uint32_t)(r0 >> 32), 5)], 32);
    p = put_hundredths(sim, p, metric_value((uint32_t)r2, METRIC_LATENCY, abnormal & 1));
    PUT_CONST(p, ",\"packet_loss_rate\":");
    p = put_hundredths(sim, p, metric_value((uint32_t)(r2 >> 32), METRIC_LOSS, abnormal & 2));
    PUT_CONST(p, ",\"bandwidth_usage_percent\":");
    p = put_hundredths(sim, p, metric_value((uint32_t)r3, METRIC_BANDWIDTH, abnormal & 4));
    PUT_CONST(p, ",\"flow_bytes\":");

    uint32_t flow = FLOW_MIN + below((uint32_t)(r3 >> 32), FLOW_SPAN);
    uint32_t high = flow / 10000, low = flow % 10000;
    if (high) {
        memcpy(p, sim->int_part[high].s, 4);
        p += sim->int_part[high].len;
    }
    memcpy(p, sim->pair[low / 100], 2);
    memcpy(p + 2, sim->pair[low % 100], 2);
    p += 4;
    PUT_CONST(p, "}\n");

    sim->next_event = event + 1;
    sim->next_device = device + 1 == sim->devices ? 0 : device + 1;
    return p;
}

size_t tw_netsim_fill(tw_netsim *sim, char *buf, size_t cap, uint64_t max_events, uint64_t *events)
{
    assert(sim && buf && events && cap >= 1024);
    char *p = buf;
    const char *last = buf + cap - LINE_MAX_BYTES;
    uint64_t n = 0;
    while (n < max_events && p <= last) {
        char *line = p;
        p = write_line(sim, p);
        assert(p - line < LINE_MAX_BYTES - 64);
        (void)line;
        n++;
    }
    *events = n;
    return (size_t)(p - buf);
}
