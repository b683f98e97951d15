/* actions.c: the general meaning of keys, commands and input modes. */
#include "ui/console/actions.h"

#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/transport.h"
#include "ui/console/backend.h"
#include "ui/console/bench.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/draw.h"
#include "ui/console/screen.h"

#define ESC 27

typedef void (*action_fn)(struct app *a, const struct keys_binding *b);

static void act_quit(struct app *a, const struct keys_binding *b)
{
	(void)b;
	screen_quit(a);
}

static void act_help(struct app *a, const struct keys_binding *b)
{
	(void)b;
	screen_open(a, &screen_help, "");
}

static void act_input(struct app *a, const struct keys_binding *b)
{
	struct table *t = screen_table(a);

	a->input[0] = '\0';
	if (b->action == KA_COMMAND) {
		a->mode = APP_COMMAND;
		return;
	}
	if (t == NULL)
		return;
	app_copy(a->input, sizeof a->input, t->filter);
	a->mode = APP_FILTER;
}

static int page(const struct app *a)
{
	int h = a->lay.table.h - 2;

	return h > 1 ? h : 1;
}

static void act_move(struct app *a, const struct keys_binding *b)
{
	static const int unit[KA_COUNT] = {[KA_UP] = -1, [KA_DOWN] = 1};
	int d = unit[b->action];

	if (b->action == KA_PAGE_UP || b->action == KA_PAGE_DOWN)
		d = (b->action == KA_PAGE_UP ? -1 : 1) * page(a);
	if (b->action == KA_TOP || b->action == KA_BOTTOM)
		d = (b->action == KA_TOP ? -1 : 1) * 10000000;
	screen_scroll(a, d);
}

void actions_back(struct app *a)
{
	struct table *t = screen_table(a);

	if (t != NULL && t->filter[0]) {
		t->filter[0] = '\0';
		table_rebuild(t);
		app_message(a, 0, "filter cleared");
		return;
	}
	screen_back(a);
}

static void act_back(struct app *a, const struct keys_binding *b)
{
	(void)b;
	actions_back(a);
}

static void act_refresh(struct app *a, const struct keys_binding *b)
{
	(void)b;
	backend_retry(a);
	screen_refresh(a);
	data_load_live(a);
	clearok(curscr, FALSE);
}

static void act_jump(struct app *a, const struct keys_binding *b)
{
	size_t n;
	const struct screen *const *s = screen_all(&n);

	for (size_t i = 0; i < n; i++)
		if (s[i]->jump == b->action)
			screen_show(a, s[i], 1);
}

static void act_sort(struct app *a, const struct keys_binding *b)
{
	struct table *t = screen_table(a);

	if (t == NULL)
		return;
	if (b->action == KA_SORT)
		table_sort_next(t);
	else
		t->sort_desc = !t->sort_desc;
	table_rebuild(t);
	app_message(a, 0, "sort: %s%s",
		    t->sort_col < 0 ? "server order" : t->cols[t->sort_col].title,
		    t->sort_col >= 0 ? (t->sort_desc ? " descending" : " ascending") : "");
}

static void act_logs(struct app *a, const struct keys_binding *b)
{
	(void)b;
	screen_open(a, &screen_logs, "");
}

static void act_test(struct app *a, const struct keys_binding *b)
{
	(void)b;
	screen_open(a, &screen_test, "");
}

static void act_monitor(struct app *a, const struct keys_binding *b)
{
	(void)b;
	screen_open(a, &screen_monitor, "");
}

/* `v`: what is cut, whole. A cut message (or header) first, else the
 * screen's own text. */
static void act_view(struct app *a, const struct keys_binding *b)
{
	char title[160] = "", state[512], detail[2048] = "", *text;
	int line = 0;
	size_t n;

	(void)b;
	data_state(a, state, sizeof state);
	if ((a->message[0] && !draw_fits(a->message, a->lay.message.w)) || a->header_cut) {
		if (a->transport != NULL)
			transport_detail(a->transport, detail, sizeof detail);
		n = strlen(a->message) + strlen(state) + strlen(detail) + 64;
		if ((text = malloc(n)) == NULL)
			abort();
		snprintf(text, n, "%s\n\nbackend: %s%s%s", a->message, state,
			 detail[0] ? "\n\nssh said:\n" : "", detail);
		screen_view(a, "message", text, 0);
		return;
	}
	text = screen_text(a, title, sizeof title, &line);
	if (text == NULL) {
		app_message(a, 0, "nothing is cut here");
		return;
	}
	screen_view(a, title, text, line);
}

