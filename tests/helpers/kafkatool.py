#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# kafkatool: generates, produces and independently aggregates test data; inspects Kafka offsets.
import argparse
import datetime as dt
import io
import json
import random
import struct
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

FIELDS = ("X", "Y", "Z", "EDA", "HR", "TEMP")
TIMEOUT = 10.0
EPOCH = dt.datetime(1970, 1, 1)


def die(msg):
    print("kafkatool: " + msg, file=sys.stderr)
    sys.exit(1)


def parse_dt(s):
    """Naive datetime string -> epoch milliseconds (read as UTC), or None if unparsable."""
    if not isinstance(s, str):
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            d = dt.datetime.strptime(s, fmt)
        except ValueError:
            continue
        delta = d - EPOCH
        return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return None


def fmt_dt(epoch_ms):
    d = EPOCH + dt.timedelta(milliseconds=epoch_ms)
    return d.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (epoch_ms % 1000)


def parse_offsets(spec):
    """'P:OFF,P:OFF' -> {P: OFF}."""
    out = {}
    for item in filter(None, (spec or "").split(",")):
        try:
            p, off = item.split(":")
            out[int(p)] = int(off)
        except ValueError:
            die("bad partition:offset %r" % item)
    return out


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


# ---- gen ----------------------------------------------------------------------------

