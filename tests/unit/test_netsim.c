/* Unit tests for source/netsim: determinism, the message format, value
 * ranges, device names, per-metric anomaly episodes, event times, options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "source/netsim.h"

#define WINDOW_US (INT64_C(10) * TW_USEC_PER_SEC)

typedef struct text {
    char *bytes;
    size_t len;
} text;

/* Runs a simulator for n events, filling chunks of chunk_cap bytes. */
static text generate(const tw_netsim_opts *opts, uint64_t n, size_t chunk_cap)
{
    tw_netsim *sim = tw_netsim_new(opts);
    assert_non_null(sim);
    size_t cap = 1 << 20;
    text t = {malloc(cap), 0};
    assert_non_null(t.bytes);
    char *chunk = malloc(chunk_cap);
    assert_non_null(chunk);
    uint64_t done = 0;
    while (done < n) {
        uint64_t got;
        size_t len = tw_netsim_fill(sim, chunk, chunk_cap, n - done, &got);
        assert_true(got > 0);
        while (t.len + len > cap) {
            cap *= 2;
            t.bytes = realloc(t.bytes, cap);
            assert_non_null(t.bytes);
        }
        memcpy(t.bytes + t.len, chunk, len);
        t.len += len;
        done += got;
    }
    free(chunk);
    tw_netsim_free(sim);
    return t;
}

typedef struct record {
    char device[32];
    int64_t t_us;
    char src[16], dst[16], protocol[8];
    uint32_t latency, loss, bandwidth; /* hundredths */
    uint64_t flow_bytes;
} record;

static bool expect(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n))
        return false;
    *p += n;
    return true;
}

/* A JSON string without escapes, copied into out. */
static bool take_string(const char **p, char *out, size_t cap)
{
    const char *end = strchr(*p, '"');
    if (!end || (size_t)(end - *p) >= cap || memchr(*p, '\\', (size_t)(end - *p)))
        return false;
    memcpy(out, *p, (size_t)(end - *p));
    out[end - *p] = '\0';
    *p = end;
    return true;
}

/* A number with one or two decimals in shortest form (7.0, 7.5, 7.25, never
 * 7.50 or 07.5), returned in hundredths. */
static bool take_hundredths(const char **p, uint32_t *out)
{
    const char *s = *p;
    uint32_t whole = 0;
    int ndigits = 0;
    while (*s >= '0' && *s <= '9') {
        whole = whole * 10 + (uint32_t)(*s++ - '0');
        ndigits++;
    }
    if (ndigits == 0 || (ndigits > 1 && (*p)[0] == '0') || *s++ != '.')
        return false;
    if (!(s[0] >= '0' && s[0] <= '9'))
        return false;
    uint32_t frac = (uint32_t)(s[0] - '0') * 10;
    s++;
    if (*s >= '0' && *s <= '9') {
        if (*s == '0')
            return false;
        frac += (uint32_t)(*s++ - '0');
    }
    *out = whole * 100 + frac;
    *p = s;
    return true;
}

/* Parses one line strictly: keys in the documented order, nothing else. */
static bool parse_line(const char *line, record *r)
{
    const char *p = line;
    char ts[40];
    if (!expect(&p, "{\"device_id\":\"") || !take_string(&p, r->device, sizeof r->device) ||
        !expect(&p, "\",\"timestamp\":\"") || !take_string(&p, ts, sizeof ts) ||
        !expect(&p, "\",\"src_ip\":\"") || !take_string(&p, r->src, sizeof r->src) ||
        !expect(&p, "\",\"dst_ip\":\"") || !take_string(&p, r->dst, sizeof r->dst) ||
        !expect(&p, "\",\"protocol\":\"") || !take_string(&p, r->protocol, sizeof r->protocol) ||
        !expect(&p, "\",\"latency_ms\":") || !take_hundredths(&p, &r->latency) ||
        !expect(&p, ",\"packet_loss_rate\":") || !take_hundredths(&p, &r->loss) ||
        !expect(&p, ",\"bandwidth_usage_percent\":") || !take_hundredths(&p, &r->bandwidth) ||
        !expect(&p, ",\"flow_bytes\":"))
        return false;
    char *end;
    if (*p < '1' || *p > '9')
        return false;
    r->flow_bytes = strtoull(p, &end, 10);
    p = end;
    if (!expect(&p, "}\n"))
        return false;
    /* UTC with 'Z', microseconds as six digits or none at all. */
    size_t n = strlen(ts);
    if ((n != 20 && n != 27) || ts[n - 1] != 'Z' || ts[10] != 'T')
        return false;
    if (n == 27 && !strcmp(ts + 19, ".000000Z"))
        return false;
    return tw_timestamp_parse(ts, n, &r->t_us);
}

