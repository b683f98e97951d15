/* cron.c: NCrontab expressions (see cron.h). */
#include "state/cron.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "state/civil.h"

#define SEARCH_DAYS (366 * 5)

struct field {
	const char *what;
	int min, max;
	const char *const *names; /* names[i] is value min+i (3 letters enough) */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
static const char *const month_full[] = {"january", "february", "march",     "april",
					 "may",	    "june",	"july",	     "august",
					 "september", "october", "november", "december"};
static const char *const day_full[] = {"sunday",   "monday", "tuesday", "wednesday",
				       "thursday", "friday", "saturday"};

static const struct field fields[] = {
    {"second", 0, 59, NULL},	      {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},	      {"day of month", 1, 31, NULL},
    {"month", 1, 12, month_names}, {"day of week", 0, 7, day_names},
};

/* A value at *s: digits or a name of the field; advances *s. -1 when none. */
static int value(const struct field *f, const char **s, int *out)
{
	const char *p = *s;
	int v = 0, n = 0;

	if (*p >= '0' && *p <= '9') {
		while (*p >= '0' && *p <= '9' && n < 4) {
			v = v * 10 + (*p++ - '0');
			n++;
		}
		if (*p >= '0' && *p <= '9')
			return -1;
	} else if (f->names != NULL) {
		const char *const *full = f->names == month_names ? month_full : day_full;
		size_t count = f->names == month_names ? 12 : 7, len = 0;

		while ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= 'A' && p[len] <= 'Z'))
			len++;
		for (size_t i = 0; i < count && n == 0; i++)
			if ((len == 3 && strncasecmp(p, f->names[i], 3) == 0) ||
			    (len == strlen(full[i]) && strncasecmp(p, full[i], len) == 0)) {
				v = (int)i + (f->names == month_names ? 1 : 0);
				n = 1;
			}
		if (n == 0)
			return -1;
		p += len;
	} else {
		return -1;
	}
	if (v < f->min || v > f->max)
		return -1;
	*s = p;
	*out = v;
	return 0;
}

/* One list item: * | v | a-b | with /step. Sets bits in *bits. */
static int item(const struct field *f, const char *s, const char *end, uint64_t *bits)
{
	int lo = f->min, hi = f->max, step = 1;

	if (*s == '*') {
		s++;
	} else {
		if (value(f, &s, &lo) < 0)
			return -1;
		hi = lo;
		if (*s == '-') {
			s++;
			if (value(f, &s, &hi) < 0 || hi < lo)
				return -1;
		} else if (*s == '/') {
			hi = f->max;
		}
	}
	if (*s == '/') {
		const char *p = s + 1;
		int n = 0;

		step = 0;
		while (p < end && *p >= '0' && *p <= '9' && n < 4) {
			step = step * 10 + (*p++ - '0');
			n++;
		}
		if (n == 0 || step < 1)
			return -1;
		s = p;
	}
	if (s != end)
		return -1;
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ull << v;
	return 0;
}

static int field_parse(const struct field *f, const char *s, size_t len, uint64_t *bits,
		       struct error *err)
{
	char buf[CRON_EXPR_MAX];
	const char *p, *end;

	*bits = 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (p = buf; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p || item(f, p, end, bits) < 0)
			return error_set(err, 400, "ValidationError",
					 "trigger.expression: %s field '%s' is not valid (%d-%d, "
					 "*, a-b, a/n, */n, lists)",
					 f->what, buf, f->min, f->max);
	}
	return 0;
}

static int split(const char *expr, const char **start, size_t *len, int max)
{
	int n = 0;
	const char *p = expr;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == max)
			return max + 1;
		start[n] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		len[n] = (size_t)(p - start[n]);
		n++;
	}
	return n;
}

int cron_parse(const char *expr, struct cron *out, struct error *err)
{
	const char *start[6];
	size_t len[6];
	uint64_t bits[6];
	int n, first;

	memset(out, 0, sizeof *out);
	if (expr == NULL || strlen(expr) >= CRON_EXPR_MAX)
		return error_set(err, 400, "ValidationError",
				 "trigger.expression must be a cron expression of at most %d "
				 "characters",
				 CRON_EXPR_MAX - 1);
	n = split(expr, start, len, 6);
	if (n != 5 && n != 6)
		return error_set(err, 400, "ValidationError",
				 "trigger.expression must have 5 fields (minute hour day month "
				 "day-of-week) or 6 (with seconds first), not %d",
				 n);
	first = n == 5 ? 1 : 0;
	bits[0] = 1; /* second 0 */
	for (int i = 0; i < n; i++)
		if (field_parse(&fields[first + i], start[i], len[i], &bits[first + i], err) < 0)
			return -1;
	out->has_seconds = n == 6;
	out->time.seconds = bits[0];
	out->time.minutes = bits[1];
	out->time.hours = (uint32_t)bits[2];
	out->days = (uint32_t)bits[3];
	out->months = (uint16_t)bits[4];
	out->weekdays = (uint8_t)((bits[5] | bits[5] >> 7) & 0x7f); /* 7 is Sunday too */
	return 0;
}

/* The lowest bit of set at or above from (< width), or -1. */
static int next_bit(uint64_t set, int from, int width)
{
	for (int i = from; i < width; i++)
		if (set & 1ull << i)
			return i;
	return -1;
}

int cron_day_first(const struct cron_day *d, int sod, int *out)
{
	int h0 = sod / 3600, m0 = sod / 60 % 60, s0 = sod % 60;

	for (int h = next_bit(d->hours, h0, 24); h >= 0; h = next_bit(d->hours, h + 1, 24)) {
		int mfrom = h == h0 ? m0 : 0;

		for (int m = next_bit(d->minutes, mfrom, 60); m >= 0;
		     m = next_bit(d->minutes, m + 1, 60)) {
			int s = next_bit(d->seconds, h == h0 && m == m0 ? s0 : 0, 60);

			if (s >= 0) {
				*out = h * 3600 + m * 60 + s;
				return 0;
			}
		}
	}
	return -1;
}

static int day_matches(const struct cron *c, int64_t day)
{
	int64_t y;
	int m, d;

	civil_from_days(day, &y, &m, &d);
	return (c->months & 1u << m) && (c->days & 1u << d) &&
	       (c->weekdays & 1u << civil_weekday(day));
}

int cron_next(const struct cron *c, int64_t after, int64_t *next)
{
	int64_t t = after + 1, day = civil_floor_div(t, 86400);
	int sod = (int)(t - day * 86400), found;

	for (int i = 0; i < SEARCH_DAYS; i++, day++, sod = 0) {
		if (!day_matches(c, day) || cron_day_first(&c->time, sod, &found) < 0)
			continue;
		*next = day * 86400 + found;
		return 0;
	}
	return -1;
}
