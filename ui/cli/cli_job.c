/* cli_job.c: `mldeck job ...` and `mldeck schedule ...` (docs/batch.md). */
#include "ui/cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state/codec.h"
#include "state/file.h"

#define STREAM_POLL_MS 500
#define STREAM_LINE_S 5     /* plain output: a progress line at most this often */
#define CHUNK (8 << 20)     /* bytes per content request (the runtime's most) */

static const struct cli_col cli_job_cols[] = {
    {"NAME", "name", NULL},
    {"STATUS", "properties.status", NULL},
    {"ENDPOINT", "properties.properties.azureml\\.endpointname", NULL},
    {"DEPLOYMENT", "properties.properties.azureml\\.deploymentname", NULL},
    {"MINI-BATCHES", "properties.properties.completedMiniBatches", NULL},
    {"ITEMS", "properties.properties.succeededItems", NULL},
    {"FAILED", "properties.properties.failedItems", NULL},
};

static const struct cli_col cli_job_detail[] = {
    {"name", "name", NULL},
    {"status", "properties.status", NULL},
    {"endpoint", "properties.properties.azureml\\.endpointname", NULL},
    {"deployment", "properties.properties.azureml\\.deploymentname", NULL},
    {"schedule", "properties.properties.azureml\\.schedulename", NULL},
    {"mini-batches", "properties.properties.totalMiniBatches", NULL},
    {"done", "properties.properties.completedMiniBatches", NULL},
    {"items", "properties.properties.totalItems", NULL},
    {"succeeded", "properties.properties.succeededItems", NULL},
    {"failed", "properties.properties.failedItems", NULL},
    {"error", "properties.properties.error", NULL},
    {"output", "properties.outputs.score.uri", NULL},
    {"started", "properties.properties.startTimeUtc", NULL},
    {"ended", "properties.properties.endTimeUtc", NULL},
    {"id", "id", NULL},
};

static const struct cli_col cli_sched_cols[] = {
    {"NAME", "name", NULL},
    {"ENABLED", "properties.isEnabled", NULL},
    {"TRIGGER", "properties.trigger.triggerType", NULL},
    {"NEXT RUN (UTC)", "properties.nextRunTime", NULL},
    {"ACTION", "properties.action.actionType", NULL},
};

static const struct cli_col cli_sched_detail[] = {
    {"name", "name", NULL},
    {"enabled", "properties.isEnabled", NULL},
    {"trigger", "properties.trigger.triggerType", NULL},
    {"expression", "properties.trigger.expression", NULL},
    {"frequency", "properties.trigger.frequency", NULL},
    {"interval", "properties.trigger.interval", NULL},
    {"time zone", "properties.trigger.timeZone", NULL},
    {"start", "properties.trigger.startTime", NULL},
    {"next run (UTC)", "properties.nextRunTime", NULL},
    {"action", "properties.action.actionType", NULL},
    {"endpoint", "properties.action.endpointInvocationDefinition.endpoint", cli_out_fmt_ref},
    {"id", "id", NULL},
};

int cli_job_print(struct cli *c, cJSON *doc)
{
	return CLI_SHOW(c, cli_job_cols, cli_job_detail, doc);
}

static const char *cli_job_path(char *buf, size_t len, const char *name, const char *suffix)
{
	char e[400];

	snprintf(buf, len, "/jobs/%s%s", cli_esc(e, sizeof e, name), suffix);
	return buf;
}

static long cli_job_num(const cJSON *doc, const char *key)
{
	const cJSON *pp = cli_out_at(doc, "properties.properties");
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pp, key));

	return s != NULL ? strtol(s, NULL, 10) : -1;
}

static const char *cli_job_status(const cJSON *doc)
{
	const char *s = cJSON_GetStringValue(cli_out_at(doc, "properties.status"));

	return s != NULL ? s : "";
}

