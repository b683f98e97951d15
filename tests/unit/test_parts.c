/*
 * test_parts.c: a batch job's mini-batch outputs in segment files: kept and
 * dropped attempts, ranges checked by size and hash, copied in any order,
 * segment names that are not one refused, an existing segment never reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/minibatch.h"
#include "runtime/parts.h"
#include "state/file.h"

static char dir[] = "/tmp/mldeck-test-parts-XXXXXX";

static uint64_t hash(const char *s)
{
	return minibatch_hash(MINIBATCH_HASH_INIT, s, strlen(s));
}

/* Appends s as one attempt; keeps it or cuts it off. */
static uint64_t attempt(struct parts_segment *s, const char *text, int keep)
{
	uint64_t off = parts_segment_end(s);

	assert_int_equal(write(parts_segment_fd(s), text, strlen(text)), (ssize_t)strlen(text));
	if (keep)
		assert_int_equal(parts_segment_keep(s, strlen(text)), 0);
	else
		assert_int_equal(parts_segment_drop(s), 0);
	return off;
}

static void test_ranges(void **state)
{
	struct error err = {0};
	struct parts *p;
	struct parts_segment *s;
	uint64_t a, b;
	char path[300], name[PARTS_SEGMENT_MAX], buf[7], *out;
	size_t len;
	int fd;

	(void)state;
	p = parts_open(dir, &err);
	assert_non_null(p);
	s = parts_segment_new(p, 42, 0, &err);
	assert_non_null(s);
	snprintf(name, sizeof name, "%s", parts_segment_name(s));
	assert_string_equal(name, "seg-000000000000002a-0.dat");
	a = attempt(s, "0 0.5 a.csv\n", 1);
	attempt(s, "a failed attempt's rows\n", 0); /* cut off again */
	b = attempt(s, "0 0.25 b.csv\n1 0.75 b.csv\n", 1);
	assert_int_equal(a, 0);
	assert_int_equal(b, 12);
	assert_true(parts_check(p, name, a, 12, hash("0 0.5 a.csv\n")));
	assert_true(parts_check(p, name, b, 26, hash("0 0.25 b.csv\n1 0.75 b.csv\n")));
	assert_false(parts_check(p, name, b, 26, hash("0 0.25 b.csv\n1 0.75 b.csx\n")));
	assert_false(parts_check(p, name, b, 27, hash("0 0.25 b.csv\n1 0.75 b.csv\n")));
	assert_false(parts_check(p, "seg-missing.dat", 0, 1, 0));
	/* copied in mini-batch order, whatever the order in the segment */
	snprintf(path, sizeof path, "%s/out", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(parts_copy(p, name, b, 26, fd, buf, sizeof buf, &err), 0);
	assert_int_equal(parts_copy(p, name, a, 12, fd, buf, sizeof buf, &err), 0);
	assert_int_equal(parts_copy(p, name, b, 27, fd, buf, sizeof buf, &err), -1); /* short */
	close(fd);
	out = file_read(path, 1000, &len);
	assert_non_null(out);
	assert_true(strncmp(out, "0 0.25 b.csv\n1 0.75 b.csv\n0 0.5 a.csv\n", 38) == 0);
	free(out);
	/* a record names only segments of this folder */
	assert_false(parts_check(p, "../out", 0, 1, 0));
	assert_false(parts_check(p, "seg-x/../../out", 0, 1, 0));
	assert_int_equal(parts_copy(p, "out", 0, 1, fd, buf, sizeof buf, &err), -1);
	parts_segment_free(s);
	/* a segment of an earlier run is never opened for writing again */
	assert_null(parts_segment_new(p, 42, 0, &err));
	s = parts_segment_new(p, 43, 0, &err);
	assert_non_null(s);
	parts_segment_free(s);
	parts_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	file_remove_at(AT_FDCWD, dir);
	return rc;
}
