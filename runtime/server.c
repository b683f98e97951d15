/*
 * server.c: HTTP over libmicrohttpd, and the fast lane beside it: headers
 * checked and admitted before any body byte is read, bodies under budgets,
 * one handler per complete request, connections under the guard of conns.c.
 */
#define _GNU_SOURCE /* sched_getaffinity: how many CPUs this process may use */
#include "runtime/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "runtime/httpcheck.h"
#include "runtime/lograte.h"
#include "runtime/pool.h"
#include "state/codec.h"
#include "state/dynbuf.h"

#define STOP_FLUSH_MS 3000 /* at stop, how long answered requests get to be sent */
/* Body buffers kept for the next requests: a freed 60 KB body made malloc
 * give its pages back to the kernel (heap trimming), and the next request
 * faulted them in again, a page at a time. */
#define SPARE_BODIES 8
#define SPARE_BODY_MAX ((size_t)1 << 20) /* larger buffers are freed */

struct lane;

struct server {
	struct MHD_Daemon *d;
	struct MHD_Daemon *ud; /* the same API on a Unix socket, NULL when none */
	struct pool *pool;
	struct server_options o;
	unsigned short port;
	atomic_ulong next_id;
	atomic_ulong next_spool;
	char id_prefix[9];
	char spool_dir[4096];
	struct conns *guard;
	struct lograte *rate;       /* repeated failures in the request log */
	atomic_size_t mem_used;     /* bodies in memory, bytes */
	pthread_mutex_t spool_lock;
	size_t spool_used;          /* uploads in flight, bytes announced */
	atomic_int parked;          /* requests suspended (defer, later) and not yet done */
	pthread_mutex_t spare_lock;
	struct {
		char *buf;
		size_t size;
	} spare[SPARE_BODIES];      /* body buffers for reuse (at most 8 MiB) */
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t unix_dev; /* the socket we bound, so stop unlinks only ours */
	ino_t unix_ino;
	int lfd;               /* the TCP listen socket when the fast lane accepts, else -1 */
	struct lane *lanes;    /* the fast lane's loops, NULL when none */
	int nlanes;
	atomic_ulong answered_full; /* answers sent by libmicrohttpd (lanes count theirs) */
	atomic_int quiescing;  /* server_stop: accept no more */
	atomic_int stopping;   /* server_stop: the loops close and return */
};

/* What the server keeps per connection (libmicrohttpd's socket context). */
struct conn {
	struct conns_entry *guard;
	int bad_target; /* this request's path or query decoded to a control byte */
	char peer[64];  /* the client's address, once for all its requests */
	long peer_uid;  /* SO_PEERCRED's on the Unix socket, else -1 */
};

/* One request being read, handled, answered. */
struct pending {
	struct server *s;
	struct server_request rq;
	struct server_response rs; /* a deferred handler's answer */
	int done;                  /* the deferred handler has finished */
	char *path_copy;           /* path split into segments: path_small, or heap */
	char path_small[256];
	char *buf;
	size_t len, cap;           /* cap: what the memory budget holds for buf */
	size_t buf_size;           /* what buf's allocation holds (>= cap) */
	size_t limit;              /* the admitted body's limit */
	size_t mem_held;           /* of the memory budget */
	size_t spool_held;         /* of the upload budget */
	int upload_fd;
	char *upload_path; /* the spool file, while there is one */
	int refused; /* decided while reading the body: 413, 503 or 500 */
	int parked;  /* counted in s->parked until freed */
	struct fconn *fc; /* the fast lane's connection; NULL on libmicrohttpd */
};

