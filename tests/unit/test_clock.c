/*
 * test_clock: a condition wait's deadline is ms after now on CLOCK_REALTIME,
 * normalized (tv_nsec below a second) whatever the carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "state/clock.h"

static int64_t ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void test_deadline_is_ms_ahead_and_normalized(void **state)
{
	static const long waits[] = {0, 1, 999, 1000, 1001, 1999, 60000, 3600500};

	(void)state;
	for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
		for (int k = 0; k < 200; k++) { /* many phases of the clock's nanoseconds */
			struct timespec before, after, d;

			clock_gettime(CLOCK_REALTIME, &before);
			d = clock_deadline(waits[i]);
			clock_gettime(CLOCK_REALTIME, &after);
			assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
			assert_true(ns(d) >= ns(before) + waits[i] * 1000000LL);
			assert_true(ns(d) <= ns(after) + waits[i] * 1000000LL);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deadline_is_ms_ahead_and_normalized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
