/*
 * schedule.h: Azure ML schedules (issue 11): a trigger (Cron in NCrontab
 * form, or Recurrence), a time zone, and an action the runtime performs when
 * the trigger fires (InvokeBatchEndpoint; the runtime's scheduler keeps the
 * table of actions, so state/ keeps the action as its type and JSON text).
 *
 * When a trigger fires (trigger_next), pure:
 *  - Cron: the expression's times in the schedule's zone (cron.h).
 *  - Recurrence, Minute or Hour: startTime + k x interval (k >= 0), in
 *    absolute time.
 *  - Recurrence, Day, Week or Month: on every interval-th day, week (weeks
 *    begin on Monday) or month counted from startTime's, at each of
 *    schedule.hours x schedule.minutes (default: startTime's time of day), on
 *    schedule.weekDays (Week; default startTime's weekday) and
 *    schedule.monthDays (Month; default startTime's day; a day the month lacks
 *    is skipped), in the schedule's zone.
 *  - startTime and endTime are wall-clock times in the zone ("2024-06-01T03:00:00";
 *    a trailing Z or offset is honoured); without startTime the schedule
 *    starts when it was created (or last changed). Nothing fires before
 *    startTime or after endTime.
 */
#ifndef STATE_SCHEDULE_H
#define STATE_SCHEDULE_H

#include <stdint.h>

#include "state/cron.h"
#include "state/error.h"
#include "state/resource.h"
#include "state/tz.h"

#define SCHEDULE_TIME_MAX 40
#define SCHEDULE_ACTION_MAX 32
#define SCHEDULE_INTERVAL_MAX 100000

enum trigger_type { TRIGGER_CRON, TRIGGER_RECURRENCE };
enum recur_freq { FREQ_MINUTE, FREQ_HOUR, FREQ_DAY, FREQ_WEEK, FREQ_MONTH };

struct trigger {
	enum trigger_type type;
	char expression[CRON_EXPR_MAX]; /* Cron */
	enum recur_freq freq;           /* Recurrence */
	int interval;                   /* Recurrence, >= 1 */
	int has_pattern;                /* Recurrence: "schedule" given */
	uint32_t hours;                 /* bit h */
	uint64_t minutes;               /* bit m */
	uint8_t weekdays;               /* bit d: 0 Sunday .. 6 Saturday */
	uint32_t monthdays;             /* bit d: 1-31 */
	char start[SCHEDULE_TIME_MAX];  /* as given, "" none */
	char end[SCHEDULE_TIME_MAX];
	char time_zone[TZ_NAME_MAX + 1]; /* as given; default "UTC" */
};

struct schedule {
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	char *display_name;
	char *description;
	struct kvlist tags;
	struct kvlist properties;
	int enabled;
	struct trigger trigger;
	char action_type[SCHEDULE_ACTION_MAX]; /* "InvokeBatchEndpoint" */
	char *action;                          /* the action object, JSON text */
	enum prov_state state;
	int64_t created;
	int64_t updated; /* last PUT: the default start of the trigger */
};

const char *trigger_type_name(enum trigger_type t); /* "Cron", "Recurrence" */
int trigger_type_parse(const char *s, enum trigger_type *out);
const char *recur_freq_name(enum recur_freq f);     /* "Minute" ... "Month" */
int recur_freq_parse(const char *s, enum recur_freq *out);
const char *schedule_weekday_name(int d);           /* 0 "Sunday" .. 6 "Saturday" */
int schedule_weekday_parse(const char *s);          /* -1 when not a day */

/* The trigger's rules: a valid expression, interval 1..SCHEDULE_INTERVAL_MAX,
 * a pattern only for Day/Week/Month with hours 0-23 and minutes 0-59 (both
 * non-empty), start/end readable, end after start, a time zone tz_iana
 * knows. 0 or -1 with 400. */
int trigger_check(const struct trigger *t, struct error *err);
/* "2024-06-01T03:00:00[.fff][Z|+hh:mm]" -> wall-clock seconds in *local, or
 * (with a Z or offset) the UTC instant in *utc and *has_utc set. 0 or -1. */
int schedule_time_parse(const char *s, int64_t *local, int64_t *utc, int *has_utc);
/* The first fire time strictly after UTC instant `after`, for a trigger whose
 * default start is UTC instant `since`, in zone z. 0 with *next, or -1 when it
 * never fires again (past endTime, or nothing matches within five years). */
int trigger_next(const struct trigger *t, const struct tz *z, int64_t since, int64_t after,
		 int64_t *next);

int schedule_copy(struct schedule *dst, const struct schedule *src); /* 0 or -1 */
void schedule_cleanup(struct schedule *s);

#endif
