/*
 * draw.h: painting the console with curses. Each frame is drawn into
 * stdscr after erase() and sent with one refresh(), so curses writes only
 * the cells that changed (no clear(), no clearok()). The frame (header,
 * message line, hint bar, dialogs) is drawn here; each screen draws its body
 * with the primitives below (screen.h). Console thread only.
 */
#ifndef UI_CONSOLE_DRAW_H
#define UI_CONSOLE_DRAW_H

#include "ui/console/app.h"

/* A table cell a screen draws its own way (screen.h's cell hook). */
typedef int (*draw_cell_fn)(struct app *a, const struct table_row *row, int col, struct rect r,
			    int cursor);

/* Colour pairs for a->theme: none with NO_COLOR or a terminal without
 * colours, 256-colour values folded to 8 on an 8-colour terminal. Call after
 * initscr and after every theme switch. */
void draw_theme(struct app *a);
/* One whole frame. */
void draw_frame(struct app *a);

/* s at (y, x) within w columns in style e (UTF-8 aware, control characters
 * as spaces); text that does not fit ends in an ellipsis. Returns the
 * columns used. */
int draw_text(const struct app *a, enum theme_elem e, int y, int x, int w, const char *s);
/* 1 when s shows within w columns. */
int draw_fits(const char *s, int w);
/* w spaces in style e (bars). */
void draw_fill(const struct app *a, enum theme_elem e, int y, int x, int w);
/* A horizontal rule (UTF-8 line drawing, or '-'). */
void draw_hline(const struct app *a, int y, int x, int w);
/* A dialog box of h x w at (y, x). */
void draw_box(struct app *a, int y, int x, int h, int w);
/* Lines of text (no wrap) from line top within r; returns the line count. */
int draw_lines(struct app *a, struct rect r, const char *text, int top, enum theme_elem e);
/* text wrapped to r's width, from wrapped row top; returns the row count. */
int draw_wrapped(struct app *a, struct rect r, const char *text, int top, enum theme_elem e);
/* How many rows text takes wrapped to w columns before its line `line`
 * (all of it when line < 0). */
int draw_wrap_rows(const char *text, int w, int line);
/* "key          value" on line *y of r (nothing when v is empty); *y advances. */
void draw_kv(struct app *a, int *y, struct rect r, const char *k, const char *v);
/* The rows of t within r: column titles, then the rows, the cursor's
 * highlighted; cell (may be NULL) draws the cells it wants to; empty (may
 * be NULL) says why there is no row. */
void draw_table(struct app *a, struct table *t, struct rect r, draw_cell_fn cell,
		const char *empty);
/* The latency block of endpoint ep from a->live at line y of r: a title and
 * one line per deployment (d's, or every one the metrics list when NULL),
 * each with a p99 sparkline. Returns the next free line. */
int draw_latency(struct app *a, struct rect r, int y, const char *ep, const struct app_deploys *d);
/* The element of doc (a list answer, or its "value" array) under t's cursor. */
const cJSON *draw_selected_doc(struct table *t, const cJSON *doc);
/* The body of a text screen (table and detail panes together), and the
 * detail pane under its rule. */
struct rect draw_body_rect(const struct app *a);
struct rect draw_detail_rect(const struct app *a);

#endif
