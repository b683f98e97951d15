/* test_schedule.c: time zones (against glibc), NCrontab expressions and when
 * Cron and Recurrence triggers fire, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/civil.h"
#include "state/cron.h"
#include "state/file.h"
#include "state/schedule.h"
#include "state/tz.h"

static struct tz *load_zone(const char *iana)
{
	char path[256];
	size_t len;
	char *data;
	struct tz *z;

	if (strcmp(iana, "UTC") == 0)
		return tz_utc();
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", iana);
	data = file_read(path, 1 << 20, &len);
	assert_non_null(data);
	z = tz_parse((const unsigned char *)data, len, NULL);
	free(data);
	assert_non_null(z);
	return z;
}

/* "2024-03-10T02:30:00" as wall-clock seconds. */
static int64_t wall(const char *s)
{
	int64_t local, utc;
	int has_utc;

	assert_int_equal(schedule_time_parse(s, &local, &utc, &has_utc), 0);
	return has_utc ? utc : local;
}

/* Every Windows name maps to a zone file that exists and parses, and its
 * offsets agree with glibc's from 1970 to 2060 (the POSIX footer included). */
static void test_windows_zones_against_glibc(void **state)
{
	const char *win, *iana;

	(void)state;
	for (size_t i = 0; tz_windows_at(i, &win, &iana) == 0; i++) {
		struct tz *z = load_zone(iana);

		assert_string_equal(tz_iana(win), iana);
		setenv("TZ", iana, 1);
		tzset();
		for (int64_t t = 0; t < 2871763200LL; t += 86400LL * 13 + 3607) {
			time_t tt = (time_t)t;
			struct tm tm;

			localtime_r(&tt, &tm);
			if (tz_offset(z, t) != tm.tm_gmtoff)
				fail_msg("%s (%s) at %lld: %ld, glibc %ld", win, iana, (long long)t,
					 tz_offset(z, t), (long)tm.tm_gmtoff);
		}
		tz_free(z);
	}
	unsetenv("TZ");
	tzset();
}

static void test_zone_names(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"Pacific Standard Time", "America/Los_Angeles"},
	    {"pacific standard time", "America/Los_Angeles"},
	    {"UTC", "UTC"},
	    {"Etc/UTC", "UTC"},
	    {"Europe/Paris", "Europe/Paris"},
	    {"America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
	    {"Etc/GMT+12", "Etc/GMT+12"},
	    {"../etc/passwd", NULL},
	    {"/etc/passwd", NULL},
	    {"Europe//Paris", NULL},
	    {"Mars Standard Time?", NULL},
	    {"", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = tz_iana(cases[i].in);

		if (cases[i].out == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].out);
	}
}

/* Gaps move forward, repeated times take their first occurrence. */
static void test_local_to_utc(void **state)
{
	struct tz *la = load_zone("America/Los_Angeles");

	(void)state;
	/* 2024-03-10 02:30 does not exist in Los Angeles: it is 03:30 PDT = 10:30Z */
	assert_int_equal(tz_to_utc(la, wall("2024-03-10T02:30:00")), wall("2024-03-10T10:30:00Z"));
	/* 2024-11-03 01:30 happens twice: first at 08:30Z (PDT) */
	assert_int_equal(tz_to_utc(la, wall("2024-11-03T01:30:00")), wall("2024-11-03T08:30:00Z"));
	assert_int_equal(tz_to_utc(la, wall("2024-07-01T12:00:00")), wall("2024-07-01T19:00:00Z"));
	assert_int_equal(tz_to_local(la, wall("2024-07-01T19:00:00Z")), wall("2024-07-01T12:00:00"));
	tz_free(la);
}

static void test_tzif_refuses_garbage(void **state)
{
	static const unsigned char junk[] = "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff\xff\xff\xff";
	struct error err = {0};

	(void)state;
	assert_null(tz_parse(junk, sizeof junk, &err));
	assert_int_equal(err.status, 400);
	assert_null(tz_parse((const unsigned char *)"hello", 5, &err));
}

struct cron_case {
	const char *expr, *after, *next; /* next NULL: the expression is refused */
};

