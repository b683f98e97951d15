/*
 * data.h: what the screens share to load through the API client (never the
 * runtime directly), always in the background (fetch.h): a job's calls run
 * on a worker, its result comes back on the console's thread, where it is
 * checked against what is on screen now (an answer for an endpoint no
 * longer open is dropped). JSON member lookups and cell formatting too.
 * Console thread only, except the data_worker_* functions (worker thread).
 */
#ifndef UI_CONSOLE_DATA_H
#define UI_CONSOLE_DATA_H

#include "ui/console/app.h"
#include "ui/console/fetch.h"

/* One call in the background. */
struct data_call {
	struct fetch_job job; /* job.rc, job.err: the outcome */
	char method[8];
	char path[512];
	char *body;    /* JSON text or NULL */
	int raw;       /* GET base URL + path exactly, the answer in text */
	int list;      /* GET of a list: every page (nextLink), as {"value": [...]} */
	cJSON *out;    /* the answer (then may take it and set NULL) */
	char *text;    /* raw: the answer's text */
	char tag[160]; /* the caller's: what the answer is for */
	void (*then)(struct app *a, struct data_call *c);
};

/* Queues j on the connection's pool (released at once when there is no
 * connection, with a message). */
void data_submit(struct app *a, struct fetch_job *j);
/* method path (workspace-relative) in the background; then(a, call) runs
 * on the console's thread. key coalesces ("" for none); tag is copied into
 * the call for then to check. */
void data_call(struct app *a, const char *key, const char *method, const char *path,
	       const cJSON *body, const char *tag,
	       void (*then)(struct app *a, struct data_call *c));
/* GET base URL + path exactly (a /v1/... route) in the background; then
 * finds the answer's text in c->text. As data_call otherwise. */
void data_get(struct app *a, const char *key, const char *path, const char *tag,
	      void (*then)(struct app *a, struct data_call *c));
/* A list (path workspace-relative) in the background, page after page
 * (client_list); otherwise as data_call with GET. */
void data_list(struct app *a, const char *key, const char *path, const char *tag,
	       void (*then)(struct app *a, struct data_call *c));
/* The message line for a failed job: "GET /x: 404 reason" or the reason. */
void data_report(struct app *a, const char *method, const char *path, const struct fetch_job *j);
/* The endpoint a->endpoint and its deployments in the background: on
 * success a->endpoint_doc, a->scoring_uri and a->dep are set (pending
 * shares kept when the set is unchanged) and then(a, deployments list)
 * runs (the list is the caller's); on failure the message line says why
 * and then(a, NULL) runs. Dropped when another endpoint is open by then. */
void data_load_endpoint(struct app *a, const char *key, void (*then)(struct app *a, cJSON *deps));
/* Every version of every model ("models") or environment ("environments")
 * in the background; then(a, versions) with a JSON array whose elements
 * carry the container's name in "_name" (the caller's), or NULL on failure
 * (message set). */
void data_load_assets(struct app *a, const char *kind,
		      void (*then)(struct app *a, cJSON *versions));
#define DATA_MONITOR_MINUTES 10 /* Azure Monitor's history in the latency pane */

/* The metrics the active screen asks for into a->live, then the screen
 * refills its columns: the runtime's per-second figures, or on Azure those
 * of Azure Monitor (per minute, asked once a minute, for the endpoint the
 * screen focuses on only). */
void data_load_live(struct app *a);
/* The rows on screen changed (a list came): when a->live does not answer
 * the active screen's query, it is asked for at the loop's next turn, not
 * at the next second. */
void data_live_refresh(struct app *a);
/* The header's state: connection state, backend state (waiting N s,
 * UNREACHABLE: reason) and, when it is stale, the age of the data shown. */
void data_state(struct app *a, char *buf, size_t len);

/* The endpoint names the Endpoints screen holds, each given to add (":dep",
 * ":test" and ":logs" complete them). */
void data_endpoint_names(struct app *a, void (*add)(void *ctx, const char *word), void *ctx);

/* ".../models/NAME/versions/V" or "azureml:NAME:V" -> "NAME:V". */
void data_asset_short(const char *id, char *buf, size_t len);
/* Object member lookups by "a.b.c" path that tolerate NULL and wrong types. */
const cJSON *data_member(const cJSON *o, const char *path);
const char *data_str(const cJSON *o, const char *path);
double data_num(const cJSON *o, const char *path);
/* The theme element of a provisioning state (Succeeded, Failed, ...). */
int data_state_style(const char *state);
/* The STATE cell of the row of endpoint ep (dep NULL) or its deployment
 * dep: a running operation's state and time (ops.h) when there is one,
 * else state (NULL: the cell is left as it is); the style follows. */
void data_state_cell(struct app *a, struct table_row *r, int col, const char *state,
		     const char *ep, const char *dep);
/* Copies src into a table cell, cut to fit. */
void data_cell(char *cell, const char *src);
/* A number cell: decimals digits (-1: by magnitude), "%" when pct, "-" for NaN. */
void data_set_num(struct table_row *r, int col, double v, int decimals, int pct);
/* Four cells from column rps on: requests/s, p50, p99, error % (s may be NULL). */
void data_fill_stats(struct table_row *r, int rps, const struct live_stats *s);
/* "blue 90 green 10" from a traffic map ("-" when empty). */
void data_traffic_text(const cJSON *traffic, char *buf, size_t len);

#endif