static int cli_job_ended(const char *status)
{
	return strcmp(status, "Completed") == 0 || strcmp(status, "Failed") == 0 ||
	       strcmp(status, "Canceled") == 0 || strcmp(status, "NotResponding") == 0 ||
	       strcmp(status, "Paused") == 0;
}

/* "Running  12/40 mini-batches  250412 items  41020/s  2 failed  ETA 0:07" */
static void cli_job_progress(const cJSON *doc, char *buf, size_t len)
{
	long total = cli_job_num(doc, "totalMiniBatches"), done = cli_job_num(doc, "completedMiniBatches");
	long ok = cli_job_num(doc, "succeededItems"), bad = cli_job_num(doc, "failedItems");
	long rate = cli_job_num(doc, "itemsPerSecond"), eta = cli_job_num(doc, "etaSeconds");
	int n = snprintf(buf, len, "%-15s %ld/%ld mini-batches  %ld items", cli_job_status(doc),
			 done < 0 ? 0 : done, total < 0 ? 0 : total, ok < 0 ? 0 : ok);

	if (rate > 0 && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "  %ld/s", rate);
	if (bad > 0 && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "  %ld failed", bad);
	if (eta >= 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "  ETA %ld:%02ld", eta / 60, eta % 60);
}

static void cli_job_sleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* The end, as az ml job stream ends: a summary, the error, the output. */
static int cli_job_summary(struct cli *c, cJSON *doc)
{
	const char *status = cli_job_status(doc);
	const char *err = cJSON_GetStringValue(cli_out_at(doc, "properties.properties.error"));
	const char *out = cJSON_GetStringValue(cli_out_at(doc, "properties.outputs.score.uri"));
	int ok = strcmp(status, "Completed") == 0;

	if (c->json) {
		cli_out_json(doc);
	} else {
		printf("\nExecution Summary\n=================\nRunId: %s\nStatus: %s\n"
		       "Items: %ld succeeded, %ld failed\n",
		       cJSON_GetStringValue(cli_out_at(doc, "name")), status,
		       cli_job_num(doc, "succeededItems"), cli_job_num(doc, "failedItems"));
		if (err != NULL)
			printf("Error: %s\n", err);
		if (ok && out != NULL)
			printf("Output: %s\n", out);
	}
	cJSON_Delete(doc);
	return ok ? CLI_OK : CLI_FAIL;
}

int cli_job_stream_name(struct cli *c, const char *name)
{
	int tty = !c->json && isatty(STDOUT_FILENO);
	char path[600], line[256], last[256] = "";
	time_t printed = 0;
	struct error err = {0};

	cli_job_path(path, sizeof path, name, "");
	if (!c->json)
		printf("RunId: %s\n", name);
	for (;;) {
		cJSON *doc = NULL;

		if (cli_client(c, &err) == NULL ||
		    client_call(c->client, "GET", path, NULL, &doc, &err) < 0) {
			if (tty)
				printf("\n");
			return cli_fail(&err);
		}
		cli_job_progress(doc, line, sizeof line);
		if (tty) { /* one line redrawn, with a bar of the mini-batches done */
			long total = cli_job_num(doc, "totalMiniBatches");
			long done = cli_job_num(doc, "completedMiniBatches");
			int fill = total > 0 && done > 0 ? (int)(20 * done / total) : 0;

			printf("\r[%.*s%.*s] %-80.80s", fill, "####################", 20 - fill,
			       "....................", line);
			fflush(stdout);
		} else if (!c->json && (strncmp(line, last, 15) != 0 ||
					time(NULL) - printed >= STREAM_LINE_S)) {
			printf("%s\n", line); /* a change of status, or now and then */
			fflush(stdout);
			printed = time(NULL);
		}
		snprintf(last, sizeof last, "%s", line);
		if (cli_job_ended(cli_job_status(doc))) {
			if (tty)
				printf("\n");
			return cli_job_summary(c, doc);
		}
		cJSON_Delete(doc);
		cli_job_sleep(STREAM_POLL_MS);
	}
}

/* ---- job ---------------------------------------------------------------- */

