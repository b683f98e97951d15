/*
 * rows.h: the rows of a batch input file for the native engines, read as a
 * stream: a buffer of ROWS_BUFFER bytes whatever the file's size, no
 * allocation per row.
 *
 * Formats, by the file's name: .csv and .txt are CSV with a header line (its
 * column count must be the model's feature count; names are not matched);
 * .jsonl, .ndjson and .json are JSON Lines, one row per line, each an array
 * of numbers or an object of numbers (the first object's keys fix the
 * columns; later objects must have them all). Blank lines are skipped and do
 * not count as rows. A CSV field may be quoted; an empty field, NA, NaN or
 * null is a missing value, valid only when the model takes missing values.
 * Numbers are read exactly (input_number) whatever the locale.
 *
 * Errors never quote the file's content, only positions ("row 17: column 4
 * is not a number"). Not thread-safe per reader; readers are independent.
 */
#ifndef RUNTIME_ROWS_H
#define RUNTIME_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "state/error.h"

#define ROWS_BUFFER (256 * 1024)
#define ROWS_LINE_MAX ROWS_BUFFER /* a longer line is a malformed row */
#define ROWS_COLS_MAX 100000

enum rows_format { ROWS_CSV, ROWS_JSONL };

/* The format NAME's extension says; -1 when it is none of the above. */
int rows_format_of(const char *name, enum rows_format *out);

struct rows;

/* A reader over fd (taken: rows_close closes it) expecting `cols` values per
 * row. For CSV it reads the header now: NULL with err when the file cannot be
 * read or its header does not fit (400 "BadInputFile", 500 on a read error;
 * fd is closed then too). */
struct rows *rows_open(int fd, enum rows_format f, int cols, int allow_missing,
		       struct error *err);
/* The next row's values into x[0..cols). 1 a row; 0 the end of the file; -1
 * with err: status 400 the row is malformed (the reader has moved past it),
 * 500 the file cannot be read any more (stop). *index gets the row's 0-based
 * index among the file's data rows, malformed ones included. */
int rows_next(struct rows *r, double *x, int64_t *index, struct error *err);
void rows_close(struct rows *r); /* NULL is a no-op */

/* The line parsers, pure (and fuzzed). One CSV line into x; the fields of a
 * header line are counted into *cols. -1 with a 400 naming the column. */
int rows_parse_csv(const char *line, size_t len, double *x, int cols, int allow_missing,
		   struct error *err);
int rows_parse_header(const char *line, size_t len, int *cols, struct error *err);

#endif
