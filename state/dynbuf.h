/*
 * dynbuf.h: a growing byte buffer with a cap set at its creation (curl's
 * dynbuf): appends past the cap fail and leave the buffer as it was, so
 * nothing that grows from input grows without bound. The bytes are always
 * NUL-terminated. Not thread-safe: one owner.
 */
#ifndef STATE_DYNBUF_H
#define STATE_DYNBUF_H

#include <stdarg.h>
#include <stddef.h>

struct dynbuf {
	char *p;
	size_t len, cap, max;
};

void dynbuf_init(struct dynbuf *b, size_t max);
void dynbuf_free(struct dynbuf *b);
/* Empties it, keeping the memory. */
void dynbuf_reset(struct dynbuf *b);
/* 0, or -1 (past the cap, or out of memory) with the buffer unchanged. */
int dynbuf_add(struct dynbuf *b, const void *p, size_t n);
/* Room for n more bytes (and the NUL) past len, for writing at p + len
 * directly; 0, or -1 past max or on ENOMEM. */
int dynbuf_reserve(struct dynbuf *b, size_t n);
int dynbuf_adds(struct dynbuf *b, const char *s);
int dynbuf_addf(struct dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s[0..n) as a JSON string, quotes included (control characters \u-escaped). */
int dynbuf_add_json(struct dynbuf *b, const char *s, size_t n);
/* The bytes, now the caller's (free()); the buffer is empty. NULL when empty. */
char *dynbuf_take(struct dynbuf *b, size_t *len);

#endif
