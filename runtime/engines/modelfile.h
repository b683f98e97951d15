/*
 * modelfile.h: reading model artifacts for the in-process engines.
 *
 * Every failure is reported as err->status 400, code "ModelLoadError", with a
 * message naming the file's problem (so a deployment's Failed reason says why).
 * All functions are reentrant; call them from the thread that loads the model.
 */
#ifndef RUNTIME_ENGINES_MODELFILE_H
#define RUNTIME_ENGINES_MODELFILE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "state/error.h"

#define MODELFILE_MAX (512u << 20) /* largest artifact we read into memory */

/* Reads the whole file into a NUL-terminated heap buffer (caller frees) and
 * stores its length in *len. NULL with err when unreadable, empty or too big. */
char *modelfile_read(const char *path, size_t *len, struct error *err);

/* Reads and parses a JSON model; the root must be an object. Caller frees with
 * cJSON_Delete. NULL with err. */
cJSON *modelfile_json(const char *path, struct error *err);

/* Copies a JSON array of numbers into a new heap array (caller frees). The
 * array must have exactly `want` items (want < 0: any non-zero count) and
 * *count (if not NULL) receives the count. `what` names the field in
 * messages, e.g. "coefficients". NULL with err. */
double *modelfile_doubles(const cJSON *arr, int want, int *count, const char *what,
			  struct error *err);

/* Error helper: sets a ModelLoadError (status 400) and returns -1. */
int modelfile_fail(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
