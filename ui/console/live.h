/*
 * live.h: the console's view of GET /v1/metrics?window=S (runtime/metrics.h
 * documents the JSON), or of Azure Monitor in the same shape (api/monitor.h:
 * "source" and "grainSeconds" say which; series are then per minute).
 * Parsing only; the console's thread owns a struct live.
 */
#ifndef UI_CONSOLE_LIVE_H
#define UI_CONSOLE_LIVE_H

#include <stddef.h>

#define LIVE_SERIES 60
#define LIVE_MAX_DEPS 16

struct live_stats {
	char name[64];
	long requests, errors;
	double rps, p50, p99, err_rate; /* ms; NaN when the window had no request (err_rate:
					   also when the source does not count errors) */
};

/* Per-second history of one deployment (only for the focused endpoint). */
struct live_series {
	char name[64];
	double p50s[LIVE_SERIES], p99s[LIVE_SERIES]; /* oldest first; NaN = no request */
	int n;
};

struct live_endpoint {
	struct live_stats total;
	struct live_stats *deps; /* ndeps of them (heap), NULL when the answer lists none */
	int ndeps;
};

struct live {
	struct live_endpoint *eps;
	int n;
	int ok;					  /* the last parse succeeded */
	char source[32];			  /* "mldeck runtime", "Azure Monitor" */
	int grain_s;				  /* a series entry covers this many seconds */
	struct live_series series[LIVE_MAX_DEPS]; /* of series_for's deployments */
	int nseries;
	int next; /* where live_endpoint looks first: after its last find */
	char *query; /* the query it answers (heap), NULL when none */
};

#define LIVE_QUERY_MAX 3800 /* a query path, within the client's URL limit */

/* Replaces *l's content with the parsed text; per-second series are kept
 * only for the deployments of endpoint series_for (may be NULL). 0, or -1
 * when the text is not the expected JSON (l->ok = 0, previous content freed). */
int live_parse(struct live *l, const char *json, const char *series_for);
void live_free(struct live *l);
/* Records the query l answers: which endpoints (those of its endpoints
 * list, or every one when it has none), and for live_answers. */
void live_set_query(struct live *l, const char *path);
/* 1 when l holds the answer to query path exactly. */
int live_answers(const struct live *l, const char *path);
/* 1 when l answers for endpoint name (an endpoint it does not list then has
 * no figures); 0 when it was not asked about. */
int live_covers(const struct live *l, const char *name);
/* Appends "&endpoints=" and the n names, comma separated, to the query in
 * path: the runtime then answers for those only. 0, or -1 with path
 * unchanged when they do not fit in len or a name is not a plain endpoint
 * name (then ask for all). */
int live_query_endpoints(char *path, size_t len, const char *const *names, int n);
/* 1 when queries x and y differ at most in their endpoints lists. */
int live_query_same(const char *x, const char *y);
/* The endpoint called name, or NULL. Looking endpoints up in the order of
 * the answer (the tables' server order) costs one comparison each. */
const struct live_endpoint *live_endpoint(struct live *l, const char *name);
const struct live_stats *live_deployment(const struct live_endpoint *e, const char *name);
const struct live_series *live_series_of(const struct live *l, const char *deployment);

#endif
