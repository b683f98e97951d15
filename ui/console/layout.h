/*
 * layout.h: where each pane goes for a terminal size. Pure; any thread.
 *
 * Rows from the top: header (1), table, detail/latency pane, message line (1),
 * key hint bar (1). From LAYOUT_WIDE_COLS columns on, the detail pane sits to
 * the right of the table instead, using the full height between header and
 * message line. Below LAYOUT_MIN_COLS x LAYOUT_MIN_LINES the console shows
 * what it needs instead of a screen.
 */
#ifndef UI_CONSOLE_LAYOUT_H
#define UI_CONSOLE_LAYOUT_H

#define LAYOUT_MIN_COLS 80
#define LAYOUT_MIN_LINES 24
#define LAYOUT_WIDE_COLS 160

struct rect {
	int y, x, h, w;
};

struct layout {
	struct rect header, table, detail, message, hint;
	int wide; /* detail pane on the right */
};

/* Fills *out for a cols x lines terminal. -1 when too small (out is zeroed). */
int layout_compute(int cols, int lines, struct layout *out);

#endif
