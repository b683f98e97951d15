/*
 * fuzz_models: the in-process model loaders (linear, MLP: their JSON through
 * runtime/engines/modelfile.c) against any bytes in an artifact file. The
 * first byte picks the type. A model that loads is scored once on a row of
 * its own width: the answer is 200 or 400, never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/engines/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void score_once(struct engine *e)
{
	int n = engine_features(e), i;
	struct engine_request rq;
	struct engine_result res;
	char *body;
	size_t len = 0, cap;

	if (n <= 0 || n > 4096)
		return;
	cap = 16 + (size_t)n * 2;
	body = malloc(cap);
	if (body == NULL)
		return;
	len = (size_t)snprintf(body, cap, "{\"data\":[[");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, cap - len, i ? ",0" : "0");
	len += (size_t)snprintf(body + len, cap - len, "]]}");
	memset(&rq, 0, sizeof rq);
	memset(&res, 0, sizeof res);
	rq.body = body;
	rq.len = len;
	rq.request_id = "fuzz";
	engine_score(e, &rq, &res);
	if (res.status != 200 && res.status != 400)
		abort();
	free(res.body);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct engine_config cfg;
	struct engine *e;
	struct error err;
	FILE *f;

	if (size < 1)
		return 0;
	if (path[0] == '\0')
		snprintf(path, sizeof path, "/tmp/mldeck-fuzz-model-%ld", (long)getpid());
	f = fopen(path, "wb");
	if (f == NULL)
		return 0;
	fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	memset(&cfg, 0, sizeof cfg);
	cfg.type = data[0] & 1 ? MODEL_MLP : MODEL_LINEAR;
	cfg.model_path = path;
	e = engine_load(&cfg, &err);
	if (e == NULL) {
		if (err.status < 400 || err.message[0] == '\0')
			abort();
		return 0;
	}
	score_once(e);
	engine_free(e);
	return 0;
}
