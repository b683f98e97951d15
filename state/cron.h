/*
 * cron.h: NCrontab expressions, the format of Azure ML's Cron trigger.
 *
 * Five fields (minute hour day-of-month month day-of-week) or six (a leading
 * second). Each field is `*`, a value, a range `a-b`, a step `*\/n`, `a-b/n`
 * or `a/n` (from a to the field's end), or a comma list of those. Months may
 * be named (JAN-DEC or full names), days of week too (SUN-SAT; 0-6 with
 * Sunday 0, 7 also Sunday). As in NCrontab (and unlike Vixie cron), a day
 * must match BOTH the day-of-month and the day-of-week fields.
 *
 * Times are local wall-clock seconds (since the epoch of that wall clock, as
 * if it were UTC); tz.h converts. Pure, any thread.
 */
#ifndef STATE_CRON_H
#define STATE_CRON_H

#include <stdint.h>

#include "state/error.h"

#define CRON_EXPR_MAX 256

/* Which seconds, minutes and hours of a day match. */
struct cron_day {
	uint64_t seconds; /* bit s: second s (0-59) */
	uint64_t minutes; /* bit m */
	uint32_t hours;   /* bit h */
};

struct cron {
	struct cron_day time;
	uint32_t days;     /* bit d: day of month d (1-31) */
	uint16_t months;   /* bit m: month m (1-12) */
	uint8_t weekdays;  /* bit d: 0 Sunday .. 6 Saturday */
	int has_seconds;
};

/* 0, or -1 with a 400 naming the field and the problem. */
int cron_parse(const char *expr, struct cron *out, struct error *err);
/* The first matching local time strictly after `after`; 0, or -1 when none
 * within five years (e.g. "0 0 30 2 *"). */
int cron_next(const struct cron *c, int64_t after, int64_t *next);

/* The first second of the day at or after second-of-day sod (0-86399) that
 * matches d: 0 with *out set, or -1 when none is left that day. */
int cron_day_first(const struct cron_day *d, int sod, int *out);

#endif
