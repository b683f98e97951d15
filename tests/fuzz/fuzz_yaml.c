/*
 * fuzz_yaml: YAML as clients send it (an environment's condaFile) or upload
 * it (an MLflow model's MLmodel), through state/yaml.c over libyaml. Beyond
 * "no crash": a refusal is a 400 with a reason; an accepted document is a
 * tree no deeper than the cap, with string keys and string or null leaves,
 * that prints as JSON and reads back the same.
 */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "state/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH_CAP 66 /* yaml.h: depth is capped at 64 (the top value and its leaves) */

static void check_tree(const cJSON *n, int depth)
{
	const cJSON *c;

	if (depth > DEPTH_CAP)
		abort();
	if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
		cJSON_ArrayForEach(c, n) {
			if (cJSON_IsObject(n) && c->string == NULL)
				abort();
			check_tree(c, depth + 1);
		}
	} else if (!cJSON_IsString(n) && !cJSON_IsNull(n)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = {0};
	cJSON *j = yaml_to_json((const char *)data, size, &err), *back;
	char *text;

	if (j == NULL) {
		if (err.status != 400 || err.message[0] == '\0')
			abort();
		return 0;
	}
	check_tree(j, 1);
	text = cJSON_PrintUnformatted(j);
	if (text == NULL)
		abort();
	back = cJSON_Parse(text);
	if (back == NULL || !cJSON_Compare(j, back, 1))
		abort();
	cJSON_Delete(back);
	free(text);
	cJSON_Delete(j);
	return 0;
}