static const struct cron_case cron_cases[] = {
    {"15 3 * * *", "2024-06-01T00:00:00", "2024-06-01T03:15:00"},
    {"15 3 * * *", "2024-06-01T03:15:00", "2024-06-02T03:15:00"},
    {"*/5 * * * *", "2024-06-01T10:02:30", "2024-06-01T10:05:00"},
    {"0 8 * * 1-5", "2024-06-01T09:00:00", "2024-06-03T08:00:00"}, /* Sat -> Mon */
    {"0 8 * * MON-FRI", "2024-06-01T09:00:00", "2024-06-03T08:00:00"},
    {"0 0 1 JAN *", "2024-06-01T00:00:00", "2025-01-01T00:00:00"},
    {"0 0 29 2 *", "2024-03-01T00:00:00", "2028-02-29T00:00:00"},
    {"30 */2 * * *", "2024-06-01T01:00:00", "2024-06-01T02:30:00"},
    {"0 12 13 * 5", "2024-01-01T00:00:00", "2024-09-13T12:00:00"}, /* both: Friday 13th */
    {"0 0 * * 7", "2024-06-01T00:00:00", "2024-06-02T00:00:00"},   /* 7 is Sunday */
    {"*/20 * * * * *", "2024-06-01T00:00:05", "2024-06-01T00:00:20"},
    {"0/30 * * * *", "2024-06-01T00:10:00", "2024-06-01T00:30:00"},
    {"0 0/30 * * *", "2024-06-01T00:10:00", "2024-06-02T00:00:00"},
    {"1,2,5-7 0 * * *", "2024-06-01T00:02:00", "2024-06-01T00:05:00"},
    {"0 0 30 2 *", "2024-01-01T00:00:00", ""}, /* never */
    {"* * * *", NULL, NULL},
    {"60 * * * *", NULL, NULL},
    {"* 24 * * *", NULL, NULL},
    {"* * 0 * *", NULL, NULL},
    {"* * * 13 *", NULL, NULL},
    {"* * * * 8", NULL, NULL},
    {"5-1 * * * *", NULL, NULL},
    {"*/0 * * * *", NULL, NULL},
    {"a * * * *", NULL, NULL},
    {"1,,2 * * * *", NULL, NULL},
    {"* * * * * * *", NULL, NULL},
};

static void test_cron_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cron_cases / sizeof cron_cases[0]; i++) {
		const struct cron_case *c = &cron_cases[i];
		struct error err = {0};
		struct cron cr;
		int64_t next;

		if (c->next == NULL) {
			if (cron_parse(c->expr, &cr, &err) == 0)
				fail_msg("'%s' was accepted", c->expr);
			assert_int_equal(err.status, 400);
			continue;
		}
		assert_int_equal(cron_parse(c->expr, &cr, &err), 0);
		if (c->next[0] == '\0') {
			assert_int_equal(cron_next(&cr, wall(c->after), &next), -1);
			continue;
		}
		assert_int_equal(cron_next(&cr, wall(c->after), &next), 0);
		if (next != wall(c->next)) {
			char got[32];

			civil_format(next, got, sizeof got);
			fail_msg("'%s' after %s: %s, want %s", c->expr, c->after, got, c->next);
		}
	}
}

struct trig_case {
	const char *what;
	struct trigger t;
	const char *since, *after, *next; /* next "" = never */
};

static const struct trig_case trig_cases[] = {
    {"cron in a zone", {.type = TRIGGER_CRON, .expression = "15 3 * * *",
			.time_zone = "Pacific Standard Time"},
     "2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z", "2024-06-01T10:15:00Z"},
    {"cron across DST", {.type = TRIGGER_CRON, .expression = "0 9 * * *",
			 .time_zone = "Romance Standard Time"},
     "2024-03-30T00:00:00Z", "2024-03-30T08:00:00Z", "2024-03-31T07:00:00Z"},
    {"cron after the end", {.type = TRIGGER_CRON, .expression = "0 0 * * *",
			    .end = "2024-06-01T12:00:00", .time_zone = "UTC"},
     "2024-05-01T00:00:00Z", "2024-06-01T00:00:00Z", ""},
    {"cron waits for the start", {.type = TRIGGER_CRON, .expression = "0 * * * *",
				  .start = "2024-06-10T00:30:00", .time_zone = "UTC"},
     "2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z", "2024-06-10T01:00:00Z"},
    {"every 5 minutes from creation", {.type = TRIGGER_RECURRENCE, .freq = FREQ_MINUTE,
				       .interval = 5, .time_zone = "UTC"},
     "2024-06-01T10:00:07Z", "2024-06-01T10:00:07Z", "2024-06-01T10:05:07Z"},
    {"every 5 minutes, later", {.type = TRIGGER_RECURRENCE, .freq = FREQ_MINUTE,
				.interval = 5, .time_zone = "UTC"},
     "2024-06-01T10:00:07Z", "2024-06-01T10:12:00Z", "2024-06-01T10:15:07Z"},
    {"hourly from a start", {.type = TRIGGER_RECURRENCE, .freq = FREQ_HOUR, .interval = 2,
			     .start = "2024-06-01T01:30:00", .time_zone = "UTC"},
     "2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z", "2024-06-01T01:30:00Z"},
    {"daily at hours x minutes", {.type = TRIGGER_RECURRENCE, .freq = FREQ_DAY, .interval = 1,
				  .has_pattern = 1, .hours = 1u << 3 | 1u << 15,
				  .minutes = 1ull << 15, .time_zone = "UTC"},
     "2024-06-01T00:00:00Z", "2024-06-01T04:00:00Z", "2024-06-01T15:15:00Z"},
    {"every other day", {.type = TRIGGER_RECURRENCE, .freq = FREQ_DAY, .interval = 2,
			 .has_pattern = 1, .hours = 1u << 3, .minutes = 1,
			 .start = "2024-06-01T00:00:00", .time_zone = "UTC"},
     "2024-06-01T00:00:00Z", "2024-06-01T05:00:00Z", "2024-06-03T03:00:00Z"},
    {"weekly on Monday and Friday", {.type = TRIGGER_RECURRENCE, .freq = FREQ_WEEK,
				     .interval = 1, .has_pattern = 1, .hours = 1u << 6,
				     .minutes = 1, .weekdays = 1u << 1 | 1u << 5,
				     .time_zone = "UTC"},
     "2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z", "2024-06-03T06:00:00Z"},
    {"every second week", {.type = TRIGGER_RECURRENCE, .freq = FREQ_WEEK, .interval = 2,
			   .has_pattern = 1, .hours = 1u << 6, .minutes = 1,
			   .weekdays = 1u << 1, .start = "2024-06-03T00:00:00",
			   .time_zone = "UTC"},
     "2024-06-01T00:00:00Z", "2024-06-03T07:00:00Z", "2024-06-17T06:00:00Z"},
    {"monthly on the 31st skips short months", {.type = TRIGGER_RECURRENCE,
						.freq = FREQ_MONTH, .interval = 1,
						.has_pattern = 1, .hours = 1, .minutes = 1,
						.monthdays = 1u << 31, .time_zone = "UTC"},
     "2024-04-01T00:00:00Z", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z"},
    {"daily in a zone, no pattern", {.type = TRIGGER_RECURRENCE, .freq = FREQ_DAY,
				     .interval = 1, .start = "2024-06-01T08:00:00",
				     .time_zone = "Tokyo Standard Time"},
     "2024-05-01T00:00:00Z", "2024-06-01T00:00:00Z", "2024-06-01T23:00:00Z"},
};

static void test_trigger_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof trig_cases / sizeof trig_cases[0]; i++) {
		const struct trig_case *c = &trig_cases[i];
		struct tz *z = load_zone(tz_iana(c->t.time_zone));
		struct error err = {0};
		int64_t next = 0;
		int rc;

		if (trigger_check(&c->t, &err) < 0)
			fail_msg("%s: refused: %s", c->what, err.message);
		rc = trigger_next(&c->t, z, wall(c->since), wall(c->after), &next);
		tz_free(z);
		if (c->next[0] == '\0') {
			assert_int_equal(rc, -1);
			continue;
		}
		if (rc != 0 || next != wall(c->next)) {
			char got[32];

			civil_format(next, got, sizeof got);
			fail_msg("%s: %s, want %s", c->what, rc ? "never" : got, c->next);
		}
	}
}

