/*
 * names.h: resource name and version validation (Azure's rule). Pure.
 */
#ifndef STATE_NAMES_H
#define STATE_NAMES_H

#include "state/error.h"

/* 3-32 chars, a letter first, then letters, digits and single dashes, not
 * ending in a dash. 0, or -1 with a 400 naming `field` and the reason. */
int names_check(const char *name, const char *field, struct error *err);
/* Data assets, jobs, schedules (and, with the sdk stream, models, environments
 * and code): the spec's asset pattern ^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$. */
int names_check_asset(const char *name, const char *field, struct error *err);
/* Whether p is a relative path that stays inside its directory (no leading
 * '/', no ".." component): a scoring script inside its code directory. */
int names_relative_inside(const char *p);
/* A positive integer without leading zeros, at most 15 digits. */
int names_check_version(const char *version, const char *field, struct error *err);

#endif
