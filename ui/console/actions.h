/*
 * actions.h: what the console's keys and commands do. One handler per
 * keys_action, dispatched through a table; input modes (filter, command,
 * dialog, typed body) are handled here too. Console thread only.
 */
#ifndef UI_CONSOLE_ACTIONS_H
#define UI_CONSOLE_ACTIONS_H

#include "ui/console/app.h"

/* One key press in any mode. */
void actions_key(struct app *a, int ch);
/* A ":" command line ("theme light"). */
void actions_command(struct app *a, const char *line);
/* Switches screen, remembering the current one for Esc (push) or not. */
void actions_show(struct app *a, enum keys_screen s, int push);
/* Applies a theme by name; reports problems on the message line. */
int actions_theme(struct app *a, const char *name);
/* Bench progress on the message line while one runs; joins it when done. */
void actions_tick(struct app *a);
/* Stops a running bench (on quit or profile switch). */
void actions_stop_bench(struct app *a);

#endif