static int cli_job_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *ep = cli_args_get(a, "--endpoint"), *sch = cli_args_get(a, "--schedule");
	char path[600], e[300];
	struct error err = {0};
	cJSON *doc = NULL;

	(void)v;
	if (ep != NULL)
		snprintf(path, sizeof path, "/jobs?properties=azureml.endpointname%%3D%s",
			 cli_esc(e, sizeof e, ep));
	else if (sch != NULL)
		snprintf(path, sizeof path, "/jobs?properties=azureml.schedulename%%3D%s",
			 cli_esc(e, sizeof e, sch));
	else
		snprintf(path, sizeof path, "/jobs");
	if (cli_client(c, &err) == NULL || client_list(c->client, path, &doc, &err) < 0)
		return cli_fail(&err);
	return CLI_SHOW(c, cli_job_cols, cli_job_detail, doc);
}

static int cli_job_call(struct cli *c, const char *method, const char *name, const char *suffix,
			int show)
{
	char path[600];
	struct error err = {0};
	cJSON *doc = NULL;

	if (cli_client(c, &err) == NULL ||
	    client_call(c->client, method, cli_job_path(path, sizeof path, name, suffix), NULL, &doc,
			&err) < 0)
		return cli_fail(&err);
	if (show && doc != NULL)
		return cli_job_print(c, doc);
	cJSON_Delete(doc);
	return CLI_OK;
}

static int cli_job_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_job_call(c, "GET", a->pos[0], "", 1);
}

static int cli_job_stream(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_job_stream_name(c, a->pos[0]);
}

static int cli_job_cancel(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	int rc;

	(void)v;
	rc = cli_job_call(c, "POST", a->pos[0], "/cancel", 0);
	if (rc == CLI_OK && !c->json)
		printf("Cancel requested for job %s.\n", a->pos[0]);
	return rc;
}

/* Fetches one file of the job into DIR/REL, 8 MiB at a time. */
static int cli_job_fetch(struct cli *c, const char *job, const char *rel, long long size,
			 const char *dir, struct error *err)
{
	char url[2048], e[1200], je[400], dest[PATH_MAX], *body = NULL;
	long long off = 0;
	size_t len;
	int fd;

	if (strstr(rel, "..") != NULL || rel[0] == '/' ||
	    snprintf(dest, sizeof dest, "%s/%s", dir, rel) >= (int)sizeof dest)
		return error_set(err, 502, "BadPath", "the runtime named a bad path");
	*strrchr(dest, '/') = '\0';
	if (file_mkdirs(dest, 0755) < 0)
		return error_set(err, 500, "LocalError", "cannot create %s: %s", dest,
				 strerror(errno));
	dest[strlen(dest)] = '/';
	fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_set(err, 500, "LocalError", "cannot write %s: %s", dest,
				 strerror(errno));
	do {
		snprintf(url, sizeof url, "%s/jobs/%s/content?path=%s&offset=%lld&length=%d",
			 client_ws_path(c->client), cli_esc(je, sizeof je, job),
			 cli_esc(e, sizeof e, rel), off, CHUNK);
		if (client_get_text(c->client, url, &body, &len, err) < 0 ||
		    file_write_all(fd, body, len) < 0) {
			if (body != NULL && err->status == 0)
				error_set(err, 500, "LocalError", "cannot write %s", dest);
			free(body);
			close(fd);
			return -1;
		}
		free(body);
		body = NULL;
		off += (long long)len;
	} while (len > 0 && off < size);
	close(fd);
	if (!c->json)
		printf("%s\n", dest);
	return 0;
}