static void act_bench(struct app *a, const struct keys_binding *b)
{
	struct screen_sel sel;

	(void)b;
	screen_selection(a, &sel);
	bench_start(a, sel.endpoint);
}

int actions_theme(struct app *a, const char *name)
{
	struct theme t;
	struct theme_problems pr = {0};
	char err[512];

	if (theme_load(a->theme_dir, name, &t, &pr, err, sizeof err) < 0) {
		app_message(a, 1, "theme: %s", err);
		return -1;
	}
	a->theme = t;
	draw_theme(a);
	screen_load_of(a, &screen_themes);
	if (pr.count > 0)
		app_message(a, 1, "theme %s: line %d: %s%s", name, pr.item[0].line,
			    pr.item[0].message,
			    pr.count > 1 ? " (and more; the rest applies)" : "");
	else
		app_message(a, 0, "theme %s", name);
	return 0;
}

static const action_fn handlers[KA_COUNT] = {
    [KA_QUIT] = act_quit,	    [KA_HELP] = act_help,	  [KA_COMMAND] = act_input,
    [KA_FILTER] = act_input,	    [KA_UP] = act_move,		  [KA_DOWN] = act_move,
    [KA_PAGE_UP] = act_move,	    [KA_PAGE_DOWN] = act_move,	  [KA_TOP] = act_move,
    [KA_BOTTOM] = act_move,	    [KA_BACK] = act_back,	  [KA_REFRESH] = act_refresh,
    [KA_JUMP_ENDPOINTS] = act_jump, [KA_JUMP_MODELS] = act_jump,  [KA_JUMP_ENVS] = act_jump,
    [KA_JUMP_PROFILES] = act_jump,  [KA_JUMP_BATCH] = act_jump,	  [KA_JUMP_JOBS] = act_jump,
    [KA_LOGS] = act_logs,	    [KA_TEST] = act_test,
    [KA_SORT] = act_sort,	    [KA_SORT_REVERSE] = act_sort, [KA_BENCH] = act_bench,
    [KA_VIEW] = act_view,	    [KA_MONITOR] = act_monitor,
};

void actions_run(struct app *a, const struct keys_binding *b)
{
	if (handlers[b->action] != NULL)
		handlers[b->action](a, b);
}

void actions_command(struct app *a, const char *line)
{
	char word[64] = "", arg[128] = "";
	const struct screen *s;

	while (isspace((unsigned char)*line))
		line++;
	if (sscanf(line, "%63s %127s", word, arg) < 1)
		return;
	if (strcmp(word, "q") == 0 || strcmp(word, "quit") == 0 || strcmp(word, "q!") == 0) {
		screen_quit(a);
		return;
	}
	if (strcmp(word, "reload") == 0) {
		backend_reload(a, 1);
		return;
	}
	s = screen_by_command(word);
	if (s == NULL) {
		app_message(a, 1, "unknown command '%s' (try :help)", word);
		return;
	}
	screen_open(a, s, arg);
}

/* ---- Tab completion of ":" commands ---- */

#define COMPLETE_MAX 64

struct completion {
	const char *prefix;
	size_t len;
	char found[COMPLETE_MAX][64];
	int n;
};

static void complete_add(void *ctx, const char *word)
{
	struct completion *c = ctx;

	if (strncmp(word, c->prefix, c->len) != 0 || c->n >= COMPLETE_MAX)
		return;
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->found[i], word) == 0)
			return;
	app_copy(c->found[c->n++], sizeof c->found[0], word);
}

/* The commands (each screen's first word, q and reload) or, after one, its
 * arguments (the screen's args hook). */
