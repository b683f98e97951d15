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
#include <sys/stat.h>
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

/* Rotation: FILE, FILE.1 .. FILE.KEEP, never more; every line whole; the
 * newest lines in FILE. */
static void test_rotation_bounds_the_files(void **state)
{
	char dir[] = "/tmp/mldeck-logrot-XXXXXX", path[256], old[300];
	struct logfile *lf;
	struct stat st;
	size_t len;
	char *buf, line[64];
	int n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/requests.log", dir);
	lf = logfile_open_path(path, 4096, 2);
	assert_non_null(lf);
	for (int i = 0; i < 2000; i++) {
		n = snprintf(line, sizeof line, "line %05d ................\n", i);
		logfile_write(lf, line, (size_t)n);
		if (i % 100 == 0)
			logfile_flush(lf);
	}
	logfile_close(lf);
	for (int k = 1; k <= 2; k++) {
		snprintf(old, sizeof old, "%s.%d", path, k);
		assert_int_equal(stat(old, &st), 0);
		assert_true(st.st_size <= 4096 + 64 * 1024);
		unlink(old);
	}
	snprintf(old, sizeof old, "%s.3", path);
	assert_int_not_equal(stat(old, &st), 0);
	buf = file_read(path, 1 << 20, &len);
	assert_non_null(buf);
	assert_non_null(strstr(buf, "line 01999 ................\n"));
	for (char *p = buf; *p; p = strchr(p, '\n') + 1)
		assert_int_equal(strncmp(p, "line ", 5), 0);
	free(buf);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_lines_whole_and_ordered),
	    cmocka_unit_test(test_flush_is_immediate_and_ordered),
	    cmocka_unit_test(test_rotation_bounds_the_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
