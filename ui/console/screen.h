/*
 * screen.h: the console's screens as modules, and the dispatcher that runs
 * them (as tmux's window modes and ncdu's browser, delete and help screens
 * are organised). A screen is one file under ui/console/screens/ holding one
 * `const struct screen` (a table of hooks, every one optional) plus one line
 * in screens/list.h. The dispatcher (screen.c) is the only place that knows
 * which screen is active: it keeps the history Esc walks back, sends keys to
 * the active screen, asks it to load and to draw, and owns every screen's
 * state (struct screen_state). Console thread only.
 */
#ifndef UI_CONSOLE_SCREEN_H
#define UI_CONSOLE_SCREEN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "ui/console/keys.h"
#include "ui/console/layout.h"
#include "ui/console/table.h"

struct app;

/* What the dispatcher keeps for each screen, from start to quit. */
struct screen_state {
	struct table table;  /* table screens (cols != NULL): rows, filter, sort, cursor */
	cJSON *doc;	     /* the answer behind the rows (the detail pane reads it) */
	int top;	     /* text screens: the first line shown */
	void *data;	     /* data_size bytes, zeroed at start, the screen's own */
	int loading;	     /* a load is on its way */
	int refreshing;	     /* the user asked for it (r): say "refreshed" */
	long long loaded_ms; /* when the last load succeeded (0: never) */
};

/* What a screen points at, for the screen opened from it (`t`, `l`, `:dep`). */
struct screen_sel {
	char endpoint[64];
	char deployment[64];
};

#define SCREEN_BACKEND 1u   /* rows come from the backend: cleared on a profile switch */
#define SCREEN_ARG_STAYS 2u /* ":word ARG" acts in place (":theme NAME"): not a leave */

struct screen {
	const char *name;	      /* "Endpoints": header, help, docs */
	const char *commands[5];      /* ":" words that open it, NULL-terminated */
	enum keys_action jump;	      /* the KA_JUMP_* that shows it, else KA_NONE */
	const enum keys_action *acts; /* its own actions (keys.c), KA_NONE-terminated */
	const struct table_col *cols; /* a table screen's columns, else NULL */
	int ncols;
	unsigned flags; /* SCREEN_* */
	size_t data_size;

	/* ":word ARG", or another screen opening this one; from is what the
	 * active screen points at. NULL: the screen is shown (no history). */
	void (*open)(struct app *a, const struct screen_sel *from, const char *arg);
	/* The arguments ":word ARG" takes, each given to add (Tab completes
	 * them). */
	void (*args)(struct app *a, void (*add)(void *ctx, const char *word), void *ctx);
	/* It became the active screen. */
	void (*enter)(struct app *a, struct screen_state *st);
	/* (Re)loads what it shows, in the background (data.h); the answer's
	 * handler calls screen_loaded. */
	void (*load)(struct app *a, struct screen_state *st);
	/* Periodic work while active: list_due every list period (2 s or
	 * more), live_due every refresh period (--refresh). */
	void (*tick)(struct app *a, struct screen_state *st, int list_due, int live_due);
	/* New live figures are in a->live. */
	void (*live)(struct app *a, struct screen_state *st);
	/* The metrics query (GET path; path holds the default, the totals of
	 * every endpoint) it wants; returns the endpoint whose deployments get
	 * per-second series (or NULL). NULL hook: no live figures asked for. */
	const char *(*live_query)(struct app *a, struct screen_state *st, char *path, size_t len);
	/* What it points at (see struct screen_sel); NULL: nothing. */
	void (*select)(struct app *a, struct screen_state *st, struct screen_sel *out);
	/* The header's screen title; NULL: the name. */
	void (*title)(struct app *a, struct screen_state *st, char *buf, size_t len);
	/* Table screens: the detail pane; text screens: the whole body. */
	void (*draw)(struct app *a, struct screen_state *st, struct rect r);
	/* A table cell drawn its own way; 1 when drawn. */
	int (*cell)(struct app *a, const struct table_row *row, int col, struct rect r, int cursor);
	/* A key bound on this screen; 1 when handled (else the general meaning runs). */
	int (*key)(struct app *a, struct screen_state *st, const struct keys_binding *b);
	/* The whole text behind what it shows, for the viewer (`v`): heap,
	 * *title set, *line the text's line to start at. NULL: the selected
	 * row's JSON on a table screen, else nothing. */
	char *(*text)(struct app *a, struct screen_state *st, char *title, size_t tlen, int *line);
	/* Changes not applied yet (the traffic sliders): 1 when leaving would
	 * drop them, with a one-line summary in buf. Leaving, switching profile
	 * or quitting then asks Apply / Discard / Stay (Stay focused). */
	int (*pending)(struct app *a, struct screen_state *st, char *buf, size_t len);
	/* Applies them in the background; the answer's handler calls
	 * screen_applied. */
	void (*apply)(struct app *a, struct screen_state *st);
	void (*discard)(struct app *a, struct screen_state *st);
	/* Frees what data holds (not data itself). */
	void (*cleanup)(struct screen_state *st);
};

