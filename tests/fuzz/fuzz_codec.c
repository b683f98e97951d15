/*
 * fuzz_codec: resource bodies as a client sends them (PUT/PATCH) and the
 * on-disk workspace document, through the codec and the workspace rules.
 * Beyond "no crash": a rejected body always carries a 4xx status and a
 * message; an accepted endpoint encodes back to JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const struct error *err)
{
	if (err->status < 400 || err->status > 499 || err->message[0] == '\0')
		abort();
}

static void bodies(const cJSON *j)
{
	struct codec_ctx ctx = {.ws_prefix = "/subscriptions/s/resourceGroups/r/providers/"
					     "Microsoft.MachineLearningServices/workspaces/w",
				.base_url = "http://127.0.0.1:5800"};
	struct model_version mv;
	struct env_version ev;
	struct endpoint ep;
	struct deployment d;
	struct error err;
	const char *uri;
	cJSON *out;

	memset(&mv, 0, sizeof mv);
	if (codec_model_version_from_json(j, &mv, &uri, &err) < 0)
		check_error(&err);
	model_version_cleanup(&mv);
	memset(&ev, 0, sizeof ev);
	if (codec_env_version_from_json(j, &ev, &err) < 0)
		check_error(&err);
	env_version_cleanup(&ev);
	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "fuzz-ep");
	if (codec_endpoint_from_json(j, &ep, &err) < 0) {
		check_error(&err);
	} else {
		out = codec_endpoint_to_json(&ep, &ctx);
		if (out == NULL)
			abort();
		cJSON_Delete(out);
	}
	endpoint_cleanup(&ep);
	memset(&d, 0, sizeof d);
	if (codec_deployment_from_json(j, &d, &err) < 0)
		check_error(&err);
	deployment_cleanup(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	struct workspace *ws;
	struct error err;

	if (j == NULL)
		return 0;
	bodies(j);
	ws = codec_workspace_from_json(j, &err);
	workspace_free(ws);
	cJSON_Delete(j);
	return 0;
}