uint64_t server_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *server_header(const struct server_request *rq, const char *name)
{
	if (rq->fast)
		return httpfast_header(rq->fast, name);
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

struct header_walk {
	char **v;
	size_t n, cap;
	char *pool;
	size_t used, size;
	char sep; /* ':' headers ("Name: value"), '=' query ("name=value") */
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct header_walk *w = cls;

	(void)kind;
	w->n++;
	w->size += strlen(key) + (value ? strlen(value) : 0) + 3;
	return MHD_YES;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct header_walk *w = cls;
	int n;

	(void)kind;
	if (w->n >= w->cap)
		return MHD_NO;
	n = snprintf(w->pool + w->used, w->size - w->used, w->sep == ':' ? "%s: %s" : "%s=%s", key,
		     value ? value : "");
	if (n < 0 || (size_t)n >= w->size - w->used)
		return MHD_NO;
	w->v[w->n++] = w->pool + w->used;
	w->used += (size_t)n + 1;
	return MHD_YES;
}

/* The values of one kind as "key<sep>value" strings in one block. */
static char **value_list(const struct server_request *rq, enum MHD_ValueKind kind, char sep)
{
	struct header_walk w;
	char **block;

	memset(&w, 0, sizeof w);
	w.sep = sep;
	if (rq->fast) /* its headers; it has no query */
		for (int k = 0; kind == MHD_HEADER_KIND && k < rq->fast->nheaders; k++)
			count_header(&w, kind, rq->fast->name[k], rq->fast->value[k]);
	else
		MHD_get_connection_values(rq->conn, kind, count_header, &w);
	block = malloc((w.n + 1) * sizeof(char *) + w.size + 1);
	if (block == NULL)
		return NULL;
	w.cap = w.n;
	w.v = block;
	w.pool = (char *)(block + w.n + 1);
	w.n = 0;
	w.size += 1;
	if (rq->fast)
		for (int k = 0; kind == MHD_HEADER_KIND && k < rq->fast->nheaders; k++)
			copy_header(&w, kind, rq->fast->name[k], rq->fast->value[k]);
	else
		MHD_get_connection_values(rq->conn, kind, copy_header, &w);
	block[w.n] = NULL;
	return block;
}

char **server_header_list(const struct server_request *rq)
{
	return value_list(rq, MHD_HEADER_KIND, ':');
}

char **server_query_list(const struct server_request *rq)
{
	return value_list(rq, MHD_GET_ARGUMENT_KIND, '=');
}

const char *server_query(const struct server_request *rq, const char *name)
{
	if (rq->fast)
		return NULL;
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

void server_reply_json(struct server_response *rs, int status, char *json)
{
	free(rs->body);
	rs->status = status;
	rs->body = json;
	rs->len = json ? strlen(json) : 0;
	rs->content_type = "application/json";
}

static int header_text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int server_reply_header(struct server_response *rs, const char *name, const char *value)
{
	int i;

	if (strchr(name, ':') != NULL || !header_text_ok(name) || !header_text_ok(value))
		return -1;
	for (i = 0; i < SERVER_EXTRA_HEADERS; i++) {
		if (rs->extra[i].name)
			continue;
		rs->extra[i].value = strdup(value);
		rs->extra[i].name = strdup(name);
		if (rs->extra[i].value == NULL || rs->extra[i].name == NULL) {
			free(rs->extra[i].value);
			free(rs->extra[i].name);
			rs->extra[i].value = rs->extra[i].name = NULL;
			return -1;
		}
		return 0;
	}
	return -1;
}

void server_response_cleanup(struct server_response *rs)
{
	int i;

	free(rs->body);
	free(rs->file);
	/* server_reply_header fills the slots in order and none is ever emptied */
	for (i = 0; i < SERVER_EXTRA_HEADERS && rs->extra[i].name; i++) {
		free(rs->extra[i].name);
		free(rs->extra[i].value);
	}
	memset(rs, 0, sizeof *rs);
}

void server_reply_error(struct server_response *rs, const struct error *err)
{
	cJSON *j = codec_error(err);

	server_reply_json(rs, err->status ? err->status : 500, j ? cJSON_PrintUnformatted(j) : NULL);
	cJSON_Delete(j);
}

void server_reply_errorf(struct server_response *rs, int status, const char *code,
			 const char *fmt, ...)
{
	struct error err;
	va_list ap;

	err.status = status;
	snprintf(err.code, sizeof err.code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof err.message, fmt, ap);
	va_end(ap);
	server_reply_error(rs, &err);
}


void server_reply_file(struct server_response *rs, int status, const char *path,
		       const char *content_type)
{
	free(rs->body);
	free(rs->file);
	rs->body = NULL;
	rs->len = 0;
	rs->status = status;
	rs->file = strdup(path);
	rs->content_type = content_type;
	if (rs->file == NULL)
		server_reply_errorf(rs, 500, "OutOfMemory", "out of memory");
}


/* A client's x-request-id is echoed when it is short and printable. */
/* PREFIX-XXXXXXXX (8 hex digits of n, more when it needs them): what
 * "%s-%08lx" wrote, without printf on every request. */
static void id_format(char *out, const char *prefix, unsigned long n)
{
	static const char hex[] = "0123456789abcdef";
	char digits[2 * sizeof n];
	size_t len = strlen(prefix), k = 0;

	do {
		digits[k++] = hex[n & 15];
		n >>= 4;
	} while (n || k < 8);
	memcpy(out, prefix, len);
	out[len++] = '-';
	while (k)
		out[len++] = digits[--k];
	out[len] = '\0';
}

static void request_id(struct server *s, struct pending *p)
{
	const char *h = server_header(&p->rq, "x-request-id");
	size_t i, n = h ? strlen(h) : 0;

	if (n > 0 && n < sizeof p->rq.request_id) {
		for (i = 0; i < n; i++)
			if (h[i] < 0x21 || h[i] > 0x7e)
				break;
		if (i == n) {
			memcpy(p->rq.request_id, h, n + 1);
			return;
		}
	}
	id_format(p->rq.request_id, s->id_prefix, atomic_fetch_add(&s->next_id, 1));
}

static void peer_name(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, len, "-");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
			  (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  buf, (socklen_t)len);
}

/* The uid of the process at the other end of a Unix-socket connection
 * (SO_PEERCRED), -1 on any other socket. Which socket: the daemon the
 * connection came to (no system call on TCP, where every request asked
 * getsockname: a third of the hot path's system calls). */
static long peer_uid(struct server *s, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *di =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
	const union MHD_ConnectionInfo *ci;
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (s->ud == NULL || di == NULL || di->daemon != s->ud ||
	    (ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD)) == NULL ||
	    getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	return (long)cred.uid;
}

static void split_path(struct pending *p, const char *url)
{
	char *save = NULL, *tok;
	size_t n = strlen(url) + 1;

	p->rq.path = url;
	p->path_copy = n <= sizeof p->path_small ? p->path_small : malloc(n);
	if (p->path_copy == NULL)
		return;
	memcpy(p->path_copy, url, n);
	for (tok = strtok_r(p->path_copy, "/", &save); tok && p->rq.segc < SERVER_MAX_SEGMENTS;
	     tok = strtok_r(NULL, "/", &save))
		p->rq.segv[p->rq.segc++] = tok;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static struct pending *pending_new(struct server *s, struct MHD_Connection *c, const char *url,
				   const char *method)
{
	struct pending *p = calloc(1, sizeof *p);
	struct conn *cn;

	if (p == NULL)
		return NULL;
	p->upload_fd = -1;
	p->s = s;
	p->rq.method = method;
	p->rq.conn = c;
	p->rq.start_ns = server_now_ns();
	split_path(p, url);
	request_id(s, p);
	if ((cn = conn_of(c)) != NULL) {
		memcpy(p->rq.peer, cn->peer, sizeof p->rq.peer);
		p->rq.peer_uid = cn->peer_uid;
	} else {
		peer_name(c, p->rq.peer, sizeof p->rq.peer);
		p->rq.peer_uid = peer_uid(s, c);
	}
	return p;
}

/* A buffer for a body of want bytes: a spare one that is large enough, or a
 * new one. Its size in *size; NULL when out of memory. */
static char *body_alloc(struct server *s, size_t want, size_t *size)
{
	char *buf = NULL;

	pthread_mutex_lock(&s->spare_lock);
	for (int i = 0; i < SPARE_BODIES && buf == NULL; i++) {
		if (s->spare[i].buf != NULL && s->spare[i].size >= want) {
			buf = s->spare[i].buf;
			*size = s->spare[i].size;
			s->spare[i].buf = NULL;
		}
	}
	pthread_mutex_unlock(&s->spare_lock);
	if (buf == NULL && (buf = malloc(want)) != NULL)
		*size = want;
	return buf;
}

/* Keeps a body buffer for reuse when there is room, else frees it. */
static void body_release(struct server *s, char *buf, size_t size)
{
	if (buf == NULL)
		return;
	if (size <= SPARE_BODY_MAX) {
		pthread_mutex_lock(&s->spare_lock);
		for (int i = 0; i < SPARE_BODIES && buf != NULL; i++) {
			if (s->spare[i].buf == NULL) {
				s->spare[i].buf = buf;
				s->spare[i].size = size;
				buf = NULL;
			}
		}
		pthread_mutex_unlock(&s->spare_lock);
	}
	free(buf);
}

static void spare_free(struct server *s)
{
	for (int i = 0; i < SPARE_BODIES; i++)
		free(s->spare[i].buf);
	pthread_mutex_destroy(&s->spare_lock);
}

static void pending_free(struct pending *p)
{
	if (p == NULL)
		return;
	if (p->parked)
		atomic_fetch_sub(&p->s->parked, 1);
	if (p->upload_fd >= 0)
		close(p->upload_fd);
	if (p->upload_path) {
		unlink(p->upload_path);
		free(p->upload_path);
	}
	if (p->mem_held)
		atomic_fetch_sub(&p->s->mem_used, p->mem_held);
	if (p->spool_held) {
		pthread_mutex_lock(&p->s->spool_lock);
		p->s->spool_used -= p->spool_held;
		pthread_mutex_unlock(&p->s->spool_lock);
	}
	if (p->path_copy != p->path_small)
		free(p->path_copy);
	body_release(p->s, p->buf, p->buf_size);
	server_response_cleanup(&p->rs);
	free(p);
}

/* ---- budgets: bodies in memory, uploads on disk ------------------------- */

/* Takes n bytes of the memory budget for p. 0, or -1 when it is spent. */
static int mem_take(struct server *s, struct pending *p, size_t n)
{
	size_t used = atomic_fetch_add(&s->mem_used, n);

	if (used + n > s->o.body_memory) {
		atomic_fetch_sub(&s->mem_used, n);
		return -1;
	}
	p->mem_held += n;
	return 0;
}

/* Room on disk for an upload of want bytes: within the cap on uploads in
 * flight, and leaving the reserve free for the state. 0, or the status. */
static int spool_take(struct server *s, struct pending *p, size_t want)
{
	struct statvfs sv;
	unsigned long long avail;
	int rc = 0;

	pthread_mutex_lock(&s->spool_lock);
	if (s->spool_used + want > s->o.spool_max) {
		rc = 503;
	} else if (statvfs(s->spool_dir, &sv) < 0) {
		rc = 500;
	} else {
		avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
		if (avail < (unsigned long long)s->spool_used + want + s->o.spool_reserve)
			rc = 507;
	}
	if (rc == 0) {
		s->spool_used += want;
		p->spool_held = want;
	}
	pthread_mutex_unlock(&s->spool_lock);
	return rc;
}

static int open_spool(struct server *s, struct pending *p)
{
	size_t len = strlen(s->spool_dir) + 48;

	p->upload_path = malloc(len);
	if (p->upload_path == NULL)
		return -1;
	/* never the client's request id: it is not a safe file name */
	snprintf(p->upload_path, len, "%s/upload-%s-%lu", s->spool_dir, s->id_prefix,
		 (unsigned long)atomic_fetch_add(&s->next_spool, 1));
	p->upload_fd = open(p->upload_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    0600);
	if (p->upload_fd < 0) {
		free(p->upload_path);
		p->upload_path = NULL;
		return -1;
	}
	return 0;
}

/* ---- step 1: the headers ------------------------------------------------ */

static enum MHD_Result collect_head(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct httpcheck_head *h = cls;

	(void)kind;
	if (!strcasecmp(key, MHD_HTTP_HEADER_HOST))
		h->hosts++;
	else if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) && h->ncl++ < HTTPCHECK_MAX_VALUES)
		h->cl[h->ncl - 1] = value ? value : "";
	else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) &&
		 h->nte++ < HTTPCHECK_MAX_VALUES)
		h->te[h->nte - 1] = value ? value : "";
	return MHD_YES;
}

/* Strict HTTP (httpcheck.h) and the decoded target. 0 with the framing in *h
 * (one Content-Length or Transfer-Encoding at most), or -1 with rs filled. */
static int check_head(struct MHD_Connection *c, const char *version, struct httpcheck_head *h,
		      struct server_response *rs)
{
	struct conn *cn = conn_of(c);
	char msg[160];
	int status;

