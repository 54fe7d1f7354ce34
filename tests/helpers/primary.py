#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""primary.py -- a small stand-in for the primary processor (Flink) in tests.

It consumes the topic in the primary's consumer group (flink-consumer), and
every --interval seconds in which it read something writes one point of the
primary's measurement (flink_events, field stressLevel, tag id, time = now)
to InfluxDB -- what the checker's latency probe reads; with no new events it
writes nothing, as Flink's windows would not -- and then commits what it
consumed, as Flink does on a checkpoint. It does not decode the messages: the test cares about
which offsets it processed and committed, and when.

Its log (--log) has one line per checkpoint:
    COMMIT <epoch ms> <partition>:<next offset> ...   offsets committed then
    READ <partition> <first> <last>                    offsets processed since the last checkpoint
Stop it with SIGTERM (it does not commit on the way out, like a crash between
checkpoints); start it again to resume from its committed offsets.
"""
import argparse
import signal
import sys
import time
import urllib.request

from confluent_kafka import Consumer, TopicPartition

running = True


def stop(*_):
    global running
    running = False


def write_point(url, db, n):
    line = "flink_events,id=primary EDA=1.0,HR=70.0,TEMP=36.0,stressLevel=1i,count=%di" % n
    req = urllib.request.Request("%s/write?db=%s&precision=ms" % (url.rstrip("/"), db),
                                 data=(line + " %d" % int(time.time() * 1000)).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        if r.status != 204:
            raise RuntimeError("InfluxDB answered %d" % r.status)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", default="flink-consumer")
    ap.add_argument("--influx", required=True)
    ap.add_argument("--db", default="flink_sink")
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--log", required=True)
    ap.add_argument("--session-timeout-ms", type=int,
                    help="the group's session.timeout.ms (default: librdkafka's, 45 s, as a Kafka client's)")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, stop)
    # Settings of the stand-in, not spillway's (spillway's runner and probes
    # use their shipped defaults in every test). Like a Flink job started
    # from committed offsets with an earliest fallback, a first start reads
    # the topic from the beginning. Its session timeout is a Kafka client's
    # default unless the test says otherwise (78-day does once, and says why).
    conf = {"bootstrap.servers": a.bootstrap, "group.id": a.group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest"}
    if a.session_timeout_ms is not None:
        conf["session.timeout.ms"] = a.session_timeout_ms
    c = Consumer(conf)
    c.subscribe([a.topic])
    log = open(a.log, "a", buffering=1)
    read = {}  # partition -> [first, last] since the last checkpoint
    next_checkpoint = time.time() + a.interval
    while running:
        m = c.poll(0.1)
        if m is not None and not m.error():
            r = read.setdefault(m.partition(), [m.offset(), m.offset()])
            r[1] = m.offset()
        if time.time() < next_checkpoint:
            continue
        next_checkpoint = time.time() + a.interval
        n = sum(last - first + 1 for first, last in read.values())
        if n == 0:
            continue
        try:
            write_point(a.influx, a.db, n)
        except Exception as e:  # a checkpoint that fails commits nothing, as Flink's
            print("primary: %s" % e, file=sys.stderr)
            continue
        offsets = [TopicPartition(a.topic, p, last + 1) for p, (first, last) in sorted(read.items())]
        c.commit(offsets=offsets, asynchronous=False)
        for p, (first, last) in sorted(read.items()):
            log.write("READ %d %d %d\n" % (p, first, last))
        log.write("COMMIT %d %s\n" % (int(time.time() * 1000),
                                      " ".join("%d:%d" % (t.partition, t.offset) for t in offsets)))
        read = {}
    # no commit on the way out: what was read since the last checkpoint is
    # read again by the next start, as after a crash
    c.close()


if __name__ == "__main__":
    main()
