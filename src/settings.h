/* settings.h -- `spillway config`: the effective configuration, key by key,
 * with where each value came from. */
#ifndef SPILLWAY_SETTINGS_H
#define SPILLWAY_SETTINGS_H

#include "config.h"

/* Print every key spillway knows, every [kafka] property passed through,
 * and the librdkafka properties spillway sets itself, each with its value
 * and origin ("default", "FILE:LINE", "spillway's librdkafka default",
 * "set by spillway"); secrets and URL credentials masked. As an ini file
 * (comments give the origins) or, with json, a JSON array. Returns 0, or
 * EX_IOERR when stdout fails. */
int settings_run(const struct config *cfg, int json);

#endif