/* Calls fn on every line of t; fails the test on a malformed line. */
static size_t for_each_record(const text *t, void (*fn)(const record *, void *), void *ctx)
{
    size_t lines = 0;
    const char *p = t->bytes, *end = t->bytes + t->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        char line[512];
        size_t n = (size_t)(nl - p) + 1;
        assert_true(n < sizeof line);
        memcpy(line, p, n);
        line[n] = '\0';
        record r;
        if (!parse_line(line, &r))
            fail_msg("malformed line: %s", line);
        fn(&r, ctx);
        lines++;
        p = nl + 1;
    }
    return lines;
}

static void ignore_record(const record *r, void *ctx)
{
    (void)r;
    (void)ctx;
}

static void test_same_options_same_bytes_in_any_chunking(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    o.anomaly_rate = 0.1;
    text a = generate(&o, 20000, 1 << 20);
    text b = generate(&o, 20000, 1024);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.bytes, b.bytes, a.len);
    free(a.bytes);
    free(b.bytes);
}

static void test_different_seed_different_bytes(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    text a = generate(&o, 1000, 1 << 16);
    o.seed = 2;
    text b = generate(&o, 1000, 1 << 16);
    assert_true(a.len != b.len || memcmp(a.bytes, b.bytes, a.len) != 0);
    free(a.bytes);
    free(b.bytes);
}

static void test_every_line_well_formed(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    o.devices = 37;
    text t = generate(&o, 50000, 1 << 16);
    assert_int_equal(for_each_record(&t, ignore_record, NULL), 50000);
    free(t.bytes);
}

static bool in_range(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v >= lo && v <= hi;
}

static bool valid_ip(const char *ip)
{
    static const char *const prefixes[] = {"192.168.1.", "10.0.0.", "172.16.0."};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(ip, prefixes[i], n))
            continue;
        char *end;
        long host = strtol(ip + n, &end, 10);
        return *end == '\0' && ip[n] != '0' && host >= 1 && host <= 254;
    }
    return false;
}

typedef struct range_stats {
    size_t protocols_seen[5];
    size_t abnormal[3];
    size_t seen;
} range_stats;

static void check_ranges(const record *r, void *ctx)
{
    range_stats *s = ctx;
    static const char *const protocols[] = {"TCP", "UDP", "ICMP", "HTTP", "HTTPS"};
    int proto = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(r->protocol, protocols[i]))
            proto = i;
    assert_true(proto >= 0);
    s->protocols_seen[proto]++;
    assert_true(valid_ip(r->src));
    assert_true(valid_ip(r->dst));
    assert_true(in_range(r->latency, 1000, 5000) || in_range(r->latency, 10000, 20000));
    assert_true(in_range(r->loss, 0, 200) || in_range(r->loss, 500, 1500));
    assert_true(in_range(r->bandwidth, 3000, 7000) || in_range(r->bandwidth, 9000, 10000));
    assert_true(r->flow_bytes >= 1024 && r->flow_bytes <= 1048576);
    s->abnormal[0] += r->latency >= 10000;
    s->abnormal[1] += r->loss >= 500;
    s->abnormal[2] += r->bandwidth >= 9000;
    s->seen++;
}