/* Every screen, declared from screens/list.h. */
#define SCREEN(n) extern const struct screen screen_##n;
#include "ui/console/screens/list.h"
#undef SCREEN

/* The screens in list.h's order (help and docs use it), and their count. */
const struct screen *const *screen_all(size_t *count);
/* 1 when key binding b means something on screen s. */
int screen_binds(const struct screen *s, const struct keys_binding *b);
/* The screen opened by ":word", or NULL. */
const struct screen *screen_by_command(const char *word);

/* Allocates every screen's state (the first active screen is the first of
 * list.h); screen_free releases it. */
void screen_init(struct app *a);
void screen_free(struct app *a);
/* Makes s active (push: remember the current one for Esc, the oldest of
 * HISTORY forgotten; else forget the history), then loads it. */
void screen_show(struct app *a, const struct screen *s, int push);
/* What the active screen points at. */
void screen_selection(struct app *a, struct screen_sel *out);
/* Opens s as ":word ARG" does, from what the active screen points at. */
void screen_open(struct app *a, const struct screen *s, const char *arg);
/* Back to the previous screen. 0, or -1 when there is none. */
int screen_back(struct app *a);
/* Quits (a->quit), once pending changes are applied or discarded. */
void screen_quit(struct app *a);
/* The apply hook's request ended: ok, what was held back by the pending
 * question goes on; else the screen stays (the refusal is on the message
 * line). */
void screen_applied(struct app *a, int ok);
/* Reloads the active screen (in the background). */
void screen_load(struct app *a);
/* Reloads screen s, active or not. */
void screen_load_of(struct app *a, const struct screen *s);
/* `r`: reloads the active screen and says "refreshed" once it is. */
void screen_refresh(struct app *a);
/* A load of s ended (ok: it succeeded and the rows are in). */
void screen_loaded(struct app *a, const struct screen *s, int ok);
/* How old the active screen's backend data is in ms, or -1 (not a backend
 * screen, or never loaded). */
long long screen_age_ms(struct app *a);
/* Periodic work of the active screen (its tick hook). */
void screen_tick(struct app *a, int list_due, int live_due);
/* New live figures arrived: the active screen refreshes its columns. */
void screen_live(struct app *a);
/* The metrics query of the active screen ("" when it shows no live
 * figures), and the endpoint whose series it wants (NULL: none). */
const char *screen_live_query(struct app *a, char *path, size_t len);
/* One key in normal mode: the active screen's meaning first, then the
 * general one (actions.c); a key switched off by read-only says so. */
void screen_key(struct app *a, int ch);
/* Forgets the rows of every backend screen (profile switch). */
void screen_clear_backend(struct app *a);
/* The active screen's table, or NULL on a text screen. */
struct table *screen_table(struct app *a);
/* Screen s's state and table (NULL for a text screen), for s's own file. */
struct screen_state *screen_state_of(struct app *a, const struct screen *s);
struct table *screen_table_of(struct app *a, const struct screen *s);
/* The active screen's body, and its title: the screen's, then for a table
 * its row count and filter ("Endpoints (3/1003) /fr"). */
void screen_draw(struct app *a);
void screen_title(struct app *a, char *buf, size_t len);
/* The active screen's whole text (its text hook, else the selected row's
 * JSON), heap; NULL when it has none. */
char *screen_text(struct app *a, char *title, size_t tlen, int *line);
/* Opens the viewer on text (the viewer owns it from now on) at line. */
void screen_view(struct app *a, const char *title, char *text, int line);
/* The viewer's text, title and first line (NULL when none). */
const char *screen_viewed(struct app *a, const char **title, int *line);
/* For generic code only (key lookup, hint bar): never compare it with a
 * screen; give the screen a hook instead. */
const struct screen *screen_current(const struct app *a);
/* Moves the cursor (table) or the first line (text) by d. */
void screen_scroll(struct app *a, int d);

#endif
