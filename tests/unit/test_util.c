/* test_util.c -- url_redact(): the credentials of URLs masked in any text
 * that can reach output, and nothing else changed. */
#include <stdlib.h>

#include "tap.h"
#include "util.h"

static char out[1024];

static const char *redact(const char *text)
{
    url_redact(out, sizeof out, text, strlen(text));
    return out;
}

int main(void)
{
    is_str(redact("http://admin:hunter2@influxdb:8086"), "http://admin:***@influxdb:8086",
           "the userinfo password is masked, the user stays");
    is_str(redact("https://u:p@h:1/write?db=flink_sink&precision=ns"), "https://u:***@h:1/write?db=flink_sink&precision=ns",
           "path and harmless parameters stay");
    is_str(redact("http://influxdb:8086/query?db=x&u=admin&p=hunter2&q=SELECT"),
           "http://influxdb:8086/query?db=x&u=admin&p=***&q=SELECT", "a p= parameter is masked");
    is_str(redact("http://ml:5000/predict?token=abc&x=1&PASSWORD=def;secret=ghi#frag"),
           "http://ml:5000/predict?token=***&x=1&PASSWORD=***;secret=***#frag",
           "token=, password= (any case) and secret= too, with & or ; between");
    is_str(redact("http://ml/p?api_key=1&apikey=2&access_token=3&client_secret=4&p2=5"),
           "http://ml/p?api_key=***&apikey=***&access_token=***&client_secret=***&p2=5",
           "and the other credential names; p2 is not p");
    is_str(redact("http://user@host:8086/"), "http://user@host:8086/", "a user without a password stays");
    is_str(redact("http://user:@host/?p="), "http://user:@host/?p=", "empty secrets stay empty");
    is_str(redact("http://host:8086/path"), "http://host:8086/path", "a URL without credentials is unchanged");
    is_str(redact("no url here: a:b@c"), "no url here: a:b@c", "without :// nothing is a URL");
    is_str(redact("JobManager http://f:s3@127.0.0.1:9/overview: Couldn't connect; InfluxDB http://i:s4@h answered 500"),
           "JobManager http://f:***@127.0.0.1:9/overview: Couldn't connect; InfluxDB http://i:***@h answered 500",
           "every URL inside a message, each ending at a space");
    is_str(redact("url: \"http://a:b@c\", then 'https://d:e@f'"), "url: \"http://a:***@c\", then 'https://d:***@f'",
           "a quote ends a URL");
    is_str(redact("http://u:p@ss/w@rd@host/x"), "http://u:***@host/x",
           "a password holding an unencoded '@' or '/' is masked whole");
    is_str(redact("http://u:pw@host/?email=a@b"), "http://u:***@host/?email=a@b", "an '@' in the query is not userinfo");
    is_str(redact("http://u:p%40w@host"), "http://u:***@host", "a percent-encoded password is masked");
    is_str(redact("sasl_ssl://broker:9093,SSL://b2:9093"), "sasl_ssl://broker:9093,SSL://b2:9093",
           "bootstrap servers with a protocol are left alone");

    char small[16];
    size_t n = url_redact(small, sizeof small, "see http://user:verysecret@host", 31);
    is_int(n, strlen("see http://user:***@host"), "the return is the whole result's length, as snprintf's");
    is_str(small, "see http://user", "out holds its beginning, NUL-terminated");
    n = url_redact(small, sizeof small, "x http://u:verysecretpassword@h", 31);
    ok(strstr(small, "very") == NULL, "a cut result never holds a piece of the secret: \"%s\"", small);
    is_int(url_redact(NULL, 0, "http://a:b@c", 12), 14, "NULL, 0 measures");
    is_str((url_redact(out, sizeof out, "a\0http://u:p@h", 15), out + 2), "http://u:***@h",
           "text is taken by its length, NULs included");

    is_int(url_has_secret("http://a:b@c"), 1, "a password is a secret");
    is_int(url_has_secret("http://c/?token=t"), 1, "a token parameter is a secret");
    is_int(url_has_secret("false http://runner:pw@127.0.0.1:9/"), 1, "inside a command too");
    is_int(url_has_secret("http://a@c/?p="), 0, "a user, an empty p=: no secret");
    is_int(url_has_secret(""), 0, "an empty value holds none");
    return tap_done();
}
