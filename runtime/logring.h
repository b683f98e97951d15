/*
 * logring.h: a deployment's log, a bounded ring of timestamped lines (newest
 * last). Shared by reference between the fleet and the engines writing to it;
 * every call is thread-safe.
 */
#ifndef RUNTIME_LOGRING_H
#define RUNTIME_LOGRING_H

#include <stddef.h>

#define LOGRING_LINES 2000
#define LOGRING_LINE_MAX 2048

struct logring;

struct logring *logring_new(void);           /* one reference; NULL on ENOMEM */
struct logring *logring_ref(struct logring *l);
void logring_unref(struct logring *l);        /* NULL is a no-op */
void logring_add(struct logring *l, const char *line); /* copies; long lines are cut */
/* The last `tail` lines (0: all) joined with '\n', heap, caller frees. */
char *logring_tail(struct logring *l, int tail);

#endif
