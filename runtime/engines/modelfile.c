/* modelfile.c: bounded reads of model artifacts and typed access to their JSON. */
#include "runtime/engines/modelfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "state/file.h"

int modelfile_fail(struct error *err, const char *fmt, ...)
{
	char msg[sizeof err->message];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return error_set(err, 400, "ModelLoadError", "%s", msg);
}

char *modelfile_read(const char *path, size_t *len, struct error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	if (path == NULL || *path == '\0') {
		modelfile_fail(err, "no model file given");
		return NULL;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		modelfile_fail(err, "cannot open model file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		modelfile_fail(err, "model file %s is not a regular file", path);
	else if (st.st_size == 0)
		modelfile_fail(err, "model file %s is empty", path);
	else if ((unsigned long long)st.st_size > MODELFILE_MAX)
		modelfile_fail(err, "model file %s is larger than %u MiB", path,
			       MODELFILE_MAX >> 20);
	else if ((buf = file_read_stream(f, MODELFILE_MAX, &n)) == NULL)
		modelfile_fail(err, "%s: cannot read: %s", path, strerror(errno));
	fclose(f);
	if (buf != NULL && len != NULL)
		*len = n;
	return buf;
}

cJSON *modelfile_json(const char *path, struct error *err)
{
	const char *end = NULL;
	size_t len;
	char *text = modelfile_read(path, &len, err);
	cJSON *root;

	if (text == NULL)
		return NULL;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		modelfile_fail(err, "model file %s is not valid JSON (near byte %ld)", path,
			       end != NULL && end >= text ? (long)(end - text) : 0L);
	} else if (!cJSON_IsObject(root)) {
		modelfile_fail(err, "model file %s: the top level must be a JSON object", path);
		cJSON_Delete(root);
		root = NULL;
	}
	free(text);
	return root;
}

double *modelfile_doubles(const cJSON *arr, int want, int *count, const char *what,
			  struct error *err)
{
	const cJSON *it;
	double *v;
	int n, i = 0;

	if (!cJSON_IsArray(arr)) {
		modelfile_fail(err, "\"%s\" must be an array of numbers", what);
		return NULL;
	}
	n = cJSON_GetArraySize(arr);
	if (n == 0 && want < 0) {
		modelfile_fail(err, "\"%s\" is empty", what);
		return NULL;
	}
	if (want >= 0 && n != want) {
		modelfile_fail(err, "\"%s\" has %d values, expected %d", what, n, want);
		return NULL;
	}
	v = malloc((size_t)n * sizeof *v);
	if (v == NULL) {
		modelfile_fail(err, "out of memory reading \"%s\"", what);
		return NULL;
	}
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsNumber(it)) {
			modelfile_fail(err, "\"%s\" item %d is not a number", what, i);
			free(v);
			return NULL;
		}
		v[i++] = it->valuedouble;
	}
	if (count != NULL)
		*count = n;
	return v;
}
