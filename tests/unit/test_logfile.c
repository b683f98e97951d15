/*
 * test_logfile: the double-buffered request log under concurrent writers:
 * every line arrives whole, exactly once, in each writer's order, including
 * across buffer hand-overs and the final flush at close; flush puts events
 * out at once and in order.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/logfile.h"
#include "state/file.h"

#define WRITERS 4
#define LINES 30000

struct writer {
	struct logfile *lf;
	int id;
};

static void *write_lines(void *arg)
{
	struct writer *w = arg;
	char line[96];

	for (int i = 0; i < LINES; i++) {
		/* varied lengths, so buffers fill at odd offsets */
		int n = snprintf(line, sizeof line, "w%d %d %.*s\n", w->id, i, i % 40,
				 "........................................");
		logfile_write(w->lf, line, (size_t)n);
	}
	return NULL;
}

static char *slurp(FILE *f, size_t *len)
{
	char *buf;

	rewind(f);
	buf = file_read_stream(f, 64u << 20, len);
	assert_non_null(buf);
	return buf;
}

static void test_concurrent_lines_whole_and_ordered(void **state)
{
	FILE *f = tmpfile();
	struct logfile *lf = logfile_open(dup(fileno(f)), 1);
	pthread_t th[WRITERS];
	struct writer w[WRITERS];
	int next[WRITERS] = {0};
	size_t len;
	char *buf, *line, *save = NULL;

	(void)state;
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){lf, i};
		pthread_create(&th[i], NULL, write_lines, &w[i]);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	logfile_close(lf);
	buf = slurp(f, &len);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id, seq, dots = 0;
		assert_int_equal(sscanf(line, "w%d %d", &id, &seq), 2);
		assert_true(id >= 0 && id < WRITERS);
		assert_int_equal(seq, next[id]); /* once, in order */
		for (const char *p = strrchr(line, ' ') + 1; *p == '.'; p++)
			dots++;
		assert_int_equal(dots, seq % 40); /* whole, not torn */
		next[id]++;
	}
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(next[i], LINES);
	free(buf);
	fclose(f);
}

static void test_flush_is_immediate_and_ordered(void **state)
{
	FILE *f = tmpfile();
	struct logfile *lf = logfile_open(dup(fileno(f)), 1);
	size_t len;
	char *buf;

	(void)state;
	logfile_write(lf, "request 1\n", 10);
	logfile_write(lf, "event\n", 6);
	logfile_flush(lf);
	buf = slurp(f, &len); /* before close: the flush alone must have written it */
	assert_string_equal(buf, "request 1\nevent\n");
	free(buf);
	logfile_close(lf);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_lines_whole_and_ordered),
	    cmocka_unit_test(test_flush_is_immediate_and_ordered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
