/*
 * dataset.h: reading the data a monitor compares, one row at a time.
 *
 * Formats, decided per file by its name:
 *  - *.jsonl, *.json: one JSON object per line. A line with "specversion" and
 *    a "data" array is a record of Azure's data collector: each element of
 *    "data" is a row (an object keyed by column name; an array's columns are
 *    named "0", "1", ... as pandas names them), and the record's "time" places
 *    it in time. Any other object is one row.
 *  - *.csv: a header line, then rows (RFC 4180 quoting). A field reads as a
 *    number when it is a JSON number, as a boolean when it is true/false (any
 *    case), as missing when empty, else as a string: Spark's inference.
 * A folder is read in sorted path order, every such file below it; other
 * files (an MLTable, README) are skipped. Below a collector folder
 * (.../yyyy/MM/dd/HH/...), folders whose period lies outside the window are
 * not opened.
 *
 * Cells point into the reader's buffers: valid only during the callback.
 * Bounds: a line (or a CSV record) of at most DATASET_LINE_MAX bytes, at most
 * DATASET_COLUMNS_MAX cells per row, nesting depth 64. Errors name the file
 * and the line. Blocking file I/O; any thread; no shared state.
 */
#ifndef RUNTIME_MONITOR_DATASET_H
#define RUNTIME_MONITOR_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "state/dynbuf.h"
#include "state/error.h"

#define DATASET_LINE_MAX (64u << 20)
#define DATASET_COLUMNS_MAX 4096

enum cell_kind { CELL_NULL, CELL_INT, CELL_DOUBLE, CELL_BOOL, CELL_STRING, CELL_OTHER };

struct cell {
	const char *key; /* column name (unescaped), not NUL-terminated */
	size_t klen;
	enum cell_kind kind;
	double num;       /* INT, DOUBLE; BOOL: 1 or 0 (see lazy) */
	const char *text; /* STRING: the unescaped bytes; INT, DOUBLE: the number as written */
	size_t tlen;
	int lazy; /* INT, DOUBLE from dataset_rows_lazy: num not set, cell_number() reads text */
};

/* A number cell's value (a lazy one parsed from its text; NaN if it cannot be). */
double cell_number(const struct cell *c);
/* No value: null, or a number that is NaN. */
int cell_is_null(const struct cell *c);

/* One row; return 0 to go on, -1 (with err) to stop the read. */
typedef int (*dataset_row_fn)(void *ctx, const struct cell *cells, size_t n, struct error *err);

/* UTC seconds [start, end); end 0: no bound. Collector records outside it
 * are skipped; rows without a time are always taken. */
struct dataset_window {
	int64_t start, end;
};

/* Reads PATH (a file or a folder). 0, or -1 with err (404 when PATH does not
 * exist, 400 for data that cannot be read, the callback's error). *rows
 * (may be NULL) gets the rows delivered. */
int dataset_read(const char *path, const struct dataset_window *w, dataset_row_fn fn, void *ctx,
		 uint64_t *rows, struct error *err);

/* Rows out of JSON in memory: the array that is member `member` of the top
 * object (NULL: the top value itself). An element that is an object is a
 * named row, an array a row of columns "0", "1", ..., a scalar a row of one
 * column "0" (so a model's answer [0.2, 0.7] is two rows). A cell of kind
 * CELL_OTHER carries its raw JSON in text. 0, or -1 with err. */
int dataset_rows(const char *json, size_t len, const char *member, dataset_row_fn fn, void *ctx,
		 uint64_t *rows, struct error *err);
/* The same with numbers only delimited, not converted (lazy cells): for the
 * collector, which copies their text and converts only what live drift reads. */
int dataset_rows_lazy(const char *json, size_t len, const char *member, dataset_row_fn fn,
		      void *ctx, uint64_t *rows, struct error *err);
/* Appends json[0..len), one valid JSON value, without the whitespace between
 * its tokens: on one line, whatever the client's layout. -1 (nothing
 * appended) when it is empty, not valid JSON, or memory runs out. */
int dataset_json_compact(const char *json, size_t len, struct dynbuf *out);
/* The same into out (room for len bytes) for JSON already read as valid (a
 * CELL_OTHER's text); the bytes written. */
size_t dataset_json_squeeze(char *out, const char *json, size_t len);

/* "2024-03-05T18:16:25[.fff]Z" (or +hh:mm) -> UTC seconds; -1 when not such a time. */
int64_t dataset_time(const char *s, size_t len);

#endif
