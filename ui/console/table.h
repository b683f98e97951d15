/*
 * table.h: the rows behind a console table: filtering, sorting by column and
 * a cursor that stays on the same row (by key) across refreshes. No curses;
 * used by the console's thread only.
 */
#ifndef UI_CONSOLE_TABLE_H
#define UI_CONSOLE_TABLE_H

#include <stddef.h>

#define TABLE_MAX_COLS 10
#define TABLE_CELL 64
#define TABLE_KEY 160
#define TABLE_MAX_ROWS 100000

struct table_col {
	const char *title;
	int width;    /* at 80 columns */
	int numeric;  /* sort on num[], align right */
	int flex;     /* takes the extra width on wide terminals */
	int optional; /* dropped when it does not fit */
};

struct table_row {
	char cell[TABLE_MAX_COLS][TABLE_CELL];
	double num[TABLE_MAX_COLS];
	int style;	     /* theme element of the state cell, or -1 */
	int idx;	     /* index into the screen's document */
	char key[TABLE_KEY]; /* identity across refreshes ("ep", "name:version") */
};

struct table {
	const struct table_col *cols;
	int ncols;
	struct table_row *rows;
	int nrows, cap;
	int *view; /* row indices after filter and sort */
	int nview;
	int cursor, top; /* in view */
	int sort_col;	 /* -1: server order */
	int sort_desc;
	char filter[64];
	char cursor_key[TABLE_KEY];
};

void table_init(struct table *t, const struct table_col *cols, int ncols);
void table_free(struct table *t);
/* Forgets the rows (keeps filter, sort and the cursor's key). */
void table_clear(struct table *t);
/* A new zeroed row at the end (num[] = NaN, style -1); NULL past TABLE_MAX_ROWS
 * (aborts on out of memory). */
struct table_row *table_add(struct table *t);
/* Applies filter and sort, and puts the cursor back on its key's row. */
void table_rebuild(struct table *t);
/* Moves the cursor by delta (clamped) and remembers its key. */
void table_move(struct table *t, int delta);
void table_move_to(struct table *t, int pos);
/* Keeps the cursor within rows top..top+height-1. */
void table_scroll(struct table *t, int height);
/* The row under the cursor, or NULL when the view is empty. */
struct table_row *table_selected(struct table *t);
/* Next sort column (-1, 0, 1, ... -1). */
void table_sort_next(struct table *t);
/* Column widths for a total width: optional columns dropped right to left
 * until the rest fits, flex columns grown. widths[i] = 0 for a dropped one. */
void table_widths(const struct table *t, int total, int *widths);

#endif
