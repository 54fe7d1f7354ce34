/* SPDX-License-Identifier: BSD-2-Clause */
/* test_log.c -- one log call, one line: the escaping of control bytes and
 * invalid UTF-8, the backslash rule, cutting, URL credentials masked, and
 * log_msg() itself, plain and under the journal. */
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

static char out[LOG_MSG_MAX];

static const char *esc(const char *in, size_t len)
{
    log_escape(out, sizeof out, in, len, 0);
    return out;
}

#define ESC(lit) esc(lit, sizeof lit - 1)

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static const char *fmt(const char *f, ...)
{
    va_list ap;

    va_start(ap, f);
    log_vformat(out, sizeof out, f, ap);
    va_end(ap);
    return out;
}

/* The reader's side of the rule in log.h: \\ is a backslash, \xNN a byte,
 * any other backslash itself. Returns the decoded length. */
static size_t unescape(const char *s, unsigned char *dst)
{
    size_t n = 0;

    while (*s) {
        if (s[0] == '\\' && s[1] == '\\') {
            dst[n++] = '\\';
            s += 2;
        } else if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
            char hex[3] = { s[2], s[3], 0 };
            dst[n++] = (unsigned char)strtoul(hex, NULL, 16);
            s += 4;
        } else {
            dst[n++] = (unsigned char)*s++;
        }
    }
    return n;
}

/* No byte of s is a control byte, and s is valid UTF-8 (as the C library
 * reads it, when a UTF-8 locale is there): the output is one line of text
 * whatever the input. */
