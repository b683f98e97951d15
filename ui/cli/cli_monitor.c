/* cli_monitor.c: `mldeck monitor ...` (monitors are schedules with a CreateMonitor action) and
 * `mldeck data collected` (the rows a deployment's data collector wrote). */
#include "ui/cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/monitordef.h"
#include "state/file.h"

#define CLI_MON_WAIT_S 600
#define CLI_MON_POLL_MS 200

static void cli_mon_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- building a monitor ---------------------------------------------------- */

/* The schedule resource `monitor create` PUTs, from its options; NULL with a
 * message in msg when --signals names an unknown kind. */
static cJSON *cli_mon_body(const char *ep, const char *dep, const struct cli_args *a, char *msg,
			   size_t mlen)
{
	struct monitor_spec s = {
	    .endpoint = ep,
	    .deployment = dep,
	    .signals = cli_args_get(a, "--signals"),
	    .window = cli_args_get(a, "--window"),
	    .reference = cli_args_get(a, "--reference"),
	    .prediction_reference = cli_args_get(a, "--prediction-reference"),
	    .numerical_metric = cli_args_get(a, "--numerical-metric"),
	    .categorical_metric = cli_args_get(a, "--categorical-metric"),
	    .threshold = cli_args_get(a, "--threshold"),
	    .cron = cli_args_get(a, "--cron"),
	    .every = cli_args_get(a, "--every"),
	};
	const char *hook;

	while (s.nwebhooks < MONITOR_SPEC_WEBHOOKS &&
	       (hook = cli_args_nth(a, "--webhook", (int)s.nwebhooks)) != NULL)
		s.webhooks[s.nwebhooks++] = hook;
	return monitor_schedule_body(&s, msg, mlen);
}

/* ---- verbs ---------------------------------------------------------------- */

static const char *cli_mon_path(char *buf, size_t len, const char *name, const char *suffix)
{
	char e[400];

	snprintf(buf, len, "/schedules/%s%s", cli_esc(e, sizeof e, name), suffix);
	return buf;
}

static int cli_mon_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *file = cli_args_get(a, "--file");
	struct error err = {0};
	struct client *cl;
	char path[600], msg[200];
	cJSON *body, *out = NULL;

	if (file != NULL) {
		size_t len;
		char *text = file_read(file, 1 << 20, &len);
		body = text ? cJSON_Parse(text) : NULL;
		free(text);
		if (body == NULL)
			return cli_usage(v, "%s is not a JSON schedule (Azure's shape)", file);
	} else {
		if (a->npos < 3)
			return cli_usage(v, "give NAME EP DEP, or --file");
		if (cli_args_get(a, "--reference") == NULL)
			return cli_usage(v, "--reference names the training data (azureml:NAME:V or "
					    "a path on the runtime's host)");
		if ((body = cli_mon_body(a->pos[1], a->pos[2], a, msg, sizeof msg)) == NULL)
			return cli_usage(v, "%s", msg);
	}
	cl = cli_client(c, &err);
	if (cl == NULL || client_call(cl, "PUT", cli_mon_path(path, sizeof path, a->pos[0], ""),
				      body, &out, &err) < 0) {
		cJSON_Delete(body);
		return cli_fail(&err);
	}
	cJSON_Delete(body);
	if (c->json)
		cli_out_json(out);
	else
		printf("monitor %s created\n", a->pos[0]);
	cJSON_Delete(out);
	return CLI_OK;
}

static void cli_mon_fmt_target(const cJSON *node, char *buf, size_t len)
{
	const cJSON *ep = cJSON_GetObjectItem(node, "endpoint"), *d = cJSON_GetObjectItem(node, "deployment");

	snprintf(buf, len, "%s/%s", cJSON_GetStringValue(ep) ? ep->valuestring : "",
		 cJSON_GetStringValue(d) ? d->valuestring : "");
}

static void cli_mon_fmt_status(const cJSON *node, char *buf, size_t len)
{
	const cJSON *lr = cJSON_GetObjectItem(node, "lastRun");
	const cJSON *ms = cJSON_GetObjectItem(lr, "monitorStatus"), *st = cJSON_GetObjectItem(lr, "status");

	snprintf(buf, len, "%s", cJSON_IsString(ms) ? ms->valuestring
				 : cJSON_IsString(st) ? st->valuestring
						      : "-");
}