static void test_values_in_seed_ranges(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    o.anomaly_rate = 0.05;
    text t = generate(&o, 100000, 1 << 16);
    range_stats s = {0};
    for_each_record(&t, check_ranges, &s);
    for (int i = 0; i < 5; i++)
        assert_true(s.protocols_seen[i] > 0);
    for (int m = 0; m < 3; m++)
        assert_true(s.abnormal[m] > 0 && s.abnormal[m] < s.seen / 2);
    free(t.bytes);
}

typedef struct name_set {
    char names[64][32];
    size_t count;
} name_set;

static void collect_name(const record *r, void *ctx)
{
    name_set *s = ctx;
    for (size_t i = 0; i < s->count; i++)
        if (!strcmp(s->names[i], r->device))
            return;
    assert_true(s->count < 64);
    strcpy(s->names[s->count++], r->device);
}

static void test_three_devices_use_seed_names(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    o.devices = 3;
    text t = generate(&o, 300, 4096);
    name_set s = {.count = 0};
    for_each_record(&t, collect_name, &s);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.names[0], "router-01");
    assert_string_equal(s.names[1], "router-02");
    assert_string_equal(s.names[2], "server-01");
    free(t.bytes);
}

static void test_fifty_devices_get_sortable_kind_names(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    o.devices = 50;
    text t = generate(&o, 500, 4096);
    name_set s = {.count = 0};
    for_each_record(&t, collect_name, &s);
    assert_int_equal(s.count, 50);
    static const char *const kinds[] = {"router", "switch", "server", "firewall", "ap"};
    bool kind_seen[5] = {false};
    for (size_t i = 0; i < s.count; i++) {
        const char *dash = strchr(s.names[i], '-');
        assert_non_null(dash);
        bool known = false;
        for (int k = 0; k < 5; k++) {
            if ((size_t)(dash - s.names[i]) == strlen(kinds[k]) &&
                !strncmp(s.names[i], kinds[k], strlen(kinds[k]))) {
                kind_seen[k] = known = true;
            }
        }
        assert_true(known);
        assert_int_equal(strlen(dash + 1), 4);
        assert_int_equal(strspn(dash + 1, "0123456789"), 4);
        assert_string_not_equal(dash + 1, "0000");
    }
    for (int k = 0; k < 5; k++)
        assert_true(kind_seen[k]);
    free(t.bytes);
}

/* Per (device, 10-second window) sums, for the seed's averages. */
#define MAX_WINDOWS 64
typedef struct window_sums {
    const char *devices[5];
    int64_t first_window;
    uint64_t n[5][MAX_WINDOWS];
    uint64_t latency[5][MAX_WINDOWS], loss[5][MAX_WINDOWS], bandwidth[5][MAX_WINDOWS];
} window_sums;

static void add_to_window(const record *r, void *ctx)
{
    window_sums *w = ctx;
    int d = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(r->device, w->devices[i]))
            d = i;
    assert_true(d >= 0);
    int64_t win = r->t_us / WINDOW_US - w->first_window;
    assert_true(win >= 0 && win < MAX_WINDOWS);
    w->n[d][win]++;
    w->latency[d][win] += r->latency;
    w->loss[d][win] += r->loss;
    w->bandwidth[d][win] += r->bandwidth;
}

static void window_flags(const window_sums *w, size_t counts[8])
{
    for (int d = 0; d < 5; d++) {
        for (int win = 0; win < MAX_WINDOWS; win++) {
            uint64_t n = w->n[d][win];
            if (n == 0)
                continue;
            /* Averages in hundredths against the seed's thresholds; normal
             * averages stay far below them (at most 50, 2 and 70). */
            bool lat = w->latency[d][win] > 10000 * n;
            bool loss = w->loss[d][win] > 500 * n;
            bool bw = w->bandwidth[d][win] > 9000 * n;
            assert_true(lat || w->latency[d][win] <= 5000 * n);
            assert_true(loss || w->loss[d][win] <= 200 * n);
            assert_true(bw || w->bandwidth[d][win] <= 7000 * n);
            counts[lat | loss << 1 | bw << 2]++;
        }
    }
}

