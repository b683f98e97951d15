/*
 * live.h: the console's view of GET /v1/metrics?window=S (runtime/metrics.h
 * documents the JSON), or of Azure Monitor in the same shape (api/monitor.h:
 * "source" and "grainSeconds" say which; series are then per minute).
 * Parsing only; the console's thread owns a struct live.
 */
#ifndef UI_CONSOLE_LIVE_H
#define UI_CONSOLE_LIVE_H

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
};

/* Replaces *l's content with the parsed text; per-second series are kept
 * only for the deployments of endpoint series_for (may be NULL). 0, or -1
 * when the text is not the expected JSON (l->ok = 0, previous content freed). */
int live_parse(struct live *l, const char *json, const char *series_for);
void live_free(struct live *l);
/* The endpoint called name, or NULL. Looking endpoints up in the order of
 * the answer (the tables' server order) costs one comparison each. */
const struct live_endpoint *live_endpoint(struct live *l, const char *name);
const struct live_stats *live_deployment(const struct live_endpoint *e, const char *name);
const struct live_series *live_series_of(const struct live *l, const char *deployment);

#endif
