/*
 * theme.h: colour themes (themes/NAME.ini). Parsing is pure (any thread); the
 * console maps the result to curses pairs itself.
 *
 * File format: `element = FG BG [ATTR...]`, `;` or `#` comments, [sections]
 * ignored. FG/BG: `default`, a colour name (black red green yellow blue
 * magenta cyan white, `bright-` + name), or 0-255. ATTR: bold underline
 * reverse dim standout normal (also comma-separated). An unknown element or a
 * bad value is reported with its line number and the rest of the file still
 * applies.
 */
#ifndef UI_CONSOLE_THEME_H
#define UI_CONSOLE_THEME_H

#include <stddef.h>

enum theme_elem {
	THEME_NORMAL,
	THEME_HEADER,
	THEME_HEADER_RO,
	THEME_TABLE_HEADER,
	THEME_CURSOR,
	THEME_STATUS_OK,
	THEME_STATUS_PENDING,
	THEME_STATUS_FAILED,
	THEME_SLIDER,
	THEME_SLIDER_PENDING,
	THEME_MIRROR,
	THEME_SPARK_P50,
	THEME_SPARK_P99,
	THEME_DIALOG,
	THEME_DIALOG_FOCUS,
	THEME_HINT,
	THEME_HINT_KEY,
	THEME_MESSAGE,
	THEME_ERROR,
	THEME_BORDER,
	THEME_TITLE,
	THEME_COUNT
};

#define THEME_DEFAULT_COLOR (-1)
#define THEME_A_BOLD 1u
#define THEME_A_UNDERLINE 2u
#define THEME_A_REVERSE 4u
#define THEME_A_DIM 8u
#define THEME_A_STANDOUT 16u

struct theme_style {
	int fg, bg;	/* -1 default, else 0..255 */
	unsigned attrs; /* THEME_A_* */
};

struct theme {
	char name[64];
	struct theme_style style[THEME_COUNT];
};

#define THEME_MAX_PROBLEMS 16
struct theme_problems {
	int count;
	struct {
		int line;
		char message[120];
	} item[THEME_MAX_PROBLEMS];
};

/* The element's key in theme files ("table.header"), and its description. */
const char *theme_elem_key(enum theme_elem e);
/* Built-in defaults (what an element missing from a file gets). */
void theme_init_default(struct theme *t);
/* Parses text over *t (call theme_init_default first). Problems, if not NULL,
 * collects up to THEME_MAX_PROBLEMS reports. Returns the problem count. */
int theme_parse(const char *text, struct theme *t, struct theme_problems *problems);
/* "red" / "bright-red" / "default" / "0".."255" -> colour; -2 when invalid. */
int theme_parse_color(const char *s);
/* A 0..255 colour folded to the 8 basic colours (-1 stays -1). */
int theme_color_to8(int c);
/* Reads DIR/NAME.ini (at most 64 KiB) and parses it over the defaults. -1 with
 * a message in errbuf when the file cannot be read. */
int theme_load(const char *dir, const char *name, struct theme *t, struct theme_problems *pr,
	       char *errbuf, size_t errlen);
/* Names of the DIR/NAME.ini files sorted, without ".ini"; returns count (at most max). */
int theme_list(const char *dir, char names[][64], int max);

#endif