static int one_line(const char *s, int utf8_locale)
{
    if (utf8_locale && mbstowcs(NULL, s, 0) == (size_t)-1)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* Random inputs, biased to the interesting bytes, read back exactly. */
static int round_trips(unsigned seed, int rounds)
{
    static const unsigned char pick[] = { '\\', 'x', '\n', '\r', 0, 0x1b, 0x7f, 0xc2, 0x9b, 0xe2, 0x82, 0xac,
                                          0xf0, 0x9f, 0x99, 0x82, 0xff, 0xc0, 0xed, 0xa0, 'a', '0', '"' };
    unsigned char in[64], back[LOG_MSG_MAX];
    int utf8_locale = setlocale(LC_CTYPE, "C.UTF-8") != NULL;

    srand(seed);
    for (int r = 0; r < rounds; r++) {
        size_t len = (size_t)(rand() % (int)sizeof in);
        for (size_t i = 0; i < len; i++)
            in[i] = rand() % 4 ? pick[rand() % (int)sizeof pick] : (unsigned char)rand();
        log_escape(out, sizeof out, (const char *)in, len, 0);
        if (!one_line(out, utf8_locale) || unescape(out, back) != len || memcmp(back, in, len) != 0) {
            printf("#   round %d does not read back: \"%s\"\n", r, out);
            return 0;
        }
    }
    return 1;
}

/* log_msg() into a file on fd 2; returns what it wrote. */
static char *capture_log(const char *journal, const char *text)
{
    char path[] = "/tmp/test_log.XXXXXX", js[64];
    static char got[LOG_MSG_MAX + 64];
    int fd = mkstemp(path), saved = dup(2);
    struct stat st;
    FILE *f;
    size_t n;

    if (fd < 0 || saved < 0 || fstat(fd, &st) != 0)
        return NULL;
    fflush(stderr);
    dup2(fd, 2);
    if (journal) {
        snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", js, 1);
    } else {
        unsetenv("JOURNAL_STREAM");
    }
    log_init(LOG_INFO);
    log_warn("id \"%s\" contains a line break", text);
    log_debug("dropped: %s", text); /* above the level: prints nothing */
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    f = fdopen(fd, "r");
    if (f == NULL)
        return NULL;
    rewind(f);
    n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    unlink(path);
    unsetenv("JOURNAL_STREAM");
    return got;
}

int main(void)
{
    is_str(ESC("plain text, 100% ASCII"), "plain text, 100% ASCII", "printable ASCII is copied");
    is_str(ESC("a\nb"), "a\\x0ab", "a newline becomes \\x0a");
    is_str(ESC("a\rb"), "a\\x0db", "a carriage return becomes \\x0d");
    is_str(ESC("x\nspillway: warning: RESUMING PRIMARY PROCESSING MODE"),
           "x\\x0aspillway: warning: RESUMING PRIMARY PROCESSING MODE", "a forged log line stays inside its line");
    is_str(ESC("2026-11-21\n<3>forged"), "2026-11-21\\x0a<3>forged", "\"<3>\" after a newline forges no priority");
    is_str(ESC("tab\there"), "tab\\x09here", "a tab is a control byte too");
    is_str(ESC("\x1b[2J\x1b[31mred\x1b[0m"), "\\x1b[2J\\x1b[31mred\\x1b[0m", "ESC sequences are defused");
    is_str(ESC("del\x7f"), "del\\x7f", "DEL becomes \\x7f");
    is_str(esc("a\0b", 3), "a\\x00b", "an embedded NUL becomes \\x00");

    is_str(fmt("[%c]", 0), "[\\x00]", "a NUL formatted with %%c is printed, escaped, not an end");
    is_str(fmt("[%s]", "a\0b"), "[a]", "%%s stops at a NUL: no NUL reaches the line that way");
    is_str(fmt("[%.*s]", 5, "k\x01\n\x1b\x7f"), "[k\\x01\\x0a\\x1b\\x7f]",
           "bytes embedded in a %%.*s key are escaped");

    is_str(ESC("Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82 \xe2\x82\xac"),
           "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82 \xe2\x82\xac",
           "well-formed 2-, 3- and 4-byte UTF-8 is kept as is");
    is_str(ESC("\xff\xfe"), "\\xff\\xfe", "bytes that are never UTF-8 are escaped");
    is_str(ESC("\xc0\xaf"), "\\xc0\\xaf", "an overlong form is escaped");
    is_str(ESC("\xe0\x80\xaf"), "\\xe0\\x80\\xaf", "an overlong 3-byte form is escaped");
    is_str(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80", "a UTF-16 surrogate is escaped");
    is_str(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80", "above U+10FFFF is escaped");
    is_str(ESC("\xe2\x82x"), "\\xe2\\x82x", "a sequence cut short is escaped byte by byte");
    is_str(ESC("\x80z"), "\\x80z", "a lone continuation byte is escaped");
    is_str(ESC("\xe2\x82"), "\\xe2\\x82", "a sequence cut by the end of the text is escaped");
    is_str(ESC("\xc2\x9b" "1m"), "\\xc2\\x9b1m", "a C1 control (U+009B, CSI) is escaped as its two bytes");
    is_str(ESC("\xc2\xa0"), "\xc2\xa0", "U+00A0, just above C1, is kept");

    is_str(ESC("C:\\dir"), "C:\\dir", "a backslash before an ordinary byte is left alone");
    is_str(ESC("{\"error\":\"field \\\"HR\\\"\"}"), "{\"error\":\"field \\\"HR\\\"\"}",
           "a JSON answer's \\\" reads unchanged");
    is_str(ESC("\\x0a"), "\\\\x0a", "a literal \\x is doubled, so it cannot pass for an escape");
    is_str(ESC("\\\\"), "\\\\\\", "a backslash before a backslash is doubled");
    is_str(ESC("\\\n"), "\\\\\\x0a", "a backslash before an escaped byte is doubled");
    is_str(ESC("\\\xff"), "\\\\\\xff", "so is one before invalid UTF-8");
    is_str(ESC("end\\"), "end\\", "a backslash at the end is left alone");
    ok(round_trips(1, 20000), "20000 random byte strings read back exactly, as one line each");

    char small[12];
    log_escape(small, sizeof small, "ab\n\n\n", 5, 0);
    is_str(small, "ab\\x0a...", "a result too long is cut after a whole escape and marked \"...\"");
    log_escape(small, sizeof small, "abcdefghijklmnop", 16, 0);
    is_str(small, "abcdefgh...", "cut text fills the buffer with its \"...\"");
    log_escape(small, sizeof small, "abcdefghijk", 11, 0);
    is_str(small, "abcdefghijk", "text that fits exactly is not cut");
    log_escape(small, sizeof small, "ab\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 14, 0);
    is_str(small, "ab\xe6\x97\xa5\xe6\x97\xa5...", "never inside a UTF-8 character");
    log_escape(small, sizeof small, "abc\xe2\x82", 5, 1);
    is_str(small, "abc...", "a cut text drops a character cut short and ends with \"...\"");
    log_escape(small, sizeof small, "abc", 3, 1);
    is_str(small, "abc...", "a cut text that fits still says it was cut");

    is_str(fmt("GET %s failed", "http://admin:hunter2@influx:8086/query?db=x&p=hunter3"),
           "GET http://admin:***@influx:8086/query?db=x&p=*** failed", "log lines mask URL credentials");
    char *big = malloc(LOG_MSG_MAX + 64);
    if (big) {
        memset(big, 'a', LOG_MSG_MAX - 20);
        snprintf(big + LOG_MSG_MAX - 20, 84, " http://user:secretpassword@host:8086/");
        fmt("%s", big);
        ok(strstr(out, "secr") == NULL && strstr(out, "http://...") != NULL,
           "a URL cut off at the end of the message loses its tail, not its mask");
        is_int(strlen(out), LOG_MSG_MAX - 20 + 11, "the message keeps all that came before it");
        memset(big, '\n', LOG_MSG_MAX + 10);
        big[LOG_MSG_MAX + 10] = '\0';
        fmt("%s", big);
        is_int(strlen(out), LOG_MSG_MAX - 1, "a long message fills its buffer");
        ok(strcmp(out + strlen(out) - 7, "\\x0a...") == 0, "and ends with whole escapes and \"...\"");
        free(big);
    }

    const char *got = capture_log(NULL, "x\nspillway: warning: RESUMING PRIMARY PROCESSING MODE");
    is_str(got,
           "spillway: warning: id \"x\\x0aspillway: warning: RESUMING PRIMARY PROCESSING MODE\" contains a line "
           "break\n",
           "log_msg prints one line, the forged one escaped inside it");
    got = capture_log("journal", "2026\n<3>forged");
    is_str(got, "<4>id \"2026\\x0a<3>forged\" contains a line break\n",
           "under the journal: one <4> line, no forged <3> priority");
    return tap_done();
}