static const struct screen *complete_collect(struct app *a, struct completion *c)
{
	const char *sp = strchr(a->input, ' ');
	const struct screen *s = NULL;
	char word[64];
	size_t n;
	const struct screen *const *all = screen_all(&n);

	if (sp == NULL) {
		c->prefix = a->input;
		c->len = strlen(a->input);
		for (size_t i = 0; i < n; i++)
			if (all[i]->commands[0] != NULL)
				complete_add(c, all[i]->commands[0]);
		complete_add(c, "q");
		complete_add(c, "reload");
		return NULL;
	}
	snprintf(word, sizeof word, "%.*s", (int)(sp - a->input), a->input);
	while (*sp == ' ')
		sp++;
	c->prefix = sp;
	c->len = strlen(sp);
	if ((s = screen_by_command(word)) != NULL && s->args != NULL)
		s->args(a, complete_add, c);
	return s;
}

/* Tab: the longest common beginning of what fits; the choices on the hint
 * line when there are several. */
static void complete(struct app *a)
{
	struct completion c = {0};
	const struct screen *s = complete_collect(a, &c);
	size_t common, at = (size_t)(c.prefix - a->input), used = 0;

	a->completions[0] = '\0';
	if (c.n == 0) {
		app_copy(a->completions, sizeof a->completions, "(nothing to complete)");
		return;
	}
	common = strlen(c.found[0]);
	for (int i = 1; i < c.n; i++)
		for (size_t k = 0; k < common; k++)
			if (c.found[i][k] != c.found[0][k])
				common = k;
	snprintf(a->input + at, sizeof a->input - at, "%.*s", (int)common, c.found[0]);
	if (c.n == 1 && s == NULL && screen_by_command(c.found[0]) &&
	    screen_by_command(c.found[0])->args != NULL)
		snprintf(a->input + strlen(a->input), sizeof a->input - strlen(a->input), " ");
	for (int i = 0; c.n > 1 && i < c.n && used < sizeof a->completions; i++)
		used += (size_t)snprintf(a->completions + used, sizeof a->completions - used,
					 "%s%s", i ? "  " : "", c.found[i]);
}

/* ---- input modes ---- */

static void line_edit(struct app *a, int ch)
{
	size_t n = strlen(a->input);
	struct table *t = screen_table(a);

	a->completions[0] = '\0';
	if (ch == '\t' && a->mode == APP_COMMAND) {
		complete(a);
		return;
	}
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n > 0)
			a->input[n - 1] = '\0';
	} else if (ch == 21) { /* ^U */
		a->input[0] = '\0';
	} else if (ch >= 32 && ch < 256 && ch != 127 && n + 1 < sizeof a->input) {
		a->input[n] = (char)ch;
		a->input[n + 1] = '\0';
	}
	if (a->mode == APP_FILTER && t != NULL) {
		app_copy(t->filter, sizeof t->filter, a->input);
		table_rebuild(t);
	}
}

static void input_done(struct app *a, int accept)
{
	enum app_mode m = a->mode;
	struct table *t = screen_table(a);

	a->mode = APP_NORMAL;
	if (m == APP_FILTER && t != NULL) {
		if (!accept)
			t->filter[0] = '\0';
		table_rebuild(t);
	} else if (m == APP_COMMAND && accept) {
		actions_command(a, a->input);
	} else if (m == APP_PROMPT && accept && a->prompt_done != NULL) {
		a->prompt_done(a, a->input);
	}
}

static void demo_answer(struct app *a, int ch)
{
	if (ch == 'y' || ch == 'Y') {
		a->mode = APP_NORMAL;
		a->opt.demo = 1;
	} else if (ch == 'n' || ch == 'N' || ch == ESC || ch == 'q') {
		a->mode = APP_NORMAL;
		app_message(a, 0, "no demo; press ? for help, : for commands");
	}
}

void actions_key(struct app *a, int ch)
{
	switch (a->mode) {
	case APP_FILTER:
	case APP_COMMAND:
	case APP_PROMPT:
		if (ch == ESC || ch == '\n' || ch == '\r' || ch == KEY_ENTER)
			input_done(a, ch != ESC);
		else
			line_edit(a, ch);
		return;
	case APP_DIALOG:
		dialog_key(a, ch);
		return;
	case APP_DEMO_ASK:
		demo_answer(a, ch);
		return;
	default:
		screen_key(a, ch);
	}
}
