#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The Grafana dashboard (grafana/spillway.json) against what spillway really
# writes: a drain and a check on a sandbox with the primary's points beside
# them, then every InfluxQL query of the dashboard, its Grafana macros filled
# in, runs against the sandbox's influxd and must return series of the right
# shape; every metric name in its Prometheus expressions must be one the
# node_exporter textfile declares (and every declared one must be shown); the
# JSON must be provisionable: a uid, no id, data sources only as variables.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
DASHBOARD=${DASHBOARD:-$REPO/grafana/spillway.json}
start_pipeline
start_flinkstub

# Four nurses, five events a second of event time for a minute from
# 2026-11-21 10:00:00: two 30 s windows each, in two GROUP BY time(1m) buckets.
gen base --nurses 4 --per-nurse 300 --rate 5 --seed 3
produce base
N=$(valid_count "$SANDBOX/base.manifest")
is "$N" 1200 "produced 1200 messages"

# The primary (Flink) wrote its own points for the same nurses and minutes,
# as flink_events (tag id; fields EDA HR TEMP stressLevel) ...
"$PY" - >"$SANDBOX/primary.lp" <<'PY'
import calendar, time
t0 = calendar.timegm(time.strptime("2026-11-21 10:00:00", "%Y-%m-%d %H:%M:%S"))
for k in range(12):
    for i in range(4):
        print("flink_events,id=nurse-%d EDA=%.2f,HR=%.1f,TEMP=36.%d,stressLevel=%di %d"
              % (i, 1.0 + 0.1 * k, 70.0 + 8 * i + k, k % 10, (i + k) % 3, t0 + 5 * k))
PY
ok "the primary's points are written" curl -sf -XPOST "$INFLUX_URL/write?db=flink_sink&precision=s" \
    --data-binary "@$SANDBOX/primary.lp"
# ... and one a few seconds ago, so that the check finds it healthy.
primary_point 5

prom=$SANDBOX/spillway.prom
BATCH_SIZE=100000 write_config "$SANDBOX/s.ini" \
    "$(printf '[check]\nflink_url = %s\n[metrics]\ntextfile = %s' "$FLINK_URL" "$prom")"
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC|$(sum_count)" "0|$N" "a drain writes the $N messages to nurse_stress"
run_check "$SANDBOX/s.ini"
is "$CHECK_RC|$(sql "select verdict from checks order by id desc limit 1")" "0|healthy" \
    "a check observes the primary (latency and lag)"
ok "spillway wrote the node_exporter textfile" test -s "$prom"

# Each line of the checker's output is DESCRIPTION<TAB>RESULT, RESULT "ok"
# or what went wrong; `is` turns them into TAP lines.
"$PY" - "$DASHBOARD" "$prom" "$PY $HELPERS/influxtool.py --url $INFLUX_URL --db flink_sink" "$N" \
    >"$SANDBOX/dashboard.results" 2>"$SANDBOX/dashboard.err" <<'PY'
import json, re, shlex, subprocess, sys

path, prom_path, influx_cmd, n_messages = sys.argv[1], sys.argv[2], shlex.split(sys.argv[3]), int(sys.argv[4])
DS_VARS = {"DS_PROMETHEUS": "prometheus", "DS_INFLUXDB": "influxdb"}
IDS = {"nurse-%d" % i for i in range(4)}
# Grafana's macros and this dashboard's variables, as Grafana would expand
# them; the range covers the test data (2026-11-21 10:00 to 10:01).
MACROS = [
    ("$timeFilter", "time >= '2026-11-21T09:00:00Z' AND time <= '2026-11-21T11:00:00Z'"),
    ("$__interval_ms", "60000"), ("${__interval}", "1m"), ("$__interval", "1m"), ("$interval", "1m"),
    ("${id:regex}", ".*"), ("${id}", ".*"), ("$id", ".*"),
]


def result(desc, problem=None):
    print("%s\t%s" % (desc, problem or "ok"))


try:
    with open(path) as f:
        dash = json.load(f)
except (OSError, ValueError) as e:
    result("the dashboard is valid JSON", str(e))
    sys.exit(0)
result("the dashboard is valid JSON")

# ---- provisionable: uid, no id, schema version, data sources only as variables
problems = []
if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", str(dash.get("uid") or "")):
    problems.append("uid %r" % dash.get("uid"))
if dash.get("id") is not None:
    problems.append("an id (%r): provisioning and import give their own" % dash["id"])
if not 36 <= int(dash.get("schemaVersion", 0)) <= 38:
    problems.append("schemaVersion %r" % dash.get("schemaVersion"))
result("it has a stable uid (%s), no id, schemaVersion 36-38" % dash.get("uid"), "; ".join(problems))

variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
inputs = {i["name"]: i for i in dash.get("__inputs", [])}
problems = []
for name, plugin in DS_VARS.items():
    v = variables.get(name)
    if v is None or v.get("type") != "datasource" or v.get("query") != plugin:
        problems.append("no data source variable %s of type %s" % (name, plugin))
    i = inputs.get(name)
    if i is None or i.get("type") != "datasource" or i.get("pluginId") != plugin:
        problems.append("no __inputs entry %s for %s" % (name, plugin))
