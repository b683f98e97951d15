/* job.c: batch job settings, Azure's JobStatus values and their state machine. */
#include "state/job.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
static const struct enum_name data_types[] = {
    {"uri_file", DATA_URI_FILE},     {"uri_folder", DATA_URI_FOLDER},
    {"UriFile", DATA_URI_FILE},	     {"UriFolder", DATA_URI_FOLDER},
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

const char *data_type_name(enum data_type t)
{
	return resource_enum_name(data_types, NELEM(data_types), (int)t);
}

int data_type_parse(const char *s, enum data_type *out)
{
	int v;

	if (resource_enum_parse(data_types, NELEM(data_types), s, &v) < 0)
		return -1;
	*out = (enum data_type)v;
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