static const struct cli_col cli_mon_cols[] = {
    {"NAME", "name", NULL},
    {"TARGET", NULL, cli_mon_fmt_target},
    {"LAST RUN", "lastRun.time", NULL},
    {"STATUS", NULL, cli_mon_fmt_status},
    {"NEXT RUN", "nextRun", NULL},
};

/* GET /v1/monitors (all monitors, their last runs). */
static int cli_mon_status(struct cli *c, cJSON **out, struct error *err)
{
	struct client *cl = cli_client(c, err);
	char *text = NULL;
	size_t len;

	if (cl == NULL || client_get_text(cl, "/v1/monitors", &text, &len, err) < 0)
		return -1;
	*out = cJSON_Parse(text);
	free(text);
	return *out ? 0 : error_set(err, 502, "BadAnswer", "the runtime's answer is not JSON");
}

static int cli_mon_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	cJSON *doc = NULL;

	(void)v;
	(void)a;
	if (cli_mon_status(c, &doc, &err) < 0)
		return cli_fail(&err);
	return cli_show(c, cli_mon_cols, sizeof cli_mon_cols / sizeof cli_mon_cols[0], NULL, 0,
			doc);
}

static const struct cli_col cli_mon_detail[] = {
    {"name", "name", NULL},
    {"enabled", "properties.isEnabled", NULL},
    {"trigger", "properties.trigger", NULL},
    {"next run", "properties.nextRunTime", NULL},
    {"target", "properties.action.monitorDefinition.monitoringTarget.deploymentId", NULL},
    {"signals", "properties.action.monitorDefinition.signals", NULL},
    {"id", "id", NULL},
};

static int cli_mon_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	struct client *cl = cli_client(c, &err);
	char path[600];
	cJSON *doc = NULL;

	(void)v;
	if (cl == NULL ||
	    client_call(cl, "GET", cli_mon_path(path, sizeof path, a->pos[0], ""), NULL, &doc,
			&err) < 0)
		return cli_fail(&err);
	return cli_show(c, NULL, 0, cli_mon_detail, sizeof cli_mon_detail / sizeof cli_mon_detail[0],
			doc);
}

static int cli_mon_delete(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	char path[600], what[300];
	struct client *cl;

	snprintf(what, sizeof what, "delete monitor %s", a->pos[0]);
	if (cli_confirm(v, a, what) != CLI_OK)
		return CLI_USAGE;
	cl = cli_client(c, &err);
	if (cl == NULL || client_call(cl, "DELETE", cli_mon_path(path, sizeof path, a->pos[0], ""),
				      NULL, NULL, &err) < 0)
		return cli_fail(&err);
	if (!c->json)
		printf("monitor %s deleted\n", a->pos[0]);
	return CLI_OK;
}

/* ---- results -------------------------------------------------------------- */

/* One table row per signal, feature and metric of a run's results. */
static cJSON *cli_mon_rows(const cJSON *results)
{
	cJSON *rows = cJSON_CreateArray();
	const cJSON *sig, *f;

	cJSON_ArrayForEach(sig, cJSON_GetObjectItem(results, "signals"))
		cJSON_ArrayForEach(f, cJSON_GetObjectItem(sig, "features"))
	{
		cJSON *r = cJSON_Duplicate(f, 1);
		cJSON_AddStringToObject(r, "signal", sig->string);
		cJSON_AddItemToArray(rows, r);
	}
	return rows;
}

static void cli_mon_fmt_value(const cJSON *node, char *buf, size_t len)
{
	if (cJSON_IsNumber(node))
		snprintf(buf, len, "%.6g", node->valuedouble);
	else
		snprintf(buf, len, "-");
}

static void cli_mon_fmt_passed(const cJSON *node, char *buf, size_t len)
{
	snprintf(buf, len, "%s", cJSON_IsTrue(node) ? "ok" : "FAILED");
}

static const struct cli_col cli_mon_result_cols[] = {
    {"SIGNAL", "signal", NULL},
    {"FEATURE", "feature", NULL},
    {"TYPE", "dataType", NULL},
    {"METRIC", "metric", NULL},
    {"VALUE", "value", cli_mon_fmt_value},
    {"THRESHOLD", "threshold", cli_mon_fmt_value},
    {"", "passed", cli_mon_fmt_passed},
};

