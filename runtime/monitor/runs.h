/*
 * runs.h: many columns of numbers kept for sorted, in-order reading, in
 * bounded memory.
 *
 * Numbers are appended to their column's buffer; when the buffers of all
 * columns together hold RUNS_BUDGET numbers, each buffer is sorted (an LSD
 * radix sort on the IEEE order, 8 bits a pass, constant bytes skipped) and
 * written as a run to one temporary file (created in the given folder and
 * unlinked at once, so nothing is left behind by a crash). Reading a column
 * is a k-way merge of its runs and its last buffer, giving each distinct
 * value once with its count (-0.0 and 0.0 are the same value). Everything is
 * exact: the runs only decide where the numbers wait.
 *
 * Memory: RUNS_BUDGET numbers (16 MiB) in buffers, plus the radix sort's
 * scratch for one buffer, plus RUNS_READ numbers (32 KiB) per run of each
 * column being read. The file grows by 8 bytes a number.
 * NaN must not be added (callers count it as missing). Not thread-safe: one
 * owner.
 */
#ifndef RUNTIME_MONITOR_RUNS_H
#define RUNTIME_MONITOR_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "state/error.h"

#define RUNS_BUDGET (2u << 20)
#define RUNS_READ 4096

struct runs;

/* tmpdir: where the spill file goes (created on the first spill). */
struct runs *runs_new(const char *tmpdir);
void runs_free(struct runs *r);

/* A new column; its index (0, 1, ...), or -1 when out of memory. */
int runs_column(struct runs *r);
/* Appends v to column col. 0, or -1 with err (the spill failed: no space). */
int runs_add(struct runs *r, int col, double v, struct error *err);
/* Numbers added to col. */
uint64_t runs_count(const struct runs *r, int col);
/* Sorts what is still buffered (in memory); call once, after the last add. */
void runs_finish(struct runs *r);

/* Reading one column in order (after runs_finish); several may be open. */
struct runs_reader;
struct runs_reader *runs_open(const struct runs *r, int col, struct error *err);
/* The next distinct value and how many times it was added: 1, 0 at the end,
 * -1 with err (a read failed). */
int runs_next(struct runs_reader *rd, double *v, uint64_t *count, struct error *err);
void runs_close(struct runs_reader *rd);

/* Sorts a[0..n) ascending (IEEE order, NaN-free); tmp has room for n. */
void runs_sort(double *a, size_t n, double *tmp);

#endif