	if (cn && cn->bad_target) {
		server_reply_errorf(rs, 400, "BadRequest",
				    "the path or query holds a NUL or control character");
		return -1;
	}
	memset(h, 0, sizeof *h);
	h->version = version;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_head, h);
	status = httpcheck_head(h, msg, sizeof msg);
	if (status == 0)
		return 0;
	server_reply_errorf(rs, status, status == 501 ? "NotImplemented" : "BadRequest", "%s", msg);
	return -1;
}

static void reply_too_large(struct server_response *rs, size_t limit)
{
	server_reply_errorf(rs, 413, "PayloadTooLarge", "request body is over the limit of %zu bytes",
			    limit);
}

/* Where the body goes, and whether there is room for it. 0, or -1 with rs
 * filled (answered before any body byte is read). */
static int plan_body(struct server *s, struct pending *p, const struct httpcheck_head *h,
		     const struct server_admission *ad, struct server_response *rs)
{
	const char *cl = h->ncl ? h->cl[0] : NULL;
	const char *te = h->nte ? h->te[0] : NULL;
	unsigned long long want = cl ? strtoull(cl, NULL, 10) : 0;
	int rc;

	p->limit = ad->limit;
	if (want > ad->limit || (te && ad->limit == 0)) {
		reply_too_large(rs, ad->limit);
		return -1;
	}
	if (ad->body == SERVER_BODY_SPOOL) {
		if (cl == NULL) {
			server_reply_errorf(rs, 411, "LengthRequired",
					    "an upload needs a Content-Length");
			return -1;
		}
		rc = spool_take(s, p, (size_t)want);
		if (rc == 0 && open_spool(s, p) < 0)
			rc = 500;
		if (rc == 0)
			return 0;
		if (rc == 503) {
			server_reply_errorf(rs, 503, "ServerBusy",
					    "too many uploads in flight; try again shortly");
			server_reply_header(rs, "Retry-After", "5");
		} else if (rc == 507) {
			server_reply_errorf(rs, 507, "InsufficientStorage",
					    "not enough free space for an upload of %llu bytes", want);
		} else {
			server_reply_errorf(rs, 500, "InternalError", "cannot spool the upload: %s",
					    strerror(errno));
		}
		return -1;
	}
	if (want > 0) {
		/* the size is announced: one allocation instead of a doubling series */
		if (mem_take(s, p, (size_t)want + 1) < 0) {
			server_reply_errorf(rs, 503, "ServerBusy",
					    "the server is receiving too many request bodies; try "
					    "again shortly");
			server_reply_header(rs, "Retry-After", "1");
			return -1;
		}
		p->buf = body_alloc(s, (size_t)want + 1, &p->buf_size);
		if (p->buf) {
			p->cap = (size_t)want + 1;
			p->buf[0] = '\0'; /* a reused buffer holds an earlier body */
		}
	}
	return 0;
}

/* Headers complete, body unread: strict checks, the admission hook, the plan
 * for the body. 0 to read on, -1 with rs to answer now. */
static int admit(struct server *s, struct pending *p, const char *version,
		 struct server_response *rs)
{
	struct httpcheck_head h;
	struct server_admission ad;

	if (check_head(p->rq.conn, version, &h, rs) < 0)
		return -1;
	ad.body = SERVER_BODY_MEMORY;
	ad.limit = s->o.json_limit;
	if (s->o.admit && s->o.admit(s->o.ctx, &p->rq, &ad, rs) < 0) {
		if (rs->status == 0)
			server_reply_errorf(rs, 403, "Forbidden", "request refused");
		return -1;
	}
	return plan_body(s, p, &h, &ad, rs);
}

/* ---- step 2: the body --------------------------------------------------- */

static void spool_append(struct pending *p, const char *data, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(p->upload_fd, data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			p->refused = 500;
			return;
		}
		off += (size_t)w;
	}
	p->len += n;
}

static void pending_append(struct server *s, struct pending *p, const char *data, size_t n)
{
	if (p->refused)
		return;
	if (p->len + n > p->limit) {
		p->refused = 413;
		return;
	}
	if (p->upload_fd >= 0)
		return spool_append(p, data, n);
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		char *nb;
		while (cap < p->len + n + 1)
			cap *= 2;
		if (mem_take(s, p, cap - p->cap) < 0) {
			p->refused = 503;
			return;
		}
		if (cap > p->buf_size) {
			nb = realloc(p->buf, cap);
			if (nb == NULL) {
				p->refused = 500;
				return;
			}
			p->buf = nb;
			p->buf_size = cap;
		}
		p->cap = cap;
	}
	memcpy(p->buf + p->len, data, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void refuse(struct pending *p, struct server_response *rs)
{
	if (p->refused == 413) {
		reply_too_large(rs, p->limit);
	} else if (p->refused == 503) {
		server_reply_errorf(rs, 503, "ServerBusy",
				    "the server is receiving too many request bodies; try again "
				    "shortly");
		server_reply_header(rs, "Retry-After", "1");
	} else {
		server_reply_errorf(rs, 500, "InternalError", "could not receive the request body");
	}
}

/* ---- step 3: the answer ------------------------------------------------- */

/* The log's timestamp, formatted once a second per thread. */
static const char *log_time(void)
{
	static _Thread_local time_t last;
	static _Thread_local char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		last = now;
	}
	return ts;
}

/* A lograte summary, as a log line of its own. */
static void log_summary(void *ctx, const char *text)
{
	struct server *s = ctx;
	char line[256];
	int n = snprintf(line, sizeof line, "%s %s\n", log_time(), text);

	if (n > 0 && (size_t)n < sizeof line)
		logfile_write(s->o.log, line, (size_t)n);
}

/* A log line being put together, cut (never overrun) at its size. */
struct line {
	char *p;
	size_t n, cap; /* cap: room for the text, the newline kept apart */
};

static void put_str(struct line *l, const char *s, size_t max)
{
	size_t k = strnlen(s, max);

	if (k > l->cap - l->n)
		k = l->cap - l->n;
	memcpy(l->p + l->n, s, k);
	l->n += k;
}

static void put_uint(struct line *l, unsigned long long v, int width)
{
	char d[24];
	int k = 0;

	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || k < width);
	while (k && l->n < l->cap)
		l->p[l->n++] = d[--k];
}

/* The access log's line: what "%s %s %s %.300s %d %.2fms rid=%s ..." wrote,
 * put together by hand (printf was a twentieth of a scoring request). */
static void log_request(struct server *s, const struct server_request *rq,
			const struct server_response *rs)
{
	char buf[1024];
	struct line l = {buf, 0, sizeof buf - 1};
	uint64_t now = server_now_ns();
	uint64_t cs = (now - rq->start_ns + 5000) / 10000; /* hundredths of a millisecond */

	if (s->o.log == NULL)
		return;
	if (rs->status >= 400 &&
	    !lograte_admit(s->rate, rq->peer, rs->status, now / 1000000u, log_summary, s))
		return;
	put_str(&l, log_time(), 32);
	put_str(&l, " ", 1);
	put_str(&l, rq->peer, sizeof rq->peer);
	put_str(&l, " ", 1);
	put_str(&l, rq->method, 32);
	put_str(&l, " ", 1);
	put_str(&l, rq->path, 300);
	put_str(&l, " ", 1);
	put_uint(&l, rs->status > 0 ? (unsigned)rs->status : 0, 1);
	put_str(&l, " ", 1);
	put_uint(&l, cs / 100, 1);
	put_str(&l, ".", 1);
	put_uint(&l, cs % 100, 2);
	put_str(&l, "ms rid=", 7);
	put_str(&l, rq->request_id, sizeof rq->request_id);
	if (rs->deployment[0]) {
		put_str(&l, " deployment=", 12);
		put_str(&l, rs->deployment, sizeof rs->deployment);
	}
	if (rs->note[0]) {
		put_str(&l, " ", 1);
		put_str(&l, rs->note, sizeof rs->note);
	}
	buf[l.n++] = '\n';
	logfile_write(s->o.log, buf, l.n);
}

void server_reply_file_range(struct server_response *rs, uint64_t off, uint64_t len)
{
	rs->file_off = off;
	rs->file_len = len;
}

/* The response object for a file body; NULL (and a 404/500 in rs) when it
 * cannot be opened. */
static struct MHD_Response *file_response(struct server_response *rs)
{
	int fd = open(rs->file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	struct MHD_Response *r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		server_reply_errorf(rs, errno == ENOENT ? 404 : 500, "NotFound",
				    "the file is gone");
		return NULL;
	}
	if (rs->file_len == 0 || rs->file_off + rs->file_len > (uint64_t)st.st_size) {
		rs->file_off = 0;
		rs->file_len = (uint64_t)st.st_size;
	}
	r = MHD_create_response_from_fd_at_offset64(rs->file_len, fd, rs->file_off);
	if (r == NULL)
		close(fd);
	rs->len = (size_t)rs->file_len;
	return r;
}