/* A finished monitor job: its results (table or JSON), or its error. */
static int cli_mon_print_job(struct cli *c, cJSON *job)
{
	const cJSON *res = cli_out_at(job, "properties.outputs.results.value");
	const cJSON *st = cli_out_at(job, "properties.status");
	const cJSON *why = cli_out_at(job, "properties.properties.error");

	if (c->json) {
		cli_out_json(res ? res : job);
	} else if (res != NULL) {
		cJSON *rows = cli_mon_rows(res);
		printf("run %s: %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(job, "name")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(res, "status")));
		cli_out_table(cli_mon_result_cols,
			      sizeof cli_mon_result_cols / sizeof cli_mon_result_cols[0], rows);
		cJSON_Delete(rows);
	} else {
		printf("run %s: %s%s%s\n", cJSON_GetStringValue(cJSON_GetObjectItem(job, "name")),
		       cJSON_GetStringValue(st), why ? ": " : "", why ? cJSON_GetStringValue(why) : "");
	}
	return cJSON_IsString(st) && !strcmp(st->valuestring, "Failed") ? CLI_FAIL : CLI_OK;
}

static int cli_mon_job(struct cli *c, const char *job, cJSON **out, struct error *err)
{
	char path[600], e[400];
	struct client *cl = cli_client(c, err);

	snprintf(path, sizeof path, "/jobs/%s", cli_esc(e, sizeof e, job));
	return cl == NULL ? -1 : client_call(cl, "GET", path, NULL, out, err);
}

/* The newest run of monitor name, from /v1/monitors. */
static int cli_mon_last_job(struct cli *c, const char *name, char *job, size_t len,
			    struct error *err)
{
	const cJSON *m;
	cJSON *doc = NULL;
	int rc = error_set(err, 404, "NotFound", "monitor %s has not run yet", name);

	if (cli_mon_status(c, &doc, err) < 0)
		return -1;
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "value"))
	{
		const cJSON *j = cli_out_at(m, "lastRun.job");
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")), name) &&
		    cJSON_IsString(j)) {
			snprintf(job, len, "%s", j->valuestring);
			rc = 0;
		}
	}
	cJSON_Delete(doc);
	return rc;
}

static int cli_mon_results(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *given = cli_args_get(a, "--job");
	char job[300];
	struct error err = {0};
	cJSON *doc = NULL;
	int rc;

	(void)v;
	if (given)
		snprintf(job, sizeof job, "%s", given);
	else if (cli_mon_last_job(c, a->pos[0], job, sizeof job, &err) < 0)
		return cli_fail(&err);
	if (cli_mon_job(c, job, &doc, &err) < 0)
		return cli_fail(&err);
	rc = cli_mon_print_job(c, doc);
	cJSON_Delete(doc);
	return rc;
}

static int cli_mon_terminal(const cJSON *job)
{
	const char *s = cJSON_GetStringValue(cli_out_at(job, "properties.status"));

	return s && (!strcmp(s, "Completed") || !strcmp(s, "Failed") || !strcmp(s, "Canceled"));
}

static int cli_mon_run(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	struct client *cl = cli_client(c, &err);
	cJSON *body = cJSON_CreateObject(), *out = NULL, *job = NULL;
	char path[600], name[300];
	time_t deadline;
	int rc;

	(void)v;
	rc = cl == NULL ? -1
			: client_call(cl, "POST", cli_mon_path(path, sizeof path, a->pos[0], "/trigger"),
				      body, &out, &err);
	cJSON_Delete(body);
	if (rc < 0)
		return cli_fail(&err);
	snprintf(name, sizeof name, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(out, "submissionId")));
	cJSON_Delete(out);
	if (!cli_args_has(a, "--wait")) {
		if (c->json)
			printf("{\"job\": \"%s\"}\n", name);
		else
			printf("run %s queued (mldeck monitor results %s --job %s)\n", name, a->pos[0],
			       name);
		return CLI_OK;
	}
	for (deadline = time(NULL) + CLI_MON_WAIT_S;; cli_mon_sleep_ms(CLI_MON_POLL_MS)) {
		cJSON_Delete(job);
		job = NULL;
		if (cli_mon_job(c, name, &job, &err) < 0)
			return cli_fail(&err);
		if (cli_mon_terminal(job) || time(NULL) > deadline)
			break;
	}
	rc = cli_mon_print_job(c, job);
	cJSON_Delete(job);
	return rc;
}

/* ---- data collected ------------------------------------------------------- */

/* One record: JSON as the file holds it; or a line per row, after its time
 * and request id. */
