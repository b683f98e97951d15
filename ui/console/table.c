/* table.c: rows, filter, sort, cursor. */
#include "ui/console/table.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, const struct table_col *cols, int ncols)
{
	memset(t, 0, sizeof *t);
	t->cols = cols;
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	t->sort_col = -1;
}

void table_free(struct table *t)
{
	free(t->rows);
	free(t->view);
	t->rows = NULL;
	t->view = NULL;
	t->nrows = t->cap = t->nview = 0;
}

void table_clear(struct table *t)
{
	t->nrows = 0;
	t->nview = 0;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fputs("mldeck: out of memory\n", stderr);
		abort();
	}
	return q;
}

struct table_row *table_add(struct table *t)
{
	struct table_row *r;

	if (t->nrows >= TABLE_MAX_ROWS)
		return NULL;
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->rows = xrealloc(t->rows, (size_t)t->cap * sizeof *t->rows);
		t->view = xrealloc(t->view, (size_t)t->cap * sizeof *t->view);
	}
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof *r);
	for (int i = 0; i < TABLE_MAX_COLS; i++)
		r->num[i] = NAN;
	r->style = -1;
	r->idx = t->nrows - 1;
	return r;
}

/* Case-insensitive substring. */
static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return 1;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

static int row_matches(const struct table *t, const struct table_row *r)
{
	if (t->filter[0] == '\0')
		return 1;
	for (int c = 0; c < t->ncols; c++)
		if (contains(r->cell[c], t->filter))
			return 1;
	return contains(r->key, t->filter);
}

/* qsort has no context argument: the table being sorted, on this thread. */
static _Thread_local const struct table *sorting;

static int cmp_rows(const void *a, const void *b)
{
	const struct table *t = sorting;
	int ia = *(const int *)a, ib = *(const int *)b;
	const struct table_row *ra = &t->rows[ia], *rb = &t->rows[ib];
	int c = t->sort_col, r;

	if (t->cols[c].numeric) {
		double x = ra->num[c], y = rb->num[c];

		/* missing values last whatever the direction */
		if (isnan(x) || isnan(y))
			return isnan(x) && isnan(y) ? ia - ib : isnan(x) ? 1 : -1;
		r = x < y ? -1 : x > y ? 1 : 0;
	} else {
		r = strcasecmp(ra->cell[c], rb->cell[c]);
	}
	if (t->sort_desc)
		r = -r;
	return r ? r : ia - ib;
}

void table_rebuild(struct table *t)
{
	t->nview = 0;
	for (int i = 0; i < t->nrows; i++)
		if (row_matches(t, &t->rows[i]))
			t->view[t->nview++] = i;
	if (t->sort_col >= 0 && t->sort_col < t->ncols && t->nview > 1) {
		sorting = t;
		qsort(t->view, (size_t)t->nview, sizeof *t->view, cmp_rows);
		sorting = NULL;
	}
	for (int v = 0; v < t->nview; v++) {
		if (strcmp(t->rows[t->view[v]].key, t->cursor_key) == 0) {
			t->cursor = v;
			return;
		}
	}
	table_move_to(t, t->cursor);
}

void table_move_to(struct table *t, int pos)
{
	if (pos >= t->nview)
		pos = t->nview - 1;
	if (pos < 0)
		pos = 0;
	t->cursor = pos;
	if (t->nview > 0)
		snprintf(t->cursor_key, sizeof t->cursor_key, "%s", t->rows[t->view[pos]].key);
}

void table_move(struct table *t, int delta)
{
	table_move_to(t, t->cursor + delta);
}

void table_scroll(struct table *t, int height)
{
	if (height < 1)
		height = 1;
	if (t->cursor < t->top)
		t->top = t->cursor;
	if (t->cursor >= t->top + height)
		t->top = t->cursor - height + 1;
	if (t->top > t->nview - height)
		t->top = t->nview - height;
	if (t->top < 0)
		t->top = 0;
}

struct table_row *table_selected(struct table *t)
{
	if (t->nview == 0 || t->cursor < 0 || t->cursor >= t->nview)
		return NULL;
	return &t->rows[t->view[t->cursor]];
}

void table_sort_next(struct table *t)
{
	t->sort_col = t->sort_col + 1 >= t->ncols ? -1 : t->sort_col + 1;
}

void table_widths(const struct table *t, int total, int *widths)
{
	int sum = 0, flex = -1;

	for (int c = 0; c < t->ncols; c++) {
		widths[c] = t->cols[c].width;
		sum += widths[c] + (c ? 1 : 0);
		if (t->cols[c].flex && flex < 0)
			flex = c;
	}
	for (int c = t->ncols - 1; c >= 0 && sum > total; c--) {
		if (!t->cols[c].optional)
			continue;
		sum -= widths[c] + 1;
		widths[c] = 0;
	}
	if (flex >= 0 && sum < total) {
		int extra = total - sum;

		/* grow the name column, but not absurdly */
		widths[flex] += extra > 40 ? 40 + (extra - 40) / 3 : extra;
	}
}
