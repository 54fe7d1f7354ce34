/* SPDX-License-Identifier: BSD-2-Clause */
/* log.c -- leveled logging to stderr, journal-aware, one escaped line per call. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

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

/* The length of the well-formed UTF-8 sequence at s, of which n bytes are
 * there: 1-4; 0 when s[0] starts none; -1 when the n bytes are the valid
 * beginning of a sequence that needs more. */
static int utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t need;

    if (s[0] < 0x80)
        return 1;
    if (s[0] < 0xc2) /* a continuation byte, or the lead of an overlong form */
        return 0;
    if (s[0] < 0xe0) {
        need = 2;
    } else if (s[0] < 0xf0) {
        need = 3;
        if (s[0] == 0xe0)
            lo = 0xa0; /* overlong */
        else if (s[0] == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (s[0] < 0xf5) {
        need = 4;
        if (s[0] == 0xf0)
            lo = 0x90; /* overlong */
        else if (s[0] == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n)
            return -1;
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
            return 0;
    }
    return (int)need;
}

/* How the input at in[i] is written: returns how many input bytes the unit
 * covers and sets *esc when each of them becomes \xNN; 0 when the unit is a
 * character cut short at the end of a cut text (dropped). */
static size_t unit_at(const unsigned char *in, size_t len, size_t i, int cut, int *esc)
{
    int n = utf8_seq(in + i, len - i);

    *esc = 0;
    if (n < 0) {
        if (cut)
            return 0;
        n = 0;
    }
    if (n == 0 || in[i] < 0x20 || in[i] == 0x7f) {
        *esc = 1;
        return 1;
    }
    if (n == 2 && in[i] == 0xc2 && in[i + 1] < 0xa0) /* C1 control */
        *esc = 1;
    return (size_t)n;
}

size_t log_escape(char *out, size_t outsz, const char *in_, size_t len, int cut)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *in = (const unsigned char *)in_;
    size_t cap = outsz - 1, w = 0, keep = 0, i = 0;
    int full = 0;

    while (i < len) {
        char tmp[16];
        const char *src = tmp;
        size_t n, k = 0;
        int esc;

        if ((n = unit_at(in, len, i, cut, &esc)) == 0)
            break;
        if (esc) {
            for (size_t j = 0; j < n; j++) {
                tmp[k++] = '\\';
                tmp[k++] = 'x';
                tmp[k++] = hex[in[i + j] >> 4];
                tmp[k++] = hex[in[i + j] & 0xf];
            }
        } else if (in[i] == '\\') {
            int next_esc = 0;
            if (i + 1 < len && in[i + 1] != 'x' && in[i + 1] != '\\')
                unit_at(in, len, i + 1, cut, &next_esc);
            tmp[k++] = '\\';
            if (i + 1 < len && (in[i + 1] == 'x' || in[i + 1] == '\\' || next_esc))
                tmp[k++] = '\\';
        } else {
            src = (const char *)in + i;
            k = n;
        }
        if (w + k > cap) {
            full = 1;
            break;
        }
        memcpy(out + w, src, k);
        w += k;
        i += n;
        if (w + 3 <= cap)
            keep = w;
    }
    if (full || cut) {
        if (w + 3 > cap)
            w = keep;
        memcpy(out + w, "...", 3);
        w += 3;
    }
    out[w] = '\0';
    return w;
}

/* A formatted message cut at the end of its buffer may end inside a URL whose
 * '@' was cut off, so that url_redact() cannot tell its password from a host:
 * drop such a URL's tail from its "://" on. (Any byte up to a space ends a URL
 * here: a superset of url_redact()'s ends, so this only ever drops more.) */
static size_t drop_open_url(const char *msg, size_t len)
{
    for (size_t i = len; i >= 3; i--) {
        if (memcmp(msg + i - 3, "://", 3) == 0)
            return i;
        if ((unsigned char)msg[i - 1] <= 0x20 || msg[i - 1] == 0x7f)
            return len;
    }
    return len;
}

size_t log_vformat(char *out, size_t outsz, const char *fmt, va_list ap)
{
    char msg[LOG_MSG_MAX], clean[LOG_MSG_MAX];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len, clen;
    int cut;

    if (n < 0) /* only an invalid wide string does this; say so rather than be silent */
        n = snprintf(msg, sizeof msg, "(a log message could not be formatted)");
    if (n < 0)
        n = 0;
    cut = (size_t)n >= sizeof msg;
    len = cut ? drop_open_url(msg, sizeof msg - 1) : (size_t)n;
    clen = url_redact(clean, sizeof clean, msg, len);
    if (clen >= sizeof clean) { /* masking lengthened it past the buffer */
        clen = sizeof clean - 1;
        cut = 1;
    }
    return log_escape(out, outsz, clean, clen, cut);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const names[8] = {
        [LOG_ERR] = "error: ", [LOG_WARNING] = "warning: ", [LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
    };
    char line[32 + LOG_MSG_MAX];
    va_list ap;
    int plen;
    size_t len;

    if (level > log_max)
        return;
    if (log_journal) /* the priority says the level */
        plen = snprintf(line, 32, "<%d>", (int)level);
    else
        plen = snprintf(line, 32, "spillway: %s", (unsigned)level < 8 && names[level] ? names[level] : "");
    if (plen < 0 || plen >= 32)
        return;
    va_start(ap, fmt);
    len = (size_t)plen + log_vformat(line + plen, LOG_MSG_MAX, fmt, ap);
    va_end(ap);
    line[len++] = '\n';
    /* one write of the whole line, so that lines of threads and processes
     * sharing stderr do not interleave; a failed write has nowhere to go */
    if (fwrite(line, 1, len, stderr) != len)
        clearerr(stderr);
}
