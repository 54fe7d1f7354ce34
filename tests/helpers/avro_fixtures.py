#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""avro_fixtures.py -- encode the decoder's unit-test datums with python-avro.

An independent encoder: a bug in spillway's decoding cannot hide behind an
encoder of its own. Writes one .bin file per datum (a bare Avro binary datum,
no container, no prefix) into OUTDIR.
"""
import io
import os
import sys

import avro.io
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

CASES = {
    "nurse_sensor_event.avsc": {
        "full": {"X": 1.5, "Y": -2.25, "Z": 0.125, "EDA": 3.5, "HR": 88.0, "TEMP": 36.5,
                 "id": "nurse-7", "datetime": "2026-11-21 10:00:00.250"},
        "nulls": {"X": None, "Y": 0.5, "Z": None, "EDA": 1.0, "HR": None, "TEMP": 37.0,
                  "id": "6D,source=flink", "datetime": "2026-11-21 10:00:29.999"},
        "allnull": {"X": None, "Y": None, "Z": None, "EDA": None, "HR": None, "TEMP": None,
                    "id": None, "datetime": None},
        "unicode": {"X": 0.0, "Y": 0.0, "Z": 0.0, "EDA": 0.0, "HR": 60.0, "TEMP": 35.0,
                    "id": "infirmière-α", "datetime": "2026-11-21 10:00:00.000"},
    },
    "numeric.avsc": {
        "numeric": {"a": -42, "b": 9007199254740993, "c": 2.718281828459045, "d": 0.1,
                    "who": "w", "when": "2026-11-21 10:00:00.000"},
        "numeric_nulls": {"a": 7, "b": None, "c": None, "d": -3.5, "who": "", "when": "x"},
    },
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for schema_file, datums in CASES.items():
        path = (os.path.join(REPO, "etc", schema_file) if schema_file == "nurse_sensor_event.avsc"
                else os.path.join(REPO, "tests", "unit", "fixtures", schema_file))
        with open(path) as f:
            schema = avro.schema.parse(f.read())
        writer = avro.io.DatumWriter(schema)
        for name, datum in datums.items():
            buf = io.BytesIO()
            writer.write(datum, avro.io.BinaryEncoder(buf))
            with open(os.path.join(out, name + ".bin"), "wb") as f:
                f.write(buf.getvalue())


if __name__ == "__main__":
    main()
