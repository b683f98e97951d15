/*
 * file.h: the file-system helpers every layer shares, so each exists once:
 * reading a whole file into memory, bounded (state, engines, profiles, command
 * line, console: none grows a buffer from a file without a maximum, none
 * truncates silently); writing a buffer whole; mkdir -p; removing a tree
 * without following symlinks. Every failure returns with errno as the failing
 * call set it (saved across any cleanup), so callers can report it.
 */
#ifndef STATE_FILE_H
#define STATE_FILE_H

#include <stdio.h>
#include <sys/types.h>

/* Reads f to its end into a NUL-terminated heap buffer (caller frees) of at
 * most max bytes; *len gets the byte count. NULL with errno set: EFBIG when
 * the content is longer than max, ENOMEM, or the read error. */
char *file_read_stream(FILE *f, size_t max, size_t *len);
/* Opens path and reads it as above. NULL with errno: the open's error (ENOENT,
 * EACCES, ...), EISDIR for a directory, or what file_read_stream reports. */
char *file_read(const char *path, size_t max, size_t *len);
/* The same for NAME inside the directory dirfd, never following a symlink at
 * NAME (ELOOP). */
char *file_read_at(int dirfd, const char *name, size_t max, size_t *len);

/* Writes all len bytes to fd, through short writes and EINTR. 0, or -1 with
 * errno (ENOSPC on a full disk, never a stale value). */
int file_write_all(int fd, const void *data, size_t len);
/* mkdir -p: creates path with mode, and any missing parent with 0700.
 * 0 (also when it exists) or -1 with errno. */
int file_mkdirs(const char *path, mode_t mode);
/* Replaces path with data whole: parents made (0700) as needed, a new
 * temporary file of that mode (O_EXCL, never through a symlink) written,
 * fsynced and renamed over path. Readers see the old or the new content,
 * never a mix. 0, or -1 with errno. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Removes NAME inside dirfd: a file, or a directory and everything in it,
 * never following a symlink (a symlink is removed, not its target).
 * 0, or -1 with errno (ENOENT when absent). */
int file_remove_at(int dirfd, const char *name);

#endif
