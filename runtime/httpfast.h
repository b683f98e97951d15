/*
 * httpfast.h: the fast lane's reading of a request (runtime/server.c). The
 * fast lane answers the data plane's small scoring requests on the server's
 * own event loop instead of libmicrohttpd's; it takes only what is plainly
 * framed, so that it never reads a request another way than the full server
 * would:
 *
 *   POST <target> HTTP/1.1 CRLF, the target under a given prefix and made of
 *   unreserved characters and '/' alone (no '%', no query);
 *   header lines "name: value" CRLF, names of token characters, values of
 *   visible ASCII, spaces and tabs, at most HTTPFAST_HEADERS of them;
 *   exactly one Host and exactly one Content-Length (digits only); no
 *   Transfer-Encoding, Expect, Upgrade, or Connection but keep-alive or close;
 *   head and body together under HTTPFAST_MAX bytes.
 *
 * Anything else is "not for the fast lane", and the server hands the
 * connection, its bytes still unread in the kernel, to libmicrohttpd. A pure
 * function of the bytes: unit-tested and fuzzed apart from the server.
 */
#ifndef RUNTIME_HTTPFAST_H
#define RUNTIME_HTTPFAST_H

#include <stddef.h>

#define HTTPFAST_MAX (16 * 1024)  /* head and body, bytes */
#define HTTPFAST_HEAD_MAX 8192    /* the head alone */
#define HTTPFAST_TARGET_MAX 256
#define HTTPFAST_HEADERS 32

struct httpfast_req {
	const char *target;  /* NUL-terminated, inside the buffer */
	const char *name[HTTPFAST_HEADERS];
	size_t name_len[HTTPFAST_HEADERS];
	const char *value[HTTPFAST_HEADERS]; /* trimmed */
	int nheaders;
	const char *body;    /* body_len bytes, not terminated */
	size_t body_len;
	int close;           /* Connection: close (the connection ends with the answer) */
};

/* Reads buf[0..n). When it starts with the whole head of a request the fast
 * lane takes, returns the length of that request (head and body; the body
 * may not be all in yet: n < the length) with its fields in *r; 0 when the
 * bytes so far could begin such a head (wait for more); -1 when it is not
 * for the fast lane. The head's strings in *r are cut in buf with NULs; the
 * body is left as it is (what follows it may be the next request: ending it
 * is the caller's). prefix: what the target must start with. */
int httpfast_parse(char *buf, size_t n, const char *prefix, struct httpfast_req *r);

/* The value of header name (case-insensitive; the first when repeated), NULL
 * when absent. */
const char *httpfast_header(const struct httpfast_req *r, const char *name);

#endif
