/*
 * test_lograte: repeated failure lines are cut to a burst per window and
 * summed up in one line; other peers and other statuses are not affected;
 * nothing is lost from the count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/lograte.h"

struct sink {
	int lines;
	char last[200];
};

static void emit(void *ctx, const char *line)
{
	struct sink *s = ctx;

	s->lines++;
	snprintf(s->last, sizeof s->last, "%s", line);
}

static void test_burst_then_summary(void **state)
{
	struct lograte *lr = lograte_new(3, 1000);
	struct sink sink = {0};
	int written = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		written += lograte_admit(lr, "10.0.0.1", 401, 5000 + (uint64_t)i, emit, &sink);
	assert_int_equal(written, 3);
	assert_int_equal(sink.lines, 0);
	/* the next window: the summary first, then a fresh burst */
	assert_true(lograte_admit(lr, "10.0.0.1", 401, 6100, emit, &sink));
	assert_int_equal(sink.lines, 1);
	assert_non_null(strstr(sink.last, "10.0.0.1: 97 more 401 answers"));
	lograte_free(lr);
}

static void test_keys_are_separate(void **state)
{
	struct lograte *lr = lograte_new(2, 1000);
	struct sink sink = {0};

	(void)state;
	for (int i = 0; i < 10; i++)
		lograte_admit(lr, "10.0.0.1", 401, 100, emit, &sink);
	assert_true(lograte_admit(lr, "10.0.0.2", 401, 100, emit, &sink));
	assert_true(lograte_admit(lr, "10.0.0.1", 404, 100, emit, &sink));
	assert_false(lograte_admit(lr, "10.0.0.1", 401, 100, emit, &sink));
	lograte_flush(lr, 200, emit, &sink);
	assert_int_equal(sink.lines, 1);
	assert_non_null(strstr(sink.last, "10.0.0.1: 9 more 401"));
	lograte_free(lr);
}

static void test_quiet_keys_say_nothing(void **state)
{
	struct lograte *lr = lograte_new(5, 1000);
	struct sink sink = {0};

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_true(lograte_admit(lr, "p", 500, 10, emit, &sink));
	lograte_flush(lr, 2000, emit, &sink);
	assert_int_equal(sink.lines, 0);
	lograte_free(lr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_summary),
	    cmocka_unit_test(test_keys_are_separate),
	    cmocka_unit_test(test_quiet_keys_say_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
