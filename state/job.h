/*
 * job.h: a batch scoring job (issue 11): what it runs with (the deployment's
 * settings after the invocation's overrides), Azure's JobStatus values and the
 * state machine between them, and the errorThreshold rule. Pure: no I/O, any
 * thread (callers serialise access to one struct).
 *
 * States used (of Azure's 14): Queued (accepted, waiting for a slot),
 * Preparing (listing the input, loading the model), Running (mini-batches),
 * Finalizing (merging the output), CancelRequested, and the terminal
 * Completed, Failed, Canceled. The moves allowed are job_transition's table;
 * an active job found after a restart goes back to Queued (it resumes).
 */
#ifndef STATE_JOB_H
#define STATE_JOB_H

#include <stdint.h>

#include "state/error.h"
#include "state/resource.h"

#define JOB_FILE_NAME_MAX 255     /* outputFileName */
#define JOB_MINI_BATCH_MAX 100000 /* files per mini-batch */
#define JOB_INSTANCES_MAX 64
#define JOB_CONCURRENCY_MAX 64    /* maxConcurrencyPerInstance */
#define JOB_RETRIES_MAX 100
#define JOB_TIMEOUT_MS_MAX (24 * 3600 * 1000)
#define JOB_INPUT_NAME_MAX 64

/* Azure's JobStatus, in the spec's order. */
enum job_status {
	JOB_NOT_STARTED,
	JOB_STARTING,
	JOB_PROVISIONING,
	JOB_PREPARING,
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_FINALIZING,
	JOB_CANCEL_REQUESTED,
	JOB_COMPLETED,
	JOB_FAILED,
	JOB_CANCELED,
	JOB_NOT_RESPONDING,
	JOB_PAUSED,
	JOB_UNKNOWN
};

enum batch_output_action { BATCH_APPEND_ROW, BATCH_SUMMARY_ONLY };
enum batch_logging { BATCH_LOG_INFO, BATCH_LOG_WARNING, BATCH_LOG_DEBUG };

/* A batch deployment's run settings (Azure's names and defaults). */
struct batch_settings {
	int mini_batch_size;  /* miniBatchSize: files per mini-batch, default 10 */
	int instance_count;   /* resources.instanceCount, default 1 */
	int max_concurrency;  /* maxConcurrencyPerInstance, default 1 */
	int max_retries;      /* retrySettings.maxRetries, default 3 */
	int timeout_ms;       /* retrySettings.timeout, default PT30S */
	int error_threshold;  /* errorThreshold, default -1 (ignore failures) */
	enum batch_output_action output_action; /* default AppendRow */
	char output_file[JOB_FILE_NAME_MAX + 1];  /* outputFileName, default predictions.csv */
	enum batch_logging logging;             /* loggingLevel, default Info */
};

/* What an invocation may override; a field applies when its has_ flag is set. */
struct job_overrides {
	int has_mini_batch_size, mini_batch_size;
	int has_instance_count, instance_count;
	int has_max_concurrency, max_concurrency;
	int has_max_retries, max_retries;
	int has_timeout_ms, timeout_ms;
	int has_error_threshold, error_threshold;
	int has_logging;
	enum batch_logging logging;
	char output_file[JOB_FILE_NAME_MAX + 1]; /* "" keeps */
};

/* What a job is: a batch scoring job, or a monitor's run (issue 12): a
 * monitor run names the monitored online deployment in endpoint/deployment,
 * its monitor (schedule) in schedule, and keeps the batch settings' defaults;
 * the runtime's monitors (runtime/monitor/monitors.h) run it, not jobs.h. */
enum job_kind { JOB_KIND_BATCH, JOB_KIND_MONITOR };

