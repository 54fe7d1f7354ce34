/* SPDX-License-Identifier: BSD-2-Clause */
/* log.h -- leveled, printf-checked logging to stderr.
 *
 * stdout belongs to data (--dry-run line protocol, status --json); every
 * diagnostic goes to stderr through log_msg(). When stderr is the systemd
 * journal ($JOURNAL_STREAM matches stderr's device:inode) each line carries a
 * "<N>" syslog priority prefix so journalctl can colour and filter it;
 * otherwise lines read "spillway: warning: ...".
 *
 * One call prints exactly one line, whatever the data in it: message ids,
 * times, keys and server answers come from outside, and a line break in one
 * would forge a log line (or, under the journal, "\n<3>" a priority). So
 * after formatting, log_msg() masks URL credentials (url_redact() in util.h)
 * and escapes the text (log_escape() below) before it writes the line with
 * one fwrite(). */
#ifndef SPILLWAY_LOG_H
#define SPILLWAY_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

/* The size of a message's buffers: a message prints at most LOG_MSG_MAX - 1
 * bytes after escaping, the "..." that marks a cut included (the prefix and
 * the newline come on top). Formatting is cut at the same size. */
#define LOG_MSG_MAX 4096

/* Decide once per process whether stderr is the journal and which levels
 * print (messages above max_level are dropped). Safe to call again. */
void log_init(enum log_level max_level);

/* Print one line (a trailing newline is added). Never fails the caller.
 * Thread-safe (librdkafka's threads log through it): it uses only its own
 * stack buffers and a single fwrite() of the whole line. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Escape len bytes of in (NULs included) into out so that the result is one
 * line of text that reads back unambiguously:
 *   - a control byte (0x00-0x1f, 0x7f) becomes \xNN (two lowercase hex digits);
 *   - a byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
 *     overlong form, no surrogate, nothing above U+10FFFF, no sequence cut
 *     short) becomes \xNN, byte by byte;
 *   - a C1 control character (U+0080-U+009F, bytes C2 80-C2 9F) becomes its
 *     two bytes as \xc2\xNN: terminals may read U+009B as CSI;
 *   - a backslash becomes \\ only where it would otherwise start something
 *     that reads as an escape: when the next byte is 'x', a backslash, or a
 *     byte escaped by the rules above. Any other backslash is left as it is,
 *     so the common \" of a JSON answer reads unchanged;
 *   - everything else (printable ASCII, well-formed UTF-8, so non-ASCII names
 *     read as themselves) is copied.
 * To read it back: \\ is a backslash, \xNN is byte NN, any other backslash
 * is itself.
 * cut says that in is the beginning of a longer text: a UTF-8 sequence cut
 * short at its end is dropped rather than escaped, and the result ends with
 * "...". When the result does not fit in outsz - 1 bytes it is cut after the
 * last whole character or escape that leaves room for "...", and "..." is
 * appended. out is always NUL-terminated; outsz must be at least 4. Returns
 * the length written (without the NUL). */
size_t log_escape(char *out, size_t outsz, const char *in, size_t len, int cut);

/* Format fmt into out exactly as log_msg() prints a message (without its
 * prefix and newline): formatting cut at LOG_MSG_MAX, URL credentials masked
 * with url_redact(), then log_escape(). For other line-oriented output on
 * stdout (doctor) that carries outside data. outsz >= 4. Returns the length. */
size_t log_vformat(char *out, size_t outsz, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
