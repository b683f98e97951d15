/* httpcheck.c: strict framing and target checks, pure functions. */
#include "runtime/httpcheck.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The value without optional white space around it: [*b, *e). */
static void trim(const char *v, const char **b, const char **e)
{
	const char *end = v + strlen(v);

	while (is_ows(*v))
		v++;
	while (end > v && is_ows(end[-1]))
		end--;
	*b = v;
	*e = end;
}

static int digits_only(const char *b, const char *e)
{
	if (b == e || e - b > 19)
		return 0;
	for (; b < e; b++)
		if (*b < '0' || *b > '9')
			return 0;
	return 1;
}

static int content_lengths(const struct httpcheck_head *h, char *msg, size_t len)
{
	const char *b0, *e0, *b, *e;
	unsigned i;

	if (h->ncl > HTTPCHECK_MAX_VALUES) {
		snprintf(msg, len, "too many Content-Length headers");
		return 400;
	}
	trim(h->cl[0], &b0, &e0);
	for (i = 0; i < h->ncl; i++) {
		trim(h->cl[i], &b, &e);
		if (!digits_only(b, e)) {
			snprintf(msg, len, "Content-Length must be a non-negative decimal number");
			return 400;
		}
		if (e - b != e0 - b0 || memcmp(b, b0, (size_t)(e - b))) {
			snprintf(msg, len, "two different Content-Length headers");
			return 400;
		}
	}
	return 0;
}

/* Transfer-Encoding: the server implements chunked alone, once. */
static int transfer_codings(const struct httpcheck_head *h, char *msg, size_t len)
{
	unsigned i, chunked = 0, other = 0;
	char first_other[32] = "";

	if (h->nte > HTTPCHECK_MAX_VALUES) {
		snprintf(msg, len, "too many Transfer-Encoding headers");
		return 400;
	}
	for (i = 0; i < h->nte; i++) {
		const char *p = h->te[i];
		while (*p) {
			const char *comma = strchr(p, ','), *b, *e;
			char tok[64];
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			snprintf(tok, sizeof tok, "%.*s", (int)(n < sizeof tok ? n : sizeof tok - 1), p);
			trim(tok, &b, &e);
			if (e - b == 7 && !strncasecmp(b, "chunked", 7))
				chunked++;
			else if (e > b && other++ == 0)
				snprintf(first_other, sizeof first_other, "%.*s", (int)(e - b), b);
			p += n + (comma ? 1 : 0);
		}
	}
	if (other > 0) {
		snprintf(msg, len, "Transfer-Encoding '%s' is not implemented (only chunked)",
			 first_other);
		return 501;
	}
	if (chunked != 1) {
		snprintf(msg, len, "Transfer-Encoding must name chunked exactly once");
		return 400;
	}
	return 0;
}

int httpcheck_head(const struct httpcheck_head *h, char *msg, size_t len)
{
	int is11 = h->version && !strcmp(h->version, "HTTP/1.1");

	if ((is11 && h->hosts == 0) || h->hosts > 1) {
		snprintf(msg, len, h->hosts ? "more than one Host header"
					    : "an HTTP/1.1 request needs a Host header");
		return 400;
	}
	if (h->ncl > 0 && h->nte > 0) {
		snprintf(msg, len, "Content-Length and Transfer-Encoding together");
		return 400;
	}
	if (h->ncl > 0)
		return content_lengths(h, msg, len);
	if (h->nte > 0)
		return transfer_codings(h, msg, len);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

size_t httpcheck_unescape(char *s, int *bad)
{
	size_t r = 0, w = 0;

	while (s[r]) {
		unsigned char c = (unsigned char)s[r];
		int hi, lo;
		if (c == '%' && (hi = hexval(s[r + 1])) >= 0 && (lo = hexval(s[r + 2])) >= 0) {
			c = (unsigned char)(hi * 16 + lo);
			r += 3;
		} else {
			r++;
		}
		if (is_control(c))
			*bad = 1;
		s[w++] = (char)c;
	}
	s[w] = '\0';
	return w;
}