static enum MHD_Result send_response(struct server *s, struct MHD_Connection *c,
				     const struct server_request *rq, struct server_response *rs)
{
	struct MHD_Response *r = NULL;
	enum MHD_Result ret;
	int i;

	if (rs->status == 0)
		server_reply_errorf(rs, 500, "InternalError", "no answer was produced");
	if (rs->file != NULL)
		r = file_response(rs);
	if (r == NULL)
		r = MHD_create_response_from_buffer(rs->len, rs->body ? rs->body : (void *)"",
						    rs->body ? MHD_RESPMEM_MUST_FREE
							     : MHD_RESPMEM_PERSISTENT);
	else
		free(rs->body);
	if (r == NULL) {
		server_response_cleanup(rs);
		return MHD_NO;
	}
	rs->body = NULL;
	if (rs->len > 0 || rs->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					rs->content_type ? rs->content_type : "application/json");
	MHD_add_response_header(r, "x-request-id", rq->request_id);
	if (rs->deployment[0])
		MHD_add_response_header(r, "azureml-model-deployment", rs->deployment);
	for (i = 0; i < SERVER_EXTRA_HEADERS && rs->extra[i].name; i++)
		MHD_add_response_header(r, rs->extra[i].name, rs->extra[i].value);
	log_request(s, rq, rs);
	atomic_fetch_add_explicit(&s->answered_full, 1, memory_order_relaxed);
	ret = MHD_queue_response(c, (unsigned int)rs->status, r);
	MHD_destroy_response(r);
	server_response_cleanup(rs);
	return ret;
}

/* On a pool thread: the handler again, now allowed to block; then wake the loop. */
static void lane_answered(struct pending *p);

/* p's answer is in p->rs, from any thread: its connection's loop sends it.
 * p may be freed from here on. */
static void resume(struct pending *p)
{
	p->done = 1;
	if (p->fc != NULL)
		lane_answered(p);
	else
		MHD_resume_connection(p->rq.conn);
}

/* On a pool thread: the handler again, now allowed to block; then wake the loop. */
static void deferred_run(void *arg)
{
	struct pending *p = arg;
	struct server *s = p->s;

	p->rq.may_block = 1;
	memset(&p->rs, 0, sizeof p->rs);
	s->o.handler(s->o.ctx, &p->rq, &p->rs);
	resume(p);
}

/* Suspends the request's connection until its answer comes (server_stop waits
 * for every parked request to be answered and sent). On the fast lane the
 * connection reads nothing while its request is parked. */
static void park(struct pending *p)
{
	p->parked = 1;
	atomic_fetch_add(&p->s->parked, 1);
	if (p->fc == NULL)
		MHD_suspend_connection(p->rq.conn);
}

/* A handler's answer for later or elsewhere: park the request and start
 * what will answer it. 1 when so, 0 when the answer is in rs now. */
static int answer_later(struct server *s, struct pending *p, struct server_response *rs)
{
	if (rs->later) {
		void (*later)(void *, struct server_later *) = rs->later;
		void *arg = rs->later_arg;

		server_response_cleanup(rs);
		park(p);
		later(arg, (struct server_later *)p);
		return 1;
	}
	if (rs->defer) {
		server_response_cleanup(rs);
		park(p);
		/* stopping: the pool refuses; run it here rather than drop it */
		if (pool_submit(s->pool, deferred_run, p) < 0)
			deferred_run(p);
		return 1;
	}
	return 0;
}

void server_answer(struct server_later *a, struct server_response *rs)
{
	struct pending *p = (struct pending *)a;

	p->rs = *rs;
	memset(rs, 0, sizeof *rs); /* what it held is the pending request's now */
	resume(p);
}

/* First call for a request: headers complete, nothing of the body read. */
static enum MHD_Result on_headers(struct server *s, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, void **con_cls)
{
	struct conn *cn = conn_of(c);
	struct server_response rs;
	struct pending *p;

	if (cn && conns_headers_done(cn->guard) < 0)
		return MHD_NO; /* shed by the guard meanwhile */
	p = pending_new(s, c, url, method);
	if (p == NULL)
		return MHD_NO;
	*con_cls = p;
	memset(&rs, 0, sizeof rs);
	if (admit(s, p, version, &rs) < 0)
		return send_response(s, c, &p->rq, &rs); /* early: the body is never read */
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	struct pending *p = *con_cls;
	struct server_response rs;

	if (p == NULL)
		return on_headers(s, c, url, method, version, con_cls);
	if (*upload_data_size != 0) {
		pending_append(s, p, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (p->done)
		return send_response(s, c, &p->rq, &p->rs);
	memset(&rs, 0, sizeof rs);
	if (p->refused) {
		refuse(p, &rs);
		return send_response(s, c, &p->rq, &rs);
	}
	if (p->upload_fd >= 0) {
		close(p->upload_fd);
		p->upload_fd = -1;
		p->rq.upload_path = p->upload_path;
		p->rq.upload_len = p->len;
	} else {
		p->rq.body = p->buf;
		p->rq.body_len = p->len;
	}
	s->o.handler(s->o.ctx, &p->rq, &rs);
	if (answer_later(s, p, &rs))
		return MHD_YES;
	return send_response(s, c, &p->rq, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = conn_of(c);

	(void)cls;
	(void)toe;
	if (cn)
		conns_request_done(cn->guard);
	pending_free(*con_cls);
	*con_cls = NULL;
}

/* ---- connections -------------------------------------------------------- */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;
	struct conn *cn = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (cn) {
			conns_close(s->guard, cn->guard);
			free(cn);
		}
		*socket_context = NULL;
		return;
	}
	cn = calloc(1, sizeof *cn);
	if (cn != NULL) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const union MHD_ConnectionInfo *di =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
		/* on plain TCP (not the Unix socket's daemon: a worker of s->d's
		 * pool) every connection comes from the fast lane's loops */
		if (s->lanes != NULL && (di == NULL || s->ud == NULL || di->daemon != s->ud))
			cn->guard = conns_adopt(s->guard, fd->connect_fd,
						addr ? addr->client_addr : NULL);
		else
			cn->guard = conns_open(s->guard, fd->connect_fd,
					       addr ? addr->client_addr : NULL);
		peer_name(c, cn->peer, sizeof cn->peer);
		cn->peer_uid = peer_uid(s, c);
	} else {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		shutdown(fd->connect_fd, SHUT_RDWR);
	}
	*socket_context = cn;
}

/* A request line: a kept-alive connection starts its header deadline, and the
 * target's check starts afresh. Returns the request's initial con_cls. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn *cn = conn_of(c);

	(void)cls;
	(void)uri;
	if (cn) {
		cn->bad_target = 0;
		conns_request_line(cn->guard);
	}
	return NULL;
}

/* The one place a request's path and query are percent-decoded. */
static size_t on_unescape(void *cls, struct MHD_Connection *c, char *text)
{
	struct conn *cn = conn_of(c);
	int bad = 0;
	size_t n = httpcheck_unescape(text, &bad);

	(void)cls;
	if (bad && cn)
		cn->bad_target = 1;
	return n;
}

/* ---- the fast lane ------------------------------------------------------ */

/*
 * On plain TCP the server accepts connections itself, on loops of its own
 * (one per libmicrohttpd thread). A connection's bytes are first only looked
 * at (MSG_PEEK): a whole small request the fast lane takes (httpfast.h: a
 * plainly framed POST under o.fast_prefix, the data plane) is admitted,
 * consumed, handled and answered right there, through the same admission
 * hook, handler, log line and guard as any other; anything else, and all
 * that connection sends afterwards, goes to libmicrohttpd
 * (MHD_add_connection) with its bytes still unread in the kernel. So both
 * never read the same bytes, and the scoring path skips libmicrohttpd's
 * per-request cost (its pool is zeroed on every request: 48 KiB).
 */

struct lane {
	struct server *s;
	pthread_t thread;
	int started;             /* thread runs */
	int ep;                  /* epoll */
	int wake;                /* eventfd: answers from other threads, stop */
	int listening;           /* the listen socket is in ep */
	uint64_t accept_after;   /* accepting paused (no descriptor) until then, ns */
	pthread_mutex_t lock;
	struct fconn *ready;     /* parked connections whose answer came */
	struct fconn *dead;      /* closed or handed over, freed after the batch */
	atomic_ulong answered;   /* answers this loop sent */
	struct fconn *conns;     /* all of this loop's connections */
};

