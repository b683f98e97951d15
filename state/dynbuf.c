/* dynbuf.c: a capped growing buffer (dynbuf.h). */
#include "state/dynbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dynbuf_init(struct dynbuf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

void dynbuf_free(struct dynbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void dynbuf_reset(struct dynbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

/* Room for n more bytes and the NUL. */
static int room(struct dynbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int dynbuf_reserve(struct dynbuf *b, size_t n)
{
	return room(b, n);
}

int dynbuf_add(struct dynbuf *b, const void *p, size_t n)
{
	if (room(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int dynbuf_adds(struct dynbuf *b, const char *s)
{
	return dynbuf_add(b, s, strlen(s));
}

int dynbuf_addf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t avail = b->cap > b->len ? b->cap - b->len : 0;
	int n;

	/* most texts fit the room already there: format once */
	va_start(ap, fmt);
	n = avail ? vsnprintf(b->p + b->len, avail, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > b->max || b->len > b->max - (size_t)n) {
		if (b->p)
			b->p[b->len] = '\0';
		return -1;
	}
	if ((size_t)n < avail) {
		b->len += (size_t)n;
		return 0;
	}
	if (room(b, (size_t)n) < 0) {
		if (b->p)
			b->p[b->len] = '\0';
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int dynbuf_add_json(struct dynbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = b->len, i = 0, run;

	for (run = 0; run < n && (unsigned char)s[run] >= 0x20 && s[run] != '"' && s[run] != '\\';
	     run++)
		;
	if (run == n) { /* nothing to escape: one copy */
		if (n > SIZE_MAX - 2 || room(b, n + 2) < 0)
			return -1;
		b->p[b->len] = '"';
		memcpy(b->p + b->len + 1, s, n);
		b->p[b->len + n + 1] = '"';
		b->len += n + 2;
		b->p[b->len] = '\0';
		return 0;
	}
	if (dynbuf_add(b, "\"", 1) < 0)
		return -1;
	while (i < n) {
		unsigned char c;
		char esc[6] = {'\\', 'u', '0', '0', 0, 0};

		for (run = i; run < n && (unsigned char)s[run] >= 0x20 && s[run] != '"' &&
			      s[run] != '\\';
		     run++)
			;
		if (run > i && dynbuf_add(b, s + i, run - i) < 0)
			goto fail;
		if ((i = run) == n)
			break;
		c = (unsigned char)s[i++];
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			if (dynbuf_add(b, esc, 2) < 0)
				goto fail;
			continue;
		}
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		if (dynbuf_add(b, esc, 6) < 0)
			goto fail;
	}
	if (dynbuf_add(b, "\"", 1) == 0)
		return 0;
fail:
	b->len = start;
	if (b->p)
		b->p[start] = '\0';
	return -1;
}

char *dynbuf_take(struct dynbuf *b, size_t *len)
{
	char *p = b->p;

	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}