static int cli_job_download(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *dir = cli_args_get(a, "--download-path");
	char path[600], where[PATH_MAX];
	struct error err = {0};
	cJSON *doc = NULL;
	const cJSON *it;
	int n = 0;

	(void)v;
	snprintf(where, sizeof where, "%s/%s", dir != NULL ? dir : ".", a->pos[0]);
	if (cli_client(c, &err) == NULL ||
	    client_call(c->client, "GET", cli_job_path(path, sizeof path, a->pos[0], "/files"), NULL,
			&doc, &err) < 0)
		return cli_fail(&err);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "value"))
	{
		const char *rel = cJSON_GetStringValue(cJSON_GetObjectItem(it, "path"));
		const cJSON *size = cJSON_GetObjectItem(it, "size");
		long long bytes;

		if (rel == NULL || !codec_number_in(size, 0, 1e15, &bytes) ||
		    (!cli_args_has(a, "--all") && strncmp(rel, "outputs/", 8) != 0))
			continue;
		if (cli_job_fetch(c, a->pos[0], rel, bytes, where, &err) <
		    0) {
			cJSON_Delete(doc);
			return cli_fail(&err);
		}
		n++;
	}
	cJSON_Delete(doc);
	if (n == 0 && !c->json)
		printf("Job %s has no %s yet.\n", a->pos[0], cli_args_has(a, "--all") ? "files"
										   : "output");
	return CLI_OK;
}

/* ---- schedule ----------------------------------------------------------- */

/* "1,2,5" -> [1,2,5]; day names stay strings. NULL on a bad item. */
static cJSON *cli_sched_list(const char *s, int names, long lo, long hi)
{
	cJSON *arr = cJSON_CreateArray();
	char buf[256], *save = NULL, *tok, *end;

	snprintf(buf, sizeof buf, "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		long n;

		if (names) {
			cJSON_AddItemToArray(arr, cJSON_CreateString(tok));
			continue;
		}
		errno = 0;
		n = strtol(tok, &end, 10);
		if (errno != 0 || *end != '\0' || end == tok || n < lo || n > hi) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)n));
	}
	return arr;
}

static cJSON *cli_sched_trigger(const struct cli_verb *v, const struct cli_args *a)
{
	const char *cron = cli_args_get(a, "--cron"), *freq = cli_args_get(a, "--frequency");
	cJSON *t = cJSON_CreateObject(), *sch = NULL;
	static const struct {
		const char *flag, *key;
		int names;
		long lo, hi;
	} lists[] = {{"--hours", "hours", 0, 0, 23},
		     {"--minutes", "minutes", 0, 0, 59},
		     {"--week-days", "weekDays", 1, 0, 0},
		     {"--month-days", "monthDays", 0, 1, 31}};
	char msg[200];
	long interval = 1;

	if ((cron == NULL) == (freq == NULL)) {
		cli_usage(v, "give --cron EXPR or --frequency F (with --interval N)");
		goto bad;
	}
	cJSON_AddStringToObject(t, "triggerType", cron != NULL ? "Cron" : "Recurrence");
	if (cron != NULL)
		cJSON_AddStringToObject(t, "expression", cron);
	if (freq != NULL) {
		if (cli_args_long(a, "--interval", 1, 100000, &interval, msg, sizeof msg) < 0) {
			cli_usage(v, "%s", msg);
			goto bad;
		}
		cJSON_AddStringToObject(t, "frequency", freq);
		cJSON_AddNumberToObject(t, "interval", (double)interval);
	}
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		const char *val = cli_args_get(a, lists[i].flag);
		cJSON *arr;

		if (val == NULL)
			continue;
		arr = cli_sched_list(val, lists[i].names, lists[i].lo, lists[i].hi);
		if (arr == NULL) {
			cli_usage(v, "%s wants a comma list of %ld-%ld", lists[i].flag, lists[i].lo,
				  lists[i].hi);
			goto bad;
		}
		if (sch == NULL)
			sch = cJSON_AddObjectToObject(t, "schedule");
		cJSON_AddItemToObject(sch, lists[i].key, arr);
	}
	if (cli_args_get(a, "--time-zone") != NULL)
		cJSON_AddStringToObject(t, "timeZone", cli_args_get(a, "--time-zone"));
	if (cli_args_get(a, "--start") != NULL)
		cJSON_AddStringToObject(t, "startTime", cli_args_get(a, "--start"));
	if (cli_args_get(a, "--end") != NULL)
		cJSON_AddStringToObject(t, "endTime", cli_args_get(a, "--end"));
	return t;