struct fconn {
	int fd;
	struct lane *lane;
	struct conns_entry *guard;
	struct fconn *prev, *next;  /* in lane->conns */
	struct fconn *next_ready;   /* in lane->ready */
	struct fconn *next_dead;    /* in lane->dead: fd is -1 */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char peer[64];
	int in_request;             /* the guard knows this request has begun */
	int looks;                  /* looks at this request that found it partial */
	int close_after;            /* a refusal: close once it is sent */
	int gone;                   /* the peer hung up while a request was parked */
	int hup;                    /* the read side is over (peer's FIN, the guard's
				       shutdown): no more bytes will come */
	struct pending *cur;        /* admitted, its body not all in yet */
	size_t seen;                /* bytes of it seen so far */
	uint64_t body_deadline;     /* ns: the body must have moved by then */
	struct pending *parked;     /* the request waiting for its answer */
	char *out;                  /* what is left to send of an answer */
	size_t out_len, out_off;
	uint64_t out_deadline;      /* ns: the answer must have moved by then */
	struct httpfast_req req;    /* the request (valid while it is parked) */
	char buf[HTTPFAST_MAX + 1];
};

#define LANE_TICK_MS 1000        /* deadlines of answers that do not move */
#define LANE_LOOKS 8             /* a request still partial after so many looks is handed over */
#define LANE_ACCEPT_PAUSE_NS (100 * 1000000ull)

static void lane_watch_listen(struct lane *ln, int on)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = ln};

	if (on == ln->listening)
		return;
	if (on && epoll_ctl(ln->ep, EPOLL_CTL_ADD, ln->s->lfd, &ev) == 0)
		ln->listening = 1;
	else if (!on && epoll_ctl(ln->ep, EPOLL_CTL_DEL, ln->s->lfd, NULL) == 0)
		ln->listening = 0;
}

