/*
 * screens/assets.h: what the Models and Environments screens share: one row
 * per version, the version's detail, deleting a version. Console thread.
 */
#ifndef UI_CONSOLE_SCREENS_ASSETS_H
#define UI_CONSOLE_SCREENS_ASSETS_H

#include "ui/console/screen.h"

struct app;

/* One row per version of versions (data_load_assets's array): NAME, VER
 * (cells 0 and 1), key "NAME:VER", idx into versions. */
void assets_rows(struct table *t, const cJSON *versions);
/* The detail pane of the selected version. */
void assets_draw(struct app *a, struct screen_state *st, struct rect r);
/* Asks to delete the selected version; kind is "model" or "environment". */
void assets_delete(struct app *a, struct screen_state *st, const char *kind);

#endif
