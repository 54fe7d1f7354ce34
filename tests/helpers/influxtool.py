#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# influxtool: queries InfluxDB 1.x for tests and compares spillway's points with expectations.
import argparse
import json
import math
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 30


def die(msg):
    print("influxtool: " + msg, file=sys.stderr)
    sys.exit(1)


def query(a, q, method="GET"):
    """Runs InfluxQL; returns the decoded body. Dies on HTTP or InfluxQL errors."""
    params = {"db": a.db, "q": q, "epoch": "ns"}
    url = a.url.rstrip("/") + "/query"
    data = None
    if method == "POST":
        data = urllib.parse.urlencode(params).encode()
    else:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=TIMEOUT) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        die("query %r: cannot reach %s: %s" % (q, a.url, e))
    if status != 200:
        die("query %r: HTTP %d: %s" % (q, status, text.strip()))
    body = json.loads(text)
    if body.get("error"):
        die("query %r: %s" % (q, body["error"]))
    for i, res in enumerate(body.get("results", [])):
        if res.get("error"):
            die("query %r: results[%d]: %s" % (q, i, res["error"]))
    return body


def where_clause(a):
    return " WHERE " + a.where if a.where else ""


def fetch_points(a):
    """Every point of the measurement as {"time": ns, "tags": {...}, "fields": {...}}."""
    body = query(a, 'SELECT * FROM "%s"%s GROUP BY *' % (a.measurement, where_clause(a)))
    points = []
    for res in body.get("results", []):
        for s in res.get("series", []):
            cols = s["columns"]
            for row in s["values"]:
                rec = dict(zip(cols, row))
                t = rec.pop("time")
                fields = {k: v for k, v in rec.items() if v is not None}
                points.append({"time": t, "tags": s.get("tags", {}), "fields": fields})
    return points


def cmd_create_db(a):
    query(a, 'CREATE DATABASE "%s"' % a.db, method="POST")


def cmd_query(a):
    method = "GET" if a.influxql.lstrip().upper().startswith(("SELECT", "SHOW")) else "POST"
    print(json.dumps(query(a, a.influxql, method)))


def cmd_points(a):
    for p in fetch_points(a):
        print(json.dumps(p))


def cmd_sum_count(a):
    body = query(a, 'SELECT sum("count") FROM "%s"%s' % (a.measurement, where_clause(a)))
    total = 0
    for res in body.get("results", []):
        for s in res.get("series", []):
            for row in s["values"]:
                total += int(row[1] or 0)
    print(total)


def combine(points, field, n_expected):
    """A group's mean of field from its points, or (None, reason) if it cannot be exact.

    A point's mean covers only that point's messages with a non-null value, whose number
    is not written. Combining several points by count-weighting is exact only when those
    points' counts add up to the expected non-null count, i.e. none of their messages
    lacked the field; otherwise the field is skipped for that group."""
    having = [p for p in points if field in p["fields"]]
    if not having:
        return None, "absent"
    if len(having) == 1:
        return having[0]["fields"][field], None
    n = sum(p["fields"]["count"] for p in having)
    if n != n_expected:
        return None, "skip"
    return sum(p["fields"]["count"] * p["fields"][field] for p in having) / n, None


def cmd_compare(a):
    with open(a.expect) as f:
        expected = json.load(f)
    want = {(g["id"], int(g["window_start"])): g for g in expected["aggregates"]}
    wns = int(a.window * 1e9)
    got = {}
    for p in fetch_points(a):
        key = (p["tags"].get("id"), p["time"] // wns * a.window)
        got.setdefault(key, []).append(p)

    bad = skipped = 0
    for key in sorted(set(want) | set(got), key=lambda k: (str(k[0]), k[1])):
        where = "id=%s window=%d" % key
        if key not in got:
            print("%s: missing (expected count %d)" % (where, want[key]["count"]))
            bad += 1
            continue
        if key not in want:
            print("%s: unexpected group (%d point(s))" % (where, len(got[key])))
            bad += 1
            continue
        exp, pts = want[key], got[key]
        count = sum(p["fields"].get("count", 0) for p in pts)
        if count != exp["count"]:
            print("%s field=count: expected %d got %d" % (where, exp["count"], count))
            bad += 1
        for field, mean in exp["means"].items():
            value, why = combine(pts, field, exp["n"][field])
            if why == "skip":
                skipped += 1
                continue
            if mean is None and value is None:
                continue
            if mean is None or value is None or not math.isclose(
                    value, mean, rel_tol=a.tolerance, abs_tol=1e-12):
                print("%s field=%s: expected %r got %r" % (where, field, mean, value))
                bad += 1
    if bad:
        die("compare: %d mismatch(es)" % bad)
    extra = " (%d field comparison(s) skipped: not exactly combinable)" % skipped if skipped else ""
    print("compare: %d groups ok%s" % (len(want), extra))


def main():
    ap = argparse.ArgumentParser(description="InfluxDB 1.x tool for spillway tests")
    ap.add_argument("--url", required=True)
    ap.add_argument("--db", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("create-db").set_defaults(fn=cmd_create_db)
    s = sub.add_parser("query")
    s.add_argument("influxql")
    s.set_defaults(fn=cmd_query)
    for name, fn in (("points", cmd_points), ("sum-count", cmd_sum_count),
                     ("compare", cmd_compare)):
        s = sub.add_parser(name)
        s.add_argument("--measurement", required=True)
        s.add_argument("--where", help="InfluxQL condition, e.g. source='dask-fallback'")
        if name == "compare":
            s.add_argument("--expect", required=True)
            s.add_argument("--window", type=int, required=True)
            s.add_argument("--tolerance", type=float, default=1e-6)
        s.set_defaults(fn=fn)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
