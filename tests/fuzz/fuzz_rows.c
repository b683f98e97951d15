/*
 * fuzz_rows: batch input files (runtime/rows.c) against any bytes. The first
 * byte picks the format (CSV or JSON Lines) and whether missing values are
 * allowed, the second the column count (1-16). Every row comes back as a
 * row, a 400 (malformed, the reader moved on) or a 500 (unreadable), with
 * strictly increasing indexes, and the reader reaches the end.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	double x[16];
	struct error err;
	struct rows *r;
	int64_t index, last = -1;
	int fd, cols, rc;

	if (size < 2)
		return 0;
	if (path[0] == '\0')
		snprintf(path, sizeof path, "/tmp/mldeck-fuzz-rows-%ld", (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data + 2, size - 2) != (ssize_t)(size - 2)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	cols = 1 + data[1] % 16;
	fd = open(path, O_RDONLY);
	r = rows_open(fd, data[0] & 1 ? ROWS_JSONL : ROWS_CSV, cols, data[0] & 2, &err);
	if (r == NULL) {
		if (err.status != 400 && err.status != 500)
			abort();
		return 0;
	}
	while ((rc = rows_next(r, x, &index, &err)) != 0) {
		if (rc < 0 && err.status != 400 && err.status != 500)
			abort();
		if (rc < 0 && err.status == 500)
			break;
		if (index <= last)
			abort();
		last = index;
	}
	rows_close(r);
	return 0;
}
