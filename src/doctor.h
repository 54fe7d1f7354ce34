/* SPDX-License-Identifier: BSD-2-Clause */
/* doctor.h -- `spillway doctor`: one line per thing spillway depends on:
 * config, schema, state file, Kafka, InfluxDB, the ML service, Flink. */
#ifndef SPILLWAY_DOCTOR_H
#define SPILLWAY_DOCTOR_H

#include "config.h"

/* Print "ok   WHAT  detail" or "FAIL WHAT  reason" per check on stdout.
 * Returns a sysexits code (exitcodes.h): 0 when all are ok; 78 when the
 * config is one others can write, or when the schema or state is wrong and
 * every service answers; else 69 when a service does not answer. */
int doctor_run(const struct config *cfg);

#endif
