/*
 * data.h: what the screens share to load through the API client (never the
 * runtime directly): calls that report on the message line and the header,
 * JSON member lookups, cell formatting, the open endpoint and its
 * deployments, asset versions, live metrics and an endpoint's key. Loaders
 * leave the old content on failure, set the message line and return -1.
 * Console thread only.
 */
#ifndef UI_CONSOLE_DATA_H
#define UI_CONSOLE_DATA_H

#include "api/scoring.h"
#include "ui/console/app.h"

/* method path through a->c. 0 (and *out, the caller's, when asked), or -1
 * with the message line set and the header marked UNREACHABLE when the
 * backend did not answer. */
int data_call(struct app *a, const char *method, const char *path, const cJSON *body, cJSON **out);
/* GET {ws}/onlineEndpoints/{a->endpoint} and its deployments: a->endpoint_doc,
 * a->scoring_uri and a->dep (pending shares kept when the set is unchanged).
 * 0 with *deployments (the list answer, the caller's), or -1. */
int data_load_endpoint(struct app *a, cJSON **deployments);
/* Every version of every model ("models") or environment ("environments")
 * as rows of t ("NAME", "VER" cells; key "NAME:VER"); *doc becomes the
 * array of versions the rows' idx point into. */
int data_load_assets(struct app *a, const char *kind, struct table *t, cJSON **doc);
/* GET the metrics the active screen asks for into a->live, then lets the
 * screen refill its columns. Silent when the backend has no such route
 * (Azure). */
int data_load_live(struct app *a);
/* Header state after a call: "UNREACHABLE" when the backend did not answer,
 * back to "connected" / "embedded runtime" once it does. */
void data_reachable(struct app *a, int ok);
/* Where and with which credential endpoint ep is scored (api/scoring.h:
 * through the profile's transport, by the endpoint's authMode). 0, or -1 with
 * the message shown. */
int data_endpoint_key(struct app *a, const char *ep, struct scoring_target *t);

/* ".../models/NAME/versions/V" or "azureml:NAME:V" -> "NAME:V". */
void data_asset_short(const char *id, char *buf, size_t len);
/* Object member lookups by "a.b.c" path that tolerate NULL and wrong types. */
const cJSON *data_member(const cJSON *o, const char *path);
const char *data_str(const cJSON *o, const char *path);
double data_num(const cJSON *o, const char *path);
/* The theme element of a provisioning state (Succeeded, Failed, ...). */
int data_state_style(const char *state);
/* Copies src into a table cell, cut to fit. */
void data_cell(char *cell, const char *src);
/* A number cell: decimals digits (-1: by magnitude), "%" when pct, "-" for NaN. */
void data_set_num(struct table_row *r, int col, double v, int decimals, int pct);
/* Four cells from column rps on: requests/s, p50, p99, error % (s may be NULL). */
void data_fill_stats(struct table_row *r, int rps, const struct live_stats *s);
/* "blue 90 green 10" from a traffic map ("-" when empty). */
void data_traffic_text(const cJSON *traffic, char *buf, size_t len);

#endif
