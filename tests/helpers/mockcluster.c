/* SPDX-License-Identifier: BSD-2-Clause */
/* mockcluster: runs librdkafka's in-memory mock Kafka cluster as a test helper process. */
/*
 * Faults come in two ways:
 *   signals       SIGUSR1 = all brokers down, SIGUSR2 = all brokers up, SIGTERM/SIGINT = exit;
 *   --control F   on SIGHUP the commands in F run in order and F.done gets one line per
 *                 command, "ok" or "error: REASON" (written to F.done.tmp, then renamed).
 * Control commands, one a line (blank lines and lines starting with '#' are skipped):
 *   down [BROKER_ID|all]           up [BROKER_ID|all]           rtt BROKER_ID|all MS
 *   errors API ERR [ERR...]        the next requests of API fail with these errors, one each
 *   clear API                      drops what is left of the errors pushed by `errors`
 *   broker_errors BROKER_ID API ERR:RTT_MS [ERR:RTT_MS...]   the same on one broker, each
 *                                  answer delayed by RTT_MS; taken before those of `errors`
 *   coordinator group|transaction KEY BROKER_ID
 * API is a Kafka request name (see apis[]); ERR a librdkafka error name without the
 * RD_KAFKA_RESP_ERR_ prefix (NOT_COORDINATOR, NO_ERROR, _TRANSPORT = drop the connection).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* A Kafka broker sets TCP_NODELAY on every connection it accepts;
 * librdkafka 2.0.2's mock does not, so two answers written back to back
 * waited for the client's delayed ACK (40 ms) -- a cost no real broker
 * has. The mock calls accept() through the dynamic linker, so this
 * definition in the executable is the one it gets: it accepts, then sets
 * TCP_NODELAY as a broker would. */
int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    static int (*real_accept)(int, struct sockaddr *, socklen_t *);
    int s, on = 1;

    if (real_accept == NULL) {
        *(void **)&real_accept = dlsym(RTLD_NEXT, "accept");
        if (real_accept == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }
    s = real_accept(fd, addr, len);
    if (s >= 0 && setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
        fprintf(stderr, "mockcluster: TCP_NODELAY: %s\n", strerror(errno));
    return s;
}

#define MAX_TOPICS 64
#define MAX_PATH 4096
#define MAX_LINE 1024 /* bytes in one control line, without its newline */
#define MAX_WORDS 64  /* words in one control line */
#define WHY_SIZE 512  /* a failed command's reason; longer ones are cut */
#define MAX_RTT_MS 3600000

struct cluster {
    rd_kafka_mock_cluster_t *mc;
    int brokers;
};

struct control {
    const char *path;     /* NULL: no --control, SIGHUP is ignored */
    char done[MAX_PATH];  /* path.done */
    char tmp[MAX_PATH];   /* path.done.tmp */
};

static void usage(void)
{
    fprintf(stderr, "usage: mockcluster --topic NAME:PARTITIONS [--topic ...] [--brokers N] "
                    "--ready-file FILE [--control FILE]\n");
    exit(1);
}

/* The whole of s as a decimal in [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, int *out)
{
    long v;
    if (parse_long(s, 1, 100000, &v))
        return -1;
    *out = (int)v;
    return 0;
}

static int write_ready_file(const char *path, const char *text)
{
    char tmp[MAX_PATH];
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

/* ---- control commands: each returns 0, or -1 with the reason in why[WHY_SIZE] ---------- */

/* Callers still initialise what a failed parse_*() leaves unset: gcc cannot see through
 * this variadic function that it always returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(why, WHY_SIZE, fmt, ap); /* a cut reason is still a reason */
    va_end(ap);
    return -1;
}

static int mock_result(rd_kafka_resp_err_t err, char *why)
{
    return err ? fail(why, "%s", rd_kafka_err2str(err)) : 0;
}

/* A broker of this cluster (1..brokers), or with allow_all "all": -1, librdkafka's "every
 * broker". Checked here: the mock answers a wrong id with a bare "Broker not available",
 * and takes any id as a coordinator. */
static int parse_broker(const struct cluster *c, const char *s, int allow_all, int32_t *id,
                        char *why)
{
    long v;
    if (allow_all && !strcmp(s, "all")) {
        *id = -1;
        return 0;
    }
    if (parse_long(s, 1, c->brokers, &v))
        return fail(why, "bad broker '%s' (want 1..%d%s)", s, c->brokers,
                    allow_all ? " or all" : "");
    *id = (int32_t)v;
    return 0;
}

