/*
 * dialog.h: the delete confirmation: Cancel focused, Tab or the arrows move
 * the focus, Enter runs the focused button, Esc cancels; a name to type
 * when asked. The DELETE goes out only on an explicit Delete. Console
 * thread only.
 */
#ifndef UI_CONSOLE_DIALOG_H
#define UI_CONSOLE_DIALOG_H

struct app;

/* Opens the dialog: title ("Delete endpoint x?"), one line of text, the
 * workspace-relative DELETE path, and the name to type ("" when none). */
void dialog_delete(struct app *a, const char *title, const char *text, const char *path,
		   const char *expect);
/* One key while the dialog is open. */
void dialog_key(struct app *a, int ch);
/* Draws the open dialog over the frame. */
void dialog_draw(struct app *a);

#endif
