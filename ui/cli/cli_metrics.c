/* cli_metrics.c: `mldeck metrics EP`: live latency, labelled with where it comes from. */
#include "ui/cli/cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/monitor.h"

#define CLI_METRICS_LOCAL_MAX_S 300 /* the runtime keeps five minutes per second */

static double cli_metrics_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* One right-aligned column: an integer count or a 2-decimal value, "-" for none. */
static void cli_metrics_cell(double v, int decimals)
{
	if (isnan(v))
		printf("%10s", "-");
	else
		printf("%10.*f", decimals, v);
}

static void cli_metrics_row(const char *name, const cJSON *o, int azure)
{
	static const char *const keys[] = {"p50", "p90", "p95", "p99"};

	printf("%-20s", name);
	cli_metrics_cell(cli_metrics_num(o, "requests"), 0);
	cli_metrics_cell(cli_metrics_num(o, "rps"), 2);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (azure || strcmp(keys[i], "p95") != 0)
			cli_metrics_cell(cli_metrics_num(o, keys[i]), 2);
	if (!azure)
		cli_metrics_cell(cli_metrics_num(o, "errors"), 0);
	printf("\n");
}

static void cli_metrics_print(const cJSON *doc, const char *ep, int azure, long span)
{
	const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "endpoints"), 0);
	const cJSON *d;

	if (azure)
		printf("%s: the latest minute with requests, of the last %ld min\n", MONITOR_LABEL,
		       span);
	else
		printf("mldeck runtime, 1 s: the last %ld s\n", span);
	printf("%-20s%10s%10s%10s%10s%s%10s%s\n", "DEPLOYMENT", azure ? "REQ/MIN" : "REQUESTS",
	       "RPS", "P50 ms", "P90 ms", azure ? "    P95 ms" : "", "P99 ms",
	       azure ? "" : "    ERRORS");
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(e, "deployments"))
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "name");
		cli_metrics_row(cJSON_IsString(n) ? n->valuestring : "?", d, azure);
	}
	if (e != NULL)
		cli_metrics_row(ep, e, azure);
}

/* The runtime's per-second view, with the same labels as Azure's. */
static int cli_metrics_local(struct client *cl, const char *ep, long secs, cJSON **out,
			     struct error *err)
{
	char path[300], e[200], *text = NULL;
	size_t len;

	snprintf(path, sizeof path, "/v1/metrics?window=%ld&endpoint=%s", secs,
		 cli_esc(e, sizeof e, ep));
	if (client_get_text(cl, path, &text, &len, err) < 0)
		return -1;
	*out = cJSON_ParseWithLength(text, len);
	free(text);
	if (*out == NULL)
		return error_set(err, 502, "BadResponse", "the runtime's metrics are not JSON");
	cJSON_AddStringToObject(*out, "source", "mldeck runtime");
	cJSON_AddNumberToObject(*out, "grainSeconds", 1);
	return 0;
}

static int cli_metrics(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char msg[200];
	long minutes = 10, secs = 60;
	struct error err = {0};
	cJSON *doc = NULL;
	int azure = cli_is_azure(c);

	if (cli_args_long(a, "--minutes", 1, MONITOR_MAX_MINUTES, &minutes, msg, sizeof msg) < 0 ||
	    cli_args_long(a, "--seconds", 1, CLI_METRICS_LOCAL_MAX_S, &secs, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg);
	struct client *cl = cli_client(c, &err);
	if (cl == NULL ||
	    (azure ? monitor_fetch(cl, a->pos[0], (int)minutes, time(NULL), &doc, &err)
		   : cli_metrics_local(cl, a->pos[0], secs, &doc, &err)) < 0)
		return cli_fail(&err);
	if (c->json)
		cli_out_json(doc);
	else
		cli_metrics_print(doc, a->pos[0], azure, azure ? minutes : secs);
	cJSON_Delete(doc);
	return CLI_OK;
}

const struct cli_verb cli_metrics_verbs[] = {
    {"metrics", NULL, cli_metrics, "metrics EP [--minutes N] [--seconds N]",
     "an endpoint's latency and request rate per deployment: from the runtime per second "
     "(the last --seconds, default 60), or on Azure from Azure Monitor per minute (the "
     "latest minute with requests of the last --minutes, default 10)",
     "--minutes= --seconds=", 1, 1, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
