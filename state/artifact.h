/*
 * artifact.h: model artifacts copied into the home, with sha256 and size.
 *
 * An artifact is a file or a directory tree stored at
 * HOME/models/NAME/VERSION/<basename>. For a file, sha256 is the digest of its
 * bytes; for a directory, the digest of the sorted stream of
 * "relative-path\0size\0bytes" records. The copy is made under HOME/tmp,
 * fsynced, then renamed into place, so a crash never leaves a half artifact at
 * the final path. Symlinks are not followed out of a source directory.
 */
#ifndef STATE_ARTIFACT_H
#define STATE_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include "state/error.h"

struct artifact_info {
	char *rel;        /* path relative to HOME (heap, caller frees) */
	char sha256[65];
	uint64_t size;    /* total bytes */
};

/* Copies SRC (a host path or file:// URI) into the home. 400 when src is missing
 * or unreadable (the message names it). */
int artifact_import(const char *home, const char *name, const char *version, const char *src,
		    struct artifact_info *out, struct error *err);
/* Adopts an uploaded temp file (already under HOME/tmp, written by the caller)
 * as HOME/models/NAME/VERSION/FILENAME (rename, no copy). */
int artifact_adopt(const char *home, const char *name, const char *version, const char *tmp_path,
		   const char *filename, struct artifact_info *out, struct error *err);
/* Removes HOME/REL's version directory (best effort; 0 or -1). */
int artifact_remove(const char *home, const char *rel);
/* HOME + "/" + REL into buf; -1 if it does not fit. */
int artifact_path(const char *home, const char *rel, char *buf, size_t len);
void artifact_info_cleanup(struct artifact_info *a);

#endif