static void count_anomaly_kinds(tw_netsim_opts *o, size_t counts[8])
{
    text t = generate(o, 200000, 1 << 20);
    window_sums *w = calloc(1, sizeof *w);
    assert_non_null(w);
    static const char *const names[5] = {"router-01", "router-02", "server-01", "server-02",
                                         "switch-01"};
    memcpy(w->devices, names, sizeof names);
    w->first_window = o->start_us / WINDOW_US;
    for_each_record(&t, add_to_window, w);
    memset(counts, 0, 8 * sizeof counts[0]);
    window_flags(w, counts);
    free(w);
    free(t.bytes);
}

static void test_metrics_have_independent_anomaly_episodes(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    o.anomaly_rate = 0.05;
    size_t counts[8];
    count_anomaly_kinds(&o, counts);
    assert_true(counts[0] > 0); /* normal windows */
    assert_true(counts[1] > 0); /* latency only */
    assert_true(counts[2] > 0); /* loss only */
    assert_true(counts[4] > 0); /* bandwidth only */
}

static void test_per_metric_rate_overrides(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    o.anomaly_rate = 0.2;
    o.latency_anomaly_rate = 0;
    size_t counts[8];
    count_anomaly_kinds(&o, counts);
    size_t with_latency = counts[1] + counts[3] + counts[5] + counts[7];
    assert_int_equal(with_latency, 0);
    assert_true(counts[2] > 0 && counts[4] > 0);
}

typedef struct time_order {
    int64_t last_per_device[5];
    int64_t max_seen, max_disorder_us;
    const char *devices[5];
    int64_t first_us, last_us;
    size_t seen;
} time_order;

static void check_order(const record *r, void *ctx)
{
    time_order *o = ctx;
    int d = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(r->device, o->devices[i]))
            d = i;
    assert_true(d >= 0);
    assert_true(r->t_us >= o->last_per_device[d]);
    o->last_per_device[d] = r->t_us;
    if (o->max_seen - r->t_us > o->max_disorder_us)
        o->max_disorder_us = o->max_seen - r->t_us;
    if (r->t_us > o->max_seen)
        o->max_seen = r->t_us;
    if (o->seen++ == 0)
        o->first_us = r->t_us;
    o->last_us = r->t_us;
}

static void test_times_ordered_per_device_and_follow_rate(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    text t = generate(&o, 100000, 1 << 16);
    time_order ord = {.devices = {"router-01", "router-02", "server-01", "server-02", "switch-01"}};
    for_each_record(&t, check_order, &ord);
    assert_true(ord.max_disorder_us < TW_USEC_PER_SEC);
    assert_true(ord.max_disorder_us > 0); /* times carry jitter */
    assert_true(ord.first_us >= o.start_us && ord.first_us < o.start_us + 10000);
    /* 100000 events at 1000 a second span 100 seconds. */
    int64_t span_us = ord.last_us - ord.first_us;
    assert_true(span_us > 99980000 && span_us < 100010000);
    free(t.bytes);
}

static void test_next_time_is_next_line_time(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    tw_netsim *sim = tw_netsim_new(&o);
    assert_non_null(sim);
    char buf[1024];
    uint64_t n;
    for (int i = 0; i < 50; i++) {
        int64_t expected = tw_netsim_next_time_us(sim);
        size_t len = tw_netsim_fill(sim, buf, sizeof buf, 1, &n);
        assert_int_equal(n, 1);
        buf[len] = '\0';
        record r;
        assert_true(parse_line(buf, &r));
        assert_int_equal(r.t_us, expected);
    }
    tw_netsim_free(sim);
}

