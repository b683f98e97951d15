/*
 * demo.h: the demo workspace (issue 4 "It runs with nothing set up"): the
 * three models shipped in demo/models registered twice each (versions 1 and
 * 2), a native environment, three endpoints with blue and green deployments
 * (digits 90/10, fraud 100 with a 20 % mirror to green, churn 50/50), a
 * gentle background load (about 4 requests/s over the endpoints), the
 * monitoring side (issue 12): churn's deployments collect, data asset
 * churn-train (demo/data/churn-train.csv), monitor churn-drift on churn/blue
 * every minute, and a load whose churn rows drift (feature 10 up one standard
 * deviation per $MLDECK_DEMO_DRIFT_SECONDS), and the batch side (issue 11):
 * batch endpoint churn-batch (deployment weekly, the churn model), data asset
 * customers (demo/data/customers, 6,000 rows), a schedule weekly-churn
 * (Mondays 03:15 Pacific) run once at build time.
 * Everything goes through the API client, like any other client.
 */
#ifndef UI_CONSOLE_DEMO_H
#define UI_CONSOLE_DEMO_H

#include <stddef.h>

#include "api/client.h"
#include "api/connect.h"

struct demo;

/* The demo directory: $MLDECK_DEMO_DIR, else the executable's directory +
 * "/demo". -1 when it has no models/ subdirectory. */
int demo_dir(char *buf, size_t len);
/* 1 when the workspace has no endpoint and no model (0 otherwise or on error). */
int demo_workspace_empty(struct client *c);
/* Builds the workspace (blocking, up to about a minute while deployments come
 * up); what exists already is kept. progress(ctx, text) is called between
 * steps (may be NULL). 0, or -1 with err. Console thread. */
int demo_build(struct client *c, const char *dir, void (*progress)(void *ctx, const char *text),
	       void *ctx, struct error *err);
/* Starts the background load on the demo endpoints with its own client made
 * from info (c is used only to read scoring URIs and keys). NULL when nothing
 * could be started. */
struct demo *demo_load_start(struct client *c, const struct connect_info *info, const char *dir);
/* Stops and joins the load thread. NULL is a no-op. */
void demo_load_stop(struct demo *d);
/* Requests sent by the load so far. */
long demo_load_sent(const struct demo *d);

struct app;

/* The console's --demo and `y`: builds the workspace and starts the load in
 * the background (fetch.h); the message line says when it is ready (then
 * a->demo holds the load). Console thread. */
void demo_run(struct app *a);
/* Asks the backend whether the workspace is empty; when it is, the console
 * asks whether to build the demo (APP_DEMO_ASK). Console thread. */
void demo_offer(struct app *a);

#endif
