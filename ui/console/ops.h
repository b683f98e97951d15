/*
 * ops.h: the changes the console makes, followed as the long-running
 * operations they are (api/lro.h) without ever blocking: the request, and
 * then each poll when its time comes (the answer's Retry-After, else the
 * operation's own interval), is a fetch job (fetch.h). While an operation
 * runs, the row of its endpoint or deployment shows its state and elapsed
 * time ("Updating 12s", ops_row_state); when it ends the message line says
 * how (the service's error when it failed) and the screen reloads.
 *
 * An mldeck runtime that answers at once (or a delete of a model version)
 * ends at the first answer; the same code path serves both backends.
 *
 * Console thread only; the polls run on fetch workers with their own copy
 * of the operation.
 */
#ifndef UI_CONSOLE_OPS_H
#define UI_CONSOLE_OPS_H

#include <cjson/cJSON.h>

#include "ui/console/app.h"

/* Called once the change was answered: ok 1 when it was accepted (it may
 * still run), else 0 with err (the refusal). tag is the caller's. */
typedef void (*ops_accepted_fn)(struct app *a, int ok, const struct error *err,
				const char *tag);

/* What a change is called on the message line: what while it runs or when
 * it fails ("traffic of churn"), done when it succeeded ("traffic applied");
 * accepted (may be NULL) is told when the request was answered, with tag. */
struct ops_names {
	const char *what, *done;
	ops_accepted_fn accepted;
	const char *tag;
};

/* method on path (workspace-relative) with body (may be NULL), followed
 * until it ends; the row it shows on comes from the path
 * (/onlineEndpoints/EP[/deployments/D]). */
void ops_start(struct app *a, const char *method, const char *path, const cJSON *body,
	       const struct ops_names *n);
/* An endpoint change as Azure takes it: GET path, then PUT it whole with the
 * members of props (e.g. {"traffic":{...},"mirrorTraffic":{...}}) replaced
 * in its properties (api/azure.h azure_endpoint_body). */
void ops_update_endpoint(struct app *a, const char *path, const cJSON *props,
			 const struct ops_names *n);
/* Polls the operations whose time has come (call it every turn of the loop). */
void ops_tick(struct app *a);
/* "Updating 12s" when an operation runs on endpoint ep (dep "" or NULL) or
 * its deployment dep: 1, else 0. */
int ops_row_state(struct app *a, const char *ep, const char *dep, char *buf, size_t len);
/* How many operations run. */
int ops_running(struct app *a);
/* Forgets them all (profile switch, quit); polls on their way are dropped. */
void ops_clear(struct app *a);

#endif
