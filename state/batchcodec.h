/*
 * batchcodec.h: the batch resources <-> JSON (issue 11): Azure ML 2024-04-01
 * shapes for batch endpoints and deployments, data assets, jobs (a Pipeline
 * JobBase) and schedules; the batch invocation body; and each resource's
 * document form for the store (codec.c's item table calls these). Returned
 * trees belong to the caller (cJSON_Delete). Pure, any thread.
 *
 * Input keys are matched case-insensitively everywhere (the docs write
 * InputData/JobInputType/Uri, the SDK sends inputData/jobInputType/uri); a
 * wrong type is a 400 naming the field. Durations (retrySettings.timeout) are
 * ISO 8601 ("PT30S") or an integer number of seconds (the CLI YAML's form).
 */
#ifndef STATE_BATCHCODEC_H
#define STATE_BATCHCODEC_H

#include <cjson/cJSON.h>

#include "state/batch.h"
#include "state/codec.h"

/* Answers. A job's figures are taken from *j: the caller fills live ones. */
cJSON *batchcodec_endpoint_to_json(const struct batch_endpoint *ep, const struct codec_ctx *c);
cJSON *batchcodec_deployment_to_json(const struct batch_deployment *d, const struct codec_ctx *c);
/* A data asset version (its container is codec_container_to_json's). */
cJSON *batchcodec_data_to_json(const struct data_version *d, const struct codec_ctx *c);
cJSON *batchcodec_job_to_json(const struct job *j, const struct codec_ctx *c);
/* A job's head (id, name, type) and the properties every job kind shows (jobType,
 * status, displayName, experimentName, description, isArchived, computeId); *props
 * is the properties object. NULL on ENOMEM. */
cJSON *batchcodec_job_head(const struct job *j, const struct codec_ctx *c,
			   const char *experiment, cJSON **props);
cJSON *batchcodec_schedule_to_json(const struct schedule *s, const struct codec_ctx *c);
/* The batch endpoint's scoringUri: BASE/batch/NAME/jobs. */
void batchcodec_scoring_uri(const struct codec_ctx *c, const char *name, char *buf, size_t len);

/* PUT bodies. The caller fills names from the URL and, for an update, starts
 * from the current resource; fields absent from the body keep their value. */
int batchcodec_endpoint_from_json(const cJSON *body, struct batch_endpoint *out,
				  struct error *err);
int batchcodec_deployment_from_json(const cJSON *body, struct batch_deployment *out,
				    struct error *err);
int batchcodec_data_from_json(const cJSON *body, struct data_version *out, struct error *err);
int batchcodec_schedule_from_json(const cJSON *body, struct schedule *out, struct error *err);

/* A batch invocation: {"properties": {"InputData": {NAME: {"JobInputType":
 * "UriFolder"|"UriFile"|"uri_folder"|..., "Uri": "..."}}, "OutputData":
 * {"score": {"Uri": ...}}, overrides...}}. Exactly one input. */
struct job_invocation {
	char input_name[JOB_INPUT_NAME_MAX + 1];
	enum data_type input_type;
	char *input_uri;
	char *output_uri;          /* OutputData's Uri, NULL when absent */
	struct job_overrides overrides;
	struct kvlist properties;  /* properties.properties */
	struct kvlist tags;
	char *display_name;
	char *experiment;
	char *description;
};
int batchcodec_invocation_from_json(const cJSON *body, struct job_invocation *out,
				    struct error *err);
void batchcodec_invocation_cleanup(struct job_invocation *inv);

/* The store's documents (see codec.h): to_doc never fails but for ENOMEM
 * (NULL); from_doc fills a zeroed struct, -1 with a 500 "CorruptState". */
cJSON *batchcodec_endpoint_to_doc(const struct batch_endpoint *ep);
int batchcodec_endpoint_from_doc(const cJSON *o, struct batch_endpoint *out, struct error *err);
cJSON *batchcodec_deployment_to_doc(const struct batch_deployment *d);
int batchcodec_deployment_from_doc(const cJSON *o, struct batch_deployment *out,
				   struct error *err);
cJSON *batchcodec_data_to_doc(const struct data_version *d);
int batchcodec_data_from_doc(const cJSON *o, struct data_version *out, struct error *err);
cJSON *batchcodec_job_to_doc(const struct job *j);
int batchcodec_job_from_doc(const cJSON *o, struct job *out, struct error *err);
cJSON *batchcodec_schedule_to_doc(const struct schedule *s);
int batchcodec_schedule_from_doc(const cJSON *o, struct schedule *out, struct error *err);

#endif