static void lane_unlink(struct fconn *c)
{
	struct lane *ln = c->lane;

	if (c->prev)
		c->prev->next = c->next;
	else
		ln->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/* c is done with; freed once its loop has handled the events it was given
 * with it (a later one in the same batch may name it). */
static void lane_bury(struct fconn *c)
{
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->next_dead = c->lane->dead;
	c->lane->dead = c;
}

static void lane_free_dead(struct lane *ln)
{
	while (ln->dead != NULL) {
		struct fconn *c = ln->dead;
		ln->dead = c->next_dead;
		free(c);
	}
}

static void lane_close(struct fconn *c)
{
	pending_free(c->cur);
	c->cur = NULL;
	lane_unlink(c);
	conns_close(c->lane->s->guard, c->guard);
	close(c->fd);
	lane_bury(c);
}

/* Everything this connection sends from now on is libmicrohttpd's. */
static void lane_hand_off(struct fconn *c)
{
	struct server *s = c->lane->s;
	int fd = c->fd;

	pending_free(c->cur);
	epoll_ctl(c->lane->ep, EPOLL_CTL_DEL, fd, NULL);
	lane_unlink(c);
	conns_hand_over(s->guard, c->guard); /* on_connection adopts it */
	if (MHD_add_connection(s->d, fd, (const struct sockaddr *)&c->addr, c->addrlen) != MHD_YES)
		conns_take_back(s->guard, fd); /* libmicrohttpd has closed it */
	lane_bury(c);
}

/* The Date header's value, formatted once a second per thread. */
static const char *http_date(void)
{
	static _Thread_local time_t last;
	static _Thread_local char text[40];
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return text;
}

static void head_put(struct line *l, const char *name, const char *value)
{
	put_str(l, name, 256);
	put_str(l, ": ", 2);
	put_str(l, value, 4096);
	put_str(l, "\r\n", 2);
}

/* Sends what is left of c's answer. 0 when all of it went or the rest waits
 * for room (EPOLLOUT), -1 when the connection is broken. */
static int lane_flush(struct fconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
		c->out_deadline = server_now_ns() + (uint64_t)c->lane->s->o.io_timeout * 1000000000u;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return 0;
}

/* Answers rq on c: the head as libmicrohttpd writes it, the body, one
 * writev (the rest, if the socket is full, on EPOLLOUT). Logs the request and
 * frees what rs holds. 0, or -1 when c is broken. */
static int lane_send(struct fconn *c, const struct server_request *rq, struct server_response *rs)
{
	struct server *s = c->lane->s;
	char head[8192], num[24];
	struct line l = {head, 0, sizeof head};
	struct line nl = {num, 0, sizeof num - 1};
	const char *reason;
	struct iovec iov[2];
	struct msghdr msg = {0};
	size_t want;
	ssize_t n;
	int rc = 0;

	if (rs->status == 0 || rs->file != NULL) /* no handler on this lane answers a file */
		server_reply_errorf(rs, 500, "InternalError", "no answer was produced");
	reason = MHD_get_reason_phrase_for((unsigned int)rs->status);
	put_str(&l, "HTTP/1.1 ", 9);
	put_uint(&l, (unsigned)rs->status, 3);
	put_str(&l, " ", 1);
	put_str(&l, reason && *reason ? reason : "Unknown", 64);
	put_str(&l, "\r\n", 2);
	head_put(&l, "Date", http_date());
	if (c->close_after)
		head_put(&l, "Connection", "close");
	if (rs->len > 0 || rs->content_type)
		head_put(&l, "Content-Type", rs->content_type ? rs->content_type : "application/json");
	head_put(&l, "x-request-id", rq->request_id);
	if (rs->deployment[0])
		head_put(&l, "azureml-model-deployment", rs->deployment);
	for (int i = 0; i < SERVER_EXTRA_HEADERS && rs->extra[i].name; i++)
		head_put(&l, rs->extra[i].name, rs->extra[i].value);
	put_uint(&nl, rs->len, 1);
	num[nl.n] = '\0';
	head_put(&l, "Content-Length", num);
	put_str(&l, "\r\n", 2);
	if (l.n == l.cap) { /* cut short: never send a broken head */
		server_response_cleanup(rs);
		return -1;
	}
	log_request(s, rq, rs);
	atomic_fetch_add_explicit(&c->lane->answered, 1, memory_order_relaxed);
	iov[0] = (struct iovec){head, l.n};
	iov[1] = (struct iovec){rs->body, rs->len};
	msg.msg_iov = iov;
	msg.msg_iovlen = rs->len > 0 ? 2 : 1;
	want = l.n + rs->len;
	do /* MSG_NOSIGNAL: a reset peer is an error here, never a signal */
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		n = 0;
	if (n < 0) {
		rc = -1;
	} else if ((size_t)n < want) {
		/* the socket is full (a slow reader): keep the rest */
		c->out_len = want - (size_t)n;
		c->out_off = 0;
		c->out = malloc(c->out_len);
		if (c->out == NULL) {
			rc = -1;
		} else {
			size_t skip = (size_t)n;
			if (skip < l.n) {
				memcpy(c->out, head + skip, l.n - skip);
				memcpy(c->out + l.n - skip, rs->body, rs->len);
			} else {
				memcpy(c->out, rs->body + (skip - l.n), want - skip);
			}
			c->out_deadline =
				server_now_ns() + (uint64_t)s->o.io_timeout * 1000000000u;
		}
	}
	server_response_cleanup(rs);
	return rc;
}

/* The request is answered (or its answer queued): the connection waits for
 * the next one, or closes after a refusal. 0, or -1 when c is gone. */
static int lane_done(struct fconn *c, int broken)
{
	if (broken) {
		lane_close(c);
		return -1;
	}
	if (c->out != NULL)
		return 0; /* done when the rest is sent (lane_event): till then not idle */
	c->in_request = 0;
	conns_request_done(c->guard);
	if (c->gone || c->close_after) {
		lane_close(c);
		return -1;
	}
	return 0;
}

static struct pending *lane_pending(struct fconn *c)
{
	struct server *s = c->lane->s;
	struct pending *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->upload_fd = -1;
	p->s = s;
	p->fc = c;
	p->rq.method = "POST";
	p->rq.fast = &c->req;
	p->rq.peer_uid = -1;
	p->rq.start_ns = server_now_ns();
	memcpy(p->rq.peer, c->peer, sizeof p->rq.peer);
	split_path(p, c->req.target);
	request_id(s, p);
	return p;
}

/* The head of a request is in c->req: the admission hook decides before
 * the body counts, as on libmicrohttpd. 0 when admitted (c->cur), 1 when
 * refused (the refusal is sent and the connection closes: its body is never
 * read), -1 when c is closed or handed off. */
static int lane_admit(struct fconn *c, size_t seen)
{
	struct server *s = c->lane->s;
	struct server_admission ad = {SERVER_BODY_MEMORY, s->o.json_limit};
	struct server_response rs;
	struct pending *p = lane_pending(c);
	int refused = 0;

	if (p == NULL) {
		lane_close(c);
		return -1;
	}
	memset(&rs, 0, sizeof rs);
	if (s->o.admit && s->o.admit(s->o.ctx, &p->rq, &ad, &rs) < 0) {
		if (rs.status == 0)
			server_reply_errorf(&rs, 403, "Forbidden", "request refused");
		refused = 1;
	} else if (ad.body != SERVER_BODY_MEMORY) {
		/* not one this lane answers after all: nothing of it is consumed */
		server_response_cleanup(&rs);
		pending_free(p);
		lane_hand_off(c);
		return -1;
	} else if (c->req.body_len > ad.limit) {
		reply_too_large(&rs, ad.limit);
		refused = 1;
	}
	if (conns_headers_done(c->guard) < 0) { /* shed by the guard meanwhile */
		server_response_cleanup(&rs);
		pending_free(p);
		lane_close(c);
		return -1;
	}
	if (c->req.close)
		c->close_after = 1; /* the client said so: the answer says so too */
	if (refused) {
		ssize_t n;

		/* what came is dropped (the connection ends): unread bytes at close
		 * would reset it, and the client could lose the refusal */
		do
			n = recv(c->fd, c->buf, seen, MSG_TRUNC | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		c->close_after = 1;
		refused = lane_send(c, &p->rq, &rs);
		pending_free(p);
		return lane_done(c, refused < 0) < 0 ? -1 : 1;
	}
	c->cur = p;
	return 0;
}

/* c->cur's request, len bytes, is all in: consume it, handle it, answer it.
 * 0 to read on, -1 when c is closed or its request is parked. */
static int lane_request(struct fconn *c, size_t len)
{
	struct server *s = c->lane->s;
	struct pending *p = c->cur;
	struct server_response rs;
	ssize_t n;

	c->cur = NULL;
	c->looks = 0;
	c->body_deadline = 0;
	/* consume what was only looked at (MSG_TRUNC: the kernel drops it, no copy) */
	do
		n = recv(c->fd, c->buf, len, MSG_TRUNC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		pending_free(p);
		lane_close(c);
		return -1;
	}
	c->buf[len] = '\0'; /* the body as a string: buf is a copy, the bytes after it
			       * are looked at again from the kernel */
	p->rq.body = c->req.body;
	p->rq.body_len = c->req.body_len;
	memset(&rs, 0, sizeof rs);
	s->o.handler(s->o.ctx, &p->rq, &rs);
	if (answer_later(s, p, &rs)) {
		c->parked = p;
		return -1; /* reads nothing until the answer is sent */
	}
	n = lane_send(c, &p->rq, &rs);
	pending_free(p);
	return lane_done(c, n < 0);
}

/* Reads (looks at) c's bytes and answers the whole requests among them. */
static void lane_read(struct fconn *c)
{
	while (c->parked == NULL && c->out == NULL) {
		ssize_t n = recv(c->fd, c->buf, sizeof c->buf - 1, MSG_PEEK | MSG_DONTWAIT);
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* hung up, reset, or shut down by the guard */
			lane_close(c);
			return;
		}
		if (!c->in_request) {
			c->in_request = 1;
			conns_request_line(c->guard);
		}
		len = httpfast_parse(c->buf, (size_t)n, c->lane->s->o.fast_prefix, &c->req);
		if (c->hup && (len == 0 || (len > 0 && (size_t)n < (size_t)len))) {
			/* more is needed and none will come: the peer's FIN or the guard's
			 * shutdown (a peek still sees the bytes that came before it) */
			lane_close(c);
			return;
		}
		if ((len == 0 || (len > 0 && (size_t)n < (size_t)len)) && ++c->looks > LANE_LOOKS) {
			/* a request in many pieces: each look copies all of it again, so
			 * libmicrohttpd, which reads each byte once, takes it (nothing of
			 * it is consumed yet) */
			lane_hand_off(c);
			return;
		}
		if (len == 0 && (size_t)n < sizeof c->buf - 1)
			return; /* the rest of the head is on its way: the next edge brings it */
		if (len <= 0) {
			if (c->cur != NULL) { /* cannot be: the same bytes read before */
				lane_close(c);
				return;
			}
			lane_hand_off(c);
			return;
		}
		if (c->cur == NULL && lane_admit(c, (size_t)n) != 0)
			return;
		if ((size_t)n < (size_t)len) {
			/* the body is on its way: it must keep moving */
			if ((size_t)n > c->seen || c->body_deadline == 0)
				c->body_deadline = server_now_ns() +
						   (uint64_t)c->lane->s->o.io_timeout * 1000000000u;
			c->seen = (size_t)n;
			return;
		}
		c->seen = 0;
		if (lane_request(c, (size_t)len) < 0 || ((size_t)n == (size_t)len && !c->hup))
			return; /* nothing more was there: bytes that come later bring an edge */
	}
}

/* From any thread: p's answer is ready; its loop sends it. */
static void lane_answered(struct pending *p)
{
	struct fconn *c = p->fc;
	struct lane *ln = c->lane;
	uint64_t one = 1;

	pthread_mutex_lock(&ln->lock);
	c->next_ready = ln->ready;
	ln->ready = c;
	pthread_mutex_unlock(&ln->lock);
	if (write(ln->wake, &one, sizeof one) < 0) {
		/* the counter is full: the loop is awake already */
	}
}

/* On the loop: the answers that came from elsewhere. */
static void lane_send_ready(struct lane *ln)
{
	struct fconn *c, *next;

	pthread_mutex_lock(&ln->lock);
	c = ln->ready;
	ln->ready = NULL;
	pthread_mutex_unlock(&ln->lock);
	for (; c != NULL; c = next) {
		struct pending *p = c->parked;
		int rc;

		next = c->next_ready;
		c->parked = NULL;
		rc = lane_send(c, &p->rq, &p->rs);
		pending_free(p);
		if (lane_done(c, rc < 0) == 0)
			lane_read(c); /* what came meanwhile: its edge is spent */
	}
}

static void lane_accept(struct lane *ln)
{
	struct server *s = ln->s;
	int one = 1;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct epoll_event ev;
		struct fconn *c;
		int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* out of descriptors: pause rather than spin on the backlog */
				lane_watch_listen(ln, 0);
				ln->accept_after = server_now_ns() + LANE_ACCEPT_PAUSE_NS;
			}
			return; /* EAGAIN: taken by another loop, or none left */
		}
		if ((c = malloc(sizeof *c)) == NULL) {
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct fconn, buf));
		c->fd = fd;
		c->lane = ln;
		c->addr = ss;
		c->addrlen = sl;
		c->guard = conns_open(s->guard, fd, (const struct sockaddr *)&ss);
		if (c->guard == NULL) {
			close(fd);
			free(c);
			continue;
		}
		snprintf(c->peer, sizeof c->peer, "-");
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer,
				  sizeof c->peer);
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer,
				  sizeof c->peer);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->next = ln->conns;
		if (ln->conns)
			ln->conns->prev = c;
		ln->conns = c;
		ev = (struct epoll_event){.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
					  .data.ptr = c};
		if (epoll_ctl(ln->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			lane_close(c);
	}
}

