/* httpfast.c: see httpfast.h. */
#define _GNU_SOURCE /* memmem */
#include "runtime/httpfast.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

static const char fast_method[] = "POST ";
static const char fast_version[] = " HTTP/1.1\r\n";

/* Byte classes, one table: no branch chain per byte. */
enum { C_TOKEN = 1, C_TARGET = 2, C_VALUE = 4 };
static unsigned char classes[256];

static void classes_fill(void)
{
	for (int c = 0; c < 256; c++) {
		int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		unsigned char k = 0;

		if (alnum || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL)) /* RFC 9110 tchar */
			k |= C_TOKEN;
		if (alnum || (c != 0 && strchr("-._~/", c) != NULL)) /* unreserved, and '/' */
			k |= C_TARGET;
		if ((c >= 0x20 && c <= 0x7e) || c == '\t') /* no obs-text, no control byte */
			k |= C_VALUE;
		classes[c] = k;
	}
}

static int in(char c, unsigned char k)
{
	return classes[(unsigned char)c] & k;
}

static int named(const char *s, size_t len, const char *name, size_t nlen)
{
	return nlen == len && !strncasecmp(s, name, len);
}
#define NAMED(s, len, lit) named(s, len, lit, sizeof lit - 1)
/* the head may yet come whole, unless it is already too long */
#define MORE (lim < HTTPFAST_HEAD_MAX ? 0 : -1)

int httpfast_parse(char *buf, size_t n, const char *prefix, struct httpfast_req *r)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	size_t plen = strlen(prefix), lim = n < HTTPFAST_HEAD_MAX ? n : HTTPFAST_HEAD_MAX;
	size_t name_at[HTTPFAST_HEADERS], name_len[HTTPFAST_HEADERS];
	size_t value_at[HTTPFAST_HEADERS], value_len[HTTPFAST_HEADERS];
	size_t i, k, t0, t1, head, total, body_len = 0;
	int hosts = 0, lengths = 0, nh = 0, close = 0;

	pthread_once(&once, classes_fill);
	/* the method decides at once */
	if (memcmp(buf, fast_method, n < sizeof fast_method - 1 ? n : sizeof fast_method - 1))
		return -1;
	if (n < sizeof fast_method - 1)
		return 0;

	/* the request line, refused at its first wrong byte */
	t0 = i = sizeof fast_method - 1;
	while (i < lim && in(buf[i], C_TARGET))
		i++;
	t1 = i;
	k = t1 - t0 < plen ? t1 - t0 : plen;
	if (t1 - t0 > HTTPFAST_TARGET_MAX || (t1 > t0 && buf[t0] != '/') ||
	    memcmp(buf + t0, prefix, k) != 0)
		return -1;
	if (t1 == lim)
		return MORE;
	if (t1 - t0 < plen)
		return -1;
	k = lim - t1 < sizeof fast_version - 1 ? lim - t1 : sizeof fast_version - 1;
	if (memcmp(buf + t1, fast_version, k) != 0)
		return -1;
	if (k < sizeof fast_version - 1)
		return MORE;
	i = t1 + sizeof fast_version - 1;

	/* header lines, each refused at its first wrong byte, up to the empty one */
	for (;;) {
		size_t n0 = i, v0, v1;

		if (i == lim)
			return MORE;
		if (buf[i] == '\r') {
			if (i + 1 == lim)
				return MORE;
			if (buf[i + 1] != '\n')
				return -1;
			head = i + 2;
			break;
		}
		while (i < lim && in(buf[i], C_TOKEN))
			i++;
		if (i == lim)
			return MORE;
		if (i == n0 || buf[i] != ':' || nh == HTTPFAST_HEADERS)
			return -1;
		name_at[nh] = n0;
		name_len[nh] = i - n0;
		i++;
		while (i < lim && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		v0 = i;
		while (i < lim && in(buf[i], C_VALUE))
			i++;
		if (i == lim)
			return MORE;
		if (buf[i] != '\r')
			return -1;
		if (i + 1 == lim)
			return MORE;
		if (buf[i + 1] != '\n')
			return -1;
		v1 = i;
		while (v1 > v0 && (buf[v1 - 1] == ' ' || buf[v1 - 1] == '\t'))
			v1--;
		value_at[nh] = v0;
		value_len[nh] = v1 - v0;
		nh++;
		i += 2;
	}

	/* the framing: one Host, one Content-Length, nothing that changes it */
	for (int h = 0; h < nh; h++) {
		const char *nm = buf + name_at[h], *v = buf + value_at[h];
		size_t nl = name_len[h], vl = value_len[h];

		if (NAMED(nm, nl, "host")) {
			hosts++;
		} else if (NAMED(nm, nl, "content-length")) {
			if (vl == 0 || vl > 7)
				return -1;
			body_len = 0;
			for (size_t j = 0; j < vl; j++) {
				if (v[j] < '0' || v[j] > '9')
					return -1;
				body_len = body_len * 10 + (size_t)(v[j] - '0');
			}
			lengths++;
		} else if (NAMED(nm, nl, "connection")) {
			if (NAMED(v, vl, "close"))
				close = 1;
			else if (!NAMED(v, vl, "keep-alive"))
				return -1;
		} else if (NAMED(nm, nl, "transfer-encoding") || NAMED(nm, nl, "expect") ||
			   NAMED(nm, nl, "upgrade")) {
			return -1;
		}
	}
	if (hosts != 1 || lengths != 1)
		return -1;
	total = head + body_len;
	if (total >= HTTPFAST_MAX)
		return -1;

	/* taken: cut the strings */
	buf[t1] = '\0';
	r->target = buf + t0;
	for (int h = 0; h < nh; h++) {
		buf[name_at[h] + name_len[h]] = '\0';
		buf[value_at[h] + value_len[h]] = '\0';
		r->name[h] = buf + name_at[h];
		r->name_len[h] = name_len[h];
		r->value[h] = buf + value_at[h];
	}
	r->nheaders = nh;
	r->close = close;
	r->body = buf + head;
	r->body_len = body_len;
	return (int)total;
}

const char *httpfast_header(const struct httpfast_req *r, const char *name)
{
	size_t len = strlen(name);

	for (int k = 0; k < r->nheaders; k++)
		if (r->name_len[k] == len && !strncasecmp(r->name[k], name, len))
			return r->value[k];
	return NULL;
}
