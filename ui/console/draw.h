/*
 * draw.h: painting the console with curses. Each frame is drawn into
 * stdscr after erase() and sent with one refresh(), so curses writes only
 * the cells that changed (no clear(), no clearok()). Console thread only.
 */
#ifndef UI_CONSOLE_DRAW_H
#define UI_CONSOLE_DRAW_H

#include "ui/console/app.h"

/* Colour pairs for a->theme: none with NO_COLOR or a terminal without
 * colours, 256-colour values folded to 8 on an 8-colour terminal. Call after
 * initscr and after every theme switch. */
void draw_theme(struct app *a);
/* One whole frame. */
void draw_frame(struct app *a);

#endif
