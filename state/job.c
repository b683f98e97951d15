/* job.c: batch job settings, Azure's JobStatus values and their state machine. */
#include "state/job.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "state/names.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const status_names[] = {
    [JOB_NOT_STARTED] = "NotStarted",	    [JOB_STARTING] = "Starting",
    [JOB_PROVISIONING] = "Provisioning",    [JOB_PREPARING] = "Preparing",
    [JOB_QUEUED] = "Queued",		    [JOB_RUNNING] = "Running",
    [JOB_FINALIZING] = "Finalizing",	    [JOB_CANCEL_REQUESTED] = "CancelRequested",
    [JOB_COMPLETED] = "Completed",	    [JOB_FAILED] = "Failed",
    [JOB_CANCELED] = "Canceled",	    [JOB_NOT_RESPONDING] = "NotResponding",
    [JOB_PAUSED] = "Paused",		    [JOB_UNKNOWN] = "Unknown",
};

const char *job_status_name(enum job_status s)
{
	return (unsigned)s < NELEM(status_names) ? status_names[s] : "Unknown";
}

int job_status_parse(const char *s, enum job_status *out)
{
	for (size_t i = 0; s != NULL && i < NELEM(status_names); i++)
		if (strcasecmp(status_names[i], s) == 0) {
			*out = (enum job_status)i;
			return 0;
		}
	return -1;
}

int job_status_terminal(enum job_status s)
{
	return s == JOB_COMPLETED || s == JOB_FAILED || s == JOB_CANCELED ||
	       s == JOB_NOT_RESPONDING || s == JOB_PAUSED;
}

int job_status_active(enum job_status s)
{
	return s == JOB_QUEUED || s == JOB_PREPARING || s == JOB_RUNNING ||
	       s == JOB_FINALIZING || s == JOB_CANCEL_REQUESTED;
}

/* The moves a job may make; a restart sends an active job back to Queued. */
static const struct {
	enum job_status from;
	unsigned to; /* bit set of enum job_status */
} moves[] = {
    {JOB_QUEUED, 1u << JOB_PREPARING | 1u << JOB_CANCEL_REQUESTED | 1u << JOB_CANCELED |
		     1u << JOB_FAILED},
    {JOB_PREPARING, 1u << JOB_RUNNING | 1u << JOB_CANCEL_REQUESTED | 1u << JOB_FAILED |
			1u << JOB_QUEUED},
    {JOB_RUNNING, 1u << JOB_FINALIZING | 1u << JOB_CANCEL_REQUESTED | 1u << JOB_FAILED |
		      1u << JOB_QUEUED},
    {JOB_FINALIZING, 1u << JOB_COMPLETED | 1u << JOB_CANCEL_REQUESTED | 1u << JOB_FAILED |
			 1u << JOB_QUEUED},
    {JOB_CANCEL_REQUESTED, 1u << JOB_CANCELED | 1u << JOB_COMPLETED | 1u << JOB_FAILED},
};

int job_transition(enum job_status from, enum job_status to, struct error *err)
{
	for (size_t i = 0; i < NELEM(moves); i++)
		if (moves[i].from == from && (unsigned)to < 32 && (moves[i].to & 1u << to))
			return 0;
	return error_set(err, 409, "Conflict", "a job that is %s cannot become %s",
			 job_status_name(from), job_status_name(to));
}

static const struct enum_name actions[] = {
    {"AppendRow", BATCH_APPEND_ROW}, {"append_row", BATCH_APPEND_ROW},
    {"SummaryOnly", BATCH_SUMMARY_ONLY}, {"summary_only", BATCH_SUMMARY_ONLY},
};
static const struct enum_name loggings[] = {
    {"Info", BATCH_LOG_INFO}, {"Warning", BATCH_LOG_WARNING}, {"Debug", BATCH_LOG_DEBUG},
};

const char *batch_output_action_name(enum batch_output_action a)
{
	return resource_enum_name(actions, NELEM(actions), (int)a);
}

int batch_output_action_parse(const char *s, enum batch_output_action *out)
{
	int v;

	if (resource_enum_parse(actions, NELEM(actions), s, &v) < 0)
		return -1;
	*out = (enum batch_output_action)v;
	return 0;
}

const char *batch_logging_name(enum batch_logging l)
{
	return resource_enum_name(loggings, NELEM(loggings), (int)l);
}

int batch_logging_parse(const char *s, enum batch_logging *out)
{
	int v;

	if (resource_enum_parse(loggings, NELEM(loggings), s, &v) < 0)
		return -1;
	*out = (enum batch_logging)v;
	return 0;
}

void batch_settings_default(struct batch_settings *s)
{
	memset(s, 0, sizeof *s);
	s->mini_batch_size = 10;
	s->instance_count = 1;
	s->max_concurrency = 1;
	s->max_retries = 3;
	s->timeout_ms = 30000;
	s->error_threshold = -1;
	s->output_action = BATCH_APPEND_ROW;
	memcpy(s->output_file, "predictions.csv", sizeof "predictions.csv");
	s->logging = BATCH_LOG_INFO;
}