result("the data sources are variables (and import inputs): %s" % ", ".join(DS_VARS), "; ".join(problems))


def walk(node, where):
    """Yields (where, key, value) for every key of every object."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield where, k, v
            yield from walk(v, where + "." + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, "%s[%d]" % (where, i))


problems = []
for where, key, value in walk(dash, "$"):
    if key in ("datasourceId", "datasourceUid"):
        problems.append("%s.%s = %r" % (where, key, value))
    if key != "datasource" or value is None:
        continue
    if isinstance(value, dict) and value == {"type": "grafana", "uid": "-- Grafana --"}:
        continue  # Grafana's own annotations, in every dashboard
    uid = value.get("uid") if isinstance(value, dict) else value
    m = re.fullmatch(r"\$\{(\w+)\}", str(uid))
    if not m or m.group(1) not in DS_VARS:
        problems.append("%s.datasource = %s" % (where, json.dumps(value)))
    elif isinstance(value, dict) and value.get("type") != DS_VARS[m.group(1)]:
        problems.append("%s.datasource type %r for ${%s}" % (where, value.get("type"), m.group(1)))
result("no absolute data source (uid, name or id): every reference is ${DS_PROMETHEUS} or ${DS_INFLUXDB}",
       "; ".join(problems[:5]))

panels = []
for p in dash.get("panels", []):
    panels.append(p)
    panels.extend(p.get("panels", []))  # collapsed rows
problems = []
ids = [p.get("id") for p in panels]
if len(set(ids)) != len(ids) or None in ids:
    problems.append("panel ids not unique: %s" % ids)
cells = {}
for p in panels:
    g = p.get("gridPos", {})
    if g.get("x", 0) + g.get("w", 0) > 24:
        problems.append("%r is wider than the grid" % p.get("title"))
    for x in range(g.get("x", 0), g.get("x", 0) + g.get("w", 0)):
        for y in range(g.get("y", 0), g.get("y", 0) + g.get("h", 0)):
            if (x, y) in cells:
                problems.append("%r overlaps %r" % (p.get("title"), cells[(x, y)]))
                break
            cells[(x, y)] = p.get("title")
        else:
            continue
        break
result("%d panels, with unique ids, on the grid without overlap" % len(panels), "; ".join(problems[:5]))
text = [p for p in panels if p.get("type") == "text"]
result("a markdown text panel says what the dashboard shows and points to spillway status",
       None if any(p.get("options", {}).get("mode") == "markdown" and "spillway status" in
                   p.get("options", {}).get("content", "") for p in text) else "none found")

# ---- the queries
influxql, promql = [], []
for p in panels:
    for t in p.get("targets", []):
        where = "panel %r, query %s" % (p.get("title"), t.get("refId"))
        ds = t.get("datasource") or p.get("datasource") or {}
        kind = ds.get("type") if isinstance(ds, dict) else None
        if "expr" in t:
            promql.append((where, t["expr"], kind))
        elif "query" in t:
            influxql.append((where, t["query"], kind, t.get("rawQuery")))
        else:
            result(where, "a target with neither expr nor query: %s" % json.dumps(t))
for v in variables.values():
    if v.get("type") != "query":
        continue
    q = v.get("query")
    kind = (v.get("datasource") or {}).get("type")
    if kind == "prometheus":
        promql.append(("variable %s" % v["name"], q.get("query") if isinstance(q, dict) else q, kind))
        promql.append(("variable %s definition" % v["name"], v.get("definition", ""), kind))
    else:
        influxql.append(("variable %s" % v["name"], q, kind, True))
for a in dash.get("annotations", {}).get("list", []):
    if a.get("expr"):
        promql.append(("annotation %r" % a.get("name"), a["expr"], (a.get("datasource") or {}).get("type")))
    if a.get("query"):
        influxql.append(("annotation %r" % a.get("name"), a["query"], (a.get("datasource") or {}).get("type"), True))
result("the dashboard has InfluxQL (%d) and Prometheus (%d) queries" % (len(influxql), len(promql)),
       None if len(influxql) >= 6 and len(promql) >= 15 else "too few")


def columns_expected(select):
    """The value columns of a SELECT's field list: the alias, else the function's name."""
    out, depth, cur = [], 0, ""
    for ch in select + ",":
        if ch == "," and depth == 0:
            m = re.search(r'\s+AS\s+"?(\w[\w/ ]*?)"?\s*$', cur, re.I)
            f = re.match(r"\s*(\w+)\s*\(", cur)
            out.append(m.group(1) if m else f.group(1) if f else cur.strip().strip('"'))
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    seen, names = {}, []
    for c in out:  # InfluxDB names a repeated column mean, mean_1, ...
        names.append(c if c not in seen else "%s_%d" % (c, seen[c]))
        seen[c] = seen.get(c, 0) + 1
    return names


def check_influxql(where, q):
    expanded = q
    for macro, value in MACROS:
        expanded = expanded.replace(macro, value)
    left = re.findall(r"\$\{?\w+", expanded)  # not the end of a regex: /^.*$/
    if left:
        return expanded, "left unexpanded: %s" % ", ".join(left)
    r = subprocess.run(influx_cmd + ["query", expanded], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return expanded, "InfluxDB: " + (r.stderr.strip() or "exit %d" % r.returncode)
    res = json.loads(r.stdout)["results"][0]
    series = res.get("series") or []
    if not series:
        return expanded, "no series"
    if re.match(r"\s*SHOW\s+TAG\s+VALUES", expanded, re.I):
        values = {row[1] for s in series for row in s["values"]}
        if series[0]["columns"] != ["key", "value"] or not IDS <= values:
            return expanded, "tag values %s, columns %s" % (sorted(values), series[0]["columns"])
        return expanded, None
    m = re.match(r"\s*SELECT\s+(.*?)\s+FROM\s", expanded, re.I | re.S)
    if not m:
        return expanded, "neither SELECT nor SHOW TAG VALUES"
    want = ["time"] + columns_expected(m.group(1))
    grouped = []
    g = re.search(r"GROUP\s+BY\s+(.*?)(?:\s+fill\(|\s+LIMIT|\s+ORDER|$)", expanded, re.I | re.S)
    if g:
        grouped = [t.strip().strip('"') for t in g.group(1).split(",") if not t.strip().startswith("time(")]
    for s in series:
        if s["columns"] != want:
            return expanded, "columns %s, expected %s" % (s["columns"], want)
        if not any(v is not None for row in s["values"] for v in row[1:]):
            return expanded, "series %s has no value" % s.get("tags")
        missing = [t for t in grouped if t not in (s.get("tags") or {})]
        if missing:
            return expanded, "series without the tags it is grouped by: %s" % missing
    if "id" in grouped:
        got = {s["tags"]["id"] for s in series}
        if got != IDS:
            return expanded, "ids %s, expected %s" % (sorted(got), sorted(IDS))
    if "source" in grouped:
        got = {s["tags"]["source"] for s in series}
        if "dask-fallback" not in got:
            return expanded, "sources %s, no dask-fallback" % sorted(got)
    if re.search(r'sum\("count"\)', expanded):
        total = sum(row[1] or 0 for s in series for row in s["values"])
        if abs(total - n_messages) > 1e-6:
            return expanded, "sum(count) adds up to %s, not the %d messages drained" % (total, n_messages)
    return expanded, None


for where, q, kind, raw in influxql:
    if kind != "influxdb" or raw is not True:
        result("InfluxQL: " + where, "data source type %r, rawQuery %r" % (kind, raw))
        continue
    expanded, problem = check_influxql(where, q)
    if problem:
        print("# %s: %s\n#   %s" % (where, problem, expanded), file=sys.stderr)
        problem += " (query: %s)" % expanded
    result("InfluxQL: %s returns series of the expected shape" % where, problem)

# ---- the Prometheus expressions: every name one spillway writes, and every one it writes shown
with open(prom_path) as f:
    declared = set(re.findall(r"^# TYPE (\w+) ", f.read(), re.M))
used = {}
for where, expr, kind in promql:
    if kind != "prometheus":
        result("PromQL: " + where, "data source type %r" % kind)
    for name in re.findall(r"\bspillway_\w+", expr or ""):
        used.setdefault(name, where)
    for name in re.findall(r"\b(?!spillway_)([a-z_][a-z0-9_]*)\s*\{", expr or ""):
        result("PromQL: %s uses only spillway's metrics" % where, "uses %s" % name)
for name in sorted(used):
    result("metric %s (%s) is in spillway's textfile" % (name, used[name]),
           None if name in declared else "no '# TYPE %s' in %s" % (name, prom_path))
result("every metric spillway writes is on the dashboard (%d)" % len(declared),
       ", ".join(sorted(declared - set(used))) and "not shown: " + ", ".join(sorted(declared - set(used))))
PY
is "$?" 0 "the dashboard checker ran"
if "$PY" -c 'import yaml' 2>/dev/null; then
    ok "the provisioning examples are a file provider and a Prometheus and an InfluxDB source" "$PY" -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = yaml.safe_load(open(sys.argv[2]))
assert [p["type"] for p in d["providers"]] == ["file"] and d["providers"][0]["options"]["path"], d
assert sorted(x["type"] for x in s["datasources"]) == ["influxdb", "prometheus"], s
assert all(x.get("database", "flink_sink") == "flink_sink" for x in s["datasources"]), s
' "$REPO/grafana/provisioning/dashboards.yaml" "$REPO/grafana/provisioning/datasources.yaml"
else
    ok "the provisioning examples parse # SKIP no python3-yaml" true
fi
[[ -s $SANDBOX/dashboard.err ]] && diag "$(cat "$SANDBOX/dashboard.err")"
while IFS=$'\t' read -r desc got; do
    is "$got" ok "$desc"
done <"$SANDBOX/dashboard.results"
done_testing
