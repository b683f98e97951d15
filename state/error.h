/*
 * error.h: one error shape for the whole program, mirroring Azure's
 * {"error":{"code","message"}} plus the HTTP status it maps to.
 */
#ifndef STATE_ERROR_H
#define STATE_ERROR_H

struct error {
	int status;        /* HTTP status: 400, 401, 404, 409, 413, 500, ... */
	char code[48];     /* Azure-style code: "ValidationError", "NotFound", "Conflict", ... */
	char message[512]; /* for a person: names the field and the reason */
};

/* Fill *err (if not NULL) and return -1, so callers can `return error_set(...)`. */
int error_set(struct error *err, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void error_clear(struct error *err);

#endif