/* Kafka ApiKeys: librdkafka's RD_KAFKAP_* names are not in its public headers. These are
 * the non-transactional requests that 2.0.2's mock brokers answer. */
static const struct {
    const char *name;
    int16_t key;
} apis[] = {
    {"Produce", 0},       {"Fetch", 1},           {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8},  {"OffsetFetch", 9},     {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},    {"LeaveGroup", 13},     {"SyncGroup", 14},       {"ApiVersions", 18},
};

static int parse_api(const char *s, int16_t *key, char *why)
{
    for (size_t i = 0; i < sizeof apis / sizeof *apis; i++) {
        if (!strcmp(apis[i].name, s)) {
            *key = apis[i].key;
            return 0;
        }
    }
    return fail(why, "unknown API '%s'", s);
}

/* Any name librdkafka knows, so tests need no table here to grow. The list has holes
 * (NULL names) between the internal and the broker error codes. */
static int parse_err(const char *s, rd_kafka_resp_err_t *err, char *why)
{
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++) {
        if (descs[i].name && !strcmp(descs[i].name, s)) {
            *err = descs[i].code;
            return 0;
        }
    }
    return fail(why, "unknown error '%s'", s);
}

/* ERR:RTT_MS; cuts s at its last ':'. */
static int parse_err_rtt(char *s, rd_kafka_resp_err_t *err, int *rtt, char *why)
{
    char *colon = strrchr(s, ':');
    long ms;
    if (!colon)
        return fail(why, "bad '%s' (want ERR:RTT_MS)", s);
    *colon = '\0';
    if (parse_long(colon + 1, 0, MAX_RTT_MS, &ms))
        return fail(why, "bad RTT_MS '%s' (want 0..%d)", colon + 1, MAX_RTT_MS);
    *rtt = (int)ms;
    return parse_err(s, err, why);
}

/* down|up [BROKER_ID|all] */
static int cmd_updown(const struct cluster *c, int argc, char **argv, char *why)
{
    int32_t id = -1;
    if (argc == 2 && parse_broker(c, argv[1], 1, &id, why))
        return -1;
    int up = !strcmp(argv[0], "up");
    return mock_result(up ? rd_kafka_mock_broker_set_up(c->mc, id)
                          : rd_kafka_mock_broker_set_down(c->mc, id),
                       why);
}

/* rtt BROKER_ID|all MS */
static int cmd_rtt(const struct cluster *c, int argc, char **argv, char *why)
{
    int32_t id = 0;
    long ms;
    (void)argc;
    if (parse_broker(c, argv[1], 1, &id, why))
        return -1;
    if (parse_long(argv[2], 0, MAX_RTT_MS, &ms))
        return fail(why, "bad MS '%s' (want 0..%d)", argv[2], MAX_RTT_MS);
    return mock_result(rd_kafka_mock_broker_set_rtt(c->mc, id, (int)ms), why);
}

/* errors API ERR [ERR...]: all names are checked before any is pushed. */
static int cmd_errors(const struct cluster *c, int argc, char **argv, char *why)
{
    int16_t api = 0;
    rd_kafka_resp_err_t errs[MAX_WORDS];
    if (parse_api(argv[1], &api, why))
        return -1;
    for (int i = 2; i < argc; i++) {
        if (parse_err(argv[i], &errs[i - 2], why))
            return -1;
    }
    rd_kafka_mock_push_request_errors_array(c->mc, api, (size_t)(argc - 2), errs);
    return 0;
}

/* clear API: only the errors of `errors`; the mock cannot clear a broker's. */
static int cmd_clear(const struct cluster *c, int argc, char **argv, char *why)
{
    int16_t api = 0;
    (void)argc;
    if (parse_api(argv[1], &api, why))
        return -1;
    rd_kafka_mock_clear_request_errors(c->mc, api);
    return 0;
}

/* broker_errors BROKER_ID API ERR:RTT_MS [ERR:RTT_MS...] */
static int cmd_broker_errors(const struct cluster *c, int argc, char **argv, char *why)
{
    int32_t id = 0;
    int16_t api = 0;
    rd_kafka_resp_err_t errs[MAX_WORDS];
    int rtts[MAX_WORDS];
    if (parse_broker(c, argv[1], 0, &id, why) || parse_api(argv[2], &api, why))
        return -1;
    int n = argc - 3;
    for (int i = 0; i < n; i++) {
        if (parse_err_rtt(argv[i + 3], &errs[i], &rtts[i], why))
            return -1;
    }
    /* The call is variadic, so one pair at a time: each goes to the end of the broker's
     * stack, which keeps the order. */
    for (int i = 0; i < n; i++) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_broker_push_request_error_rtts(c->mc, id, api, 1, errs[i], rtts[i]);
        if (err)
            return mock_result(err, why);
    }
    return 0;
}

