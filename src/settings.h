/* SPDX-License-Identifier: BSD-2-Clause */
/* settings.h -- `spillway config`: the effective configuration, key by key,
 * with where each value came from. */
#ifndef SPILLWAY_SETTINGS_H
#define SPILLWAY_SETTINGS_H

#include "config.h"

/* Print every key spillway knows, every [kafka] property passed through,
 * and the librdkafka properties spillway sets itself, each with its value
 * and origin ("default", "FILE:LINE", "spillway's librdkafka default",
 * "set by spillway"); secrets and URL credentials masked. As an ini file
 * (comments give the origins) or, with json, a JSON array. Returns a
 * sysexits code (exitcodes.h): 0, 74 when stdout fails, 70 out of memory. */
int settings_run(const struct config *cfg, int json);

#endif
