/* schedule.c: triggers and when they fire (see schedule.h). */
#include "state/schedule.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "state/civil.h"

#define SEARCH_DAYS (366 * 5)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const freq_names[] = {"Minute", "Hour", "Day", "Week", "Month"};
static const char *const weekday_names[] = {"Sunday",	"Monday", "Tuesday", "Wednesday",
					    "Thursday", "Friday", "Saturday"};

const char *trigger_type_name(enum trigger_type t)
{
	return t == TRIGGER_CRON ? "Cron" : "Recurrence";
}

int trigger_type_parse(const char *s, enum trigger_type *out)
{
	if (s != NULL && strcasecmp(s, "Cron") == 0)
		*out = TRIGGER_CRON;
	else if (s != NULL && strcasecmp(s, "Recurrence") == 0)
		*out = TRIGGER_RECURRENCE;
	else
		return -1;
	return 0;
}

const char *recur_freq_name(enum recur_freq f)
{
	return (unsigned)f < NELEM(freq_names) ? freq_names[f] : "unknown";
}

int recur_freq_parse(const char *s, enum recur_freq *out)
{
	for (size_t i = 0; s != NULL && i < NELEM(freq_names); i++)
		if (strcasecmp(s, freq_names[i]) == 0) {
			*out = (enum recur_freq)i;
			return 0;
		}
	return -1;
}

const char *schedule_weekday_name(int d)
{
	return d >= 0 && d < 7 ? weekday_names[d] : "unknown";
}

int schedule_weekday_parse(const char *s)
{
	for (int i = 0; s != NULL && i < 7; i++)
		if (strcasecmp(s, weekday_names[i]) == 0 ||
		    (strlen(s) == 3 && strncasecmp(s, weekday_names[i], 3) == 0))
			return i;
	return -1;
}

/* n digits at s into *out, within [min, max]. */
static int digits(const char *s, int n, int min, int max, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "Z", "+hh:mm", "-hhmm", "+hh" -> seconds east of UTC. */
static int utc_offset(const char *s, long *out)
{
	int h, m = 0;
	size_t n = strlen(s);

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*out = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || n < 3 || digits(s + 1, 2, 0, 23, &h) < 0)
		return -1;
	if (n == 6 && s[3] == ':' && digits(s + 4, 2, 0, 59, &m) < 0)
		return -1;
	if (n == 5 && digits(s + 3, 2, 0, 59, &m) < 0)
		return -1;
	if (n != 3 && n != 5 && !(n == 6 && s[3] == ':'))
		return -1;
	*out = (s[0] == '-' ? -1 : 1) * (h * 3600L + m * 60L);
	return 0;
}

int schedule_time_parse(const char *s, int64_t *local, int64_t *utc, int *has_utc)
{
	int y, mo, d, h, mi, sec = 0;
	const char *p = s + 16;
	long off;

	*has_utc = 0;
	if (s == NULL || strlen(s) < 16 || digits(s, 4, 1, 9999, &y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, 1, 12, &mo) < 0 || s[7] != '-' || digits(s + 8, 2, 1, 31, &d) < 0 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, 0, 23, &h) < 0 ||
	    s[13] != ':' || digits(s + 14, 2, 0, 59, &mi) < 0 || d > civil_month_days(y, mo))
		return -1;
	if (*p == ':') {
		if (digits(p + 1, 2, 0, 59, &sec) < 0)
			return -1;
		p += 3;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
	}
	*local = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (*p == '\0')
		return 0;
	if (utc_offset(p, &off) < 0)
		return -1;
	*utc = *local - off;
	*has_utc = 1;
	return 0;
}

static int bad(struct error *err, const char *what)
{
	return error_set(err, 400, "ValidationError", "%s", what);
}

/* The UTC instant of a start/end string in zone z (or without a zone: as UTC). */
static int instant(const char *s, const struct tz *z, int64_t *out)
{
	int64_t local, utc;
	int has_utc;

	if (schedule_time_parse(s, &local, &utc, &has_utc) < 0)
		return -1;
	*out = has_utc ? utc : z != NULL ? tz_to_utc(z, local) : local;
	return 0;
}

static int pattern_check(const struct trigger *t, struct error *err)
{
	if (!t->has_pattern)
		return 0;
	if (t->freq == FREQ_MINUTE || t->freq == FREQ_HOUR)
		return bad(err, "trigger.schedule applies to the Day, Week and Month frequencies "
				"only");
	if (t->hours == 0 || t->hours >> 24 || t->minutes == 0 || t->minutes >> 60)
		return bad(err, "trigger.schedule needs hours (0-23) and minutes (0-59)");
	if (t->weekdays >> 7 || (t->monthdays & 1u))
		return bad(err, "trigger.schedule: weekDays are Monday-Sunday, monthDays 1-31");
	return 0;
}

int trigger_check(const struct trigger *t, struct error *err)
{
	struct cron c;
	int64_t s = 0, e = 0;

	if (t->type == TRIGGER_CRON && cron_parse(t->expression, &c, err) < 0)
		return -1;
	if (t->type == TRIGGER_RECURRENCE) {
		if ((unsigned)t->freq > FREQ_MONTH)
			return bad(err, "trigger.frequency must be Minute, Hour, Day, Week or "
					"Month");
		if (t->interval < 1 || t->interval > SCHEDULE_INTERVAL_MAX)
			return error_set(err, 400, "ValidationError",
					 "trigger.interval must be 1-%d", SCHEDULE_INTERVAL_MAX);
		if (pattern_check(t, err) < 0)
			return -1;
	}
	if (tz_iana(t->time_zone) == NULL)
		return error_set(err, 400, "ValidationError",
				 "trigger.timeZone '%.64s' is neither a Windows time zone name nor "
				 "an IANA one",
				 t->time_zone);
	if ((t->start[0] && instant(t->start, NULL, &s) < 0) ||
	    (t->end[0] && instant(t->end, NULL, &e) < 0))
		return bad(err, "trigger.startTime and endTime must read like "
				"2024-06-01T03:00:00 (a Z or an offset is allowed)");
	if (t->start[0] && t->end[0] && e <= s)
		return bad(err, "trigger.endTime must be after startTime");
	return 0;
}