static void cli_data_print(struct cli *c, const char *line, const cJSON *rec)
{
	const cJSON *data = cJSON_GetObjectItem(rec, "data"), *row;
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "time"));
	const char *rid = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "xrequestid"));
	char *text;

	if (c->json) {
		printf("%s\n", line);
		return;
	}
	if (!cJSON_IsArray(data)) {
		text = cJSON_PrintUnformatted(data);
		printf("%s %s %s\n", t ? t : "-", rid ? rid : "-", text ? text : "");
		free(text);
		return;
	}
	cJSON_ArrayForEach(row, data)
	{
		text = cJSON_PrintUnformatted(row);
		printf("%s %s %s\n", t ? t : "-", rid ? rid : "-", text ? text : "");
		free(text);
	}
}

/* Prints the records (a line each) after the one whose id is `after` (all
 * when it is not among them), and keeps the last id printed. */
static void cli_data_print_new(struct cli *c, char *text, char *after, size_t alen)
{
	char *line = text, *next, *start = text;
	const char *id;
	cJSON *rec;

	for (; after[0] && *line; line = next) { /* past the last record printed */
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (strstr(line, after) != NULL && strstr(line, after) < next)
			start = next;
	}
	for (line = start; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if ((rec = cJSON_Parse(line)) == NULL)
			continue;
		cli_data_print(c, line, rec);
		id = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "id"));
		snprintf(after, alen, "\"id\":\"%s\"", id ? id : "");
		cJSON_Delete(rec);
	}
	fflush(stdout);
}

static int cli_data_collected(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *coll = cli_args_get(a, "--collection") ? cli_args_get(a, "--collection")
							   : "model_inputs";
	char path[800], e1[200], e2[200], e3[200], last[80] = "", msg[200];
	struct error err = {0};
	struct client *cl = cli_client(c, &err);
	long lines = 10;

	if (cli_args_long(a, "--lines", 1, 1000, &lines, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg);
	if (cl == NULL)
		return cli_fail(&err);
	for (int first = 1;; first = 0) {
		char *text = NULL;
		size_t len;

		snprintf(path, sizeof path,
			 "/v1/collected?endpoint=%s&deployment=%s&collection=%s&lines=%ld",
			 cli_esc(e1, sizeof e1, a->pos[0]), cli_esc(e2, sizeof e2, a->pos[1]),
			 cli_esc(e3, sizeof e3, coll), first ? lines : 1000);
		if (client_get_text(cl, path, &text, &len, &err) < 0 &&
		    !(err.status == 404 && !first))
			return cli_fail(&err);
		if (text)
			cli_data_print_new(c, text, last, sizeof last);
		free(text);
		if (!cli_args_has(a, "--follow"))
			return CLI_OK;
		cli_mon_sleep_ms(1000);
	}
}

const struct cli_verb cli_monitor_verbs[] = {
    {"data", "collected", cli_data_collected,
     "data collected EP DEP [--collection model_inputs] [--lines N] [--follow]",
     "the last rows a deployment's data collector wrote; --follow goes on", "--collection= "
     "--lines= --follow", 2, 2, CLI_READS},
    {"monitor", "create", cli_mon_create,
     "monitor create NAME EP DEP --reference URI [--signals drift,quality,prediction] "
     "[--prediction-reference URI] [--window P1D] [--every Minute|Hour|Day|Week|Month | --cron "
     "EXPR] [--numerical-metric M] [--categorical-metric M] [--threshold X] [--webhook URL]... | "
     "monitor create NAME --file SCHEDULE.json",
     "a monitor of a deployment's collected data: a schedule with a CreateMonitor action",
     "--reference= --signals= --prediction-reference= --window= --every= --cron= "
     "--numerical-metric= --categorical-metric= --threshold= --webhook=* --file=",
     1, 3, CLI_CHANGES},
    {"monitor", "list", cli_mon_list, "monitor list", "every monitor, its last and next run", "",
     0, 0, CLI_READS},
    {"monitor", "show", cli_mon_show, "monitor show NAME", "a monitor's schedule and definition",
     "", 1, 1, CLI_READS},
    {"monitor", "run", cli_mon_run, "monitor run NAME [--wait]",
     "run a monitor now (a job); --wait prints its results", "--wait", 1, 1, CLI_CHANGES},
    {"monitor", "results", cli_mon_results, "monitor results NAME [--job JOB]",
     "a run's results: per signal, feature and metric, the value against its threshold", "--job=",
     1, 1, CLI_READS},
    {"monitor", "delete", cli_mon_delete, "monitor delete NAME [--yes]", "delete a monitor",
     "--yes", 1, 1, CLI_CHANGES},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, CLI_READS},
};
