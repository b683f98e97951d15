/* dialog.c: the delete confirmation. */
#include "ui/console/dialog.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"
#include "ui/console/screen.h"

#define ESC 27

void dialog_delete(struct app *a, const char *title, const char *text, const char *path,
		   const char *expect)
{
	struct app_dialog *d = &a->dialog;

	memset(d, 0, sizeof *d);
	app_copy(d->title, sizeof d->title, title);
	app_copy(d->text, sizeof d->text, text);
	app_copy(d->path, sizeof d->path, path);
	app_copy(d->expect, sizeof d->expect, expect);
	a->mode = APP_DIALOG;
}

static void dialog_confirm(struct app *a)
{
	struct app_dialog *d = &a->dialog;
	struct error err = {0};

	if (d->focus == 0) {
		a->mode = APP_NORMAL;
		app_message(a, 0, "cancelled: nothing deleted");
		return;
	}
	if (d->expect[0] && strcmp(d->typed, d->expect) != 0) {
		app_message(a, 1, "type the endpoint's name exactly to delete it");
		return;
	}
	a->mode = APP_NORMAL;
	if (client_call(a->c, "DELETE", d->path, NULL, NULL, &err) < 0) {
		app_message(a, 1, "refused (%d %s): %s", err.status, err.code, err.message);
		return;
	}
	app_message(a, 0, "deleted: %s", d->title + 7);
	screen_load(a);
}

void dialog_key(struct app *a, int ch)
{
	struct app_dialog *d = &a->dialog;
	size_t n = strlen(d->typed);

	if (ch == ESC) {
		a->mode = APP_NORMAL;
		app_message(a, 0, "cancelled: nothing deleted");
	} else if (ch == '\t' || ch == KEY_LEFT || ch == KEY_RIGHT || ch == KEY_BTAB) {
		d->focus = !d->focus;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		dialog_confirm(a);
	} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0) {
		d->typed[n - 1] = '\0';
	} else if (d->expect[0] && ch > 32 && ch < 127 && n + 1 < sizeof d->typed) {
		d->typed[n] = (char)ch;
		d->typed[n + 1] = '\0';
	} else if (!d->expect[0] && (ch == 'h' || ch == 'l')) {
		d->focus = !d->focus;
	}
}

void dialog_draw(struct app *a)
{
	struct app_dialog *d = &a->dialog;
	int w = a->cols - 8 > 70 ? 70 : a->cols - 8, h = d->expect[0] ? 9 : 7;
	int x = (a->cols - w) / 2, y = (a->lines - h) / 2;
	char buf[200];

	draw_box(a, y, x, h, w);
	draw_text(a, THEME_DIALOG, y + 1, x + 2, w - 4, d->title);
	draw_text(a, THEME_DIALOG, y + 2, x + 2, w - 4, d->text);
	if (d->expect[0]) {
		snprintf(buf, sizeof buf, "Type the endpoint's name to confirm: %s_", d->typed);
		draw_text(a, THEME_DIALOG, y + 4, x + 2, w - 4, buf);
	}
	draw_text(a, d->focus == 0 ? THEME_DIALOG_FOCUS : THEME_DIALOG, y + h - 2, x + 2, 10,
		  "[ Cancel ]");
	draw_text(a, d->focus == 1 ? THEME_DIALOG_FOCUS : THEME_DIALOG, y + h - 2, x + 14, 10,
		  "[ Delete ]");
}