/* One path component a person can read: no '/', no control bytes, not "." or "..". */
static int file_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > JOB_FILE_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == '\\' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int range(struct error *err, const char *field, long v, long min, long max)
{
	if (v >= min && v <= max)
		return 0;
	return error_set(err, 400, "ValidationError", "%s must be %ld-%ld (got %ld)", field, min,
			 max, v);
}

int batch_settings_check(const struct batch_settings *s, struct error *err)
{
	if (range(err, "properties.miniBatchSize", s->mini_batch_size, 1, JOB_MINI_BATCH_MAX) < 0 ||
	    range(err, "properties.resources.instanceCount", s->instance_count, 1,
		  JOB_INSTANCES_MAX) < 0 ||
	    range(err, "properties.maxConcurrencyPerInstance", s->max_concurrency, 1,
		  JOB_CONCURRENCY_MAX) < 0 ||
	    range(err, "properties.retrySettings.maxRetries", s->max_retries, 0,
		  JOB_RETRIES_MAX) < 0 ||
	    range(err, "properties.retrySettings.timeout (ms)", s->timeout_ms, 1,
		  JOB_TIMEOUT_MS_MAX) < 0 ||
	    range(err, "properties.errorThreshold", s->error_threshold, -1, INT_MAX) < 0)
		return -1;
	if ((unsigned)s->output_action > BATCH_SUMMARY_ONLY)
		return error_set(err, 400, "ValidationError",
				 "properties.outputAction must be AppendRow or SummaryOnly");
	if ((unsigned)s->logging > BATCH_LOG_DEBUG)
		return error_set(err, 400, "ValidationError",
				 "properties.loggingLevel must be Info, Warning or Debug");
	if (!file_name_ok(s->output_file))
		return error_set(err, 400, "ValidationError",
				 "properties.outputFileName must be a file name (no '/', not '.' "
				 "or '..', 1-%d characters)",
				 JOB_FILE_NAME_MAX);
	return 0;
}

int job_settings_apply(struct batch_settings *s, const struct job_overrides *o, struct error *err)
{
	struct batch_settings n = *s;

	if (o->has_mini_batch_size)
		n.mini_batch_size = o->mini_batch_size;
	if (o->has_instance_count)
		n.instance_count = o->instance_count;
	if (o->has_max_concurrency)
		n.max_concurrency = o->max_concurrency;
	if (o->has_max_retries)
		n.max_retries = o->max_retries;
	if (o->has_timeout_ms)
		n.timeout_ms = o->timeout_ms;
	if (o->has_error_threshold)
		n.error_threshold = o->error_threshold;
	if (o->has_logging)
		n.logging = o->logging;
	if (o->output_file[0] != '\0')
		memcpy(n.output_file, o->output_file, sizeof n.output_file);
	if (batch_settings_check(&n, err) < 0)
		return -1;
	*s = n;
	return 0;
}

int job_workers(const struct batch_settings *s)
{
	return s->instance_count * s->max_concurrency;
}

int job_threshold_exceeded(int error_threshold, int64_t failed_items)
{
	return error_threshold >= 0 && failed_items > error_threshold;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copies s into out->path, percent-decoding when asked; -1 on a bad escape,
 * a NUL, a ".." component or no room. */
static int uri_path(const char *s, int decode, struct job_uri *out)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		int c = (unsigned char)*s;

		if (decode && c == '%') {
			if (hex(s[1]) < 0 || hex(s[2]) < 0)
				return -1;
			c = hex(s[1]) * 16 + hex(s[2]);
			s += 2;
		}
		if (c == 0 || n + 1 >= sizeof out->path)
			return -1;
		out->path[n++] = (char)c;
	}
	out->path[n] = '\0';
	for (const char *p = out->path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == out->path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return -1;
	return 0;
}

/* "NAME:VERSION", "NAME@latest", "NAME" after "azureml:". */
static int uri_asset(const char *s, struct job_uri *out)
{
	const char *sep = strpbrk(s, ":@");
	size_t n = sep != NULL ? (size_t)(sep - s) : strlen(s);

	if (n == 0 || n >= sizeof out->name)
		return -1;
	memcpy(out->name, s, n);
	out->name[n] = '\0';
	out->version[0] = '\0';
	if (sep != NULL && *sep == ':') {
		if (strlen(sep + 1) >= sizeof out->version || sep[1] == '\0')
			return -1;
		snprintf(out->version, sizeof out->version, "%s", sep + 1);
	} else if (sep != NULL && strcmp(sep, "@latest") != 0) {
		return -1;
	}
	out->kind = JOB_URI_DATA;
	return names_check_asset(out->name, "data asset", NULL) < 0 ? -1 : 0;
}