bad:
	cJSON_Delete(t);
	return NULL;
}

static int cli_sched_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *ep = cli_args_get(a, "--endpoint"), *input = cli_args_get(a, "--input");
	const char *type = cli_args_get(a, "--input-type");
	char path[600], e[300], uri[PATH_MAX + 16], abs[PATH_MAX];
	cJSON *body, *p, *def, *in, *trig;
	int rc;

	if (ep == NULL || input == NULL)
		return cli_usage(v, "--endpoint and --input are required");
	if ((trig = cli_sched_trigger(v, a)) == NULL)
		return CLI_USAGE;
	if (strchr(input, ':') == NULL && realpath(input, abs) != NULL)
		snprintf(uri, sizeof uri, "%s", abs);
	else
		snprintf(uri, sizeof uri, "%s", input);
	body = cJSON_CreateObject();
	p = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddBoolToObject(p, "isEnabled", !cli_args_has(a, "--disabled"));
	cJSON_AddItemToObject(p, "trigger", trig);
	def = cJSON_AddObjectToObject(cJSON_AddObjectToObject(p, "action"),
				      "endpointInvocationDefinition");
	cJSON_AddStringToObject(cJSON_GetObjectItem(p, "action"), "actionType", "InvokeBatchEndpoint");
	snprintf(path, sizeof path, "azureml:%s", ep);
	cJSON_AddStringToObject(def, "endpoint", path);
	if (cli_args_get(a, "--deployment-name") != NULL)
		cJSON_AddStringToObject(def, "deployment", cli_args_get(a, "--deployment-name"));
	in = cJSON_AddObjectToObject(cJSON_AddObjectToObject(def, "inputs"), "input_data");
	cJSON_AddStringToObject(in, "jobInputType", type != NULL ? type : "uri_folder");
	cJSON_AddStringToObject(in, "uri", uri);
	snprintf(path, sizeof path, "/schedules/%s", cli_esc(e, sizeof e, a->pos[0]));
	struct error err = {0};
	cJSON *doc = NULL;
	if (cli_client(c, &err) == NULL || client_call(c->client, "PUT", path, body, &doc, &err) < 0)
		rc = cli_fail(&err);
	else
		rc = CLI_SHOW(c, cli_sched_cols, cli_sched_detail, doc);
	cJSON_Delete(body);
	return rc;
}

static int cli_sched_list_verb(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	cJSON *doc = NULL;

	(void)v, (void)a;
	if (cli_client(c, &err) == NULL ||
	    client_list(c->client, "/schedules?listViewType=All", &doc, &err) < 0)
		return cli_fail(&err);
	return CLI_SHOW(c, cli_sched_cols, cli_sched_detail, doc);
}

static int cli_sched_call(struct cli *c, const char *method, const char *name, const char *suffix,
			  const cJSON *body, int show)
{
	char path[600], e[300];
	struct error err = {0};
	cJSON *doc = NULL;

	snprintf(path, sizeof path, "/schedules/%s%s", cli_esc(e, sizeof e, name), suffix);
	if (cli_client(c, &err) == NULL || client_call(c->client, method, path, body, &doc, &err) < 0)
		return cli_fail(&err);
	if (show && doc != NULL)
		return CLI_SHOW(c, cli_sched_cols, cli_sched_detail, doc);
	if (doc != NULL)
		return cli_show(c, NULL, 0, NULL, 0, doc);
	return CLI_OK;
}

static int cli_sched_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_sched_call(c, "GET", a->pos[0], "", NULL, 1);
}

