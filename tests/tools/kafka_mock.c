/* kafka_mock.c - a Kafka-protocol test cluster on 127.0.0.1 for the tests.
 *
 * Starts librdkafka's mock cluster (real brokers speaking the Kafka protocol
 * on ephemeral ports), creates the topics the test asks for (the mock has no
 * CreateTopics), prints the bootstrap address on stdout, then obeys commands
 * on stdin, one a line, answering "ok" or "error: ..." to each:
 *   down B | up B     take broker B (1..N, or "all") down / back up
 *   topic NAME:PARTS  create another topic
 *   quit              stop (end of stdin and SIGTERM stop too)
 *
 * Usage: kafka_mock [--brokers N] [--topic NAME:PARTITIONS]... [--down]
 * --down starts with every broker refusing connections, so a client can be
 * started before the cluster is reachable.
 *
 * The mock keeps about 5 MB per partition (older message sets are dropped):
 * spread big inputs over enough partitions, or compress them.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static bool create_topic(rd_kafka_mock_cluster_t *mc, int brokers, const char *spec)
{
    const char *colon = strrchr(spec, ':');
    char *end;
    long parts = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == spec || *end || parts < 1 || parts > 100000) {
        fprintf(stderr, "kafka_mock: topic '%s' is not NAME:PARTITIONS\n", spec);
        return false;
    }
    char name[512];
    snprintf(name, sizeof name, "%.*s", (int)(colon - spec), spec);
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, (int)parts, brokers < 3 ? brokers : 3);
    if (e) {
        fprintf(stderr, "kafka_mock: cannot create topic '%s': %s\n", name, rd_kafka_err2str(e));
        return false;
    }
    return true;
}

/* Parses a broker argument: a number 1..brokers or "all" (-1). */
static bool broker_arg(const char *s, int brokers, int32_t *id)
{
    if (!strcmp(s, "all")) {
        *id = -1;
        return true;
    }
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < 1 || v > brokers)
        return false;
    *id = (int32_t)v;
    return true;
}

int main(int argc, char **argv)
{
    int brokers = 1;
    bool start_down = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
            brokers = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
            i++; /* created once the cluster exists */
        } else if (!strcmp(argv[i], "--down")) {
            start_down = true;
        } else {
            fprintf(stderr, "usage: kafka_mock [--brokers N] [--topic NAME:PARTITIONS]... [--down]\n");
            return 2;
        }
    }
    if (brokers < 1 || brokers > 16) {
        fprintf(stderr, "kafka_mock: --brokers must be 1..16\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    int status = 1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--topic") && !create_topic(mc, brokers, argv[++i]))
            goto out;
    if (start_down)
        rd_kafka_mock_broker_set_down(mc, -1);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    char line[1024];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *arg = strchr(line, ' ');
        if (arg)
            *arg++ = '\0';
        int32_t id;
        if (!strcmp(line, "quit")) {
            break;
        } else if ((!strcmp(line, "down") || !strcmp(line, "up")) && arg &&
                   broker_arg(arg, brokers, &id)) {
            rd_kafka_resp_err_t e = line[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, id)
                                                   : rd_kafka_mock_broker_set_up(mc, id);
            if (e)
                printf("error: %s\n", rd_kafka_err2str(e));
            else
                printf("ok\n");
        } else if (!strcmp(line, "topic") && arg) {
            printf(create_topic(mc, brokers, arg) ? "ok\n" : "error: bad topic\n");
        } else if (line[0]) {
            printf("error: unknown command '%s' (down B, up B, topic NAME:PARTS, quit)\n", line);
        }
        fflush(stdout);
    }
    status = 0;
out:
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return status;
}