/* ".../data/NAME/versions/V": the last "/data/" segment pair. */
static int uri_arm(const char *s, struct job_uri *out)
{
	const char *p = NULL, *q, *v;
	size_t n;

	for (q = strstr(s, "/data/"); q != NULL; q = strstr(q + 1, "/data/"))
		p = q;
	if (p == NULL || (v = strstr(p + 6, "/versions/")) == NULL)
		return -1;
	n = (size_t)(v - (p + 6));
	if (n == 0 || n >= sizeof out->name || strlen(v + 10) >= sizeof out->version ||
	    v[10] == '\0' || strchr(v + 10, '/') != NULL)
		return -1;
	memcpy(out->name, p + 6, n);
	out->name[n] = '\0';
	snprintf(out->version, sizeof out->version, "%s", v + 10);
	out->kind = JOB_URI_DATA;
	return names_check_asset(out->name, "data asset", NULL) < 0 ? -1 : 0;
}

/* azureml://[subscriptions/S/resourcegroups/R/workspaces/W/]datastores/DS/paths/P */
static int uri_datastore(const char *s, struct job_uri *out)
{
	const char *d = strstr(s, "datastores/"), *p;
	size_t n;

	if (d == NULL || (d != s && d[-1] != '/'))
		return -1;
	d += strlen("datastores/");
	p = strstr(d, "/paths/");
	if (p == NULL)
		return -1;
	n = (size_t)(p - d);
	if (n == 0 || n >= sizeof out->name)
		return -1;
	memcpy(out->name, d, n);
	out->name[n] = '\0';
	out->kind = JOB_URI_DATASTORE;
	return uri_path(p + strlen("/paths/"), 1, out);
}

int job_uri_parse(const char *uri, struct job_uri *out, struct error *err)
{
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (uri == NULL || uri[0] == '\0')
		rc = -1;
	else if (strncmp(uri, "azureml://", 10) == 0)
		rc = uri_datastore(uri + 10, out);
	else if (strncmp(uri, "azureml:", 8) == 0)
		rc = strchr(uri + 8, '/') != NULL ? uri_arm(uri + 8, out) : uri_asset(uri + 8, out);
	else if (strncmp(uri, "/subscriptions/", 15) == 0)
		rc = uri_arm(uri, out);
	else if (strncmp(uri, "file://", 7) == 0) {
		const char *p = uri + 7;

		if (strncmp(p, "localhost/", 10) == 0)
			p += 9;
		out->kind = JOB_URI_PATH;
		rc = p[0] == '/' ? uri_path(p, 1, out) : -1;
	} else if (uri[0] == '/') {
		out->kind = JOB_URI_PATH;
		rc = uri_path(uri, 0, out);
	}
	if (rc == 0)
		return 0;
	if (uri != NULL && strstr(uri, "://") != NULL && strncmp(uri, "azureml://", 10) != 0 &&
	    strncmp(uri, "file://", 7) != 0)
		return error_set(err, 400, "ValidationError",
				 "Uri '%.80s': the local runtime reads local files only (an "
				 "absolute path, file://, a data asset or "
				 "azureml://datastores/NAME/paths/PATH), not remote URLs",
				 uri);
	return error_set(err, 400, "ValidationError",
			 "Uri '%.80s' must be a data asset (azureml:NAME:VERSION or its ARM id), "
			 "a datastore path (azureml://datastores/NAME/paths/PATH), an absolute "
			 "path or a file:// URI (no '..')",
			 uri != NULL ? uri : "");
}

int job_copy(struct job *dst, const struct job *src)
{
	*dst = *src;
	memset(&dst->tags, 0, sizeof dst->tags);
	memset(&dst->properties, 0, sizeof dst->properties);
	dst->display_name = dst->experiment = dst->description = NULL;
	dst->input_uri = dst->input_path = dst->output_uri = dst->output_dir = NULL;
	dst->schedule = dst->error = NULL;
	if (resource_dup(&dst->display_name, src->display_name) < 0 ||
	    resource_dup(&dst->experiment, src->experiment) < 0 ||
	    resource_dup(&dst->description, src->description) < 0 ||
	    resource_dup(&dst->input_uri, src->input_uri) < 0 ||
	    resource_dup(&dst->input_path, src->input_path) < 0 ||
	    resource_dup(&dst->output_uri, src->output_uri) < 0 ||
	    resource_dup(&dst->output_dir, src->output_dir) < 0 ||
	    resource_dup(&dst->schedule, src->schedule) < 0 || resource_dup(&dst->error, src->error) < 0 ||
	    kvlist_copy(&dst->tags, &src->tags) < 0 ||
	    kvlist_copy(&dst->properties, &src->properties) < 0) {
		job_cleanup(dst);
		return -1;
	}
	return 0;
}

void job_cleanup(struct job *j)
{
	if (j == NULL)
		return;
	free(j->display_name);
	free(j->experiment);
	free(j->description);
	free(j->input_uri);
	free(j->input_path);
	free(j->output_uri);
	free(j->output_dir);
	free(j->schedule);
	free(j->error);
	kvlist_clear(&j->tags);
	kvlist_clear(&j->properties);
	memset(j, 0, sizeof *j);
}
