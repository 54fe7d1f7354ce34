#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""seeds.py -- seed inputs for the decode fuzz target, encoded by python-avro.

An independent encoder, as for the unit tests (tests/helpers/avro_fixtures.py):
the fuzzer starts from datums another implementation wrote, not from
spillway's idea of them. Writes OUTDIR/decode/NAME.bin, each one selector
byte (bit 0: the schema, 0 = etc/nurse_sensor_event.avsc, 1 =
tests/fuzz/fuzz_types.avsc; bit 1: local time) followed by a bare Avro
binary datum. Generated at build time into the build tree, never committed.
"""
import io
import os
import sys

import avro.io
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

REFERENCE = [
    ("ref_full", 0, {"X": 1.5, "Y": -2.25, "Z": 0.125, "EDA": 3.5, "HR": 88.0, "TEMP": 36.5,
                     "id": "nurse-7", "datetime": "2026-11-21 10:00:00.250"}),
    ("ref_nulls", 0, {"X": None, "Y": 0.5, "Z": None, "EDA": 1.0, "HR": None, "TEMP": 37.0,
                      "id": "6D,source=flink", "datetime": "2026-11-21T10:00:29.999"}),
    ("ref_allnull", 0, {"X": None, "Y": None, "Z": None, "EDA": None, "HR": None, "TEMP": None,
                        "id": None, "datetime": None}),
    ("ref_unicode_local", 2, {"X": 0.0, "Y": 0.0, "Z": 0.0, "EDA": 0.0, "HR": 60.0, "TEMP": 35.0,
                              "id": "infirmi\u00e8re \u03b1=1", "datetime": "2026-03-29 02:30:00"}),
    ("ref_escapes", 0, {"X": 1e30, "Y": -1e-30, "Z": 3.4e38, "EDA": 1.0, "HR": 1.0, "TEMP": 1.0,
                        "id": "a\\b \"c\"", "datetime": "1999-12-31 23:59:59.999999"}),
]

SAMPLE = {"v": 1.25, "ok": True}
TYPES = [
    ("types_full", 1, {"who": "nurse-9", "a": 36.6, "b": 2.5, "c": -42, "d": 9007199254740993,
                       "e": 0.5, "when": "2026-11-21 10:00:00.000", "flag": True, "kind": "HIGH",
                       "sig": b"\x00\x01\x02\x03", "raw": b"\xff\x00raw", "labels": ["ward-3", "night"],
                       "gaps": [None, None, None], "attrs": {"bpm": 61.0, "note": "ok", "none": None},
                       "samples": [SAMPLE, {"v": -0.5, "ok": False}],
                       "blanks": [{"nothing": None}] * 2, "more": None}),
    ("types_nulls", 1, {"who": "w", "a": -0.0, "b": None, "c": None, "d": -1, "e": None,
                        "when": "2026-02-28T23:59:59.5", "flag": False, "kind": "LOW",
                        "sig": b"abcd", "raw": b"", "labels": [], "gaps": [], "attrs": {},
                        "samples": [], "blanks": [], "more": None}),
    ("types_nested_local", 3, {"who": "n,1 =x", "a": 1e300, "b": 1e-308, "c": 2147483647,
                               "d": -9223372036854775808, "e": 3.25, "when": "2024-02-29 12:00:00",
                               "flag": True, "kind": "MEDIUM", "sig": b"\xff\xff\xff\xff",
                               "raw": b"\x00" * 8, "labels": ["x" * 40], "gaps": [None],
                               "attrs": {"k": "v"}, "samples": [SAMPLE], "blanks": [{"nothing": None}],
                               "more": {"who": "inner", "a": 1.0, "b": None, "c": 1, "d": 2, "e": None,
                                        "when": None, "flag": False, "kind": "LOW", "sig": b"1234",
                                        "raw": b"r", "labels": [], "gaps": [], "attrs": {},
                                        "samples": [], "blanks": [], "more": None}}),
    ("types_no_time", 1, {"who": "", "a": 0.0, "b": 0.0, "c": 0, "d": 0, "e": 0.0, "when": None,
                          "flag": False, "kind": "LOW", "sig": b"0000", "raw": b"", "labels": [],
                          "gaps": [], "attrs": {}, "samples": [], "blanks": [], "more": None}),
]


def encode(schema, datum):
    buf = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(buf))
    return buf.getvalue()


def main():
    out = os.path.join(sys.argv[1], "decode")
    os.makedirs(out, exist_ok=True)
    schemas = {}
    for sel, path in ((0, os.path.join(REPO, "etc", "nurse_sensor_event.avsc")),
                      (1, os.path.join(HERE, "fuzz_types.avsc"))):
        with open(path) as f:
            schemas[sel] = avro.schema.parse(f.read())
    for name, sel, datum in REFERENCE + TYPES:
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(bytes([sel]) + encode(schemas[sel & 1], datum))


if __name__ == "__main__":
    main()
