/*
 * httpfloor.c: how fast mldeck's scoring could answer over HTTP with the
 * least HTTP layer there is. Not part of mldeck, and not a server to use:
 * one thread, one epoll loop, keep-alive HTTP/1.1 with Content-Length bodies
 * only, one bearer key, the model scored by the runtime's own engine
 * (runtime/engines) and answered with the headers mldeck sends. No limits
 * beyond a 64 KiB request, no timeouts, no logging, no metrics: it measures
 * the floor under libmicrohttpd's per-request cost (bench/scoring.py
 * --floor), it does not replace it.
 *
 *     build/bench/httpfloor MODEL_TYPE MODEL_PATH KEY
 *
 * Listens on 127.0.0.1 on a port from the OS and prints
 * "listening on http://127.0.0.1:PORT"; serves until SIGTERM or SIGINT.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "runtime/engines/engine.h"
#include "state/resource.h"

#define REQ_MAX (64 * 1024)

struct client {
	int fd;
	size_t len;
	char buf[REQ_MAX];
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The value of header name in head[0..n), NULL when absent; *vlen its length. */
static const char *header(const char *head, size_t n, const char *name, size_t *vlen)
{
	size_t k = strlen(name);
	const char *p = memchr(head, '\n', n), *end = head + n;

	while (p && p + 1 < end) {
		const char *line = p + 1, *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			break;
		if ((size_t)(eol - line) > k && line[k] == ':' && !strncasecmp(line, name, k)) {
			const char *v = line + k + 1;
			while (v < eol && *v == ' ')
				v++;
			*vlen = (size_t)(eol - v) - (eol > v && eol[-1] == '\r');
			return v;
		}
		p = eol;
	}
	return NULL;
}

static int key_ok(const char *v, size_t n, const char *key, size_t klen)
{
	unsigned char d = 0;

	if (v == NULL || n != klen + 7 || strncmp(v, "Bearer ", 7))
		return 0;
	for (size_t i = 0; i < klen; i++)
		d |= (unsigned char)(v[7 + i] ^ key[i]);
	return d == 0;
}

static size_t put(char *out, size_t at, const char *s, size_t n)
{
	memcpy(out + at, s, n);
	return at + n;
}

static size_t put_num(char *out, size_t at, unsigned long v)
{
	char d[24];
	int k = 0;

	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		out[at++] = d[--k];
	return at;
}

/* Answers one request; 0, or -1 to close the connection. */
static int answer(int fd, struct engine *e, const char *head, size_t hlen, const char *body,
		  size_t blen, const char *key, size_t klen, unsigned long *id)
{
	static const char date_fmt[] = "%a, %d %b %Y %H:%M:%S GMT";
	static time_t last;
	static char date[40];
	struct engine_request rq = {.body = body, .len = blen};
	struct engine_result res = {0};
	char hdr[512], rid[24];
	size_t vlen = 0, h = 0;
	const char *auth = header(head, hlen, "Authorization", &vlen);
	const char *status = "200 OK", *text;
	struct iovec iov[2];
	time_t now = time(NULL);
	ssize_t sent;

	if (now != last) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, date_fmt, &tm);
		last = now;
	}
	rid[put_num(rid, 0, ++*id)] = '\0';
	rq.request_id = rid;
	if (!key_ok(auth, vlen, key, klen)) {
		status = "401 Unauthorized";
		text = "{\"error\":{\"code\":\"Unauthorized\"}}";
		res.body = strdup(text);
		res.len = strlen(text);
	} else if (engine_score(e, &rq, &res) < 0 || res.status != 200) {
		status = "400 Bad Request";
	}
	h = put(hdr, h, "HTTP/1.1 ", 9);
	h = put(hdr, h, status, strlen(status));
	h = put(hdr, h, "\r\nDate: ", 8);
	h = put(hdr, h, date, strlen(date));
	h = put(hdr, h, "\r\nContent-Type: application/json\r\nx-request-id: ", 48);
	h = put(hdr, h, rid, strlen(rid));
	h = put(hdr, h, "\r\nazureml-model-deployment: blue\r\nContent-Length: ", 50);
	h = put_num(hdr, h, (unsigned long)res.len);
	h = put(hdr, h, "\r\n\r\n", 4);
	iov[0] = (struct iovec){hdr, h};
	iov[1] = (struct iovec){res.body, res.len}; /* NULL with len 0: nothing */
	sent = writev(fd, iov, 2);
	free(res.body);
	/* a short write would need EPOLLOUT: the floor does not go there */
	return sent == (ssize_t)(h + res.len) ? 0 : -1;
}

/* Answers every complete request in c's buffer; 0, or -1 to close. */
static int serve(struct client *c, struct engine *e, const char *key, size_t klen,
		 unsigned long *id)
{
	size_t off = 0;

	for (;;) {
		char *start = c->buf + off, *end;
		size_t avail = c->len - off, hlen, vlen = 0, blen;
		const char *cl;

		end = memmem(start, avail, "\r\n\r\n", 4);
		if (end == NULL)
			break;
		hlen = (size_t)(end - start) + 4;
		cl = header(start, hlen, "Content-Length", &vlen);
		blen = cl ? strtoul(cl, NULL, 10) : 0;
		if (hlen + blen > sizeof c->buf)
			return -1;
		if (avail < hlen + blen)
			break;
		/* the engine reads a NUL-terminated body: borrow the next byte (recv
		 * always leaves one free at the end of the buffer) */
		char keep = start[hlen + blen];
		start[hlen + blen] = '\0';
		if (answer(c->fd, e, start, hlen, start + hlen, blen, key, klen, id) < 0)
			return -1;
		start[hlen + blen] = keep;
		off += hlen + blen;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return 0;
}

int main(int argc, char **argv)
{
	struct engine_config cfg = {0};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	struct epoll_event ev, evs[64];
	struct error err;
	struct engine *e;
	unsigned long id = 0;
	size_t klen;
	int lfd, ep, one = 1;

	if (argc != 4 || model_type_parse(argv[1], &cfg.type) < 0) {
		fprintf(stderr, "usage: httpfloor MODEL_TYPE MODEL_PATH KEY\n");
		return 2;
	}
	cfg.model_path = argv[2];
	klen = strlen(argv[3]);
	if ((e = engine_load(&cfg, &err)) == NULL) {
		fprintf(stderr, "httpfloor: %s\n", err.message);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 511) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0 || (ep = epoll_create1(0)) < 0) {
		perror("httpfloor");
		return 1;
	}
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening on http://127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	while (!stopping) {
		int n = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;
			ssize_t r;
			if (c == NULL) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if ((c = calloc(1, sizeof *c)) == NULL) {
						close(fd);
						continue;
					}
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len - 1, 0);
			if (r > 0) {
				c->len += (size_t)r;
				if (serve(c, e, argv[3], klen, &id) == 0)
					continue;
			} else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				continue;
			}
			close(c->fd);
			free(c);
		}
	}
	engine_free(e);
	return 0;
}