static int64_t cron_fire(const struct cron *c, const struct tz *z, int64_t after)
{
	int64_t local = tz_to_local(z, after), cand;

	for (int i = 0; i < 4; i++) { /* a clock going back can repeat a time once */
		if (cron_next(c, local, &cand) < 0)
			return -1;
		if (tz_to_utc(z, cand) > after)
			return tz_to_utc(z, cand);
		local = cand;
	}
	return -1;
}

static int64_t every(int64_t start, int64_t step, int64_t after)
{
	int64_t k = after < start ? 0 : civil_floor_div(after - start, step) + 1;

	return start + k * step;
}

/* What fires on a day of an active period: the calendar part of the rule. */
struct period {
	const struct trigger *t;
	int64_t sday;           /* start's day */
	struct cron_day time;   /* times of day */
	uint8_t weekdays;
	uint32_t monthdays;
};

static int64_t monday(int64_t day)
{
	return day - (civil_weekday(day) + 6) % 7;
}

static int period_active(const struct period *p, int64_t day)
{
	int64_t y, sy, n;
	int m, d, sm, sd;

	if (day < p->sday)
		return 0;
	switch (p->t->freq) {
	case FREQ_DAY:
		return (day - p->sday) % p->t->interval == 0;
	case FREQ_WEEK:
		n = (monday(day) - monday(p->sday)) / 7;
		return n % p->t->interval == 0 && (p->weekdays & 1u << civil_weekday(day));
	default:
		civil_from_days(day, &y, &m, &d);
		civil_from_days(p->sday, &sy, &sm, &sd);
		n = (y * 12 + m) - (sy * 12 + sm);
		return n % p->t->interval == 0 && (p->monthdays & 1u << d);
	}
}

static void period_init(struct period *p, const struct trigger *t, int64_t start_local)
{
	int64_t y;
	int m, d, sod;

	p->t = t;
	p->sday = civil_floor_div(start_local, 86400);
	sod = (int)(start_local - p->sday * 86400);
	civil_from_days(p->sday, &y, &m, &d);
	if (t->has_pattern) {
		p->time.hours = t->hours;
		p->time.minutes = t->minutes;
		p->time.seconds = 1;
	} else {
		p->time.hours = 1u << (sod / 3600);
		p->time.minutes = 1ull << (sod / 60 % 60);
		p->time.seconds = 1ull << (sod % 60);
	}
	p->weekdays = t->has_pattern && t->weekdays ? t->weekdays
						     : (uint8_t)(1u << civil_weekday(p->sday));
	p->monthdays = t->has_pattern && t->monthdays ? t->monthdays : 1u << d;
}

static int64_t calendar_fire(const struct trigger *t, const struct tz *z, int64_t start,
			     int64_t after)
{
	struct period p;
	int64_t al = tz_to_local(z, after) + 1, day = civil_floor_div(al, 86400), u;
	int sod = (int)(al - day * 86400), f;

	period_init(&p, t, tz_to_local(z, start));
	for (int i = 0; i < SEARCH_DAYS; day++, sod = 0, i++) {
		if (!period_active(&p, day))
			continue;
		while (sod < 86400 && cron_day_first(&p.time, sod, &f) == 0) {
			u = tz_to_utc(z, day * 86400 + f);
			if (u > after && u >= start)
				return u;
			sod = f + 1;
		}
	}
	return -1;
}

int trigger_next(const struct trigger *t, const struct tz *z, int64_t since, int64_t after,
		 int64_t *next)
{
	int64_t start = since, end = INT64_MAX, u;
	struct cron c;

	if ((t->start[0] && instant(t->start, z, &start) < 0) ||
	    (t->end[0] && instant(t->end, z, &end) < 0))
		return -1;
	if (after < start - 1)
		after = start - 1;
	if (t->type == TRIGGER_CRON)
		u = cron_parse(t->expression, &c, NULL) < 0 ? -1 : cron_fire(&c, z, after);
	else if (t->freq == FREQ_MINUTE || t->freq == FREQ_HOUR)
		u = every(start, (int64_t)t->interval * (t->freq == FREQ_MINUTE ? 60 : 3600),
			  after == start - 1 && !t->start[0] ? start : after);
	else
		u = calendar_fire(t, z, start, after);
	if (u < 0 || u > end)
		return -1;
	*next = u;
	return 0;
}

int schedule_copy(struct schedule *dst, const struct schedule *src)
{
	*dst = *src;
	dst->display_name = dst->description = dst->action = NULL;
	memset(&dst->tags, 0, sizeof dst->tags);
	memset(&dst->properties, 0, sizeof dst->properties);
	if (resource_dup(&dst->display_name, src->display_name) < 0 ||
	    resource_dup(&dst->description, src->description) < 0 ||
	    resource_dup(&dst->action, src->action) < 0 || kvlist_copy(&dst->tags, &src->tags) < 0 ||
	    kvlist_copy(&dst->properties, &src->properties) < 0) {
		schedule_cleanup(dst);
		return -1;
	}
	return 0;
}

void schedule_cleanup(struct schedule *s)
{
	if (s == NULL)
		return;
	free(s->display_name);
	free(s->description);
	free(s->action);
	kvlist_clear(&s->tags);
	kvlist_clear(&s->properties);
	s->display_name = s->description = s->action = NULL;
}
