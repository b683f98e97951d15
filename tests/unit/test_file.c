/*
 * test_file: the bounded whole-file reader every layer uses: exact bytes,
 * the limit exactly and one past it (EFBIG, never a cut buffer), empty files,
 * directories, missing files, and streams without a size (a pipe) that make
 * the buffer grow.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/file.h"

static void write_bytes(const char *path, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), f);
	fclose(f);
}

static void test_limits(void **state)
{
	char dir[] = "/tmp/mldeck-file-XXXXXX", path[64];
	size_t len = 99;
	char *buf;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/f", dir);
	write_bytes(path, 5000);
	buf = file_read(path, 5000, &len); /* exactly the limit */
	assert_non_null(buf);
	assert_int_equal(len, 5000);
	assert_int_equal(buf[4999], 'a' + 4999 % 26);
	assert_int_equal(buf[5000], '\0');
	free(buf);
	errno = 0;
	assert_null(file_read(path, 4999, &len)); /* one past: refused, not cut */
	assert_int_equal(errno, EFBIG);
	write_bytes(path, 0);
	buf = file_read(path, 10, &len);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	assert_null(file_read(dir, 10, &len));
	assert_int_equal(errno, EISDIR);
	unlink(path);
	assert_null(file_read(path, 10, &len));
	assert_int_equal(errno, ENOENT);
	rmdir(dir);
}

static void test_stream_without_size(void **state)
{
	FILE *p = popen("head -c 300000 /dev/zero", "r");
	char *zeros = calloc(1, 300000);
	size_t len = 0;
	char *buf;

	(void)state;
	assert_non_null(p);
	buf = file_read_stream(p, 300000, &len);
	pclose(p);
	assert_non_null(buf);
	assert_int_equal(len, 300000);
	assert_memory_equal(buf, zeros, 300000);
	free(buf);
	free(zeros);
	p = popen("head -c 300000 /dev/zero", "r");
	assert_non_null(p);
	errno = 0;
	assert_null(file_read_stream(p, 299999, &len));
	assert_int_equal(errno, EFBIG);
	pclose(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_stream_without_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