static void test_trigger_checks(void **state)
{
	static const struct trigger bad[] = {
	    {.type = TRIGGER_RECURRENCE, .freq = FREQ_DAY, .interval = 0, .time_zone = "UTC"},
	    {.type = TRIGGER_RECURRENCE, .freq = FREQ_MINUTE, .interval = 1, .has_pattern = 1,
	     .hours = 1, .minutes = 1, .time_zone = "UTC"},
	    {.type = TRIGGER_RECURRENCE, .freq = FREQ_DAY, .interval = 1, .has_pattern = 1,
	     .time_zone = "UTC"},
	    {.type = TRIGGER_CRON, .expression = "bad", .time_zone = "UTC"},
	    {.type = TRIGGER_CRON, .expression = "* * * * *", .time_zone = "Nowhere Time!"},
	    {.type = TRIGGER_CRON, .expression = "* * * * *", .time_zone = "UTC",
	     .start = "2024-13-01T00:00:00"},
	    {.type = TRIGGER_CRON, .expression = "* * * * *", .time_zone = "UTC",
	     .start = "2024-06-02T00:00:00", .end = "2024-06-01T00:00:00"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct error err = {0};

		if (trigger_check(&bad[i], &err) == 0)
			fail_msg("case %zu accepted", i);
		assert_int_equal(err.status, 400);
	}
}

static void test_time_parse(void **state)
{
	int64_t local, utc;
	int has;

	(void)state;
	assert_int_equal(schedule_time_parse("2024-06-01T03:00:00", &local, &utc, &has), 0);
	assert_int_equal(has, 0);
	assert_int_equal(local, civil_days(2024, 6, 1) * 86400 + 3 * 3600);
	assert_int_equal(schedule_time_parse("2024-06-01T03:00:00.123+02:00", &local, &utc, &has),
			 0);
	assert_int_equal(has, 1);
	assert_int_equal(utc, civil_days(2024, 6, 1) * 86400 + 1 * 3600);
	assert_int_equal(schedule_time_parse("2024-06-01T03:00", &local, &utc, &has), 0);
	assert_int_equal(schedule_time_parse("2024-02-30T03:00:00", &local, &utc, &has), -1);
	assert_int_equal(schedule_time_parse("2024-06-01", &local, &utc, &has), -1);
	assert_int_equal(schedule_time_parse("2024-06-01T03:00:00+2", &local, &utc, &has), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_windows_zones_against_glibc),
	    cmocka_unit_test(test_zone_names),
	    cmocka_unit_test(test_local_to_utc),
	    cmocka_unit_test(test_tzif_refuses_garbage),
	    cmocka_unit_test(test_cron_table),
	    cmocka_unit_test(test_trigger_table),
	    cmocka_unit_test(test_trigger_checks),
	    cmocka_unit_test(test_time_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
