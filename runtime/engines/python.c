/*
 * python.c: custom_model, a pool of Python worker processes running score.py.
 *
 * Requests never make their caller wait: py_submit puts a request in the
 * engine's queue and hands it to an idle worker at once when there is one;
 * the answer comes back through the request's done callback. One I/O thread
 * per engine reads every worker's reply pipe, finishes writing request frames
 * too large for the pipe, hands queued requests to workers as they free up,
 * and enforces every deadline (the wait for a worker, the answer, init()).
 * A supervisor thread per engine reaps workers that are gone (crashed,
 * killed, retired, failed to start) and starts their replacements, backing
 * off when they keep failing. Worker processes themselves: python_proc.c.
 *
 * Only the I/O thread unlinks workers from the live list (into `gone`, for
 * the supervisor), so the pointers it polls stay valid while it polls them.
 * Done callbacks run with no engine lock held.
 */
#define _GNU_SOURCE /* eventfd */
#include "runtime/engines/python.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/engines/python_proc.h"

extern char **environ;

/* runtime/worker/mldeck_worker.py, NUL-terminated, embedded by the assembler
 * so the binary works wherever it is copied. Paths are relative to the
 * directory make runs in (the repository root). */
__asm__(".pushsection .rodata\n"
	"python_worker_py:\n"
	".incbin \"runtime/worker/mldeck_worker.py\"\n"
	".byte 0\n"
	".popsection\n");
extern const char python_worker_py[];

#define FRAME_MAX (64u << 20)	/* type byte + payload, both directions */
#define FRAME_HEAD 5		/* u32 length, u8 type */
#define NONCE_LEN 16		/* the worker's secret, in every reply */
#define REPLY_HEAD (NONCE_LEN + 8) /* nonce, u64 request id: the start of a reply's payload */
#define REQ_HEAD 12		/* u64 request id, u32 header length: the start of a Q frame's */
#define START_TIMEOUT_MS 300000 /* import + init() */
#define STOP_GRACE_MS 500	/* EOF, then kill */
#define BACKOFF_MAX_MS 30000
#define REASON_MAX 512
#define IO_IDLE_MS 1000	 /* the I/O thread's longest sleep */
#define READS_PER_TURN 16 /* 64 KiB reads per worker before others get a turn */

enum wstate { W_STARTING, W_IDLE, W_BUSY, W_DEAD, W_RETIRE };

/* One request in the engine, from submit to done. */
struct pyreq {
	uint64_t id;          /* given when it goes to a worker; the reply must echo it */
	unsigned char *frame; /* the Q frame */
	size_t flen, off;     /* bytes written so far */
	int64_t deadline;     /* queued: for a worker; running: for the answer */
	engine_done_fn done;
	void *ctx;
	struct engine_result res;
	struct pyreq *next;
};

/* A reply frame being read. */
struct frame_in {
	unsigned char head[FRAME_HEAD];
	size_t head_got;
	char *payload; /* NUL-terminated once complete */
	size_t len, got;
};

struct worker {
	struct pyengine *e;
	struct pyproc proc;
	unsigned char nonce[NONCE_LEN];
	enum wstate state;
	struct pyreq *cur;   /* W_BUSY (or dead while busy): the request it serves */
	int64_t deadline;    /* W_STARTING: for init() */
	struct frame_in in;
	int start_failed;    /* dead before ready: counts as a failed start */
	int crashed;         /* its pipe closed: cur is answered once it is reaped */
	char fail[REASON_MAX];
	struct worker *next;
};

struct pyengine {
	char **argv, **envp;
	const char *src; /* embedded worker source, NULL when argv names a file */
	int timeout_ms;
	long memory_mb; /* per worker process, 0: no limit */
	engine_log_fn log;
	void *log_ctx;
	engine_collect_fn collect;
	void *collect_ctx;
	pthread_mutex_t lock;
	pthread_cond_t state_cv; /* a worker became ready or failed to start */
	pthread_cond_t sup_cv;   /* work for the supervisor */
	struct worker *workers;  /* starting, idle, busy */
	struct worker *gone;     /* dead or retiring, for the supervisor */
	struct pyreq *qhead, *qtail; /* waiting for a worker, oldest first */
	int target, next_id, failures, loaded;
	uint64_t next_req;
	int64_t retry_at;
	int64_t io_wake_at; /* when the I/O thread wakes up unless kicked */
	char last_fail[REASON_MAX];
	int cancelled;      /* engine_cancel: refuse everything */
	atomic_int stopping;
	int kick_fd;        /* eventfd that wakes the I/O thread */
	int io_running, sup_running;
	pthread_t io, supervisor;
};

struct strv {
	char **v;
	size_t n, cap;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m, int64_t deadline_ms)
{
	struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L};

	pthread_cond_timedwait(cv, m, &ts);
}

