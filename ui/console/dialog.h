/*
 * dialog.h: the console's modal dialogs: a title, a line of text, buttons
 * (Tab, Left/Right, or h/l move the focus; Enter presses the focused one;
 * Esc presses the safe one) and, for deleting an endpoint, a name to type.
 * Two kinds: the delete confirmation (Cancel focused; the DELETE goes out
 * only on an explicit Delete) and the question of screen.c when pending
 * changes would be left behind (Apply / Discard / Stay, Stay focused).
 * Console thread only.
 */
#ifndef UI_CONSOLE_DIALOG_H
#define UI_CONSOLE_DIALOG_H

struct app;

#define DIALOG_MAX_BUTTONS 3

/* Opens a dialog: buttons (at most DIALOG_MAX_BUTTONS, static strings),
 * focus and safe (Esc) button indexes; choose(a, button) runs when one is
 * pressed, after the dialog closed. */
void dialog_open(struct app *a, const char *title, const char *text, const char *const *buttons,
		 int nbuttons, int focus, int safe, void (*choose)(struct app *a, int button));
/* The delete confirmation of `what` ("endpoint churn"): one line of text,
 * the workspace-relative DELETE path, and the name to type ("" when none).
 * On Delete the request goes out and the active screen reloads. */
void dialog_delete(struct app *a, const char *what, const char *text, const char *path,
		   const char *expect);
/* One key while a dialog is open. */
void dialog_key(struct app *a, int ch);
/* Draws the open dialog over the frame. */
void dialog_draw(struct app *a);

#endif