/* GET, flip isEnabled, PUT back. */
static int cli_sched_enable(struct cli *c, const char *name, int on)
{
	char path[600], e[300];
	struct error err = {0};
	cJSON *doc = NULL, *p;
	int rc;

	snprintf(path, sizeof path, "/schedules/%s", cli_esc(e, sizeof e, name));
	if (cli_client(c, &err) == NULL || client_call(c->client, "GET", path, NULL, &doc, &err) < 0)
		return cli_fail(&err);
	p = cJSON_GetObjectItem(doc, "properties");
	cJSON_ReplaceItemInObject(p, "isEnabled", cJSON_CreateBool(on));
	rc = cli_sched_call(c, "PUT", name, "", doc, 1);
	cJSON_Delete(doc);
	return rc;
}

static int cli_sched_on(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_sched_enable(c, a->pos[0], 1);
}

static int cli_sched_off(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_sched_enable(c, a->pos[0], 0);
}

static int cli_sched_delete(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char what[300];
	int rc;

	snprintf(what, sizeof what, "schedule %s", a->pos[0]);
	if ((rc = cli_confirm(v, a, what)) != CLI_OK)
		return rc;
	rc = cli_sched_call(c, "DELETE", a->pos[0], "", NULL, 0);
	if (rc == CLI_OK && !c->json)
		printf("Deleted schedule %s.\n", a->pos[0]);
	return rc;
}

static int cli_sched_trigger_verb(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_sched_call(c, "POST", a->pos[0], "/trigger", NULL, 0);
}

const struct cli_verb cli_job_verbs[] = {
    {"job", "list", cli_job_list, "job list [--endpoint EP | --schedule NAME]",
     "list batch jobs, newest first", "--endpoint= --schedule=", 0, 0, CLI_READS},
    {"job", "show", cli_job_show, "job show NAME", "show a job: status, figures, output, error",
     "", 1, 1, CLI_READS},
    {"job", "stream", cli_job_stream, "job stream NAME",
     "follow a job to its end: mini-batches, items/s, failures, ETA (exit 1 unless Completed)",
     "", 1, 1, CLI_READS},
    {"job", "cancel", cli_job_cancel, "job cancel NAME", "stop a job (within a second)", "", 1,
     1, CLI_CHANGES},
    {"job", "download", cli_job_download, "job download NAME [--download-path DIR] [--all]",
     "copy a job's output (--all: and its logs) to DIR/NAME", "--download-path= --all", 1, 1,
     CLI_READS},
    {"schedule", "create", cli_sched_create,
     "schedule create NAME --endpoint EP --input URI [--input-type uri_folder|uri_file] "
     "[--deployment-name D] (--cron EXPR | --frequency minute|hour|day|week|month "
     "[--interval N] [--hours H,..] [--minutes M,..] [--week-days monday,..] "
     "[--month-days D,..]) [--time-zone TZ] [--start TIME] [--end TIME] [--disabled]",
     "invoke a batch endpoint on a schedule (NCrontab or a recurrence, in a time zone)",
     "--endpoint= --input= --input-type= --deployment-name= --cron= --frequency= --interval= "
     "--hours= --minutes= --week-days= --month-days= --time-zone= --start= --end= --disabled",
     1, 1, CLI_CHANGES},
    {"schedule", "list", cli_sched_list_verb, "schedule list",
     "list schedules with their next run time", "", 0, 0, CLI_READS},
    {"schedule", "show", cli_sched_show, "schedule show NAME", "show a schedule", "", 1, 1,
     CLI_READS},
    {"schedule", "enable", cli_sched_on, "schedule enable NAME", "let a schedule fire", "", 1, 1,
     CLI_CHANGES},
    {"schedule", "disable", cli_sched_off, "schedule disable NAME", "stop a schedule firing", "",
     1, 1, CLI_CHANGES},
    {"schedule", "trigger", cli_sched_trigger_verb, "schedule trigger NAME",
     "run a schedule's action now (prints the job)", "", 1, 1, CLI_CHANGES},
    {"schedule", "delete", cli_sched_delete, "schedule delete NAME [--yes]", "delete a schedule",
     "--yes", 1, 1, CLI_CHANGES},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
