/* mockcluster: runs librdkafka's in-memory mock Kafka cluster as a test helper process. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 64

static void usage(void)
{
    fprintf(stderr, "usage: mockcluster --topic NAME:PARTITIONS [--topic ...] [--brokers N] "
                    "--ready-file FILE\n");
    exit(1);
}

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 100000)
        return -1;
    *out = (int)v;
    return 0;
}

static int write_ready_file(const char *path, const char *text)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "mockcluster: ready file path too long\n");
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "mockcluster: cannot create %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    int bad = fprintf(f, "%s\n", text) < 0;
    bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "mockcluster: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "mockcluster: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Every listener must be on loopback: "127.0.0.1:port[,127.0.0.1:port...]". */
static int bootstraps_on_loopback(const char *bs)
{
    const char *p = bs;
    while (*p) {
        if (strncmp(p, "127.0.0.1:", 10) != 0)
            return 0;
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    return 1;
}

static int set_brokers(rd_kafka_mock_cluster_t *mc, int brokers, int up)
{
    for (int id = 1; id <= brokers; id++) {
        rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(mc, id)
                                     : rd_kafka_mock_broker_set_down(mc, id);
        if (err) {
            fprintf(stderr, "mockcluster: broker_set_%s(%d): %s\n", up ? "up" : "down", id,
                    rd_kafka_err2str(err));
            return -1;
        }
    }
    fprintf(stderr, "mockcluster: %d broker(s) %s\n", brokers, up ? "up" : "down");
    return 0;
}

int main(int argc, char **argv)
{
    const char *topics[MAX_TOPICS];
    int parts[MAX_TOPICS];
    int ntopics = 0, brokers = 1;
    const char *ready_file = NULL;

    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--topic")) {
            char *arg = argv[++i], *colon = strrchr(arg, ':');
            if (!colon || colon == arg || ntopics == MAX_TOPICS ||
                parse_int(colon + 1, &parts[ntopics]))
                usage();
            *colon = '\0';
            topics[ntopics++] = arg;
        } else if (!strcmp(argv[i], "--brokers")) {
            if (parse_int(argv[++i], &brokers))
                usage();
        } else if (!strcmp(argv[i], "--ready-file")) {
            ready_file = argv[++i];
        } else {
            usage();
        }
    }
    if (!ntopics || !ready_file)
        usage();

    /* Block the signals before librdkafka starts threads so they all inherit the mask
     * and sigwait() below is the only receiver. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc) {
        fprintf(stderr, "mockcluster: pthread_sigmask: %s\n", strerror(rc));
        return 1;
    }

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "mockcluster: conf log_level: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "mockcluster: rd_kafka_new: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "mockcluster: rd_kafka_mock_cluster_new(%d brokers) failed\n", brokers);
        rd_kafka_destroy(rk);
        return 1;
    }

    int status = 1;
    for (int i = 0; i < ntopics; i++) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, topics[i], parts[i], 1);
        if (err) {
            fprintf(stderr, "mockcluster: topic_create(%s, %d): %s\n", topics[i], parts[i],
                    rd_kafka_err2str(err));
            goto out;
        }
    }
    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    if (!bs || !*bs) {
        fprintf(stderr, "mockcluster: rd_kafka_mock_cluster_bootstraps returned nothing\n");
        goto out;
    }
    if (!bootstraps_on_loopback(bs)) {
        fprintf(stderr, "mockcluster: listener not on 127.0.0.1: %s\n", bs);
        goto out;
    }
    if (write_ready_file(ready_file, bs))
        goto out;

    for (;;) {
        int sig;
        rc = sigwait(&set, &sig);
        if (rc) {
            fprintf(stderr, "mockcluster: sigwait: %s\n", strerror(rc));
            goto out;
        }
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (set_brokers(mc, brokers, sig == SIGUSR2))
            goto out;
    }
    status = 0;
out:
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return status;
}