/* coordinator group|transaction KEY BROKER_ID */
static int cmd_coordinator(const struct cluster *c, int argc, char **argv, char *why)
{
    int32_t id = 0;
    (void)argc;
    if (strcmp(argv[1], "group") && strcmp(argv[1], "transaction"))
        return fail(why, "bad key type '%s' (want group or transaction)", argv[1]);
    if (parse_broker(c, argv[3], 0, &id, why))
        return -1;
    return mock_result(rd_kafka_mock_coordinator_set(c->mc, argv[1], argv[2], id), why);
}

static const struct command {
    const char *name;
    int min_words, max_words; /* counting the name */
    int (*fn)(const struct cluster *c, int argc, char **argv, char *why);
    const char *usage;
} commands[] = {
    {"down", 1, 2, cmd_updown, "down [BROKER_ID|all]"},
    {"up", 1, 2, cmd_updown, "up [BROKER_ID|all]"},
    {"rtt", 3, 3, cmd_rtt, "rtt BROKER_ID|all MS"},
    {"errors", 3, MAX_WORDS, cmd_errors, "errors API ERR [ERR...]"},
    {"clear", 2, 2, cmd_clear, "clear API"},
    {"broker_errors", 4, MAX_WORDS, cmd_broker_errors,
     "broker_errors BROKER_ID API ERR:RTT_MS [ERR:RTT_MS...]"},
    {"coordinator", 4, 4, cmd_coordinator, "coordinator group|transaction KEY BROKER_ID"},
};

static int run_command(const struct cluster *c, int argc, char **argv, char *why)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const struct command *cmd = &commands[i];
        if (strcmp(cmd->name, argv[0]))
            continue;
        if (argc < cmd->min_words || argc > cmd->max_words)
            return fail(why, "usage: %s", cmd->usage);
        return cmd->fn(c, argc, argv, why);
    }
    return fail(why, "unknown command '%s'", argv[0]);
}

/* ---- the control file ------------------------------------------------------------------ */

enum line_status { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_NUL };

/* One line without its newline into buf[MAX_LINE + 1]. An over-long line is still read
 * to its end so that the next one starts in the right place. */
static enum line_status read_line(FILE *f, char *buf)
{
    size_t n = 0;
    int ch, too_long = 0, nul = 0;
    while ((ch = getc(f)) != EOF && ch != '\n') {
        nul |= ch == '\0';
        if (n < MAX_LINE)
            buf[n++] = (char)ch;
        else
            too_long = 1;
    }
    buf[n] = '\0';
    if (ch == EOF && n == 0)
        return LINE_EOF;
    return too_long ? LINE_TOO_LONG : nul ? LINE_NUL : LINE_OK;
}

/* Splits line in place; -1 past MAX_WORDS words. */
static int split_words(char *line, char **words)
{
    static const char space[] = " \t\r\v\f";
    char *save;
    int n = 0;
    for (char *w = strtok_r(line, space, &save); w; w = strtok_r(NULL, space, &save)) {
        if (n == MAX_WORDS)
            return -1;
        words[n++] = w;
    }
    return n;
}

/* The words joined by single spaces, for the log: the commands may cut their words. The
 * result is never longer than the line the words came from, so text[MAX_LINE + 1] holds it. */
static void join_words(char **words, int n, char *text)
{
    size_t len = 0;
    text[0] = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(text + len, MAX_LINE + 1 - len, "%s%s", i ? " " : "", words[i]);
        if (w < 0 || (size_t)w >= MAX_LINE + 1 - len)
            return;
        len += (size_t)w;
    }
}

/* One result line to out and one log line to stderr; nonzero if out could not be written. */
static int report(FILE *out, const char *text, int rc, const char *why)
{
    if (rc == 0) {
        fprintf(stderr, "mockcluster: %s: ok\n", text);
        return fprintf(out, "ok\n") < 0;
    }
    fprintf(stderr, "mockcluster: %s: error: %s\n", text, why);
    return fprintf(out, "error: %s\n", why) < 0;
}

