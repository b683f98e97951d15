/* dialog.c: modal dialogs (delete confirmation, pending changes). */
#include "ui/console/dialog.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/ops.h"
#include "ui/console/draw.h"
#include "ui/console/screen.h"

#define ESC 27

void dialog_open(struct app *a, const char *title, const char *text, const char *const *buttons,
		 int nbuttons, int focus, int safe, void (*choose)(struct app *a, int button))
{
	struct app_dialog *d = &a->dialog;

	memset(d, 0, sizeof *d);
	app_copy(d->title, sizeof d->title, title);
	app_copy(d->text, sizeof d->text, text);
	for (int i = 0; i < nbuttons && i < DIALOG_MAX_BUTTONS; i++)
		d->buttons[d->nbuttons++] = buttons[i];
	d->focus = focus;
	d->safe = safe;
	d->choose = choose;
	a->mode = APP_DIALOG;
}

static void delete_chosen(struct app *a, int button)
{
	struct app_dialog *d = &a->dialog;
	char done[160];
	struct ops_names n = {d->what, done, NULL, NULL};

	if (button != 1) {
		app_message(a, 0, "cancelled: nothing deleted");
		return;
	}
	snprintf(done, sizeof done, "deleted: %s", d->what);
	app_message(a, 0, "deleting %s...", d->what);
	ops_start(a, "DELETE", d->path, NULL, &n);
}

void dialog_delete(struct app *a, const char *what, const char *text, const char *path,
		   const char *expect)
{
	static const char *const buttons[] = {"Cancel", "Delete"};
	struct app_dialog *d = &a->dialog;
	char title[160];

	snprintf(title, sizeof title, "Delete %s?", what);
	dialog_open(a, title, text, buttons, 2, 0, 0, delete_chosen);
	app_copy(d->what, sizeof d->what, what);
	app_copy(d->path, sizeof d->path, path);
	app_copy(d->expect, sizeof d->expect, expect);
}

static void dialog_press(struct app *a, int button)
{
	struct app_dialog *d = &a->dialog;

	if (button == 1 && d->expect[0] && strcmp(d->typed, d->expect) != 0) {
		app_message(a, 1, "type the endpoint's name exactly to delete it");
		return;
	}
	a->mode = APP_NORMAL;
	d->choose(a, button);
}

void dialog_key(struct app *a, int ch)
{
	struct app_dialog *d = &a->dialog;
	size_t n = strlen(d->typed);
	int next = ch == '\t' || ch == KEY_RIGHT || (!d->expect[0] && ch == 'l');
	int prev = ch == KEY_BTAB || ch == KEY_LEFT || (!d->expect[0] && ch == 'h');

	if (ch == ESC) {
		dialog_press(a, d->safe);
	} else if (next || prev) {
		d->focus = (d->focus + (next ? 1 : d->nbuttons - 1)) % d->nbuttons;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		dialog_press(a, d->focus);
	} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0) {
		d->typed[n - 1] = '\0';
	} else if (d->expect[0] && ch > 32 && ch < 127 && n + 1 < sizeof d->typed) {
		d->typed[n] = (char)ch;
		d->typed[n + 1] = '\0';
	}
}

void dialog_draw(struct app *a)
{
	struct app_dialog *d = &a->dialog;
	int w = a->cols - 8 > 70 ? 70 : a->cols - 8, h = d->expect[0] ? 9 : 7;
	int x = (a->cols - w) / 2, y = (a->lines - h) / 2, bx = x + 2;
	char buf[200];

	draw_box(a, y, x, h, w);
	draw_text(a, THEME_DIALOG, y + 1, x + 2, w - 4, d->title);
	draw_text(a, THEME_DIALOG, y + 2, x + 2, w - 4, d->text);
	if (d->expect[0]) {
		snprintf(buf, sizeof buf, "Type the endpoint's name to confirm: %s_", d->typed);
		draw_text(a, THEME_DIALOG, y + 4, x + 2, w - 4, buf);
	}
	for (int i = 0; i < d->nbuttons; i++) {
		snprintf(buf, sizeof buf, "[ %s ]", d->buttons[i]);
		bx += draw_text(a, i == d->focus ? THEME_DIALOG_FOCUS : THEME_DIALOG, y + h - 2, bx,
				x + w - 2 - bx, buf) +
		      2;
	}
}
