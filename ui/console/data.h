/*
 * data.h: loading the console's screens through the API client (never the
 * runtime directly). Each loader replaces its table's rows and keeps the
 * answer for the detail pane; on failure it leaves the old rows, sets the
 * message line and returns -1. Console thread only.
 */
#ifndef UI_CONSOLE_DATA_H
#define UI_CONSOLE_DATA_H

#include "api/scoring.h"
#include "ui/console/app.h"

/* Column sets, set up once. */
void data_init_tables(struct app *a);
int data_load_endpoints(struct app *a);
/* Deployments of a->endpoint; keeps pending shares when the set is unchanged. */
int data_load_deployments(struct app *a);
int data_load_models(struct app *a);
int data_load_envs(struct app *a);
void data_load_profiles(struct app *a);
void data_load_themes(struct app *a);
/* Tail of a->logs' deployment log. */
int data_load_logs(struct app *a);
/* GET /v1/metrics?window=60 into a->live and the latency columns. Silent when
 * the backend has no such route (Azure). */
int data_load_live(struct app *a);
/* Refills the latency columns of the Endpoints and Deployments tables. */
void data_fill_live(struct app *a);
/* Header state after a call: "UNREACHABLE" when the backend did not answer,
 * back to "connected" / "embedded runtime" once it does. */
void data_reachable(struct app *a, int ok);
/* Loads whatever the current screen shows. */
int data_load_screen(struct app *a);
/* Where and with which credential endpoint ep is scored (api/scoring.h:
 * through the profile's transport, by the endpoint's authMode). 0, or -1 with
 * the message shown. */
int data_endpoint_key(struct app *a, const char *ep, struct scoring_target *t);
/* ".../models/NAME/versions/V" or "azureml:NAME:V" -> "NAME:V". */
void data_asset_short(const char *id, char *buf, size_t len);
/* Object member lookups that tolerate NULL and wrong types. */
const char *data_str(const cJSON *o, const char *path);
double data_num(const cJSON *o, const char *path);

#endif
