/*
 * file.h: reading a whole file into memory, bounded. The one reader every
 * layer uses (state, engines, profiles, command line, console), so none
 * grows a buffer from a file without a maximum, and none truncates silently.
 */
#ifndef STATE_FILE_H
#define STATE_FILE_H

#include <stdio.h>

/* Reads f to its end into a NUL-terminated heap buffer (caller frees) of at
 * most max bytes; *len gets the byte count. NULL with errno set: EFBIG when
 * the content is longer than max, ENOMEM, or the read error. */
char *file_read_stream(FILE *f, size_t max, size_t *len);
/* Opens path and reads it as above. NULL with errno: the open's error (ENOENT,
 * EACCES, ...), EISDIR for a directory, or what file_read_stream reports. */
char *file_read(const char *path, size_t max, size_t *len);

/* mkdir -p of path's parent directory, every missing level 0700. 0, or -1
 * with errno. */
int file_mkdir_parent(const char *path);

#endif