static void lane_event(struct fconn *c, uint32_t events)
{
	if (c->fd < 0)
		return; /* closed by an earlier event of this batch */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->hup = 1;
	if (c->out != NULL && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		if (lane_flush(c) < 0) {
			lane_close(c);
			return;
		}
		if (c->out == NULL && lane_done(c, 0) == 0)
			lane_read(c); /* what came while the answer waited: its edge is spent */
		return;
	}
	if (c->parked != NULL) {
		/* the answer is on its way; a hang-up closes after it */
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			c->gone = 1;
		return;
	}
	if (c->out == NULL && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		lane_read(c);
}

/* Answers that do not move for io_timeout seconds: the connection goes. */
static void lane_tick(struct lane *ln)
{
	uint64_t now = server_now_ns();
	struct fconn *c, *next;

	for (c = ln->conns; c != NULL; c = next) {
		next = c->next;
		if ((c->out != NULL && now > c->out_deadline) ||
		    (c->cur != NULL && c->body_deadline && now > c->body_deadline))
			lane_close(c);
	}
	if (!ln->listening && ln->accept_after && now >= ln->accept_after &&
	    !atomic_load(&ln->s->quiescing)) {
		ln->accept_after = 0;
		lane_watch_listen(ln, 1);
	}
}

static void *lane_main(void *arg)
{
	struct lane *ln = arg;
	struct server *s = ln->s;
	struct epoll_event evs[64];
	uint64_t last_tick = server_now_ns();

	while (!atomic_load(&s->stopping)) {
		int n = epoll_wait(ln->ep, evs, 64, LANE_TICK_MS / 4);
		uint64_t now;

		for (int i = 0; i < n; i++) {
			void *who = evs[i].data.ptr;
			if (who == ln) {
				lane_accept(ln);
			} else if (who == NULL) {
				uint64_t v;
				if (read(ln->wake, &v, sizeof v) < 0) {
					/* nothing to read: woken already */
				}
				lane_send_ready(ln);
			} else {
				lane_event(who, evs[i].events);
			}
		}
		if (atomic_load(&s->quiescing))
			lane_watch_listen(ln, 0);
		now = server_now_ns();
		if (now - last_tick >= LANE_TICK_MS * 1000000ull) {
			lane_tick(ln);
			last_tick = now;
		}
		lane_free_dead(ln);
	}
	lane_send_ready(ln);
	while (ln->conns != NULL) {
		struct fconn *c = ln->conns;
		if (c->parked != NULL) { /* its answer never came: it stays, unlinked */
			lane_unlink(c);
			conns_close(s->guard, c->guard);
			c->guard = NULL;
			shutdown(c->fd, SHUT_RDWR);
			continue;
		}
		lane_close(c);
	}
	lane_free_dead(ln);
	return NULL;
}

static void lanes_wake(struct server *s)
{
	uint64_t one = 1;

	for (int i = 0; i < s->nlanes; i++)
		if (write(s->lanes[i].wake, &one, sizeof one) < 0) {
			/* full: awake already */
		}
}

/* Stops the loops (server_stop, after parked requests had their time). A
 * request still parked keeps its loop's memory: its answer may yet come. */
static void lanes_stop(struct server *s)
{
	if (s->lanes == NULL)
		return;
	atomic_store(&s->stopping, 1);
	lanes_wake(s);
	for (int i = 0; i < s->nlanes; i++)
		if (s->lanes[i].started)
			pthread_join(s->lanes[i].thread, NULL);
	if (atomic_load(&s->parked) > 0)
		return;
	for (int i = 0; i < s->nlanes; i++) {
		close(s->lanes[i].ep);
		close(s->lanes[i].wake);
		pthread_mutex_destroy(&s->lanes[i].lock);
	}
	free(s->lanes);
	s->lanes = NULL;
}

/* The loops on the listen socket s->lfd. 0, or -1 with errno. */
static int lanes_start(struct server *s, int n)
{
	s->lanes = calloc((size_t)n, sizeof *s->lanes);
	if (s->lanes == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		struct lane *ln = &s->lanes[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

		ln->s = s;
		ln->ep = epoll_create1(EPOLL_CLOEXEC);
		ln->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		pthread_mutex_init(&ln->lock, NULL);
		s->nlanes = i + 1;
		if (ln->ep < 0 || ln->wake < 0 ||
		    epoll_ctl(ln->ep, EPOLL_CTL_ADD, ln->wake, &ev) < 0)
			return -1;
		lane_watch_listen(ln, 1);
		if (!ln->listening || pthread_create(&ln->thread, NULL, lane_main, ln) != 0)
			return -1;
		ln->started = 1;
	}
	return 0;
}

/* One event loop per CPU this process may run on (taskset, cpusets), so that
 * loops never time-slice one core against each other. */
static unsigned int default_threads(void)
{
	cpu_set_t set;
	long cpus;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned int)CPU_COUNT(&set);
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 0 ? (unsigned int)cpus : 1;
}

static int bind_address(const struct server_options *o, struct sockaddr_storage *ss,
			unsigned int *flags, struct error *err)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, o->host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(o->port);
		return 0;
	}
	if (inet_pton(AF_INET6, o->host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(o->port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return error_set(err, 400, "InvalidListen", "listen address '%s' is not a numeric IP",
			 o->host);
}

static unsigned short fd_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static unsigned short bound_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);

	return di ? fd_port(di->listen_fd) : 0;
}

/* The TCP listen socket, as libmicrohttpd makes it (SO_REUSEADDR, IPv6
 * only on an IPv6 address, backlog SOMAXCONN), for the fast lane's loops.
 * -1 with errno. */
static int tcp_listen(const struct sockaddr_storage *ss)
{
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	int one = 1, e, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
	    (ss->ss_family != AF_INET6 ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0) &&
	    bind(fd, (const struct sockaddr *)ss, len) == 0 && listen(fd, SOMAXCONN) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Lowers the connection limit to what RLIMIT_NOFILE allows (conns_fd_need),
 * so that accept never fails for want of a descriptor. */
static void fit_fd_limit(struct conns_limits *l, struct logfile *log)
{
	unsigned max = l->max ? l->max : CONNS_MAX_DEFAULT;
	unsigned long long fit;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    conns_fd_need(max) <= rl.rlim_cur)
		return;
	fit = rl.rlim_cur > CONNS_FD_RESERVE + 24 ? (rl.rlim_cur - CONNS_FD_RESERVE) * 2 / 3 : 16;
	logfile_event(log,
		      "connections: limit lowered from %u to %llu: the descriptor limit is %llu "
		      "and %u connections need %u (raise it with ulimit -n or LimitNOFILE=)",
		      max, fit, (unsigned long long)rl.rlim_cur, max, conns_fd_need(max));
	l->max = (unsigned)fit;
}

/* libmicrohttpd's own connection limit, for a daemon that accepts: above the
 * guard's (which sheds first), so that it only ever backs the guard up. */
static unsigned int own_limit(const struct server *s)
{
	return s->o.conns.max + s->o.conns.max / 2;
}

/* For the daemon the fast lane hands connections to: a limit no worker can
 * reach, because the process cannot hold that many descriptors. 0.9.75 picks
 * a worker for an added connection by the connections it has processed (not
 * those still queued), and its refusal when a worker is over its share
 * returns with a mutex held: the worker then deadlocks. */
static unsigned int handed_limit(unsigned int threads)
{
	struct rlimit rl;
	unsigned long long per = 1u << 20; /* also past a descriptor limit raised later */

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > per)
		per = rl.rlim_cur;
	return per * threads > UINT_MAX / 2 ? UINT_MAX / 2 : (unsigned int)(per * threads);
}

/* Both daemons (TCP, and the Unix socket's) run with the same handler, guard
 * and limits; listen says where (MHD_OPTION_SOCK_ADDR or _LISTEN_SOCKET).
 * https only on TCP (with_tls): the Unix socket is reached through ssh. */
static struct MHD_Daemon *start_daemon(struct server *s, unsigned int flags,
				       struct MHD_OptionItem listen, unsigned int threads,
				       int with_tls, unsigned int hard)
{
	struct MHD_OptionItem where[] = {listen, {MHD_OPTION_END, 0, NULL}};
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)s->o.tls_key_pem},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)s->o.tls_cert_pem},
		{MHD_OPTION_END, 0, NULL},
	};

	if (with_tls && s->o.tls_cert_pem != NULL && s->o.tls_key_pem != NULL)
		flags |= MHD_USE_TLS;
	else
		tls[0].option = MHD_OPTION_END;
	return MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, where,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, s, MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s,
		MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, s, MHD_OPTION_CONNECTION_TIMEOUT,
		s->o.io_timeout, MHD_OPTION_CONNECTION_LIMIT, hard,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

