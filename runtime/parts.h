/*
 * parts.h: a batch job's mini-batch outputs on disk until they are merged.
 *
 * Each worker appends its mini-batches' rows to a segment file of its own,
 * HOME/jobs/NAME/parts/seg-RUN-W.dat (RUN: this run of the job; a resumed job
 * writes new segments and keeps the old ones it recorded). A mini-batch's
 * output is then (segment, offset, size, FNV-1a hash), which the job's
 * progress record names; merging copies those ranges in mini-batch order.
 * Appending to an open file is all a mini-batch costs on disk: no file is
 * created, renamed or synced per mini-batch (on ext4, creating and renaming a
 * file per mini-batch cost about 2 ms each). A failed attempt's bytes are cut
 * off again. A range that is not whole (a power loss) fails parts_check, and
 * the job redoes that mini-batch.
 *
 * Not thread-safe per segment (one worker each); parts_check and parts_copy
 * may run on any thread.
 */
#ifndef RUNTIME_PARTS_H
#define RUNTIME_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "state/error.h"

#define PARTS_SEGMENT_MAX 64 /* a segment's name */

struct parts;
struct parts_segment;

/* Opens (creates) the parts folder DIR. NULL with err. */
struct parts *parts_open(const char *dir, struct error *err);
void parts_close(struct parts *p); /* NULL is a no-op */

/* Worker W's segment for run RUN (a new, empty file). NULL with err. */
struct parts_segment *parts_segment_new(struct parts *p, uint64_t run, int w, struct error *err);
void parts_segment_free(struct parts_segment *s); /* NULL is a no-op */
int parts_segment_fd(const struct parts_segment *s);       /* where the next attempt writes */
uint64_t parts_segment_end(const struct parts_segment *s); /* its offset */
const char *parts_segment_name(const struct parts_segment *s);
/* After an attempt: keep its bytes (their count) or cut them off. 0, or -1
 * with errno (the segment can no longer be written). */
int parts_segment_keep(struct parts_segment *s, uint64_t bytes);
int parts_segment_drop(struct parts_segment *s);

/* Whether segment SEG holds size bytes at off with that hash. */
int parts_check(struct parts *p, const char *seg, uint64_t off, uint64_t size, uint64_t hash);
/* Copies that range to out (buf: a scratch buffer). 0, or -1 with err naming
 * the system's reason. */
int parts_copy(struct parts *p, const char *seg, uint64_t off, uint64_t size, int out, char *buf,
	       size_t buflen, struct error *err);

#endif
