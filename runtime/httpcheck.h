/*
 * httpcheck.h: the strict reading of a request's framing and target, as pure
 * functions of the header values and the raw text, so that they are
 * unit-tested and fuzzed apart from the server (which feeds them what
 * libmicrohttpd parsed).
 *
 * Framing (RFC 9112 section 6): a body's length comes from one
 * Content-Length or from Transfer-Encoding: chunked, never both; the server
 * implements no other transfer coding; an HTTP/1.1 request has exactly one
 * Host. Anything else could be read two ways by two servers in a chain
 * (request smuggling) or leave the body's end unknown, so it is refused
 * before the body is read.
 */
#ifndef RUNTIME_HTTPCHECK_H
#define RUNTIME_HTTPCHECK_H

#include <stddef.h>

#define HTTPCHECK_MAX_VALUES 8 /* more header lines of one name than this: refused */

struct httpcheck_head {
	const char *version;                    /* "HTTP/1.1", "HTTP/1.0" */
	unsigned hosts;                         /* Host header lines */
	const char *cl[HTTPCHECK_MAX_VALUES];   /* Content-Length values */
	unsigned ncl;                           /* lines (may exceed the array) */
	const char *te[HTTPCHECK_MAX_VALUES];   /* Transfer-Encoding values */
	unsigned nte;
};

/* 0 when the framing is exactly one the server implements; else the status
 * to answer (400, or 501 for a transfer coding it does not implement) with
 * the reason in msg. */
int httpcheck_head(const struct httpcheck_head *h, char *msg, size_t len);

/* Percent-decodes the NUL-terminated s in place (a '%' not followed by two
 * hex digits stays as it is) and returns the decoded length. Sets *bad when
 * the text, raw or decoded, holds a NUL or another control byte (0x00-0x1f,
 * 0x7f): such a path or query value is refused, never cut short. */
size_t httpcheck_unescape(char *s, int *bad);

#endif
