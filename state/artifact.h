/*
 * artifact.h: model artifacts copied into the home, with sha256 and size.
 *
 * An artifact is a file or a directory tree. A registration goes in two steps
 * so that nothing acknowledged is ever touched before the state decides:
 *
 *   artifact_stage_import / artifact_stage_upload   (any time, no lock)
 *       the bytes are copied (or an upload moved) under HOME/tmp/, fsynced and
 *       digested; nothing outside HOME/tmp changes
 *   artifact_place                                   (under the workspace lock)
 *       the staged tree is renamed into a directory of its own,
 *       HOME/models/NAME/VERSION/ID/<basename>, ID unique, so an earlier
 *       registration of the same NAME:VERSION is never replaced in place
 *   then the caller commits the state: on success it removes the previous
 *   registration's artifact (artifact_remove), on failure the new one.
 *
 * A crash between two steps leaves a directory no model version names;
 * artifact_sweep (at start) removes those. For a file, sha256 is the digest of
 * its bytes; for a directory, the digest of the sorted stream of
 * "relative-path\0size\0bytes" records. Symlinks are not followed out of a
 * source directory. Errors carry the system's reason from the call that
 * failed (e.g. "No space left on device").
 */
#ifndef STATE_ARTIFACT_H
#define STATE_ARTIFACT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "state/error.h"

struct artifact_info {
	char *rel;        /* path relative to HOME (heap, caller frees) */
	char sha256[65];
	uint64_t size;    /* total bytes */
};

/* A staged artifact, not yet in place. Zero it before use. */
struct artifact_stage {
	char dir[PATH_MAX];  /* HOME/tmp/import-XXXXXX, "" when empty */
	char base[NAME_MAX + 1];
	char sha256[65];
	uint64_t size;
};

/* Copies SRC (a host path or file:// URI) under HOME/tmp. 400 when src is
 * missing or unreadable (the message names it), 500 on a storage failure. */
int artifact_stage_import(const char *home, const char *src, struct artifact_stage *st,
			  struct error *err);
/* Moves an uploaded file (directly under HOME/tmp, written by the caller)
 * into a stage as FILENAME (a tame name; "model" when unusable). */
int artifact_stage_upload(const char *home, const char *tmp_path, const char *filename,
			  struct artifact_stage *st, struct error *err);
/* Renames the stage into a new HOME/models/NAME/VERSION/ID/ and fills *out
 * (out->rel = models/NAME/VERSION/ID/BASE). The stage is empty afterwards. */
int artifact_place(const char *home, const char *name, const char *version,
		   struct artifact_stage *st, struct artifact_info *out, struct error *err);
/* Removes a stage's files (no-op when empty). */
void artifact_stage_discard(struct artifact_stage *st);

/* Removes the artifact HOME/REL and the directories it leaves empty up to
 * HOME/models (best effort; 0, or -1 for a REL that is not an artifact path). */
int artifact_remove(const char *home, const char *rel);
/* Removes everything under HOME/models/NAME/VERSION/ that none of the n
 * artifact paths in keep names, and the directories left empty. At start,
 * before any registration can run. The number of entries removed. */
int artifact_sweep(const char *home, const char *const *keep, size_t n);
/* HOME + "/" + REL into buf; -1 if it does not fit. */
int artifact_path(const char *home, const char *rel, char *buf, size_t len);
void artifact_info_cleanup(struct artifact_info *a);

#endif