struct job {
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	enum job_kind kind;
	char endpoint[RESOURCE_NAME_MAX + 1];
	char deployment[RESOURCE_NAME_MAX + 1];
	char *display_name;
	char *experiment;        /* experimentName: the endpoint's name by default */
	char *description;
	enum job_status status;
	struct batch_settings settings; /* the deployment's, after the overrides */
	char input_name[JOB_INPUT_NAME_MAX + 1]; /* the key of InputData ("heart_data") */
	enum data_type input_type;
	char *input_uri;         /* as given */
	char *input_path;        /* the local file or folder it names (absolute) */
	char *output_uri;        /* properties.outputs.score.uri */
	char *output_dir;        /* the local folder the output file goes to (absolute) */
	char *schedule;          /* the schedule that fired it, NULL when invoked */
	char *error;             /* why it Failed, NULL otherwise */
	struct kvlist tags;
	struct kvlist properties; /* the invocation's properties.properties */
	/* the figures at the last status change (live ones come from the runtime) */
	int64_t mini_batches, mini_batches_done, mini_batches_failed;
	int64_t items, items_ok, items_failed;
	int64_t created, started, ended; /* unix seconds; 0 when not yet */
};

const char *job_status_name(enum job_status s);
int job_status_parse(const char *s, enum job_status *out); /* case-insensitive; 0 or -1 */
/* Completed, Failed, Canceled (and Azure's NotResponding, Paused). */
int job_status_terminal(enum job_status s);
/* Whether the runtime is (or will be) working on it: Queued through CancelRequested. */
int job_status_active(enum job_status s);
/* Whether FROM may become TO; -1 with a 409 naming both when not. */
int job_transition(enum job_status from, enum job_status to, struct error *err);

const char *batch_output_action_name(enum batch_output_action a);
int batch_output_action_parse(const char *s, enum batch_output_action *out);
const char *batch_logging_name(enum batch_logging l);
int batch_logging_parse(const char *s, enum batch_logging *out);

/* Azure's defaults (miniBatchSize 10, instanceCount 1, maxConcurrencyPerInstance 1,
 * maxRetries 3, timeout 30 s, errorThreshold -1, AppendRow, predictions.csv, Info). */
void batch_settings_default(struct batch_settings *s);
/* Ranges: miniBatchSize 1..JOB_MINI_BATCH_MAX, instanceCount 1..JOB_INSTANCES_MAX,
 * maxConcurrencyPerInstance 1..JOB_CONCURRENCY_MAX, maxRetries 0..JOB_RETRIES_MAX,
 * timeout 1 ms..24 h, errorThreshold -1..INT_MAX, outputFileName one path
 * component (no '/', not "." or "..", no control character). 0 or -1 with 400. */
int batch_settings_check(const struct batch_settings *s, struct error *err);
/* s with o applied, checked; s is unchanged on failure. */
int job_settings_apply(struct batch_settings *s, const struct job_overrides *o, struct error *err);
/* The workers a job runs: instanceCount x maxConcurrencyPerInstance. */
int job_workers(const struct batch_settings *s);

/* errorThreshold as documented: -1 ignores every failure, otherwise the job
 * fails as soon as the failed items exceed it. */
int job_threshold_exceeded(int error_threshold, int64_t failed_items);

/* What a job's input (or output) URI names. */
enum job_uri_kind {
	JOB_URI_PATH,      /* an absolute path: "/data/x", "file:///data/x" */
	JOB_URI_DATA,      /* a data asset: "azureml:NAME:VERSION", "azureml:NAME@latest",
			    * "azureml:NAME", or its ARM id ".../data/NAME/versions/V" */
	JOB_URI_DATASTORE, /* "azureml://[subscriptions/S/resourcegroups/R/workspaces/W/]
			    * datastores/DS/paths/PATH" */
};
struct job_uri {
	enum job_uri_kind kind;
	char name[RESOURCE_ASSET_NAME_MAX + 1];  /* data asset or datastore name */
	char version[RESOURCE_VERSION_MAX + 1];  /* data asset version, "" latest */
	char path[4096];                         /* the path (decoded), or the datastore path */
};
/* Classifies uri. -1 with a 400 saying what is accepted: a relative path, a
 * remote URL (https://, wasbs://, abfss://: the runtime reads local files
 * only), "..", NUL or a bad percent escape. */
int job_uri_parse(const char *uri, struct job_uri *out, struct error *err);

int job_copy(struct job *dst, const struct job *src); /* 0 or -1 (ENOMEM) */
void job_cleanup(struct job *j);

#endif