static void fill_defaults(struct server *s, const struct server_options *o)
{
	s->o = *o;
	snprintf(s->spool_dir, sizeof s->spool_dir, "%s", o->spool_dir ? o->spool_dir : "/tmp");
	s->o.spool_dir = s->spool_dir;
	s->o.unix_path = NULL; /* the caller's string: s->unix_path has it */
	if (s->o.json_limit == 0)
		s->o.json_limit = SERVER_JSON_LIMIT;
	if (s->o.body_memory == 0)
		s->o.body_memory = SERVER_MEMORY_BUDGET;
	if (s->o.spool_max == 0)
		s->o.spool_max = SERVER_SPOOL_MAX;
	if (s->o.spool_reserve == 0)
		s->o.spool_reserve = SERVER_SPOOL_RESERVE;
	if (s->o.io_timeout == 0)
		s->o.io_timeout = SERVER_IO_TIMEOUT;
	fit_fd_limit(&s->o.conns, o->log);
}

/* 1 when something accepts connections on the socket at sa. */
static int unix_answers(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int r, e;

	if (fd < 0)
		return 0;
	r = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	e = errno;
	close(fd);
	return r == 0 || e == EAGAIN || e == EINPROGRESS;
}

/* A runtime killed with -9 leaves its socket behind: remove it, but only when
 * it is a socket of ours that nobody answers on. */
static int unix_clear_stale(const struct sockaddr_un *sa, struct error *err)
{
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0
				       : error_set(err, 500, "ListenFailed", "cannot check %s: %s",
						   sa->sun_path, strerror(errno));
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return error_set(err, 500, "ListenFailed",
				 "%s exists and is not a socket of this user: remove it",
				 sa->sun_path);
	if (unix_answers(sa))
		return error_set(err, 409, "ListenFailed", "another process listens on %s",
				 sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return error_set(err, 500, "ListenFailed", "cannot remove the stale %s: %s",
				 sa->sun_path, strerror(errno));
	return 0;
}

/* Binds and listens on the Unix socket; mode 0600 before anyone can connect. */
static int unix_listen(struct server *s, const char *path, struct error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		return error_set(err, 400, "ListenFailed",
				 "Unix socket path %s is over %zu bytes: use a shorter home", path,
				 sizeof sa.sun_path - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (unix_clear_stale(&sa, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    chmod(path, 0600) < 0 || lstat(path, &st) < 0 || listen(fd, 511) < 0) {
		error_set(err, 500, "ListenFailed", "cannot listen on %s: %s", path,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(s->unix_path, sizeof s->unix_path, "%s", path);
	s->unix_dev = st.st_dev;
	s->unix_ino = st.st_ino;
	return fd;
}

/* Unlinks our socket unless someone replaced it meanwhile. */
static void unix_unlink(struct server *s)
{
	struct stat st;

	if (s->unix_path[0] != '\0' && lstat(s->unix_path, &st) == 0 &&
	    st.st_dev == s->unix_dev && st.st_ino == s->unix_ino)
		unlink(s->unix_path);
	s->unix_path[0] = '\0';
}

static int start_unix(struct server *s, const char *path, struct error *err)
{
	int fd = unix_listen(s, path, err);

	if (fd < 0)
		return -1;
	s->ud = start_daemon(s, MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME,
			     (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL}, 1, 0,
			     own_limit(s));
	if (s->ud == NULL) {
		close(fd);
		unix_unlink(s);
		return error_set(err, 500, "ListenFailed", "cannot serve on %s", path);
	}
	return 0;
}

struct server *server_start(const struct server_options *o, struct error *err)
{
	struct server *s = calloc(1, sizeof *s);
	struct sockaddr_storage ss;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
	unsigned int threads = o->threads > 0 ? (unsigned int)o->threads : default_threads();
	/* the fast lane on plain TCP; https stays libmicrohttpd's alone */
	int fast = o->fast_prefix != NULL && (o->tls_cert_pem == NULL || o->tls_key_pem == NULL);
	unsigned char rnd[4];

	if (s == NULL) {
		error_set(err, 500, "OutOfMemory", "out of memory");
		return NULL;
	}
	s->lfd = -1;
	pthread_mutex_init(&s->spool_lock, NULL);
	pthread_mutex_init(&s->spare_lock, NULL);
	fill_defaults(s, o);
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		memset(rnd, 0, sizeof rnd);
	snprintf(s->id_prefix, sizeof s->id_prefix, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
		 rnd[3]);
	if (bind_address(o, &ss, &flags, err) < 0)
		goto fail;
	s->pool = pool_new(o->max_blocking > 0 ? o->max_blocking : 512, 10000);
	s->guard = conns_new(&s->o.conns, o->log);
	s->rate = lograte_new(0, 0);
	if (s->pool == NULL || s->guard == NULL || s->rate == NULL) {
		error_set(err, 500, "OutOfMemory", "out of memory");
		goto fail;
	}
	errno = 0; /* MHD may fail without setting it: never report an older call's */
	if (fast && (s->lfd = tcp_listen(&ss)) >= 0)
		s->d = start_daemon(s, flags | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
				    (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL}, threads, 0,
				    handed_limit(threads));
	else if (!fast)
		s->d = start_daemon(s, flags,
				    (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)&ss},
				    threads, 1, own_limit(s));
	if (s->d == NULL) {
		error_set(err, 500, "ListenFailed", "cannot listen on %s:%u: %s", o->host,
			  o->port, errno ? strerror(errno) : "address in use or not available");
		goto fail;
	}
	s->port = fast ? fd_port(s->lfd) : bound_port(s->d);
	if (fast && lanes_start(s, (int)threads) < 0) {
		error_set(err, 500, "ListenFailed", "cannot start the server's loops: %s",
			  strerror(errno));
		goto fail;
	}
	if (o->unix_path != NULL && start_unix(s, o->unix_path, err) < 0)
		goto fail;
	return s;
fail:
	lanes_stop(s);
	if (s->d != NULL)
		MHD_stop_daemon(s->d);
	if (s->lfd >= 0)
		close(s->lfd);
	conns_free(s->guard);
	lograte_free(s->rate);
	pool_free(s->pool);
	pthread_mutex_destroy(&s->spool_lock);
	spare_free(s);
	free(s);
	return NULL;
}

void server_stop(struct server *s)
{
	if (s == NULL)
		return;
	/* no new connections; deferred handlers finish and resume their
	 * connections (MHD must not stop with one suspended), and the loops get
	 * to send what was answered: MHD_stop_daemon would close them unsent. A
	 * quiesced listen socket is ours to close, after the daemon stopped:
	 * until then the port (and the console's next embedded runtime) stays held. */
	MHD_socket lfd = s->lanes == NULL ? MHD_quiesce_daemon(s->d) : s->lfd;
	MHD_socket ufd = s->ud != NULL ? MHD_quiesce_daemon(s->ud) : MHD_INVALID_SOCKET;

	atomic_store(&s->quiescing, 1);
	lanes_wake(s);
	unix_unlink(s);
	pool_drain(s->pool);
	for (int i = 0; i < STOP_FLUSH_MS / 10 && atomic_load(&s->parked) > 0; i++)
		poll(NULL, 0, 10);
	lanes_stop(s);
	MHD_stop_daemon(s->d);
	if (s->ud != NULL)
		MHD_stop_daemon(s->ud);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	if (ufd != MHD_INVALID_SOCKET)
		close(ufd);
	conns_free(s->guard);
	if (s->o.log)
		lograte_flush(s->rate, server_now_ns() / 1000000u, log_summary, s);
	lograte_free(s->rate);
	pool_free(s->pool);
	pthread_mutex_destroy(&s->spool_lock);
	spare_free(s);
	free(s);
}

void server_prometheus(struct server *s, struct dynbuf *b)
{
	unsigned long fast = 0;

	for (int i = 0; s->lanes != NULL && i < s->nlanes; i++)
		fast += atomic_load_explicit(&s->lanes[i].answered, memory_order_relaxed);
	dynbuf_addf(b,
		    "# HELP mldeck_http_answers_total Answers sent, by the HTTP path that read "
		    "the request: fast (the server's own loop) or full (libmicrohttpd).\n"
		    "# TYPE mldeck_http_answers_total counter\n"
		    "mldeck_http_answers_total{path=\"fast\"} %lu\n"
		    "mldeck_http_answers_total{path=\"full\"} %lu\n",
		    fast, atomic_load_explicit(&s->answered_full, memory_order_relaxed));
}

void server_conn_stats(struct server *s, struct conns_stats *out)
{
	conns_get_stats(s->guard, out);
}

unsigned short server_port(const struct server *s)
{
	return s->port;
}

int server_unix_answers(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof sa.sun_path)
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	return unix_answers(&sa);
}

const char *server_unix_path(const struct server *s)
{
	return s->ud != NULL ? s->unix_path : NULL;
}