static void test_fill_writes_whole_lines_within_limits(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    tw_netsim *sim = tw_netsim_new(&o);
    assert_non_null(sim);
    char buf[4096];
    uint64_t n;
    size_t len = tw_netsim_fill(sim, buf, sizeof buf, 3, &n);
    assert_int_equal(n, 3);
    size_t newlines = 0;
    for (size_t i = 0; i < len; i++)
        newlines += buf[i] == '\n';
    assert_int_equal(newlines, 3);
    len = tw_netsim_fill(sim, buf, 1024, UINT64_MAX, &n);
    assert_true(n >= 1 && len <= 1024 && buf[len - 1] == '\n');
    newlines = 0;
    for (size_t i = 0; i < len; i++)
        newlines += buf[i] == '\n';
    assert_int_equal(newlines, n);
    tw_netsim_free(sim);
}

static void expect_set_error(const char *key, const char *value, const char *in_message)
{
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    tw_err err;
    tw_err_clear(&err);
    assert_false(tw_netsim_opts_set(&o, key, value, &err));
    assert_int_equal(err.code, TW_ERR_CONFIG);
    if (!strstr(err.msg, key) || !strstr(err.msg, in_message))
        fail_msg("message for %s=%s lacks '%s': %s", key, value, in_message, err.msg);
}

static void test_opts_set_rejects_bad_values(void **state)
{
    (void)state;
    expect_set_error("devices", "0", "1..1000000");
    expect_set_error("devices", "5x", "1..1000000");
    expect_set_error("devices", "-3", "1..1000000");
    expect_set_error("rate", "0", "0.001..");
    expect_set_error("rate", "fast", "0.001..");
    expect_set_error("seed", "-1", "unsigned");
    expect_set_error("start", "yesterday", "1970-01-01");
    expect_set_error("anomaly_rate", "1.5", "0..1");
    expect_set_error("loss_anomaly_rate", "nan", "0..1");
    expect_set_error("colour", "red", "unknown");
}

static void test_opts_set_accepts_good_values(void **state)
{
    (void)state;
    tw_netsim_opts o;
    tw_netsim_opts_default(&o);
    tw_err err;
    assert_true(tw_netsim_opts_set(&o, "devices", "50", &err));
    assert_true(tw_netsim_opts_set(&o, "rate", "2500.5", &err));
    assert_true(tw_netsim_opts_set(&o, "seed", "18446744073709551615", &err));
    assert_true(tw_netsim_opts_set(&o, "start", "2026-01-27T20:47:13.482913Z", &err));
    assert_true(tw_netsim_opts_set(&o, "bandwidth_anomaly_rate", "0.5", &err));
    assert_int_equal(o.devices, 50);
    assert_true(o.events_per_sec == 2500.5);
    assert_true(o.seed == UINT64_MAX);
    assert_int_equal(o.start_us, INT64_C(1769546833482913));
    assert_true(o.bandwidth_anomaly_rate == 0.5);
    assert_true(o.latency_anomaly_rate < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_options_same_bytes_in_any_chunking),
        cmocka_unit_test(test_different_seed_different_bytes),
        cmocka_unit_test(test_every_line_well_formed),
        cmocka_unit_test(test_values_in_seed_ranges),
        cmocka_unit_test(test_three_devices_use_seed_names),
        cmocka_unit_test(test_fifty_devices_get_sortable_kind_names),
        cmocka_unit_test(test_metrics_have_independent_anomaly_episodes),
        cmocka_unit_test(test_per_metric_rate_overrides),
        cmocka_unit_test(test_times_ordered_per_device_and_follow_rate),
        cmocka_unit_test(test_next_time_is_next_line_time),
        cmocka_unit_test(test_fill_writes_whole_lines_within_limits),
        cmocka_unit_test(test_opts_set_rejects_bad_values),
        cmocka_unit_test(test_opts_set_accepts_good_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
