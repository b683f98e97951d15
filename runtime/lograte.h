/*
 * lograte.h: rate limit for repeated failure lines in the request log. A
 * failure is keyed by (peer, status); within each window the first `burst`
 * lines of a key are written and the rest counted, then one summary line
 * says how many were left out. So a client hammering with a wrong key costs
 * a few lines per window, not one per request, and a quiet log still shows
 * every distinct failure.
 *
 * Time is passed in (milliseconds, any monotonic origin) so that the rules
 * are tested without sleeping. Thread-safe (one mutex; only failures take it).
 */
#ifndef RUNTIME_LOGRATE_H
#define RUNTIME_LOGRATE_H

#include <stddef.h>
#include <stdint.h>

#define LOGRATE_BURST 5        /* lines per key and window */
#define LOGRATE_WINDOW_MS 10000
#define LOGRATE_SLOTS 1024     /* keys tracked at once (a full table forgets the oldest) */

struct lograte;

/* Receives a summary line (no newline) for the caller to write. */
typedef void (*lograte_emit_fn)(void *ctx, const char *line);

struct lograte *lograte_new(unsigned burst, unsigned window_ms);
void lograte_free(struct lograte *lr);

/* 1 when the line for this failure should be written, 0 when it is counted
 * instead. Summaries of windows that have ended (this key's, and every
 * other's at most once a window) go to emit first. */
int lograte_admit(struct lograte *lr, const char *peer, int status, uint64_t now_ms,
		  lograte_emit_fn emit, void *ctx);

/* Emits the summaries of every key with lines left out (at shutdown). */
void lograte_flush(struct lograte *lr, uint64_t now_ms, lograte_emit_fn emit, void *ctx);

#endif
