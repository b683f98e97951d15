/*
 * actions.h: the general meaning of the console's keys (the one a key has
 * when the active screen does not handle it: quit, help, move, filter,
 * sort, jump, back, logs, test, bench), the ":" commands, and the input
 * modes (filter, command, prompt, dialog, the demo question). Console
 * thread only.
 */
#ifndef UI_CONSOLE_ACTIONS_H
#define UI_CONSOLE_ACTIONS_H

#include "ui/console/app.h"
#include "ui/console/keys.h"

/* One key press in any mode. */
void actions_key(struct app *a, int ch);
/* The general meaning of binding b (screen.c calls it). */
void actions_run(struct app *a, const struct keys_binding *b);
/* A ":" command line ("theme light"). */
void actions_command(struct app *a, const char *line);
/* Esc: clears the active table's filter, else goes back a screen. */
void actions_back(struct app *a);
/* Applies a theme by name; reports problems on the message line. */
int actions_theme(struct app *a, const char *name);

#endif