def cmd_gen(a):
    rng = random.Random(a.seed)
    start_ms = parse_dt(a.start)
    if start_ms is None:
        die("bad --start %r" % a.start)
    null_all = {}
    for spec in a.null_all:
        field, _, idx = spec.partition(":")
        if field not in FIELDS or not idx.isdigit():
            die("bad --null-all %r (want FIELD:NURSEINDEX)" % spec)
        null_all.setdefault(int(idx), set()).add(field)
    ids = ["%s%d" % (a.id_prefix, i) for i in range(a.nurses)]
    base_hr = [rng.uniform(62, 118) for _ in ids]  # so nurses land in different stress levels
    # --block N: the same events, written N at a time per nurse (nurse 0's first N, nurse 1's
    # first N, ..., then everyone's next N), as the reference's producer sends them; a block
    # is held in memory (N x nurses lines), the rest streams
    block = a.block or 1
    held = [[] for _ in ids]
    for k in range(a.per_nurse):
        when = fmt_dt(start_ms + int(k * 1000 // a.rate))
        for i, nid in enumerate(ids):
            v = {
                "X": round(rng.uniform(-2, 2), 4),
                "Y": round(rng.uniform(-2, 2), 4),
                "Z": round(rng.uniform(-2, 2), 4),
                "EDA": round(rng.uniform(0, 5), 4),
                "HR": round(min(120.0, max(60.0, rng.gauss(base_hr[i], 4))), 2),
                "TEMP": round(rng.uniform(33, 37), 3),
            }
            for f in FIELDS:
                if f in null_all.get(i, ()) or (a.null_some and rng.random() < a.null_some):
                    v[f] = None
            v["id"] = nid
            v["datetime"] = when
            held[i].append(json.dumps({"key": nid, "value": v}) + "\n")
        if (k + 1) % block == 0 or k + 1 == a.per_nurse:
            for lines in held:
                sys.stdout.writelines(lines)
                lines.clear()


# ---- produce ------------------------------------------------------------------------

def load_schema(path):
    import avro.schema
    parse = getattr(avro.schema, "parse", None) or getattr(avro.schema, "Parse")
    with open(path) as f:
        return parse(f.read())


class Encoder:
    """One Avro binary datum per value, written by python-avro's DatumWriter/BinaryEncoder.

    python-avro takes ~140 us per record, too slow for a million. A record's binary encoding
    is its fields' encodings concatenated, so each field is encoded by its own DatumWriter and
    memoized; the first CHECK records are also encoded whole and must match byte for byte."""
    CHECK, CACHE_MAX = 2000, 500000

    def __init__(self, schema):
        import avro.io
        self.io = avro.io
        self.whole = avro.io.DatumWriter(schema)
        fields = schema.fields if schema.type == "record" else []
        self.fields = [(f.name, avro.io.DatumWriter(f.type), {}) for f in fields]
        self.done = 0

    def _encode(self, writer, datum):
        buf = io.BytesIO()
        writer.write(datum, self.io.BinaryEncoder(buf))
        return buf.getvalue()

    def encode(self, value):
        if not self.fields:
            return self._encode(self.whole, value)
        parts = []
        for name, writer, cache in self.fields:
            datum = value.get(name)
            key = (type(datum), datum if datum else repr(datum))  # -0.0 == 0.0
            try:
                b = cache.get(key)
            except TypeError:  # unhashable (a nested record, array or map): no memo
                b = self._encode(writer, datum)
            if b is None:
                if len(cache) > self.CACHE_MAX:
                    cache.clear()
                b = cache[key] = self._encode(writer, datum)
            parts.append(b)
        out = b"".join(parts)
        if self.done < self.CHECK:
            self.done += 1
            if out != self._encode(self.whole, value):
                die("field-wise Avro encoding differs from DatumWriter's for %r" % value)
        return out


# produce --fast: the reference's producer, which lets its batches fill (keys placed by
# murmur2, the Java client's partitioner). Its record batches hold what arrived for a partition
# within linger.ms, so their size follows how fast messages are handed to it: this script
# encodes ~50,000 a second, which fills a batch to a nurse's block of events (gen --block) at
# most. A producer that runs ahead of its broker, or one that was held (--queued-file: the
# messages are all handed over while the broker is down, then it is brought up; its queue and
# message timeout are then unbounded), sends full batches of batch.num.messages; the default
# settings here (a batch every 20 ms of whatever arrived, keys by CRC32, nurses interleaved)
# give batches of tens.
FAST_PRODUCER = {"batch.num.messages": 10000, "linger.ms": 5, "queue.buffering.max.messages": 2000000,
                 "partitioner": "murmur2_random"}


def cmd_produce(a):
    encoder = Encoder(load_schema(a.schema))
    conf = {
        "bootstrap.servers": a.bootstrap,
        "linger.ms": 20,
        "queue.buffering.max.messages": 500000,
        "acks": "all",
    }
    if a.fast:
        conf.update(FAST_PRODUCER)
    if a.queued_file:
        # held as long as it takes to hand them all over, and all of them, however many
        conf.update({"message.timeout.ms": 0, "queue.buffering.max.messages": 0})
    producer = Producer(conf)
    manifest = open(a.manifest, "w")
    stats = {"ok": 0, "failed": 0}

    def delivered(err, msg, obj):
        if err is not None:
            stats["failed"] += 1
            if stats["failed"] <= 5:
                print("kafkatool: delivery failed: %s" % err, file=sys.stderr)
            return
        stats["ok"] += 1
        obj["partition"] = msg.partition()
        obj["offset"] = msg.offset()
        manifest.write(json.dumps(obj) + "\n")

    def encoded(lineno, line):
        obj = json.loads(line)
        if "raw_hex" in obj:
            value = bytes.fromhex(obj["raw_hex"])
            obj["valid"] = False
        elif "value" in obj:
            try:
                value = encoder.encode(obj["value"])
            except Exception as e:  # python-avro raises several types
                die("%s:%d: cannot encode value: %s: %s" % (a.input, lineno, type(e).__name__, e))
            obj["valid"] = True
        else:
            die("%s:%d: neither value nor raw_hex" % (a.input, lineno))
        obj["value_hex"] = value.hex()
        key = obj.get("key")
        return value, None if key is None else key.encode(), obj

    kw = {"partition": a.partition} if a.partition is not None else {}

    def send(value, key, obj):
        cb = lambda err, msg, obj=obj: delivered(err, msg, obj)
        if a.age:
            kw["timestamp"] = int((time.time() - a.age) * 1000)
        while True:
            try:
                producer.produce(a.topic, value=value, key=key, on_delivery=cb, **kw)
                return
            except BufferError:
                producer.poll(0.05)

    sent = 0
    with open(a.input) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            send(*encoded(lineno, line))
            sent += 1
            if sent % 1000 == 0:
                producer.poll(0)
    if a.queued_file:
        open(a.queued_file, "w").close()
    left = producer.flush(600 if a.queued_file else 60)
    manifest.close()
    if left:
        die("%d message(s) not delivered within %d s" % (left, 600 if a.queued_file else 60))
    if stats["failed"]:
        die("%d of %d message(s) failed delivery" % (stats["failed"], sent))
    print("produced %d message(s) to %s" % (stats["ok"], a.topic), file=sys.stderr)


def produce_fast(bootstrap, what, messages, flush_s):
    """Produce (topic, value, key, partition) tuples as fast as librdkafka takes them,
    waiting when its queue is full; die unless every one is delivered."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.num.messages": 10000,
                         "queue.buffering.max.messages": 1000000})
    failed = []
    for i, (topic, value, key, partition) in enumerate(messages):
        kw = {} if partition is None else {"partition": partition}
        while True:
            try:
                producer.produce(topic, value=value, key=key, on_delivery=lambda err, msg: err and failed.append(err),
                                 **kw)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10000 == 0:
            producer.poll(0)
    if producer.flush(flush_s):
        die("%s: not all delivered within %d s" % (what, flush_s))
    if failed:
        die("%s: %d failed, first: %s" % (what, len(failed), failed[0]))


def cmd_fill(a):
    """COUNT copies of one event, fast: to move a partition's offsets along."""
    value = Encoder(load_schema(a.schema)).encode(json.loads(a.value))
    key = a.key.encode()
    produce_fast(a.bootstrap, "fill", ((a.topic, value, key, a.partition) for _ in range(a.count)), 120)


def cmd_burst(a):
    """COUNT events of --nurses at --rate per nurse and second of event time, generated
    in the process (no JSON file) and encoded by python-avro, as fast as they can be
    produced: a large backlog for benchmarks. No manifest.

    With --partitions N, nurse i goes to partition i mod N rather than where its key hashes, and
    each nurse's events are produced --run at a time (in event-time order within the nurse), so
    that a partition's messages arrive in message sets of --run: librdkafka's mock keeps only
    ~5 MiB a partition (hashing piles several nurses on some), and it answers a fetch with one
    message set per partition and finds it by walking the partition's sets from the first."""
    encoder = Encoder(load_schema(a.schema))
    start_ms = parse_dt(a.start)
    ids = ["%s%d" % (a.id_prefix, i) for i in range(a.nurses)]

    def event(i, n):
        """Nurse i's n-th event."""
        k = n * len(ids) + i
        v = {"X": 0.5, "Y": 1.0, "Z": -1.0, "EDA": 2.0, "HR": 60.0 + k % 50, "TEMP": 36.0, "id": ids[i],
             "datetime": fmt_dt(start_ms + int(n * 1000 // a.rate))}
        return a.topic, encoder.encode(v), ids[i].encode(), (i % a.partitions if a.partitions else None)

    def events():
        if not a.partitions:
            for k in range(a.count):
                yield event(k % len(ids), k // len(ids))
            return
        per = [a.count // len(ids) + (1 if i < a.count % len(ids) else 0) for i in range(len(ids))]
        for first in range(0, per[0], a.run):
            for i in range(len(ids)):
                for n in range(first, min(first + a.run, per[i])):
                    yield event(i, n)

    produce_fast(a.bootstrap, "burst", events(), 300)


def cmd_stream(a):
    """Events of --nurses at --rate per second in all, event time = now, until SIGTERM."""
    import signal
    import time
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    encoder = Encoder(load_schema(a.schema))
    producer = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": a.linger_ms})
    manifest = open(a.manifest, "a", buffering=1)
    rng = random.Random(a.seed)
    ids = ["%s%d" % (a.id_prefix, i) for i in range(a.nurses)]

    def delivered(err, msg):
        if err is None:
            manifest.write(json.dumps({"partition": msg.partition(), "offset": msg.offset(), "valid": True}) + "\n")

    sent, start = 0, time.time()
    while not stop:
        due = int((time.time() - start) * a.rate)
        while sent < due:
            nid = ids[sent % len(ids)]
            now_ms = int(time.time() * 1000)
            v = {"X": 0.5, "Y": 1.0, "Z": -1.0, "EDA": 2.0, "HR": round(rng.uniform(60, 110), 2), "TEMP": 36.0,
                 "id": nid, "datetime": fmt_dt(now_ms)}
            producer.produce(a.topic, value=encoder.encode(v), key=nid.encode(), on_delivery=delivered)
            sent += 1
        producer.poll(0.02)
    producer.flush(30)
    print("streamed %d message(s)" % sent, file=sys.stderr)


# ---- expect -------------------------------------------------------------------------

def cmd_expect(a):
    frm, to = parse_offsets(a.from_), parse_offsets(a.to)
    fields = a.fields.split(",")
    wms = a.window * 1000
    groups = {}
    with open(a.manifest) as f:
        for line in f:
            m = json.loads(line)
            p, off = m["partition"], m["offset"]
            if not m.get("valid") or off < frm.get(p, 0) or (p in to and off >= to[p]):
                continue
            v = m["value"]
            ms = parse_dt(v.get("datetime"))
            if v.get("id") is None or ms is None:
                continue
            g = groups.get((v["id"], ms // wms))
            if g is None:
                g = groups[(v["id"], ms // wms)] = {"count": 0, "sum": dict.fromkeys(fields, 0.0),
                                                   "n": dict.fromkeys(fields, 0)}
            g["count"] += 1
            for fl in fields:
                x = v.get(fl)
                if x is not None:
                    g["sum"][fl] += f32(x)
                    g["n"][fl] += 1
    aggs = []
    for (nid, w), g in sorted(groups.items()):
        means = {fl: (g["sum"][fl] / g["n"][fl] if g["n"][fl] else None) for fl in fields}
        aggs.append({"id": nid, "window_start": w * a.window, "count": g["count"],
                     "means": means, "n": g["n"]})
    json.dump({"count_total": sum(g["count"] for g in groups.values()), "aggregates": aggs},
              sys.stdout, indent=1)
    sys.stdout.write("\n")


# ---- offsets ------------------------------------------------------------------------

def consumer(a, group=None):
    return Consumer({
        "bootstrap.servers": a.bootstrap,
        "group.id": group or "kafkatool-probe",
        "enable.auto.commit": False,
    })


def partitions(c, topic):
    md = c.list_topics(topic, timeout=TIMEOUT)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        die("topic %s: %s" % (topic, t.error if t else "not in metadata"))
    return sorted(t.partitions)


def cmd_commit(a):
    want = parse_offsets(a.offsets)
    if not want:
        die("--offsets is empty")
    c = consumer(a, a.group)
    try:
        tps = [TopicPartition(a.topic, p, off) for p, off in sorted(want.items())]
        c.commit(offsets=tps, asynchronous=False)
        got = c.committed([TopicPartition(a.topic, p) for p in sorted(want)], timeout=TIMEOUT)
        for tp in got:
            if tp.error or tp.offset != want[tp.partition]:
                die("commit of %s[%d] not visible: committed %d, wanted %d (%s)"
                    % (a.topic, tp.partition, tp.offset, want[tp.partition], tp.error))
    finally:
        c.close()


def cmd_committed(a):
    c = consumer(a, a.group)
    try:
        tps = [TopicPartition(a.topic, p) for p in partitions(c, a.topic)]
        got = c.committed(tps, timeout=TIMEOUT)
        print(" ".join("%d:%d" % (tp.partition, tp.offset) for tp in got))
    finally:
        c.close()


def cmd_watermarks(a):
    c = consumer(a)
    try:
        out = []
        for p in partitions(c, a.topic):
            lo, hi = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=TIMEOUT)
            out.append("%d:%d:%d" % (p, lo, hi))
        print(" ".join(out))
    finally:
        c.close()


def kafka_fetch_batches(host, port, topic, partition, start, end):
    """The record batches of a partition from start to end, as (base offset, records) pairs,
    read with Fetch v4 requests on a socket of our own: a consumer library hides where one
    record batch ends and the next begins, and how many records a batch holds is what decides
    how much one fetch brings (librdkafka's mock answers with one batch per partition)."""
    import socket
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    rd = sock.makefile("rb")
    name = topic.encode()
    out, offset, corr = [], start, 0

    def read(n):
        b = rd.read(n)
        if len(b) != n:
            die("batches: %s:%d closed the connection" % (host, port))
        return b

    try:
        while offset < end:
            corr += 1
            body = struct.pack(">hhih", 1, 4, corr, 9) + b"kafkatool"
            body += struct.pack(">iiiib", -1, 0, 0, 64 << 20, 0)  # replica, max wait, min/max bytes, isolation
            body += struct.pack(">ih", 1, len(name)) + name
            body += struct.pack(">iiqi", 1, partition, offset, 16 << 20)
            sock.sendall(struct.pack(">i", len(body)) + body)
            size, = struct.unpack(">i", read(4))
            resp = read(size)
            pos = 4 + 4 + 4  # correlation id, throttle time, topic count
            tlen, = struct.unpack_from(">h", resp, pos)
            pos += 2 + tlen + 4 + 4  # topic name, partition count, partition
            err, = struct.unpack_from(">h", resp, pos)
            if err:
                die("batches: partition %d at %d: Kafka error %d" % (partition, offset, err))
            pos += 2 + 8 + 8  # error, high watermark, last stable offset
            naborted, = struct.unpack_from(">i", resp, pos)
            pos += 4 + max(naborted, 0) * 16
            rlen, = struct.unpack_from(">i", resp, pos)
            pos += 4
            stop, moved = pos + max(rlen, 0), False
            while pos + 12 <= stop:
                base, blen = struct.unpack_from(">qi", resp, pos)
                if pos + 12 + blen > stop:
                    break  # a partial batch at the end of the answer
                if resp[pos + 16] != 2:
                    die("batches: partition %d at %d: message format %d, not 2" % (partition, base, resp[pos + 16]))
                delta, = struct.unpack_from(">i", resp, pos + 23)
                if base + delta >= offset:
                    out.append((base, delta + 1))
                    offset, moved = base + delta + 1, True
                pos += 12 + blen
            if not moved:
                die("batches: partition %d: nothing at offset %d below %d" % (partition, offset, end))
    finally:
        rd.close()
        sock.close()
    return out


def cmd_batches(a):
    """Per partition: how many record batches hold its messages, and their sizes."""
    c = consumer(a)
    try:
        md = c.list_topics(a.topic, timeout=TIMEOUT)
        t = md.topics.get(a.topic)
        if t is None or t.error is not None:
            die("topic %s: %s" % (a.topic, t.error if t else "not in metadata"))
        rows = []
        for p in sorted(t.partitions):
            leader = md.brokers[t.partitions[p].leader]
            lo, hi = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=TIMEOUT)
            rows.append((p, lo, hi, kafka_fetch_batches(leader.host, leader.port, a.topic, p, lo, hi)))
    finally:
        c.close()
    if a.json:
        json.dump({str(p): {"messages": hi - lo, "batches": len(b), "largest": max((n for _, n in b), default=0)}
                   for p, lo, hi, b in rows}, sys.stdout)
        sys.stdout.write("\n")
        return
    for p, lo, hi, b in rows:
        print("%d:%d:%d:%d" % (p, hi - lo, len(b), max((n for _, n in b), default=0)))


def topic_args(s, schema=False):
    """The arguments every command that talks to the topic takes."""
    s.add_argument("--bootstrap", required=True)
    s.add_argument("--topic", required=True)
    if schema:
        s.add_argument("--schema", required=True)


def main():
    ap = argparse.ArgumentParser(description="Kafka test-data tool for spillway tests")
    sub = ap.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("gen", help="generate sensor events as JSON lines on stdout")
    s.add_argument("--nurses", type=int, required=True)
    s.add_argument("--per-nurse", type=int, required=True)
    s.add_argument("--start", default="2026-11-21 10:00:00.000")
    s.add_argument("--rate", type=float, default=330.0, help="events per second per nurse")
    s.add_argument("--id-prefix", default="nurse-")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--null-all", nargs="+", action="extend", default=[],
                   metavar="FIELD:NURSEINDEX")
    s.add_argument("--null-some", type=float, default=0.0, metavar="PROB")
    s.add_argument("--block", type=int, default=0, metavar="N",
                   help="write each nurse's events N at a time (0: one at a time, nurses interleaved)")
    s.set_defaults(fn=cmd_gen)

    s = sub.add_parser("produce", help="produce JSON lines as Avro datums, write a manifest")
    topic_args(s, schema=True)
    s.add_argument("--in", dest="input", required=True)
    s.add_argument("--manifest", required=True)
    s.add_argument("--partition", type=int)
    s.add_argument("--age", type=float, default=0.0, metavar="SECONDS",
                   help="give the messages a timestamp this long ago (their CreateTime; the time lag reads it)")
    s.add_argument("--fast", action="store_true",
                   help="the reference producer's settings: batch.num.messages 10000, linger.ms 5, "
                        "queue.buffering.max.messages 2000000, keys placed by murmur2")
    s.add_argument("--queued-file", metavar="FILE",
                   help="created once every message is handed to the producer, before it waits for their delivery")
    s.set_defaults(fn=cmd_produce)

    s = sub.add_parser("fill", help="produce COUNT copies of one event to one partition (no manifest)")
    topic_args(s, schema=True)
    s.add_argument("--value", required=True, metavar="JSON")
    s.add_argument("--key", required=True)
    s.add_argument("--partition", type=int, required=True)
    s.add_argument("--count", type=int, required=True)
    s.set_defaults(fn=cmd_fill)

    s = sub.add_parser("burst", help="produce COUNT generated events as fast as possible (no manifest)")
    topic_args(s, schema=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--nurses", type=int, default=2)
    s.add_argument("--rate", type=float, default=330.0, help="events per second per nurse, in event time")
    s.add_argument("--start", default="2026-11-21 10:00:00.000")
    s.add_argument("--id-prefix", default="nurse-")
    s.add_argument("--partitions", type=int, default=0, help="nurse i to partition i mod N (0: by key)")
    s.add_argument("--run", type=int, default=1000, help="with --partitions: a nurse's events produced RUN at a time")
    s.set_defaults(fn=cmd_burst)

    s = sub.add_parser("stream", help="produce events at a steady rate, event time now, until SIGTERM")
    topic_args(s, schema=True)
    s.add_argument("--rate", type=float, required=True, help="messages per second, all nurses together")
    s.add_argument("--nurses", type=int, default=4)
    s.add_argument("--id-prefix", default="nurse-")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--manifest", required=True, help="appended: one line per delivered message")
    s.add_argument("--linger-ms", type=int, default=20, help="the producer's linger.ms (how big its message sets grow)")
    s.set_defaults(fn=cmd_stream)

    s = sub.add_parser("expect", help="expected aggregates of a manifest")
    s.add_argument("--manifest", required=True)
    s.add_argument("--window", type=int, required=True)
    s.add_argument("--from", dest="from_", metavar="P:OFF,...")
    s.add_argument("--to", metavar="P:OFF,...")
    s.add_argument("--fields", default=",".join(FIELDS))
    s.set_defaults(fn=cmd_expect)

    s = sub.add_parser("batches", help="per partition P:MESSAGES:RECORD_BATCHES:LARGEST_BATCH")
    topic_args(s)
    s.add_argument("--json", action="store_true", help="one JSON object keyed by partition instead")
    s.set_defaults(fn=cmd_batches)

    for name, fn in (("commit", cmd_commit), ("committed", cmd_committed),
                     ("watermarks", cmd_watermarks)):
        s = sub.add_parser(name)
        s.add_argument("--bootstrap", required=True)
        s.add_argument("--topic", required=True)
        if name != "watermarks":
            s.add_argument("--group", required=True)
        if name == "commit":
            s.add_argument("--offsets", required=True, metavar="P:OFF,...")
        s.set_defaults(fn=fn)

    a = ap.parse_args()
    if a.cmd == "gen" and a.rate <= 0:
        die("--rate must be positive")
    if a.cmd == "gen" and a.block < 0:
        die("--block must not be negative")
    try:
        a.fn(a)
    except KafkaException as e:
        die("%s: %s" % (a.cmd, e))


if __name__ == "__main__":
    main()
