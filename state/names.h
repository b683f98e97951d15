/*
 * names.h: resource name and version validation (DESIGN.md "Resources and
 * rules"). Pure. Every name and version that reaches a path on disk has
 * passed one of these checks, so none holds NUL, '/', ".." or a leading '.'.
 */
#ifndef STATE_NAMES_H
#define STATE_NAMES_H

#include "state/error.h"

/* Endpoints and deployments (Azure's rule for them): 3-32 chars, a letter
 * first, then letters, digits and single dashes, not ending in a dash.
 * 0, or -1 with a 400 naming `field` and the reason. */
int names_check(const char *name, const char *field, struct error *err);
/* Models, environments, code, data assets, jobs, schedules: the spec's asset
 * pattern ^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$. */
int names_check_asset(const char *name, const char *field, struct error *err);
/* Whether p is a relative path that stays inside its directory (no leading
 * '/', no ".." component): a scoring script inside its code directory. */
int names_relative_inside(const char *p);
/* Asset versions are strings ("1", "1.0", a 32-hex anonymous version):
 * 1-64 characters, a letter or digit first, then letters, digits, '.', '_'
 * and '-', never "..". */
int names_check_version(const char *version, const char *field, struct error *err);

#endif
