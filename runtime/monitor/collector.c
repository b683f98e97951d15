/* collector.c: production data collection off the scoring path (collector.h). */
#define _GNU_SOURCE /* SCHED_IDLE: the writer takes only the CPU scoring leaves */
#include "runtime/monitor/collector.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/engines/input.h"
#include "runtime/monitor/records.h"
#include "runtime/monitor/thread.h"
#include "state/clock.h"
#include "state/file.h"
#include "state/resource.h"

#define PERIOD_MS 100
#define RECORD_MAX (16u << 20) /* one record: the body limit is 4 MiB by default */
/* What one write() takes: the kernel's copy into the page cache is not
 * preempted (a PREEMPT_NONE kernel), so a request waking meanwhile waits
 * for it; 64 KiB is some 10-20 us of it. */
#define WRITE_SLICE (64u << 10)

/* The collections the runtime fills itself, by bit. */
enum { C_INPUTS, C_OUTPUTS, C_REQUEST, C_RESPONSE, C_STANDARD };

/* The captured headers' JSON: what the server takes of headers (32 KiB)
 * escaped six bytes a byte at the most, with the names. */
#define HEADERS_MAX (256u << 10)
static const char *const standard[C_STANDARD] = {"model_inputs", "model_outputs", "request",
						 "response"};

struct item {
	struct item *next;
	int64_t time;
	unsigned bits;   /* standard collections to write */
	int status;
	size_t size;     /* what it counts against the queue budget */
	const char *body, *answer, *headers, *collection;
	size_t len, alen;
	char rid[96], cid[128];
	char data[];     /* body, answer, headers, collection */
};

/* An open file of one collection. */
struct out {
	char name[DC_NAME_MAX + 1];
	char period[32];
	int64_t period_end;
	int fd, part;
	uint64_t size;
	struct dynbuf pending;
	uint64_t records, lost_quota, lost_error;
};

/* What configure and forget said, handed to the writer whole. */
struct update {
	struct datacollector dc;
	uint64_t quota;
	int gone;
};

/* One collection's counters as the writer last published them (metrics). */
struct tally {
	char name[DC_NAME_MAX + 1];
	uint64_t records, lost_quota, lost_error;
};

struct collector_tap {
	atomic_int refs;
	struct collector *c;
	char ep[RESOURCE_NAME_MAX + 1], dep[RESOURCE_NAME_MAX + 1];
	/* request path */
	atomic_uint rate[C_STANDARD]; /* sampling thresholds over 2^32 - 1; 0 off */
	atomic_int custom_on;
	atomic_ullong dropped[C_STANDARD + 1]; /* queue budget; the last: custom */
	/* the queue: pushed without a lock, taken whole by the writer */
	_Atomic(struct item *) stack; /* newest first */
	atomic_size_t queued;         /* bytes pushed and not yet taken */
	/* what configure says, for the request path (captured headers, custom
	 * collections): held for a copy or a lookup, never for I/O, and never
	 * taken by the writer */
	pthread_mutex_t cfglock;
	struct datacollector snap;
	uint64_t snap_quota;
	/* the newest word of configure or forget for the writer, which takes
	 * it with an exchange: no lock between them */
	_Atomic(struct update *) update;
	/* the writer's own: the writer thread (or a flush when it has none),
	 * under wlock, which nobody else takes: the writer runs on spare CPU
	 * only and may sit preempted for long, holding it */
	pthread_mutex_t wlock;
	struct datacollector dc;
	uint64_t quota, disk;
	int scanned, gone;
	struct out *outs;
	size_t nouts;
	void *user;
	/* the counters the writer publishes after each round, for metrics */
	pthread_mutex_t slock;
	struct tally *tallies;
	size_t ntallies;
	uint64_t pub_disk;
	int pub_scanned;
	struct collector_tap *next; /* the registry (under c->lock) */
};

