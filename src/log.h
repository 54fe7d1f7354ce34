/* log.h -- leveled, printf-checked logging to stderr.
 *
 * stdout belongs to data (--dry-run line protocol, status --json); every
 * diagnostic goes to stderr through log_msg(). When stderr is the systemd
 * journal ($JOURNAL_STREAM matches stderr's device:inode) each line carries a
 * "<N>" syslog priority prefix so journalctl can colour and filter it;
 * otherwise lines read "spillway: warning: ...". */
#ifndef SPILLWAY_LOG_H
#define SPILLWAY_LOG_H

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

/* Decide once per process whether stderr is the journal and which levels
 * print (messages above max_level are dropped). Safe to call again. */
void log_init(enum log_level max_level);

/* Print one line (a trailing newline is added). Never fails the caller. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
