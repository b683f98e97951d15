/*
 * minibatch.h: one attempt at one mini-batch of a batch job: its files scored
 * into an output part, with the figures Azure reports per mini-batch.
 *
 * Native engines (xgboost, linear, mlp): each file's rows are read as a
 * stream (rows.h) in chunks of MINIBATCH_CHUNK rows, scored with
 * engine_predict and written as Azure writes an MLflow deployment's output,
 * `ROW PREDICTION FILE_NAME` (ROW the 0-based index of the row in its file,
 * PREDICTION exactly what online scoring answers for that row, FILE_NAME the
 * file's base name), space-separated, one line per row. Items are rows: a
 * malformed row is one failed item (the rest of the file is scored); a file
 * that cannot be opened or read, or whose header does not fit the model, is
 * one failed item.
 *
 * The attempt stops between chunks when *cancel becomes non-zero (CANCELED)
 * or the deadline passes (RUN_TIMEOUT, no output kept). Thread-safe: one
 * attempt per thread; the engine is shared.
 */
#ifndef RUNTIME_MINIBATCH_H
#define RUNTIME_MINIBATCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/engines/engine.h"
#include "runtime/joblog.h"

#define MINIBATCH_CHUNK 1024 /* rows scored at once */

enum minibatch_status {
	MB_DONE,      /* RUN_DONE: the part is complete */
	MB_TIMEOUT,   /* RUN_TIMEOUT: past the deadline */
	MB_EXCEPTION, /* RUN_EXCEPTION: the engine failed */
	MB_CANCELED,  /* stopped on request */
	MB_IO_ERROR   /* the part could not be written (a full disk): fatal to the job */
};

struct minibatch_ctx {
	struct engine *engine;
	int features, outputs, missing; /* engine_features, engine_outputs, takes_missing */
	const atomic_int *cancel;       /* non-zero: stop now */
	uint64_t deadline_ns;           /* monotonic (server_now_ns); 0: none */
	struct joblog *log;
	int id;                         /* the mini-batch's number, for messages */
};

struct minibatch_result {
	enum minibatch_status status;
	int64_t items, ok, failed;
	uint64_t size;  /* bytes written to the part */
	uint64_t hash;  /* FNV-1a 64 of those bytes */
	char error[256];
};

const char *minibatch_status_name(enum minibatch_status s); /* "RUN_DONE", ... */

/* Scores files[0..n) (absolute paths) into out_fd. Always fills *res. */
void minibatch_run(const struct minibatch_ctx *ctx, char *const *files, size_t n, int out_fd,
		   struct minibatch_result *res);

/* FNV-1a 64 of data, continuing from h (start with MINIBATCH_HASH_INIT). */
#define MINIBATCH_HASH_INIT 0xcbf29ce484222325ull
uint64_t minibatch_hash(uint64_t h, const void *data, size_t len);

#endif
