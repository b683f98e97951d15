/*
 * keys.h: the console's key table. The console dispatches on it, and the
 * help screen, the hint bar and docs/console.md are generated from it, so
 * what is documented is what runs. Static data; any thread.
 */
#ifndef UI_CONSOLE_KEYS_H
#define UI_CONSOLE_KEYS_H

#include <stddef.h>
#include <stdio.h>

enum keys_action {
	KA_NONE,
	KA_QUIT,
	KA_HELP,
	KA_COMMAND,
	KA_FILTER,
	KA_UP,
	KA_DOWN,
	KA_PAGE_UP,
	KA_PAGE_DOWN,
	KA_TOP,
	KA_BOTTOM,
	KA_OPEN,
	KA_BACK,
	KA_REFRESH,
	KA_JUMP_ENDPOINTS,
	KA_JUMP_MODELS,
	KA_JUMP_ENVS,
	KA_JUMP_PROFILES,
	KA_JUMP_BATCH,
	KA_JUMP_JOBS,
	KA_LOGS,
	KA_TEST,
	KA_SORT,
	KA_SORT_REVERSE,
	KA_SLIDE_DOWN1,
	KA_SLIDE_UP1,
	KA_SLIDE_DOWN10,
	KA_SLIDE_UP10,
	KA_MIRROR_MODE,
	KA_APPLY,
	KA_DISCARD,
	KA_DELETE,
	KA_BENCH,
	KA_TEST_FILE,
	KA_TEST_TARGET,
	KA_TEST_EDIT,
	KA_TEST_INLINE,
	KA_TEST_SEND,
	KA_FOLLOW,
	KA_VIEW,
	KA_CANCEL,
	KA_MONITOR,
	KA_COUNT
};

#define KEYS_MUTATING 1u /* removed in read-only mode */
#define KEYS_HINT 2u	 /* shown in the hint bar */
#define KEYS_GLOBAL 4u	 /* bound on every screen */
#define KEYS_TABLES 8u	 /* bound on every table screen */
#define KEYS_MAX_CODES 4

struct keys_binding {
	enum keys_action action;
	int codes[KEYS_MAX_CODES]; /* curses key codes; 0 ends the list */
	const char *keyname;	   /* "j/Down" */
	const char *hint;	   /* short, for the hint bar */
	const char *help;	   /* one line, for help and docs */
	unsigned flags;		   /* KEYS_* */
};

struct screen;

/* The whole table and its length. Screen-specific bindings come before
 * general ones, so a lookup finds the specific meaning of a key first. A
 * binding is on a screen when it is KEYS_GLOBAL, KEYS_TABLES on a table
 * screen, or its action is one the screen lists (screen.h). */
const struct keys_binding *keys_table(size_t *count);
/* The binding of code on screen s, or NULL. With readonly, mutating
 * bindings do not exist. */
const struct keys_binding *keys_lookup(int code, const struct screen *s, int readonly);
/* The screens b is bound on, joined by sep ("Endpoints, Deployments"), or
 * all when it is bound everywhere. */
void keys_screens_text(const struct keys_binding *b, const char *sep, const char *all, char *buf,
		       size_t len);
/* 1 for the actions that move a cursor or scroll (up, down, pages, ends). */
int keys_is_move(enum keys_action action);
/* Writes docs/console.md's key reference (Markdown) to f. */
void keys_write_markdown(FILE *f);

#endif
