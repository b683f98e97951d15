/*
 * fuzz_httpfast: the fast lane's reading of a request (runtime/httpfast.c),
 * on any bytes and on every prefix of them. Beyond "no crash": a taken head
 * lies inside the bytes, its target starts with the prefix and holds only
 * the characters the lane allows, every string it gives is cut inside the
 * buffer, and no prefix of a taken head is refused (the lane would hand a
 * connection to libmicrohttpd only to have taken it a packet later).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/httpfast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char prefix[] = "/endpoints/";

static int within(const char *p, const char *buf, size_t n)
{
	return p >= buf && p <= buf + n && memchr(p, '\0', (size_t)(buf + n + 1 - p)) != NULL;
}

static int parse(const uint8_t *data, size_t n, struct httpfast_req *r, char **out)
{
	char *buf = malloc(n + 1);
	int len;

	if (buf == NULL)
		abort();
	memcpy(buf, data, n);
	buf[n] = 'x'; /* the byte past the data is the caller's: never read as data */
	len = httpfast_parse(buf, n, prefix, r);
	if (buf[n] != 'x')
		abort(); /* nor written */
	*out = buf;
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpfast_req r;
	char *buf;
	int len;

	if (size > HTTPFAST_MAX + 64)
		return 0;
	len = parse(data, size, &r, &buf);
	if (len > 0) {
		size_t head = (size_t)(r.body - buf);
		if ((size_t)len >= HTTPFAST_MAX || head > size || head + r.body_len != (size_t)len)
			abort();
		/* the body and what follows are left as they came */
		if (memcmp(buf + head, data + head, size - head) != 0)
			abort();
		if (strncmp(r.target, prefix, strlen(prefix)) != 0 || !within(r.target, buf, size))
			abort();
		for (const char *t = r.target; *t; t++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/",
				    *t))
				abort();
		if (r.nheaders < 2 || r.nheaders > HTTPFAST_HEADERS)
			abort();
		for (int k = 0; k < r.nheaders; k++)
			if (!within(r.name[k], buf, head) || !within(r.value[k], buf, head) ||
			    strlen(r.name[k]) != r.name_len[k])
				abort();
		if (httpfast_header(&r, "host") == NULL || httpfast_header(&r, "content-length") == NULL)
			abort();
		/* every prefix of the head waits for more: none is refused */
		for (size_t cut = 0; cut < head; cut++) {
			char *pb;
			struct httpfast_req pr;
			int pl = parse(data, cut, &pr, &pb);
			free(pb);
			if (pl != 0)
				abort();
		}
	}
	free(buf);
	return 0;
}