static void elog(struct pyengine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void elog(struct pyengine *e, const char *fmt, ...)
{
	char line[1024];
	int n;
	va_list ap;

	if (e->log == NULL)
		return;
	n = snprintf(line, sizeof line, "[engine] ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	e->log(e->log_ctx, line);
}

/* ---- string vectors for argv and envp ---- */

static int strv_push(struct strv *s, char *str)
{
	char **v;

	if (str == NULL)
		return -1;
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		v = realloc(s->v, s->cap * sizeof *v);
		if (v == NULL) {
			free(str);
			return -1;
		}
		s->v = v;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
	return 0;
}

/* Adds "KEY=VALUE", replacing an entry with the same KEY. */
static int strv_setenv(struct strv *s, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) + 1 : strlen(kv);

	for (size_t i = 0; i < s->n; i++) {
		if (strncmp(s->v[i], kv, klen) == 0) {
			char *copy = strdup(kv);

			if (copy == NULL)
				return -1;
			free(s->v[i]);
			s->v[i] = copy;
			return 0;
		}
	}
	return strv_push(s, strdup(kv));
}

static int strv_setenv2(struct strv *s, const char *key, const char *value)
{
	char buf[8192];

	if ((size_t)snprintf(buf, sizeof buf, "%s=%s", key, value) >= sizeof buf)
		return -1;
	return strv_setenv(s, buf);
}

static void strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* ---- bytes ---- */

/* write() that never raises SIGPIPE, whatever the process disposition. */
static ssize_t write_nosig(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = {0, 0};
	int was_pending, saved;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ---- replies and request frames ---- */

static const struct reply_kind {
	char type;
	int status;
	const char *code;
} reply_kinds[] = {
    {'O', 200, NULL},		       /* run()'s value, JSON-encoded */
    {'E', 424, "ScoringScriptFailed"}, /* run() raised */
    {'N', 424, "ScoringScriptFailed"}, /* value not JSON-encodable */
    {'B', 400, "BadInput"},	       /* body not UTF-8 */
    {'M', 424, "WorkerOutOfMemory"},   /* run() hit the memory limit: the worker goes */
};

static const struct reply_kind *reply_find(char type)
{
	for (size_t i = 0; i < sizeof reply_kinds / sizeof reply_kinds[0]; i++)
		if (reply_kinds[i].type == type)
			return &reply_kinds[i];
	return NULL;
}

static int result_error(struct engine_result *out, int status, const char *code, const char *msg)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(root, "error");

	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", msg);
	out->status = status;
	out->body = root != NULL && err != NULL ? cJSON_PrintUnformatted(root) : NULL;
	out->len = out->body != NULL ? strlen(out->body) : 0;
	cJSON_Delete(root);
	return out->body != NULL ? 0 : -1;
}

/* Takes ownership of payload. */
static int reply_result(struct engine_result *out, const struct reply_kind *k, char *payload,
			size_t len)
{
	int rc;

	if (k->code == NULL) {
		out->status = k->status;
		out->body = payload;
		out->len = len;
		return 0;
	}
	rc = result_error(out, k->status, k->code, payload);
	free(payload);
	return rc;
}

/* Adds "Name: value" to the object; a repeated name joins the values with ", ". */
static void header_add(cJSON *h, const char *line)
{
	const char *colon = strchr(line, ':'), *value;
	char name[256], *joined;
	cJSON *old;
	size_t nlen;

	if (colon == NULL || colon == line || (size_t)(colon - line) >= sizeof name)
		return;
	nlen = (size_t)(colon - line);
	memcpy(name, line, nlen);
	while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
		nlen--;
	name[nlen] = '\0';
	for (value = colon + 1; *value == ' ' || *value == '\t'; value++)
		;
	old = cJSON_GetObjectItem(h, name);
	if (!cJSON_IsString(old)) {
		cJSON_AddStringToObject(h, name, value);
		return;
	}
	joined = malloc(strlen(old->valuestring) + strlen(value) + 3);
	if (joined == NULL)
		return;
	snprintf(joined, strlen(old->valuestring) + strlen(value) + 3, "%s, %s", old->valuestring,
		 value);
	cJSON_ReplaceItemInObject(h, old->string, cJSON_CreateString(joined));
	free(joined);
}

static char *headers_json(const struct engine_request *req)
{
	cJSON *h = cJSON_CreateObject();
	char *text;

	for (size_t i = 0; h != NULL && req->headers != NULL && req->headers[i] != NULL; i++)
		header_add(h, req->headers[i]);
	if (h != NULL && req->request_id != NULL && cJSON_GetObjectItem(h, "x-request-id") == NULL)
		cJSON_AddStringToObject(h, "x-request-id", req->request_id);
	text = h != NULL ? cJSON_PrintUnformatted(h) : NULL;
	cJSON_Delete(h);
	return text;
}

/* The 'Q' frame (a batch mini-batch: 'R'): request id (filled in when it goes
 * to a worker), headers JSON, body. NULL with *status and why set. */
static unsigned char *request_frame(const struct engine_request *req, size_t *flen, int *status,
				    char *why, size_t n)
{
	char *hjson = headers_json(req);
	unsigned char *frame;
	size_t hlen, payload;

	if (hjson == NULL) {
		*status = 500;
		snprintf(why, n, "out of memory");
		return NULL;
	}
	hlen = strlen(hjson);
	payload = 1 + REQ_HEAD + hlen + req->len;
	if (req->len > FRAME_MAX || payload > FRAME_MAX) {
		free(hjson);
		*status = 400;
		snprintf(why, n, "request of %zu bytes exceeds the worker frame limit of %u bytes",
			 req->len, FRAME_MAX);
		return NULL;
	}
	frame = malloc(4 + payload);
	if (frame != NULL) {
		put_be32(frame, (uint32_t)payload);
		frame[4] = req->batch ? 'R' : 'Q';
		put_be64(frame + FRAME_HEAD, 0);
		put_be32(frame + FRAME_HEAD + 8, (uint32_t)hlen);
		memcpy(frame + FRAME_HEAD + REQ_HEAD, hjson, hlen);
		if (req->len > 0)
			memcpy(frame + FRAME_HEAD + REQ_HEAD + hlen, req->body, req->len);
		*flen = 4 + payload;
	} else {
		*status = 500;
		snprintf(why, n, "out of memory");
	}
	free(hjson);
	return frame;
}

/* ---- requests ---- */

static void req_fail(struct pyreq *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void req_fail(struct pyreq *r, int status, const char *code, const char *fmt, ...)
{
	char msg[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	free(r->res.body);
	r->res.body = NULL;
	result_error(&r->res, status, code, msg);
}

/* Puts r on a list of finished requests, answered once the lock is dropped. */
static void req_finish(struct pyreq **done, struct pyreq *r)
{
	r->next = *done;
	*done = r;
}

/* Calls every done callback of a list; with no engine lock held. */
static void reqs_answer(struct pyreq *list)
{
	struct pyreq *next;

	for (; list != NULL; list = next) {
		next = list->next;
		free(list->frame);
		list->done(list->ctx, &list->res);
		free(list);
	}
}

static void queue_push(struct pyengine *e, struct pyreq *r)
{
	r->next = NULL;
	if (e->qtail != NULL)
		e->qtail->next = r;
	else
		e->qhead = r;
	e->qtail = r;
}

static struct pyreq *queue_pop(struct pyengine *e)
{
	struct pyreq *r = e->qhead;

	if (r != NULL) {
		e->qhead = r->next;
		if (e->qhead == NULL)
			e->qtail = NULL;
		r->next = NULL;
	}
	return r;
}

/* Answers every queued request and every running one, each with the same error. */
static void drain_all(struct pyengine *e, struct pyreq **done, const char *why)
{
	struct pyreq *r;

	while ((r = queue_pop(e)) != NULL) {
		req_fail(r, 503, "ServiceUnavailable", "%s", why);
		req_finish(done, r);
	}
	for (struct worker *w = e->workers; w != NULL; w = w->next) {
		if (w->cur == NULL)
			continue;
		pyproc_kill(&w->proc);
		w->state = W_DEAD;
		req_fail(w->cur, 503, "ServiceUnavailable", "%s", why);
		req_finish(done, w->cur);
		w->cur = NULL;
	}
}

/* ---- the pool (all with e->lock held) ---- */

static void kick(struct pyengine *e)
{
	uint64_t one = 1;

	if (write(e->kick_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		return;
}

static int is_live(const struct worker *w)
{
	return w->state == W_STARTING || w->state == W_IDLE || w->state == W_BUSY;
}

static int live_count(const struct pyengine *e)
{
	int n = 0;

	for (const struct worker *w = e->workers; w != NULL; w = w->next)
		n += is_live(w);
	return n;
}

static int ready_count(const struct pyengine *e)
{
	int n = 0;

	for (const struct worker *w = e->workers; w != NULL; w = w->next)
		n += w->state == W_IDLE || w->state == W_BUSY;
	return n;
}

/* Writes what the pipe takes of the running request's frame. -1: the worker is gone. */
static int worker_write(struct worker *w)
{
	struct pyreq *r = w->cur;
	ssize_t n;

	while (r->off < r->flen) {
		n = write_nosig(w->proc.req_fd, r->frame + r->off, r->flen - r->off);
		if (n > 0)
			r->off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			return 0;
		else if (n < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* The worker failed its request (timed out, broke the protocol): it is killed at
 * once, its request answered, and the supervisor replaces it. */
static void worker_break(struct pyengine *e, struct worker *w, struct pyreq **done, int status,
			 const char *code, const char *msg)
{
	elog(e, "worker %d (pid %d) killed: %s; replacing it", w->proc.id, (int)w->proc.pid, msg);
	pyproc_kill(&w->proc);
	w->state = W_DEAD;
	if (w->cur != NULL) {
		req_fail(w->cur, status, code, "%s", msg);
		req_finish(done, w->cur);
		w->cur = NULL;
	}
}

/* Its pipe closed: the supervisor reaps it and then answers its request (how it died
 * is part of the answer) or counts a failed start. */
static void worker_gone(struct worker *w)
{
	if (w->state == W_STARTING)
		w->start_failed = 1;
	else
		w->crashed = 1;
	w->state = W_DEAD;
}

/* Hands queued requests to idle workers, oldest first. */
static void dispatch(struct pyengine *e)
{
	struct worker *w = e->workers;
	struct pyreq *r;

	while (e->qhead != NULL) {
		while (w != NULL && w->state != W_IDLE)
			w = w->next;
		if (w == NULL)
			return;
		r = queue_pop(e);
		r->id = ++e->next_req;
		put_be64(r->frame + FRAME_HEAD, r->id);
		w->cur = r;
		w->state = W_BUSY;
		r->deadline = now_ms() + e->timeout_ms;
		if (worker_write(w) < 0)
			worker_gone(w);
		if (w->state == W_DEAD || r->off < r->flen || r->deadline < e->io_wake_at)
			kick(e);
	}
}

static void fail_start(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_start(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->fail, sizeof w->fail, fmt, ap);
	va_end(ap);
	pyproc_kill(&w->proc);
	w->start_failed = 1;
	w->state = W_DEAD;
}

/* Timeouts of queued requests, running requests and init(); returns when to look again. */
static int64_t expire(struct pyengine *e, int64_t now, struct pyreq **done)
{
	int64_t wake = now + IO_IDLE_MS;
	char msg[REASON_MAX];
	struct pyreq *r;

	while (e->qhead != NULL && e->qhead->deadline <= now) {
		r = queue_pop(e);
		req_fail(r, 408, "RequestTimeout", "no worker became free within %d ms",
			 e->timeout_ms);
		req_finish(done, r);
	}
	if (e->qhead != NULL && e->qhead->deadline < wake)
		wake = e->qhead->deadline;
	for (struct worker *w = e->workers; w != NULL; w = w->next) {
		int64_t t = w->state == W_BUSY ? w->cur->deadline : w->deadline;
		if (w->state != W_BUSY && w->state != W_STARTING)
			continue;
		if (t > now) {
			wake = t < wake ? t : wake;
		} else if (w->state == W_STARTING) {
			fail_start(w, "init() did not finish in time");
		} else {
			snprintf(msg, sizeof msg, "scoring did not finish within %d ms",
				 e->timeout_ms);
			worker_break(e, w, done, 408, "RequestTimeout", msg);
		}
	}
	return wake;
}

/* With no worker left after a failed start, waiting is pointless: answer at once. */
static void refuse_when_down(struct pyengine *e, struct pyreq **done)
{
	struct pyreq *r;

	if (live_count(e) > 0 || e->failures == 0)
		return;
	while ((r = queue_pop(e)) != NULL) {
		req_fail(r, 500, "EngineFault", "no worker running: %.*s", REASON_MAX / 2,
			 e->last_fail);
		req_finish(done, r);
	}
}

/* Moves dead, retiring and surplus idle workers to `gone` for the supervisor. */
static void collect_gone(struct pyengine *e)
{
	int surplus = live_count(e) - e->target, moved = 0;
	struct worker **p = &e->workers, *w;

	while ((w = *p) != NULL) {
		if (w->state == W_IDLE && surplus > 0) {
			surplus--;
			w->state = W_RETIRE;
		}
		if (w->state != W_DEAD && w->state != W_RETIRE) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		w->next = e->gone;
		e->gone = w;
		moved = 1;
	}
	if (moved)
		pthread_cond_signal(&e->sup_cv);
}

/* ---- replies ---- */

static void frame_reset(struct frame_in *f)
{
	free(f->payload);
	memset(f, 0, sizeof *f);
}

/* Feeds bytes into the frame being read: 1 when it is complete, 0 when it needs
 * more, -1 when its length is impossible. *used: bytes consumed. */
static int frame_feed(struct frame_in *f, const unsigned char *p, size_t n, size_t *used)
{
	size_t k = 0, take;
	uint32_t flen;

	if (f->head_got < FRAME_HEAD) {
		take = FRAME_HEAD - f->head_got < n ? FRAME_HEAD - f->head_got : n;
		memcpy(f->head + f->head_got, p, take);
		f->head_got += take;
		k = take;
		*used = k;
		if (f->head_got < FRAME_HEAD)
			return 0;
		flen = get_be32(f->head);
		if (flen < 1 || flen > FRAME_MAX || (f->payload = malloc(flen)) == NULL)
			return -1;
		f->len = flen - 1;
	}
	take = f->len - f->got < n - k ? f->len - f->got : n - k;
	memcpy(f->payload + f->got, p + k, take);
	f->got += take;
	*used = k + take;
	if (f->got < f->len)
		return 0;
	f->payload[f->len] = '\0';
	return 1;
}

static void on_start_frame(struct pyengine *e, struct worker *w, char type, const char *payload)
{
	if (type == 'Y') {
		w->state = W_IDLE;
		e->failures = 0;
		elog(e, "worker %d ready (pid %d)", w->proc.id, (int)w->proc.pid);
		pthread_cond_broadcast(&e->state_cv);
	} else if (type == 'I') {
		fail_start(w, "%s", payload);
	} else {
		fail_start(w, "worker sent frame type 0x%02x before ready", (unsigned char)type);
	}
}

/* The worker ran out of memory: it is killed (it exits anyway) and replaced. */
static void out_of_memory(struct pyengine *e, struct worker *w, const char *why)
{
	elog(e, "worker %d (pid %d) out of memory (OOMKilled): %s; replacing it", w->proc.id,
	     (int)w->proc.pid, why);
	pyproc_kill(&w->proc);
	w->state = W_DEAD;
}

/* Why a reply frame is not the answer w owes now; NULL when it is. */
static const char *reply_wrong(const struct worker *w, char type, const char *payload, size_t len)
{
	uint64_t want = w->state == W_BUSY ? w->cur->id : 0;

	if (len < REPLY_HEAD)
		return "a frame too short for its header";
	if (memcmp(payload, w->nonce, NONCE_LEN) != 0)
		return "a frame without the worker's nonce (written by the scoring script?)";
	if (w->state == W_IDLE)
		return "a reply while no request was running";
	if (get_be64((const unsigned char *)payload + NONCE_LEN) != want)
		return "a reply for another request";
	if (w->state == W_BUSY && reply_find(type) == NULL)
		return "an unknown frame type";
	return NULL;
}

/* A 'C' frame: rows the script's Collector collected, at any time (init(),
 * run(), a thread of its own): "name\0correlation\0x-request-id\0" then the
 * rows' JSON. It must carry the nonce; it answers nothing, so its request id
 * (the request running when it was sent, else 0) is not checked. 1 when it
 * was one (payload is freed), else 0. */
static int on_collect(struct pyengine *e, struct worker *w, char type, char *payload, size_t len)
{
	const char *name, *corr, *xrid, *end = payload + len;

	if (type != 'C' || len < REPLY_HEAD || memcmp(payload, w->nonce, NONCE_LEN) != 0)
		return 0;
	name = payload + REPLY_HEAD;
	corr = memchr(name, '\0', (size_t)(end - name));
	xrid = corr ? memchr(corr + 1, '\0', (size_t)(end - corr - 1)) : NULL;
	const char *data = xrid ? memchr(xrid + 1, '\0', (size_t)(end - xrid - 1)) : NULL;
	if (data && e->collect)
		e->collect(e->collect_ctx, name, corr + 1, xrid + 1, data + 1,
			   (size_t)(end - data - 1));
	free(payload);
	return 1;
}

/* One whole frame from w; takes payload. Anything but the answer it owes now
 * (the right nonce, the running request's id) breaks the worker: its request
 * gets an error, never another request's answer. */
static void on_frame(struct pyengine *e, struct worker *w, char type, char *payload, size_t len,
		     struct pyreq **done)
{
	const char *wrong;
	char msg[REASON_MAX];

	if (on_collect(e, w, type, payload, len))
		return;
	wrong = reply_wrong(w, type, payload, len);

	if (wrong != NULL && w->state == W_STARTING) {
		fail_start(w, "broken pipe protocol: %s", wrong);
	} else if (wrong != NULL) {
		snprintf(msg, sizeof msg, "broken pipe protocol with worker %d: %s", w->proc.id,
			 wrong);
		worker_break(e, w, done, 500, "EngineFault", msg);
	} else if (w->state == W_STARTING) {
		on_start_frame(e, w, type, payload + REPLY_HEAD);
	} else {
		memmove(payload, payload + REPLY_HEAD, len - REPLY_HEAD + 1);
		if (type == 'M') /* like a container OOM-killed: the worker is replaced */
			out_of_memory(e, w, payload);
		reply_result(&w->cur->res, reply_find(type), payload, len - REPLY_HEAD);
		req_finish(done, w->cur);
		w->cur = NULL;
		if (w->state == W_BUSY)
			w->state = W_IDLE;
		return;
	}
	free(payload);
}

/* Reads what w sent and acts on every whole frame. */
static void worker_read(struct pyengine *e, struct worker *w, struct pyreq **done)
{
	unsigned char buf[65536];
	size_t off, used;
	ssize_t n;
	int rc;

	for (int i = 0; i < READS_PER_TURN && is_live(w); i++) {
		n = read(w->proc.rep_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			worker_gone(w);
			return;
		}
		for (off = 0; off < (size_t)n && is_live(w); off += used) {
			rc = frame_feed(&w->in, buf + off, (size_t)n - off, &used);
			if (rc < 0) {
				worker_break(e, w, done, 500, "EngineFault",
					     "broken pipe protocol (malformed frame)");
			} else if (rc == 1) {
				char *payload = w->in.payload;
				size_t len = w->in.len;
				char type = (char)w->in.head[4];
				w->in.payload = NULL;
				frame_reset(&w->in);
				on_frame(e, w, type, payload, len, done);
			}
		}
	}
}

/* ---- the I/O thread ---- */

static int build_poll(struct pyengine *e, struct pollfd *pf, struct worker **wk, int max)
{
	int n = 1;

	pf[0] = (struct pollfd){e->kick_fd, POLLIN, 0};
	wk[0] = NULL;
	for (struct worker *w = e->workers; w != NULL && n + 2 <= max; w = w->next) {
		if (!is_live(w))
			continue;
		pf[n] = (struct pollfd){w->proc.rep_fd, POLLIN, 0};
		wk[n++] = w;
		if (w->state == W_BUSY && w->cur->off < w->cur->flen) {
			pf[n] = (struct pollfd){w->proc.req_fd, POLLOUT, 0};
			wk[n++] = w;
		}
	}
	return n;
}

static void handle_poll(struct pyengine *e, const struct pollfd *pf, struct worker **wk, int n,
			struct pyreq **done)
{
	for (int i = 1; i < n; i++) {
		struct worker *w = wk[i];

		if (pf[i].revents == 0 || !is_live(w))
			continue;
		if (pf[i].events == POLLOUT) {
			if (w->state == W_BUSY && worker_write(w) < 0)
				worker_gone(w);
		} else {
			worker_read(e, w, done);
		}
	}
}

static void *io_main(void *arg)
{
	struct pyengine *e = arg;
	struct pollfd pf[1 + 2 * PYTHON_MAX_WORKERS];
	struct worker *wk[1 + 2 * PYTHON_MAX_WORKERS];
	struct pyreq *done = NULL;
	int64_t now, wake;
	uint64_t drain;
	int n;

	pthread_mutex_lock(&e->lock);
	while (!atomic_load(&e->stopping)) {
		now = now_ms();
		wake = expire(e, now, &done);
		refuse_when_down(e, &done);
		dispatch(e);
		collect_gone(e);
		n = build_poll(e, pf, wk, 1 + 2 * PYTHON_MAX_WORKERS);
		e->io_wake_at = wake;
		pthread_mutex_unlock(&e->lock);
		reqs_answer(done);
		done = NULL;
		poll(pf, (nfds_t)n, (int)(wake > now ? wake - now : 0));
		if (pf[0].revents != 0 && read(e->kick_fd, &drain, sizeof drain) < 0)
			drain = 0;
		pthread_mutex_lock(&e->lock);
		handle_poll(e, pf, wk, n, &done);
	}
	drain_all(e, &done, "the deployment is stopping");
	pthread_mutex_unlock(&e->lock);
	reqs_answer(done);
	return NULL;
}

/* ---- the supervisor ---- */

static int backoff_ms(int failures)
{
	int ms = 1000;

	for (int i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

/* Under the lock: one more failed start. */
static void count_failure(struct pyengine *e, int id, const char *why)
{
	e->failures++;
	snprintf(e->last_fail, sizeof e->last_fail, "%s", why);
	e->retry_at = now_ms() + backoff_ms(e->failures);
	if (e->loaded)
		elog(e, "worker %d failed to start: %s; retrying in %d s", id, why,
		     backoff_ms(e->failures) / 1000);
	else
		elog(e, "worker %d failed to start: %s", id, why);
	pthread_cond_broadcast(&e->state_cv);
	kick(e);
}

/* A reaped worker's last words: its request's answer, a failed start, a log line. */
static void settle(struct pyengine *e, struct worker *w, struct pyreq **done)
{
	char why[REASON_MAX / 2];
	int pid = (int)w->proc.pid;

	pyproc_describe(&w->proc, why, sizeof why);
	pthread_mutex_lock(&e->lock);
	if (w->start_failed) {
		if (w->fail[0] == '\0')
			snprintf(w->fail, sizeof w->fail, "%s during init", why);
		count_failure(e, w->proc.id, w->fail);
	} else if (w->state == W_RETIRE) {
		elog(e, "stopped worker %d (pid %d): pool shrinks", w->proc.id, pid);
	} else if (w->crashed) {
		elog(e, "worker %d (pid %d): %s%s; replacing it", w->proc.id, pid, why,
		     w->cur != NULL ? " while scoring" : "");
	}
	if (w->cur != NULL) {
		req_fail(w->cur, 424, "WorkerCrashed", "%s", why);
		req_finish(done, w->cur);
		w->cur = NULL;
	}
	pthread_mutex_unlock(&e->lock);
}

/* Stops a list of workers together: EOF on fd 3, a grace, then kill; settles and frees them. */
static void workers_stop(struct pyengine *e, struct worker *list)
{
	int64_t until = now_ms() + STOP_GRACE_MS;
	struct pyreq *done = NULL;
	struct worker *next;
	int all;

	for (struct worker *w = list; w != NULL; w = w->next)
		pyproc_eof(&w->proc);
	do {
		all = 1;
		for (struct worker *w = list; w != NULL; w = w->next)
			all &= pyproc_reaped(&w->proc, 0);
		if (!all)
			poll(NULL, 0, 5);
	} while (!all && now_ms() < until);
	for (struct worker *w = list; w != NULL; w = next) {
		next = w->next;
		pyproc_reap(&w->proc, 0);
		settle(e, w, &done);
		pyproc_close(&w->proc);
		frame_reset(&w->in);
		free(w);
	}
	reqs_answer(done);
}

/* The first frame a worker reads: its nonce, which every reply must carry. */
static int send_hello(struct worker *w, char *why, size_t n)
{
	unsigned char frame[FRAME_HEAD + NONCE_LEN];

	if (getrandom(w->nonce, NONCE_LEN, 0) != NONCE_LEN) {
		snprintf(why, n, "no random bytes for the worker's nonce: %s", strerror(errno));
		return -1;
	}
	put_be32(frame, 1 + NONCE_LEN);
	frame[4] = 'H';
	memcpy(frame + FRAME_HEAD, w->nonce, NONCE_LEN);
	if (write_nosig(w->proc.req_fd, frame, sizeof frame) != (ssize_t)sizeof frame) {
		snprintf(why, n, "cannot send the hello frame: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Spawns k workers; they count as live (starting) until the I/O thread hears from them. */
static void start_workers(struct pyengine *e, int k)
{
	struct pyproc_spec spec = {e->argv, e->envp, e->src, e->memory_mb};
	struct worker *w;
	char why[REASON_MAX];

	for (int i = 0; i < k && !atomic_load(&e->stopping); i++) {
		if ((w = calloc(1, sizeof *w)) == NULL)
			return;
		w->e = e;
		pthread_mutex_lock(&e->lock);
		pyproc_init(&w->proc, ++e->next_id, e->log, e->log_ctx);
		pthread_mutex_unlock(&e->lock);
		if (pyproc_spawn(&w->proc, &spec, why, sizeof why) != 0 ||
		    send_hello(w, why, sizeof why) != 0) {
			pthread_mutex_lock(&e->lock);
			count_failure(e, w->proc.id, why);
			pthread_mutex_unlock(&e->lock);
			pyproc_close(&w->proc);
			free(w);
			continue;
		}
		pthread_mutex_lock(&e->lock);
		w->state = W_STARTING;
		w->deadline = now_ms() + START_TIMEOUT_MS;
		w->next = e->workers;
		e->workers = w;
		kick(e);
		pthread_mutex_unlock(&e->lock);
	}
}

static void *supervisor_main(void *arg)
{
	struct pyengine *e = arg;
	struct worker *gone;
	int need;

	pthread_mutex_lock(&e->lock);
	while (!atomic_load(&e->stopping)) {
		need = e->target - live_count(e);
		if (e->gone != NULL) {
			gone = e->gone;
			e->gone = NULL;
			pthread_mutex_unlock(&e->lock);
			workers_stop(e, gone);
		} else if (need > 0 && now_ms() >= e->retry_at && !e->cancelled) {
			pthread_mutex_unlock(&e->lock);
			start_workers(e, need);
		} else {
			cond_wait_until(&e->sup_cv, &e->lock,
					need > 0 && !e->cancelled ? e->retry_at : now_ms() + 1000);
			continue;
		}
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* ---- score ---- */

static void py_submit(void *impl, const struct engine_request *req, engine_done_fn done,
		      void *ctx)
{
	struct pyengine *e = impl;
	struct pyreq *r = calloc(1, sizeof *r), *fin = NULL;
	char why[REASON_MAX];
	int status = 500;

	if (r == NULL) {
		struct engine_result res = {500, NULL, 0};
		done(ctx, &res);
		return;
	}
	r->done = done;
	r->ctx = ctx;
	r->frame = request_frame(req, &r->flen, &status, why, sizeof why);
	pthread_mutex_lock(&e->lock);
	if (r->frame == NULL) {
		req_fail(r, status, status == 400 ? "BadInput" : "EngineFault", "%s", why);
		req_finish(&fin, r);
	} else if (atomic_load(&e->stopping) || e->cancelled) {
		req_fail(r, 503, "ServiceUnavailable", "the deployment is stopping");
		req_finish(&fin, r);
	} else if (live_count(e) == 0 && e->failures > 0) {
		req_fail(r, 500, "EngineFault", "no worker running: %.*s", REASON_MAX / 2,
			 e->last_fail);
		req_finish(&fin, r);
	} else {
		r->deadline = now_ms() + e->timeout_ms;
		queue_push(e, r);
		dispatch(e);
		if (e->qhead != NULL && e->qhead->deadline < e->io_wake_at)
			kick(e);
	}
	pthread_mutex_unlock(&e->lock);
	reqs_answer(fin);
}

struct sync_wait {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int done;
	struct engine_result *out;
};

static void sync_done(void *ctx, struct engine_result *res)
{
	struct sync_wait *s = ctx;

	pthread_mutex_lock(&s->lock);
	*s->out = *res;
	s->done = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

/* The blocking form, for callers that may wait (tests, tools). */
static int py_score(void *impl, const struct engine_request *req, struct engine_result *out)
{
	struct sync_wait s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, out};

	memset(out, 0, sizeof *out);
	py_submit(impl, req, sync_done, &s);
	pthread_mutex_lock(&s.lock);
	while (!s.done)
		pthread_cond_wait(&s.cv, &s.lock);
	pthread_mutex_unlock(&s.lock);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cv);
	return out->body != NULL ? 0 : -1;
}

static void py_cancel(void *impl)
{
	struct pyengine *e = impl;
	struct pyreq *done = NULL;

	pthread_mutex_lock(&e->lock);
	e->cancelled = 1;
	drain_all(e, &done, "the runtime is stopping");
	kick(e);
	pthread_mutex_unlock(&e->lock);
	reqs_answer(done);
}

/* AZUREML_MODEL_DIR: the directory that holds the artifact (models/NAME/V), as
 * Azure sets it: a registered folder appears in it by its name, so a score.py
 * written for Azure joins "FOLDER/file" (or "file" for a file model). */
static int model_dir(const char *path, char *dir, size_t n, struct error *err)
{
	struct stat st;
	char *slash;

	dir[0] = '\0';
	if (path == NULL || path[0] == '\0')
		return 0;
	if (stat(path, &st) != 0)
		return error_set(err, 500, "DeploymentFailed", "model %s: %s", path,
				 strerror(errno));
	if ((size_t)snprintf(dir, n, "%s", path) >= n)
		return error_set(err, 500, "DeploymentFailed", "model path too long: %s", path);
	while (n > 1 && strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, n, ".");
	else
		slash[slash == dir] = '\0';
	return 0;
}

static int build_argv(struct pyengine *e, const struct engine_config *cfg, const char *file)
{
	struct strv a = {0};
	int rc = 0;

	rc |= strv_push(&a, strdup(cfg->python && cfg->python[0] ? cfg->python : "python3"));
	rc |= strv_push(&a, strdup("-u"));
	rc |= strv_push(&a, strdup(file != NULL ? file : "-"));
	rc |= strv_push(&a, strdup(cfg->code_dir));
	rc |= strv_push(&a, strdup(cfg->scoring_script));
	for (size_t i = 0; cfg->modules != NULL && cfg->modules[i] != NULL; i++)
		rc |= strv_push(&a, strdup(cfg->modules[i]));
	e->argv = a.v;
	return rc;
}

static int build_envp(struct pyengine *e, const struct engine_config *cfg, const char *mdir)
{
	struct strv s = {0};
	int rc = 0;

	for (size_t i = 0; environ != NULL && environ[i] != NULL; i++)
		rc |= strv_push(&s, strdup(environ[i]));
	for (size_t i = 0; cfg->env != NULL && cfg->env[i] != NULL; i++)
		if (strchr(cfg->env[i], '=') != NULL)
			rc |= strv_setenv(&s, cfg->env[i]);
	if (mdir[0] != '\0')
		rc |= strv_setenv2(&s, "AZUREML_MODEL_DIR", mdir);
	rc |= strv_setenv2(&s, "AZUREML_ENTRY_SCRIPT", cfg->scoring_script);
	rc |= strv_setenv2(&s, "AML_APP_ROOT", cfg->code_dir);
	rc |= strv_setenv(&s, "PYTHONUNBUFFERED=1");
	if (s.v == NULL)
		rc = -1;
	e->envp = s.v;
	return rc;
}

static int check_config(const struct engine_config *cfg, struct error *err)
{
	char path[4096];
	struct stat st;

	if (cfg->code_dir == NULL || cfg->scoring_script == NULL || cfg->scoring_script[0] == '\0')
		return error_set(err, 500, "DeploymentFailed",
				 "custom_model needs a code directory and a scoring script");
	if (cfg->workers > PYTHON_MAX_WORKERS)
		return error_set(err, 400, "ValidationError", "at most %d workers",
				 PYTHON_MAX_WORKERS);
	if (cfg->memory_mb < 0)
		return error_set(err, 400, "ValidationError",
				 "MLDECK_WORKER_MEMORY_MB must be a whole number of MiB, at least 64 "
				 "(0: no limit)");
	if ((size_t)snprintf(path, sizeof path, "%s/%s", cfg->code_dir, cfg->scoring_script) >=
		sizeof path ||
	    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return error_set(err, 500, "DeploymentFailed", "scoring script %s not found in %s",
				 cfg->scoring_script, cfg->code_dir);
	return 0;
}

static struct pyengine *engine_alloc(const struct engine_config *cfg)
{
	struct pyengine *e = calloc(1, sizeof *e);
	pthread_condattr_t ca;

	if (e == NULL)
		return NULL;
	e->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->kick_fd < 0) {
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->state_cv, &ca);
	pthread_cond_init(&e->sup_cv, &ca);
	pthread_condattr_destroy(&ca);
	e->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
	e->memory_mb = cfg->memory_mb;
	e->log = cfg->log;
	e->log_ctx = cfg->log_ctx;
	e->collect = cfg->collect;
	e->collect_ctx = cfg->collect_ctx;
	e->target = cfg->workers > 0 ? cfg->workers : 1;
	e->io_wake_at = INT64_MAX;
	return e;
}

static void py_free(void *impl)
{
	struct pyengine *e = impl;
	struct worker *list, *last;

	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	atomic_store(&e->stopping, 1);
	pthread_cond_broadcast(&e->sup_cv);
	pthread_cond_broadcast(&e->state_cv);
	kick(e);
	pthread_mutex_unlock(&e->lock);
	if (e->io_running)
		pthread_join(e->io, NULL);
	if (e->sup_running)
		pthread_join(e->supervisor, NULL);
	list = e->workers;
	for (last = list; last != NULL && last->next != NULL; last = last->next)
		;
	if (last != NULL)
		last->next = e->gone;
	else
		list = e->gone;
	e->workers = e->gone = NULL;
	workers_stop(e, list);
	strv_free(e->argv);
	strv_free(e->envp);
	close(e->kick_fd);
	pthread_cond_destroy(&e->state_cv);
	pthread_cond_destroy(&e->sup_cv);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/* Waits until the first `target` workers are ready; -1 with err at the first failure. */
static int load_wait(struct pyengine *e, const struct engine_config *cfg, struct error *err)
{
	int rc = 0;

	pthread_mutex_lock(&e->lock);
	while (ready_count(e) < e->target) {
		if (e->failures > 0) {
			rc = error_set(err, 500, "DeploymentFailed", "%s", e->last_fail);
			break;
		}
		if (cfg->cancel != NULL && atomic_load(cfg->cancel)) {
			rc = error_set(err, 500, "DeploymentFailed", "the load was cancelled");
			break;
		}
		cond_wait_until(&e->state_cv, &e->lock, now_ms() + 100);
	}
	e->loaded = rc == 0;
	pthread_mutex_unlock(&e->lock);
	return rc;
}

static void *py_load(const struct engine_config *cfg, struct error *err)
{
	const char *file = getenv("MLDECK_WORKER");
	char mdir[4096];
	struct pyengine *e;

	if (check_config(cfg, err) != 0 || model_dir(cfg->model_path, mdir, sizeof mdir, err) != 0)
		return NULL;
	e = engine_alloc(cfg);
	if (e == NULL) {
		error_set(err, 500, "DeploymentFailed", "out of memory");
		return NULL;
	}
	e->src = file != NULL && file[0] != '\0' ? NULL : python_worker_py;
	if (build_argv(e, cfg, e->src ? NULL : file) != 0 || build_envp(e, cfg, mdir) != 0) {
		error_set(err, 500, "DeploymentFailed", "out of memory");
		goto fail;
	}
	e->io_running = pthread_create(&e->io, NULL, io_main, e) == 0;
	e->sup_running = e->io_running && pthread_create(&e->supervisor, NULL, supervisor_main, e) == 0;
	if (!e->sup_running) {
		error_set(err, 500, "DeploymentFailed", "cannot start the engine's threads");
		goto fail;
	}
	if (load_wait(e, cfg, err) != 0)
		goto fail;
	return e;
fail:
	py_free(e);
	return NULL;
}

/* Grows (blocking until the new workers are ready or one fails) or shrinks (at once;
 * busy surplus workers stop when their request ends). */
static int py_resize(void *impl, int workers, struct error *err)
{
	struct pyengine *e = impl;
	int64_t deadline = now_ms() + START_TIMEOUT_MS;
	int rc = 0;

	if (workers < 1 || workers > PYTHON_MAX_WORKERS)
		return error_set(err, 400, "ValidationError", "workers must be between 1 and %d",
				 PYTHON_MAX_WORKERS);
	pthread_mutex_lock(&e->lock);
	e->target = workers;
	e->failures = 0;
	e->retry_at = 0;
	pthread_cond_signal(&e->sup_cv);
	kick(e);
	while (ready_count(e) < e->target && e->target == workers) {
		if (e->failures > 0 || now_ms() >= deadline || atomic_load(&e->stopping)) {
			rc = error_set(err, 500, "ScalingFailed", "a new worker did not start: %s",
				       e->failures > 0 ? e->last_fail : "timed out");
			break;
		}
		cond_wait_until(&e->state_cv, &e->lock, now_ms() + 100);
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

static int py_features(const void *impl)
{
	(void)impl;
	return -1;
}

const struct engine_ops python_engine_ops = {
    .load = py_load,
    .score = py_score,
    .submit = py_submit,
    .cancel = py_cancel,
    .resize = py_resize,
    .features = py_features,
    .free = py_free,
};