struct collector {
	struct collector_config cfg;
	char root[PATH_MAX];
	char source[512];
	char instance[17];
	pthread_mutex_t lock; /* taps, stop, flush */
	pthread_cond_t cond, flushed;
	struct collector_tap *taps;
	struct collector_tap *retired; /* forgotten, written one last time by the writer */
	uint64_t flush_req, flush_done;
	int stop, running;
	pthread_t writer;
	uint64_t uuid_state;
	time_t last_error_log;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void log_line(struct collector *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_line(struct collector *c, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (c->cfg.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->cfg.log(c->cfg.ctx, line);
}

/* ---- taps --------------------------------------------------------------- */

struct collector_tap *collector_tap_ref(struct collector_tap *t)
{
	if (t)
		atomic_fetch_add(&t->refs, 1);
	return t;
}

static void outs_close(struct collector_tap *t)
{
	for (size_t i = 0; i < t->nouts; i++) {
		if (t->outs[i].fd >= 0)
			close(t->outs[i].fd);
		dynbuf_free(&t->outs[i].pending);
	}
	free(t->outs);
	t->outs = NULL;
	t->nouts = 0;
}

void collector_tap_unref(struct collector_tap *t)
{
	struct item *it, *next;

	if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	for (it = atomic_load(&t->stack); it; it = next) {
		next = it->next;
		free(it);
	}
	outs_close(t);
	free(atomic_load(&t->update));
	free(t->tallies);
	pthread_mutex_destroy(&t->wlock);
	pthread_mutex_destroy(&t->cfglock);
	pthread_mutex_destroy(&t->slock);
	free(t);
}

struct collector_tap *collector_tap(struct collector *c, const char *ep, const char *dep)
{
	struct collector_tap *t;

	pthread_mutex_lock(&c->lock);
	for (t = c->taps; t; t = t->next)
		if (!strcmp(t->ep, ep) && !strcmp(t->dep, dep))
			break;
	if (t == NULL && (t = calloc(1, sizeof *t)) != NULL) {
		atomic_init(&t->refs, 1); /* the registry's */
		t->c = c;
		snprintf(t->ep, sizeof t->ep, "%s", ep);
		snprintf(t->dep, sizeof t->dep, "%s", dep);
		pthread_mutex_init(&t->wlock, NULL);
		pthread_mutex_init(&t->cfglock, NULL);
		pthread_mutex_init(&t->slock, NULL);
		t->quota = t->snap_quota = c->cfg.quota;
		t->next = c->taps;
		c->taps = t;
	}
	collector_tap_ref(t);
	pthread_mutex_unlock(&c->lock);
	return t;
}

/* The writer's next configuration (out of memory: the last one stays). */
static void hand_over(struct collector_tap *t, const struct datacollector *dc, uint64_t quota,
		      int gone)
{
	struct update *u = calloc(1, sizeof *u);

	if (u == NULL)
		return;
	if (dc)
		u->dc = *dc;
	u->quota = quota;
	u->gone = gone;
	free(atomic_exchange(&t->update, u));
}

void collector_tap_configure(struct collector_tap *t, const struct datacollector *dc, int native,
			     uint64_t quota)
{
	const struct dc_collection *k;
	int custom = 0;

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->cfglock);
	if (dc)
		t->snap = *dc;
	else
		memset(&t->snap, 0, sizeof t->snap);
	t->snap_quota = quota ? quota : t->c->cfg.quota;
	hand_over(t, dc, t->snap_quota, 0); /* under cfglock: in the order they were made */
	pthread_mutex_unlock(&t->cfglock);
	for (int i = 0; i < C_STANDARD; i++) {
		double r = 0;
		if (dc && (k = datacollector_find(dc, standard[i])) && k->enabled &&
		    (native || i >= C_REQUEST))
			r = k->sampling_rate;
		atomic_store(&t->rate[i], (unsigned)(r * 4294967295.0));
	}
	for (size_t i = 0; dc && i < dc->n; i++)
		custom |= dc->items[i].enabled;
	atomic_store(&t->custom_on, custom);
}

void collector_forget(struct collector *c, const char *ep, const char *dep)
{
	struct collector_tap **p, *t;

	/* all of it before the tap is retired: once it is, the writer may
	 * drain it and drop the last reference at any moment */
	pthread_mutex_lock(&c->lock);
	for (p = &c->taps; *p; p = &(*p)->next)
		if (!strcmp((*p)->ep, ep) && !strcmp((*p)->dep, dep)) {
			t = *p;
			for (int i = 0; i < C_STANDARD; i++)
				atomic_store(&t->rate[i], 0);
			atomic_store(&t->custom_on, 0);
			pthread_mutex_lock(&t->cfglock);
			hand_over(t, &t->snap, t->snap_quota, 1);
			pthread_mutex_unlock(&t->cfglock);
			*p = t->next;
			t->next = c->retired; /* its queue is still written */
			c->retired = t;
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

void collector_tap_set_user(struct collector_tap *t, void *user)
{
	t->user = user;
}

void *collector_tap_user(const struct collector_tap *t)
{
	return t->user;
}

const char *collector_tap_endpoint(const struct collector_tap *t)
{
	return t->ep;
}

const char *collector_tap_deployment(const struct collector_tap *t)
{
	return t->dep;
}

/* ---- the request path --------------------------------------------------- */

static unsigned draw(void)
{
	static _Thread_local uint64_t s;

	if (s == 0)
		s = ((uint64_t)(uintptr_t)&s * 0x9E3779B97F4A7C15ull) ^ (uint64_t)time(NULL) ^ 1;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (unsigned)(s >> 32);
}

/* Counts the records of an item that did not fit the queue's budget. */
static void dropped(struct collector_tap *t, unsigned bits, int slot)
{
	for (int i = 0; i < C_STANDARD; i++)
		if (bits & (1u << i))
			atomic_fetch_add(&t->dropped[i], 1);
	if (slot == C_STANDARD)
		atomic_fetch_add(&t->dropped[C_STANDARD], 1);
}

/* Pushes it (no lock: a request never waits for the writer), or drops it
 * (counted) past the budget. */
static void enqueue(struct collector_tap *t, struct item *it, int slot)
{
	size_t before = atomic_fetch_add(&t->queued, it->size);

	if (before + it->size > COLLECTOR_QUEUE_MAX) {
		atomic_fetch_sub(&t->queued, it->size);
		dropped(t, it->bits, slot);
		free(it);
		return;
	}
	it->next = atomic_load_explicit(&t->stack, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&t->stack, &it->next, it,
						      memory_order_release, memory_order_relaxed))
		;
	if (before < COLLECTOR_QUEUE_MAX / 2 && before + it->size >= COLLECTOR_QUEUE_MAX / 2)
		pthread_cond_signal(&t->c->cond); /* half full: drain now, not at the period */
}

/* The captured headers as a JSON object, into b: each name and value whole
 * or not at all (a value past b's cap once escaped is left out), so the
 * object is always valid JSON. */
static void captured(struct collector_tap *t, const struct collector_event *ev, struct dynbuf *b)
{
	pthread_mutex_lock(&t->cfglock);
	for (size_t i = 0; i < t->snap.nheaders; i++) {
		const char *v = ev->header(ev->hctx, t->snap.headers[i]);
		size_t mark = b->len;

		if (v == NULL)
			continue;
		if ((dynbuf_add(b, b->len ? "," : "{", 1) |
		     dynbuf_add_json(b, t->snap.headers[i], strlen(t->snap.headers[i])) |
		     dynbuf_add(b, ":", 1) | dynbuf_add_json(b, v, strlen(v))) != 0 ||
		    b->len + 1 >= b->max) { /* and room for the closing brace */
			b->len = mark;
			if (b->p != NULL)
				b->p[mark] = '\0';
		}
	}
	pthread_mutex_unlock(&t->cfglock);
	if (b->len)
		dynbuf_add(b, "}", 1);
}

static unsigned sampled(struct collector_tap *t, int status)
{
	unsigned u = draw(), bits = 0;

	for (int i = 0; i < C_STANDARD; i++) {
		unsigned r = atomic_load_explicit(&t->rate[i], memory_order_relaxed);
		if (r && u <= r && (i >= C_REQUEST || status == 200))
			bits |= 1u << i;
	}
	return bits;
}

void collector_offer(struct collector_tap *t, const struct collector_event *ev)
{
	struct dynbuf hdr;
	struct item *it;
	const char *cid, *rid = ev->request_id ? ev->request_id : "";
	unsigned bits;
	char *p;

	if (t == NULL || (bits = sampled(t, ev->status)) == 0)
		return;
	/* a full queue (a saturated core: the writer runs behind) drops the
	 * records before they are copied, not after */
	if (atomic_load_explicit(&t->queued, memory_order_relaxed) + sizeof *it + ev->len +
		ev->alen >
	    COLLECTOR_QUEUE_MAX) {
		dropped(t, bits, 0);
		return;
	}
	dynbuf_init(&hdr, HEADERS_MAX);
	if ((bits & (1u << C_REQUEST)) && ev->header)
		captured(t, ev, &hdr);
	it = malloc(sizeof *it + ev->len + ev->alen + hdr.len + 3);
	if (it == NULL) {
		dynbuf_free(&hdr);
		return;
	}
	memset(it, 0, sizeof *it);
	it->time = now_s();
	it->bits = bits;
	it->status = ev->status;
	p = it->data;
	it->body = memcpy(p, ev->body ? ev->body : "", ev->len);
	p += ev->len;
	*p++ = '\0';
	it->len = ev->len;
	it->answer = memcpy(p, ev->answer ? ev->answer : "", ev->alen);
	p += ev->alen;
	*p++ = '\0';
	it->alen = ev->alen;
	if (hdr.len) {
		it->headers = memcpy(p, hdr.p, hdr.len + 1);
	}
	it->size = sizeof *it + ev->len + ev->alen + hdr.len;
	cid = ev->header ? ev->header(ev->hctx, "x-ms-client-request-id") : NULL;
	snprintf(it->rid, sizeof it->rid, "%s", rid);
	snprintf(it->cid, sizeof it->cid, "%s", cid ? cid : rid);
	dynbuf_free(&hdr);
	enqueue(t, it, 0);
}

void collector_custom(struct collector_tap *t, const char *collection, const char *data,
		      size_t len, const char *correlation, const char *request_id)
{
	size_t clen = strlen(collection);
	struct item *it;

	const struct dc_collection *k;
	double rate = 0;

	if (t == NULL || !atomic_load(&t->custom_on) || clen > DC_NAME_MAX)
		return;
	pthread_mutex_lock(&t->cfglock);
	if ((k = datacollector_find(&t->snap, collection)) != NULL && k->enabled)
		rate = k->sampling_rate;
	pthread_mutex_unlock(&t->cfglock);
	if (rate <= 0 || draw() > (unsigned)(rate * 4294967295.0))
		return;
	if ((it = malloc(sizeof *it + len + clen + 2)) == NULL)
		return;
	memset(it, 0, sizeof *it);
	it->time = now_s();
	it->body = memcpy(it->data, data, len);
	it->data[len] = '\0';
	it->len = len;
	it->collection = memcpy(it->data + len + 1, collection, clen + 1);
	it->size = sizeof *it + len + clen;
	snprintf(it->rid, sizeof it->rid, "%s", request_id ? request_id : "");
	snprintf(it->cid, sizeof it->cid, "%s", correlation ? correlation : it->rid);
	enqueue(t, it, C_STANDARD);
}

/* ---- files -------------------------------------------------------------- */

static struct out *out_of(struct collector_tap *t, const char *name)
{
	struct out *o;

	for (size_t i = 0; i < t->nouts; i++)
		if (!strcmp(t->outs[i].name, name))
			return &t->outs[i];
	if ((o = realloc(t->outs, (t->nouts + 1) * sizeof *o)) == NULL)
		return NULL;
	t->outs = o;
	o = &t->outs[t->nouts++];
	memset(o, 0, sizeof *o);
	snprintf(o->name, sizeof o->name, "%s", name);
	o->fd = -1;
	dynbuf_init(&o->pending, RECORD_MAX + (1u << 20));
	return o;
}

/* Where a deployment's collections live, below the root. */
static int dir_of(const struct collector *c, const char *ep, const char *dep, char *buf,
		  size_t len)
{
	int n = snprintf(buf, len, "%s/modelDataCollector/%s/%s", c->root, ep, dep);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int tap_dir(const struct collector_tap *t, char *buf, size_t len)
{
	return dir_of(t->c, t->ep, t->dep, buf, len);
}

static uint64_t part_max(const struct collector_tap *t)
{
	uint64_t p = t->quota / 8;

	return p < 4096 ? 4096 : p > COLLECTOR_PART_MAX ? COLLECTOR_PART_MAX : p;
}

static size_t count_lines(const char *p, size_t n)
{
	size_t k = 0;

	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		k++;
	return k;
}

static void write_failed(struct collector *c, struct collector_tap *t, struct out *o, int e)
{
	o->lost_error += count_lines(o->pending.p, o->pending.len);
	if (time(NULL) - c->last_error_log >= 60) {
		c->last_error_log = time(NULL);
		log_line(c, "collector: %s/%s %s: records lost: %s", t->ep, t->dep, o->name,
			 strerror(e));
	}
}

/* Writes what is pending, in slices; on a failure (a full disk) the file
 * is cut back to its last whole record and the pending ones count as lost. */
static void out_flush(struct collector *c, struct collector_tap *t, struct out *o)
{
	size_t done = 0;

	if (o->pending.len == 0)
		return;
	while (o->fd >= 0 && done < o->pending.len) {
		size_t n = o->pending.len - done < WRITE_SLICE ? o->pending.len - done : WRITE_SLICE;
		if (file_write_all(o->fd, o->pending.p + done, n) < 0)
			break;
		done += n;
	}
	if (done < o->pending.len) {
		int e = o->fd < 0 ? EBADF : errno;
		size_t left = o->pending.len - done;
		uint64_t mine = o->size + done + (left < WRITE_SLICE ? left : WRITE_SLICE);
		struct stat st;
		/* cut back only when the bytes past o->size can all be this
		 * write's (a deployment deleted and made again appends to the
		 * same file) */
		if (o->fd >= 0 &&
		    (fstat(o->fd, &st) < 0 || (uint64_t)st.st_size < o->size ||
		     (uint64_t)st.st_size > mine || ftruncate(o->fd, (off_t)o->size) < 0)) {
			close(o->fd); /* a torn line stays there: the next records go */
			o->fd = -1;   /* to the next part, which starts clean */
			o->part++;
		}
		write_failed(c, t, o, e);
	} else {
		o->records += count_lines(o->pending.p, o->pending.len);
		o->size += o->pending.len;
		t->disk += o->pending.len;
	}
	dynbuf_reset(&o->pending);
}

static void out_close(struct collector *c, struct collector_tap *t, struct out *o)
{
	out_flush(c, t, o);
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

/* Opens o's file for the period of `when` (part o->part of it). */
static int out_open(struct collector *c, struct collector_tap *t, struct out *o, int64_t when)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], period[32];
	struct stat st;
	int64_t end;

	if (datacollector_period(t->dc.rolling, when, period, sizeof period, &end) < 0 ||
	    tap_dir(t, dir, sizeof dir) < 0 ||
	    snprintf(path, sizeof path, "%s/%s/%s", dir, o->name, period) >= (int)sizeof path)
		return -1;
	if (strcmp(period, o->period) != 0)
		o->part = 0;
	snprintf(o->period, sizeof o->period, "%s", period);
	o->period_end = end;
	if (file_mkdirs(path, 0700) < 0)
		return -1;
	snprintf(path + strlen(path), sizeof path - strlen(path), o->part ? "/%s_%d.jsonl" : "/%s.jsonl",
		 c->instance, o->part);
	o->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (o->fd < 0)
		return -1;
	o->size = fstat(o->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

/* Appends one record line, rolling to the period of `when` or a new part. */
static void out_append(struct collector *c, struct collector_tap *t, struct out *o, int64_t when,
		       const struct dynbuf *line)
{
	char period[32];

	datacollector_period(t->dc.rolling, when, period, sizeof period, NULL);
	if (o->fd >= 0 && strcmp(period, o->period) != 0)
		out_close(c, t, o);
	if (o->fd >= 0 && o->size + o->pending.len + line->len > part_max(t)) {
		out_close(c, t, o);
		o->part++;
	}
	if (o->fd < 0 && out_open(c, t, o, when) < 0) {
		o->lost_error++;
		write_failed(c, t, o, errno);
		return;
	}
	if (dynbuf_add(&o->pending, line->p, line->len) < 0) {
		o->lost_error++;
		return;
	}
	if (o->pending.len >= WRITE_SLICE)
		out_flush(c, t, o);
}

/* ---- records ------------------------------------------------------------ */

struct rows_ctx {
	struct collector *c;
	struct collector_tap *t;
	const char *collection;
	struct dynbuf *data;
};

static int on_row(void *ctx, const struct cell *cells, size_t n, struct error *err)
{
	struct rows_ctx *r = ctx;

	if (r->c->cfg.rows)
		r->c->cfg.rows(r->c->cfg.sink, r->t, r->collection, cells, n);
	return records_row(r->data, cells, n, err);
}

/* DATA for rows out of json (member of the top object, or the top array). */
static int rows_data(struct collector *c, struct collector_tap *t, const char *collection,
		     const char *json, size_t len, const char *member, struct dynbuf *data)
{
	struct rows_ctx r = {c, t, collection, data};
	struct error err;

	dynbuf_reset(data);
	if (dynbuf_add(data, "[", 1) < 0 ||
	    dataset_rows_lazy(json, len, member, on_row, &r, NULL, &err) < 0)
		return -1;
	return dynbuf_add(data, "]", 1);
}

/* DATA for a payload: the body when it is JSON (on one line: a record is a
 * line), else the body as a string. */
static int payload_data(const char *body, size_t len, struct dynbuf *data)
{
	dynbuf_reset(data);
	if (dataset_json_compact(body, len, data) == 0)
		return 0;
	return dynbuf_add_json(data, body, len);
}

struct writing {
	struct collector *c;
	struct collector_tap *t;
	struct dynbuf data, line;
	char source[768];
};

static void emit(struct writing *w, const struct item *it, const char *collection, int payload,
		 int ok)
{
	struct out *o = out_of(w->t, collection);
	struct records_meta m;
	char id[37];

	if (o == NULL)
		return;
	if (!ok) {
		o->lost_error++;
		return;
	}
	records_uuid(id, &w->c->uuid_state);
	memset(&m, 0, sizeof m);
	m.source = w->source;
	m.collection = collection;
	m.time = it->time;
	m.id = id;
	m.correlation = it->cid;
	m.request_id = it->rid;
	m.payload = payload;
	if (payload && !strcmp(collection, "response"))
		m.status = it->status;
	if (payload && !strcmp(collection, "request"))
		m.headers = it->headers;
	dynbuf_reset(&w->line);
	if (records_line(&w->line, &m, w->data.p, w->data.len) < 0) {
		o->lost_error++;
		return;
	}
	out_append(w->c, w->t, o, it->time, &w->line);
}

static void write_item(struct writing *w, const struct item *it)
{
	const struct dc_collection *k;
	size_t off, n;

	if (it->collection) {
		k = datacollector_find(&w->t->dc, it->collection);
		if (k && k->enabled)
			emit(w, it, it->collection, 0,
			     rows_data(w->c, w->t, it->collection, it->body, it->len, NULL,
				       &w->data) == 0);
		return;
	}
	if (it->bits & (1u << C_INPUTS)) /* the rows scoring read, where it read them */
		emit(w, it, standard[C_INPUTS], 0,
		     input_rows_span(it->body, it->len, &off, &n) == 0 &&
			 rows_data(w->c, w->t, standard[C_INPUTS], it->body + off, n, NULL,
				   &w->data) == 0);
	if (it->bits & (1u << C_OUTPUTS))
		emit(w, it, standard[C_OUTPUTS], 0,
		     rows_data(w->c, w->t, standard[C_OUTPUTS], it->answer, it->alen, NULL,
			       &w->data) == 0);
	if (it->bits & (1u << C_REQUEST))
		emit(w, it, standard[C_REQUEST], 1, payload_data(it->body, it->len, &w->data) == 0);
	if (it->bits & (1u << C_RESPONSE))
		emit(w, it, standard[C_RESPONSE], 1,
		     payload_data(it->answer, it->alen, &w->data) == 0);
}

/* ---- the quota ---------------------------------------------------------- */

struct file_entry {
	char *rel;       /* below the tap's folder: COLLECTION/PERIOD.../FILE */
	const char *key; /* rel without the collection */
	size_t period;   /* key's length up to the file name */
	struct timespec mtime;
	uint64_t size;
};

struct file_list {
	struct file_entry *v;
	size_t n, cap;
	uint64_t total;
};

static void list_files(const char *base, const char *rel, struct file_list *l, int depth)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (snprintf(path, sizeof path, "%s%s%s", base, *rel ? "/" : "", rel) >= (int)sizeof path ||
	    depth > 8 || (d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
			(int)sizeof sub ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			list_files(base, sub, l, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		l->total += (uint64_t)st.st_size;
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 64;
			struct file_entry *v = realloc(l->v, cap * sizeof *v);
			if (v == NULL)
				continue;
			l->v = v;
			l->cap = cap;
		}
		struct file_entry *f = &l->v[l->n];
		if ((f->rel = strdup(sub)) == NULL)
			continue;
		f->key = strchr(f->rel, '/') ? strchr(f->rel, '/') + 1 : "";
		f->period = strrchr(f->key, '/') ? (size_t)(strrchr(f->key, '/') - f->key) : 0;
		f->mtime = st.st_mtim;
		f->size = (uint64_t)st.st_size;
		l->n++;
	}
	closedir(d);
}

static void list_free(struct file_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
}

/* Age order: the period's folder, then the last write (parts of a period,
 * files of runtimes before this one), then the name. */
static int older(const void *a, const void *b)
{
	const struct file_entry *x = a, *y = b;
	size_t n = x->period < y->period ? x->period : y->period;
	int k = strncmp(x->key, y->key, n);

	if (k == 0 && x->period != y->period)
		k = x->period < y->period ? -1 : 1;
	if (k == 0 && x->mtime.tv_sec != y->mtime.tv_sec)
		k = x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (k == 0 && x->mtime.tv_nsec != y->mtime.tv_nsec)
		k = x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return k ? k : strcmp(x->rel, y->rel);
}

static uint64_t lines_in(const char *path)
{
	char buf[1 << 16];
	uint64_t n = 0;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	while ((got = read(fd, buf, sizeof buf)) > 0)
		n += count_lines(buf, (size_t)got);
	close(fd);
	return n;
}

/* Removes a file and the folders it leaves empty, up to the collection's. */
static void remove_file(const char *base, char *rel)
{
	char path[PATH_MAX * 2 + 2], *slash;

	snprintf(path, sizeof path, "%s/%s", base, rel);
	unlink(path);
	while ((slash = strrchr(rel, '/')) != NULL && strchr(rel, '/') != slash) {
		*slash = '\0';
		snprintf(path, sizeof path, "%s/%s", base, rel);
		if (rmdir(path) < 0)
			break;
	}
}

/* Past the quota: the oldest files go, whole, until 90 % of it is used; what
 * they held counts as lost. Open files among them are closed first. */
static void enforce_quota(struct collector *c, struct collector_tap *t)
{
	struct file_list l = {0};
	char base[PATH_MAX], coll[DC_NAME_MAX + 1], path[PATH_MAX * 2];
	uint64_t target = t->quota - t->quota / 10;

	if (t->disk <= t->quota || tap_dir(t, base, sizeof base) < 0)
		return;
	for (size_t i = 0; i < t->nouts; i++)
		out_close(c, t, &t->outs[i]);
	list_files(base, "", &l, 0);
	t->disk = l.total;
	qsort(l.v, l.n, sizeof *l.v, older);
	for (size_t i = 0; i < l.n && t->disk > target; i++) {
		struct out *o;
		size_t k = strcspn(l.v[i].rel, "/");
		snprintf(coll, sizeof coll, "%.*s", (int)k, l.v[i].rel);
		snprintf(path, sizeof path, "%s/%s", base, l.v[i].rel);
		if ((o = out_of(t, coll)) != NULL)
			o->lost_quota += lines_in(path);
		remove_file(base, l.v[i].rel);
		t->disk -= l.v[i].size;
	}
	list_free(&l);
}

/* ---- the writer --------------------------------------------------------- */

/* What configure and forget said last, if anything (writer side). */
static void adopt_config(struct collector_tap *t)
{
	struct update *u = atomic_exchange(&t->update, NULL);

	if (u == NULL)
		return;
	t->dc = u->dc;
	t->quota = u->quota;
	t->gone = u->gone;
	free(u);
}

/* The counters, for metrics to read without waiting for the writer. */
static void publish(struct collector_tap *t)
{
	struct tally *v = t->nouts ? malloc(t->nouts * sizeof *v) : NULL, *old;

	if (t->nouts && v == NULL)
		return; /* the last counts stay */
	for (size_t i = 0; i < t->nouts; i++) {
		const struct out *o = &t->outs[i];
		snprintf(v[i].name, sizeof v[i].name, "%s", o->name);
		v[i].records = o->records;
		v[i].lost_quota = o->lost_quota;
		v[i].lost_error = o->lost_error;
	}
	pthread_mutex_lock(&t->slock); /* held for a swap only */
	old = t->tallies;
	t->tallies = v;
	t->ntallies = t->nouts;
	t->pub_disk = t->disk;
	t->pub_scanned = t->scanned;
	pthread_mutex_unlock(&t->slock);
	free(old);
}

static void drain_tap(struct collector *c, struct collector_tap *t)
{
	struct writing w = {.c = c, .t = t};
	struct item *it = NULL, *next, *top;
	char base[PATH_MAX];
	int64_t now = now_s();
	size_t taken = 0;

	pthread_mutex_lock(&t->wlock);
	top = atomic_exchange_explicit(&t->stack, NULL, memory_order_acquire);
	for (; top; top = next) { /* oldest first */
		next = top->next;
		top->next = it;
		it = top;
		taken += it->size;
	}
	atomic_fetch_sub(&t->queued, taken);
	adopt_config(t);
	if (!t->scanned && tap_dir(t, base, sizeof base) == 0) {
		struct file_list l = {0};
		list_files(base, "", &l, 0);
		t->disk = l.total;
		list_free(&l);
		t->scanned = 1;
	}
	dynbuf_init(&w.data, RECORD_MAX);
	dynbuf_init(&w.line, RECORD_MAX + 4096);
	snprintf(w.source, sizeof w.source, "%s/onlineEndpoints/%s/deployments/%s", c->source,
		 t->ep, t->dep);
	for (; it; it = next) {
		next = it->next;
		write_item(&w, it);
		free(it);
	}
	for (size_t i = 0; i < t->nouts; i++) {
		struct out *o = &t->outs[i];
		out_flush(c, t, o);
		if (o->fd >= 0 && (t->gone || now >= o->period_end))
			out_close(c, t, o); /* an idle period's file */
	}
	enforce_quota(c, t);
	publish(t);
	pthread_mutex_unlock(&t->wlock);
	dynbuf_free(&w.data);
	dynbuf_free(&w.line);
}

/* A reference to every tap, in an array of *n (NULL when none or out of
 * memory). The allocation happens outside c->lock: the writer calls this,
 * and whatever it does under that lock, others may wait for. Taps made
 * meanwhile wait for the next call. */
static struct collector_tap **tap_refs(struct collector *c, size_t *n)
{
	struct collector_tap **v, *t;
	size_t cap = 0, k = 0;

	pthread_mutex_lock(&c->lock);
	for (t = c->taps; t; t = t->next)
		cap++;
	pthread_mutex_unlock(&c->lock);
	*n = 0;
	if (cap == 0 || (v = malloc(cap * sizeof *v)) == NULL)
		return NULL;
	pthread_mutex_lock(&c->lock);
	for (t = c->taps; t && k < cap; t = t->next)
		v[k++] = collector_tap_ref(t);
	pthread_mutex_unlock(&c->lock);
	*n = k;
	return v;
}

/* Every tap once; references are taken so a tap forgotten meanwhile lives
 * on. Forgotten taps are written a last time, then let go. */
static void drain_all(struct collector *c)
{
	struct collector_tap **v, *t, *retired;
	size_t k;

	v = tap_refs(c, &k);
	pthread_mutex_lock(&c->lock);
	retired = c->retired;
	c->retired = NULL;
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < k; i++) {
		drain_tap(c, v[i]);
		collector_tap_unref(v[i]);
	}
	free(v);
	for (t = retired; t; t = retired) {
		retired = t->next;
		drain_tap(c, t);
		collector_tap_unref(t); /* the registry's */
	}
}

/* The writer takes only the CPU scoring leaves: SCHED_IDLE runs when
 * nothing else on its core wants to, and a waking request thread preempts
 * it at once. Past what spare CPU can write, the queue's budget drops
 * records (counted). Nothing else ever waits on a lock it holds long. */
static void lower_priority(void)
{
	struct sched_param sp = {0};

	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
}

static void *writer_main(void *arg)
{
	struct collector *c = arg;
	struct timespec ts;
	uint64_t req;
	int stop;

	thread_name("mldeck-collect");
	lower_priority();
	pthread_mutex_lock(&c->lock);
	for (;;) {
		req = c->flush_req;
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		drain_all(c);
		pthread_mutex_lock(&c->lock);
		c->flush_done = req;
		pthread_mutex_unlock(&c->lock);
		/* woken after the unlock: a reader woken under it would preempt
		 * this thread (SCHED_IDLE) while it still held the lock */
		pthread_cond_broadcast(&c->flushed);
		pthread_mutex_lock(&c->lock);
		if (stop)
			break;
		if (c->flush_req == req && !c->stop) {
			ts = clock_deadline(PERIOD_MS);
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct collector *collector_new(const struct collector_config *cfg, struct error *err)
{
	struct collector *c = calloc(1, sizeof *c);
	unsigned char id[8];

	if (c == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	snprintf(c->root, sizeof c->root, "%s", cfg->root);
	snprintf(c->source, sizeof c->source, "%s", cfg->source ? cfg->source : "");
	c->cfg.root = c->root;
	c->cfg.source = c->source;
	if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id ||
	    getrandom(&c->uuid_state, sizeof c->uuid_state, 0) != (ssize_t)sizeof c->uuid_state)
		c->uuid_state = (uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid();
	c->uuid_state |= 1;
	for (int i = 0; i < 8; i++)
		snprintf(c->instance + 2 * i, 3, "%02x", id[i]);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_cond_init(&c->flushed, NULL);
	return c;
}

int collector_start(struct collector *c, struct error *err)
{
	if (pthread_create(&c->writer, NULL, writer_main, c) != 0)
		return error_set(err, 500, "InternalError", "cannot start the collector's writer");
	c->running = 1;
	return 0;
}

int collector_flush(struct collector *c, int timeout_ms)
{
	struct timespec ts = clock_deadline(timeout_ms);
	uint64_t want;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (!c->running) {
		pthread_mutex_unlock(&c->lock);
		drain_all(c);
		return 0;
	}
	want = ++c->flush_req;
	pthread_cond_signal(&c->cond);
	while (c->flush_done < want && rc == 0)
		if (pthread_cond_timedwait(&c->flushed, &c->lock, &ts) == ETIMEDOUT)
			rc = -1;
	if (c->flush_done >= want)
		rc = 0;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void collector_free(struct collector *c)
{
	struct collector_tap *t, *next;

	if (c == NULL)
		return;
	if (c->running) {
		pthread_mutex_lock(&c->lock);
		c->stop = 1;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->writer, NULL);
	} else {
		drain_all(c);
	}
	for (t = c->taps; t; t = next) {
		next = t->next;
		pthread_mutex_lock(&t->wlock);
		for (size_t i = 0; i < t->nouts; i++)
			out_close(c, t, &t->outs[i]);
		pthread_mutex_unlock(&t->wlock);
		collector_tap_unref(t);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	pthread_cond_destroy(&c->flushed);
	free(c);
}

/* ---- metrics ------------------------------------------------------------ */

static void prom_collection(const struct collector_tap *t, const char *name,
			    const struct tally *o, uint64_t queue, struct dynbuf *rec,
			    struct dynbuf *lost)
{
	static const char *const reasons[] = {"queue", "quota", "error"};
	uint64_t v[3] = {queue, o ? o->lost_quota : 0, o ? o->lost_error : 0};
	char l[256];

	snprintf(l, sizeof l, "endpoint=\"%s\",deployment=\"%s\",collection=\"%s\"", t->ep,
		 t->dep, name);
	dynbuf_addf(rec, "mldeck_collector_records_total{%s} %llu\n", l,
		    (unsigned long long)(o ? o->records : 0));
	for (int k = 0; k < 3; k++)
		dynbuf_addf(lost, "mldeck_collector_lost_records_total{%s,reason=\"%s\"} %llu\n", l,
			    reasons[k], (unsigned long long)v[k]);
}

/* What the writer published, and the queue's drops as they stand: a
 * collection whose every record was dropped (a core saturated from the
 * start) still shows its loss. */
static void prom_tap(struct collector_tap *t, struct dynbuf *rec, struct dynbuf *lost,
		     struct dynbuf *disk)
{
	int shown[C_STANDARD] = {0};

	pthread_mutex_lock(&t->slock);
	for (size_t i = 0; i < t->ntallies; i++) {
		const struct tally *o = &t->tallies[i];
		uint64_t q = 0;
		for (int k = 0; k < C_STANDARD; k++)
			if (!strcmp(o->name, standard[k])) {
				q = atomic_load(&t->dropped[k]);
				shown[k] = 1;
			}
		prom_collection(t, o->name, o, q, rec, lost);
	}
	for (int k = 0; k < C_STANDARD; k++) {
		uint64_t q = atomic_load(&t->dropped[k]);
		if (!shown[k] && q)
			prom_collection(t, standard[k], NULL, q, rec, lost);
	}
	if (t->pub_scanned)
		dynbuf_addf(disk, "mldeck_collector_disk_bytes{endpoint=\"%s\",deployment=\"%s\"} %llu\n",
			    t->ep, t->dep, (unsigned long long)t->pub_disk);
	pthread_mutex_unlock(&t->slock);
}

int collector_counts(struct collector *c, const char *ep, const char *dep, const char *collection,
		     struct collector_counts *out)
{
	struct collector_tap *t;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&c->lock);
	for (t = c->taps; t; t = t->next)
		if (!strcmp(t->ep, ep) && !strcmp(t->dep, dep))
			break;
	collector_tap_ref(t);
	pthread_mutex_unlock(&c->lock); /* never held while waiting for slock */
	if (t != NULL) {
		for (int k = 0; k < C_STANDARD; k++)
			if (!strcmp(collection, standard[k]))
				out->dropped = atomic_load(&t->dropped[k]);
		pthread_mutex_lock(&t->slock);
		for (size_t i = 0; i < t->ntallies; i++)
			if (!strcmp(t->tallies[i].name, collection)) {
				out->records = t->tallies[i].records;
				out->failed = t->tallies[i].lost_error;
			}
		pthread_mutex_unlock(&t->slock);
	}
	collector_tap_unref(t);
	return t ? 0 : -1;
}

void collector_prometheus(struct collector *c, struct dynbuf *b)
{
	struct dynbuf rec, lost, disk;
	struct collector_tap **v;
	size_t n;

	dynbuf_init(&rec, 64u << 20);
	dynbuf_init(&lost, 64u << 20);
	dynbuf_init(&disk, 64u << 20);
	v = tap_refs(c, &n);
	for (size_t i = 0; i < n; i++) {
		prom_tap(v[i], &rec, &lost, &disk);
		collector_tap_unref(v[i]);
	}
	free(v);
	dynbuf_adds(b, "# HELP mldeck_collector_records_total Records the data collector wrote, by "
		       "collection.\n# TYPE mldeck_collector_records_total counter\n");
	dynbuf_add(b, rec.p ? rec.p : "", rec.len);
	dynbuf_adds(b, "# HELP mldeck_collector_lost_records_total Records not kept: queue (past "
		       "the queue's budget), quota (in files removed for the disk quota), error "
		       "(not written).\n# TYPE mldeck_collector_lost_records_total counter\n");
	dynbuf_add(b, lost.p ? lost.p : "", lost.len);
	dynbuf_adds(b, "# HELP mldeck_collector_disk_bytes Bytes of a deployment's collected "
		       "files.\n# TYPE mldeck_collector_disk_bytes gauge\n");
	dynbuf_add(b, disk.p ? disk.p : "", disk.len);
	dynbuf_free(&rec);
	dynbuf_free(&lost);
	dynbuf_free(&disk);
}

/* ---- reading back ----------------------------------------------------------- */

/* A file's complete lines, newest first, onto the list (up to n in all). */
static void tail_file(const char *path, size_t n, char ***lines, size_t *nl)
{
	size_t len, end;
	char *text = file_read(path, COLLECTOR_PART_MAX + RECORD_MAX, &len);

	if (text == NULL)
		return;
	for (end = len; end > 0 && *nl < n;) {
		size_t start = end - 1;
		while (start > 0 && text[start - 1] != '\n')
			start--;
		if (end > start && text[end - 1] == '\n') /* a line the writer finished */
			(*lines)[(*nl)++] = strndup(text + start, end - start);
		end = start;
	}
	free(text);
}

int collector_tail(struct collector *c, const char *ep, const char *dep, const char *collection,
		   size_t n, struct dynbuf *out, struct error *err)
{
	struct file_list l = {0};
	char base[PATH_MAX], path[PATH_MAX * 2 + 2], **lines;
	size_t clen = strlen(collection), nl = 0;

	if (n > 1000)
		n = 1000;
	collector_flush(c, COLLECTOR_FLUSH_WAIT_MS); /* a saturated core: what is on disk */
	if (dir_of(c, ep, dep, base, sizeof base) < 0)
		return error_set(err, 400, "ValidationError", "names too long");
	if ((lines = calloc(n, sizeof *lines)) == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	list_files(base, "", &l, 0);
	qsort(l.v, l.n, sizeof *l.v, older);
	for (size_t i = l.n; i-- > 0 && nl < n;) {
		if (strncmp(l.v[i].rel, collection, clen) || l.v[i].rel[clen] != '/')
			continue;
		snprintf(path, sizeof path, "%s/%s", base, l.v[i].rel);
		tail_file(path, n, &lines, &nl);
	}
	list_free(&l);
	for (size_t i = nl; i-- > 0;) { /* oldest first */
		if (lines[i])
			dynbuf_adds(out, lines[i]);
		free(lines[i]);
	}
	free(lines);
	if (nl == 0)
		return error_set(err, 404, "NotFound", "nothing collected for %s/%s %s", ep, dep,
				 collection);
	return 0;
}