/* Runs one line unless it is blank or a comment; nonzero if out could not be written. */
static int run_line(const struct cluster *c, char *line, enum line_status st, FILE *out)
{
    char text[MAX_LINE + 1], why[WHY_SIZE];
    char *words[MAX_WORDS];
    if (st != LINE_OK) {
        (void)snprintf(text, sizeof text, "%.40s...", line); /* fits */
        if (st == LINE_NUL)
            fail(why, "line holds a NUL byte");
        else
            fail(why, "line longer than %d bytes", MAX_LINE);
        return report(out, text, -1, why);
    }
    int n = split_words(line, words);
    if (n < 0) {
        (void)snprintf(text, sizeof text, "%.40s...", words[0]);
        fail(why, "more than %d words", MAX_WORDS);
        return report(out, text, -1, why);
    }
    if (n == 0 || words[0][0] == '#')
        return 0;
    join_words(words, n, text);
    return report(out, text, run_command(c, n, words, why), why);
}

/* Every line of in, in order; nonzero if out could not be written. */
static int run_lines(const struct cluster *c, const char *path, FILE *in, FILE *out)
{
    char line[MAX_LINE + 1], why[WHY_SIZE];
    enum line_status st;
    int bad = 0;
    while ((st = read_line(in, line)) != LINE_EOF)
        bad |= run_line(c, line, st, out);
    if (ferror(in)) {
        fail(why, "cannot read %s", path); /* errno is long gone: the commands ran since */
        bad |= report(out, "(control file)", -1, why);
    }
    return bad;
}

/* Runs the control file into ctl->tmp, renamed to ctl->done at the end so that a reader
 * never sees part of the results. A failure here is logged and the cluster keeps running;
 * the caller notices the missing result file. */
static void run_control(const struct cluster *c, const struct control *ctl)
{
    char why[WHY_SIZE];
    FILE *out = fopen(ctl->tmp, "w");
    if (!out) {
        fprintf(stderr, "mockcluster: cannot create %s: %s; commands not run\n", ctl->tmp,
                strerror(errno));
        return;
    }
    int bad = 0;
    FILE *in = fopen(ctl->path, "r");
    if (!in) {
        fail(why, "cannot open %s: %s", ctl->path, strerror(errno));
        bad |= report(out, "(control file)", -1, why);
    } else {
        bad |= run_lines(c, ctl->path, in, out);
        if (fclose(in) != 0) /* nothing was lost: the results still count */
            fprintf(stderr, "mockcluster: closing %s: %s\n", ctl->path, strerror(errno));
    }
    bad |= fclose(out) != 0;
    if (bad) {
        fprintf(stderr, "mockcluster: cannot write %s\n", ctl->tmp);
        return;
    }
    if (rename(ctl->tmp, ctl->done) != 0)
        fprintf(stderr, "mockcluster: cannot rename %s to %s: %s\n", ctl->tmp, ctl->done,
                strerror(errno));
}

static int control_init(struct control *ctl, const char *path)
{
    ctl->path = path;
    if (!path)
        return 0;
    if (snprintf(ctl->done, sizeof ctl->done, "%s.done", path) >= (int)sizeof ctl->done ||
        snprintf(ctl->tmp, sizeof ctl->tmp, "%s.done.tmp", path) >= (int)sizeof ctl->tmp) {
        fprintf(stderr, "mockcluster: control file path too long\n");
        return -1;
    }
    return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

/* Signals until SIGTERM/SIGINT (0) or a failure (-1). */
static int serve(const struct cluster *c, const struct control *ctl, const sigset_t *set)
{
    for (;;) {
        int sig, rc = sigwait(set, &sig);
        if (rc) {
            fprintf(stderr, "mockcluster: sigwait: %s\n", strerror(rc));
            return -1;
        }
        if (sig == SIGTERM || sig == SIGINT)
            return 0;
        if (sig == SIGHUP) {
            if (ctl->path)
                run_control(c, ctl);
            else
                fprintf(stderr, "mockcluster: SIGHUP without --control: ignored\n");
        } else if (set_brokers(c->mc, c->brokers, sig == SIGUSR2)) {
            return -1;
        }
    }
}

int main(int argc, char **argv)
{
    const char *topics[MAX_TOPICS];
    int parts[MAX_TOPICS];
    int ntopics = 0, brokers = 1;
    const char *ready_file = NULL, *control_file = NULL;

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
        } else if (!strcmp(argv[i], "--control")) {
            control_file = argv[++i];
        } else {
            usage();
        }
    }
    if (!ntopics || !ready_file)
        usage();
    struct control ctl;
    if (control_init(&ctl, control_file))
        return 1;

    /* Block the signals before librdkafka starts threads so they all inherit the mask
     * and sigwait() in serve() is the only receiver. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGHUP);
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

    struct cluster c = {mc, brokers};
    if (serve(&c, &ctl, &set) == 0)
        status = 0;
out:
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return status;
}
