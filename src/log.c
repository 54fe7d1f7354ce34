/* log.c -- leveled logging to stderr, journal-aware. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static enum log_level log_max = LOG_INFO;
static int log_journal = 0;

/* $JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected; only trust
 * it when it still describes our stderr (a child may inherit the variable
 * after its stderr was redirected elsewhere). */
static int stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
        return 0;
    if (fstat(2, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(enum log_level max_level)
{
    log_max = max_level;
    log_journal = stderr_is_journal();
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *names[8] = {
        [LOG_ERR] = "error: ", [LOG_WARNING] = "warning: ", [LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
    };
    char line[4096];
    va_list ap;

    if (level > log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_journal) /* the priority says the level */
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    else
        fprintf(stderr, "spillway: %s%s\n", names[level], line);
}
