/*
 * logfile.h: the runtime's request and event log, buffered. Lines are
 * appended to a 64 KiB buffer and written out every 100 ms by a flusher
 * thread, when the buffer fills, and at close; so the hot path costs a
 * memcpy, not a write(2) per request (nginx's access_log buffer/flush). A
 * kill -9 loses at most the last 100 ms of log lines, never state.
 * A log opened on a path is rotated by size (logrotate's naming: FILE.1 is
 * the newest old file, FILE.KEEP the oldest; older ones are removed), so it
 * takes at most (KEEP + 1) x MAX_BYTES of disk.
 * Every call is thread-safe.
 */
#ifndef RUNTIME_LOGFILE_H
#define RUNTIME_LOGFILE_H

#include <stdarg.h>
#include <stddef.h>

struct logfile;

#define LOGFILE_MAX_BYTES_DEFAULT ((size_t)64 << 20) /* rotate past 64 MiB */
#define LOGFILE_KEEP_DEFAULT 4                       /* old files kept */

/* Takes ownership of fd when own is set (closed by logfile_close); never
 * rotated. NULL on ENOMEM. */
struct logfile *logfile_open(int fd, int own);
/* Appends to path (created 0600), rotated past max_bytes keeping `keep` old
 * files (0 for either: the default). NULL with errno set. */
struct logfile *logfile_open_path(const char *path, size_t max_bytes, unsigned keep);
/* Appends len bytes (a whole line, newline included). */
void logfile_write(struct logfile *lf, const char *line, size_t len);
/* Appends one event line, "2026-01-02T03:04:05Z event: TEXT\n", and flushes
 * at once: events are rare and someone may be waiting for them. */
void logfile_event(struct logfile *lf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void logfile_vevent(struct logfile *lf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* The same line, written with the next flush (within 100 ms): for a thread
 * that may sit preempted and so must not do I/O under the log's lock (the
 * collector's writer, on spare CPU only). */
void logfile_event_later(struct logfile *lf, const char *text);
/* Writes out what is buffered now. */
void logfile_flush(struct logfile *lf);
/* Flushes, stops the flusher, closes an owned fd. NULL is a no-op. */
void logfile_close(struct logfile *lf);

#endif
