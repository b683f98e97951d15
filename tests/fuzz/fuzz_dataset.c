/*
 * fuzz_dataset: the monitor's data reader (runtime/monitor/dataset.c), which
 * reads what clients send (scoring bodies and answers, for the collector),
 * what the collector wrote and the reference files a monitor compares. The
 * first byte picks the member ("data" or the top value) and the file format
 * (CSV or JSON Lines); the rest is the text. Checks, beyond "no crash":
 *  - the lazy reader (the collector's) and the converting one (the
 *    monitor's) give the same rows, cell kinds and numbers, bit for bit;
 *  - the collector's records of those rows (records_row) are one line of
 *    valid JSON, whatever the rows held (nested values included);
 *  - a compacted JSON value is one line: no raw control byte, no whitespace
 *    between tokens, still valid, and compacting it again changes nothing;
 *  - a file's rows have at most DATASET_COLUMNS_MAX cells, and a refusal
 *    carries a 4xx or 5xx with a reason.
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/monitor/dataset.h"
#include "runtime/monitor/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEEN_MAX 4096

struct seen {
	size_t n, at;
	uint64_t sig[SEEN_MAX]; /* per cell: kind and the number's bits */
	int replay;
	struct dynbuf rec; /* the replay's rows as the collector records them */
	int rec_failed;
};

static uint64_t cell_sig(const struct cell *c)
{
	double v;
	uint64_t bits;

	if (c->kind != CELL_INT && c->kind != CELL_DOUBLE)
		return (uint64_t)c->kind << 56 ^ c->tlen;
	v = cell_number(c);
	if (isnan(v))
		return (uint64_t)c->kind << 56 | 1;
	memcpy(&bits, &v, sizeof bits);
	return bits ^ (uint64_t)c->kind << 60;
}

static int on_row(void *ctx, const struct cell *cells, size_t n, struct error *err)
{
	struct seen *s = ctx;

	if (n > DATASET_COLUMNS_MAX)
		abort();
	if (s->replay && !s->rec_failed && records_row(&s->rec, cells, n, err) < 0)
		s->rec_failed = 1;
	for (size_t i = 0; i <= n; i++) { /* the count first, then each cell */
		uint64_t sig = i == 0 ? (uint64_t)n : cell_sig(&cells[i - 1]);

		if (s->replay) {
			if (s->at < s->n && s->sig[s->at] != sig)
				abort();
		} else if (s->n < SEEN_MAX) {
			s->sig[s->n++] = sig;
		}
		s->at++;
	}
	return 0;
}

static void check_compact(const char *text, size_t len)
{
	struct dynbuf b, again;
	int in_string = 0;

	dynbuf_init(&b, 1u << 24);
	dynbuf_init(&again, 1u << 24);
	if (dataset_json_compact(text, len, &b) == 0) {
		for (size_t i = 0; i < b.len; i++) {
			char c = b.p[i];

			if ((unsigned char)c < 0x20 || (!in_string && c == ' '))
				abort();
			if (in_string && c == '\\')
				i++;
			else if (c == '"')
				in_string = !in_string;
		}
		if (dataset_json_compact(b.p, b.len, &again) < 0 || again.len != b.len ||
		    memcmp(again.p, b.p, b.len) != 0)
			abort();
	} else if (b.len != 0) {
		abort(); /* a refusal appends nothing */
	}
	dynbuf_free(&b);
	dynbuf_free(&again);
}

static void check_file(const char *text, size_t len, int jsonl)
{
	static char dir[64];
	char path[96];
	struct error err = {0};
	struct seen *s = calloc(1, sizeof *s);
	int fd;

	if (s == NULL)
		return;
	if (dir[0] == '\0')
		snprintf(dir, sizeof dir, "/tmp/mldeck-fuzz-dataset-%ld", (long)getpid());
	snprintf(path, sizeof path, "%s.%s", dir, jsonl ? "jsonl" : "csv");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0 && write(fd, text, len) == (ssize_t)len &&
	    dataset_read(path, NULL, on_row, s, NULL, &err) < 0 &&
	    (err.status < 400 || err.message[0] == '\0'))
		abort();
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	const char *member;
	struct error e1 = {0}, e2 = {0};
	struct seen *s;
	uint64_t r1 = 0, r2 = 0;
	int rc1, rc2;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	member = data[0] & 1 ? "data" : NULL;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return 0;
	rc1 = dataset_rows(text, len, member, on_row, s, &r1, &e1);
	s->replay = 1;
	s->at = 0;
	dynbuf_init(&s->rec, 1u << 26);
	if (dynbuf_add(&s->rec, "[", 1) < 0)
		s->rec_failed = 1;
	rc2 = dataset_rows_lazy(text, len, member, on_row, s, &r2, &e2);
	if (rc1 != rc2 || r1 != r2 || (rc1 < 0 && (e1.status < 400 || e1.message[0] == '\0')))
		abort();
	if (rc2 == 0 && !s->rec_failed && dynbuf_add(&s->rec, "]", 1) == 0) {
		struct dynbuf check;

		if (memchr(s->rec.p, '\n', s->rec.len) != NULL ||
		    memchr(s->rec.p, '\r', s->rec.len) != NULL)
			abort();
		dynbuf_init(&check, 1u << 26);
		if (dataset_json_compact(s->rec.p, s->rec.len, &check) < 0 && check.len == 0 &&
		    s->rec.len < (1u << 26))
			abort();
		dynbuf_free(&check);
	}
	dynbuf_free(&s->rec);
	free(s);
	check_compact(text, len);
	(void)dataset_time(text, len);
	check_file(text, len, data[0] & 2);
	return 0;
}
