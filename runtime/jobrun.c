/* jobrun.c: one batch job from Queued to its end (see jobrun.h). */
#include "runtime/jobrun.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/core.h"
#include "runtime/engines/input.h"
#include "runtime/joblog.h"
#include "runtime/minibatch.h"
#include "runtime/parts.h"
#include "state/artifact.h"
#include "state/batch.h"
#include "state/clock.h"
#include "state/codec.h"
#include "state/file.h"

#define FILES_MAX 1000000
#define LIST_MAX ((size_t)1 << 30)
#define COPY_BUFFER (1 << 20)
#define RECORDS_BATCH 64       /* pending records flushed at once by a worker */
#define RECORDS_PERIOD_MS 100  /* the runner flushes the rest this often */
#define SEGMENTS_MAX 4096      /* segments a job's records may name */

enum mb_state { MB_PENDING, MB_RECORDED_OK, MB_RECORDED_FAILED };

struct mb {
	enum mb_state state;
	int seg;       /* index in jobrun.segs */
	int64_t n, ok, bad;
	uint64_t off, size, hash;
};

/* One worker thread's own: its segment and buffers. */
struct worker {
	struct jobrun *jr;
	int index;
	struct parts_segment *seg;
	int seg_id;            /* its index in jobrun.segs */
	struct minibatch_buffers *bufs;
};

struct jobrun {
	struct runtime *rt;
	struct jobrun_ctl *ctl;
	struct job job;                /* the snapshot; figures kept current */
	struct batch_deployment dep;
	enum model_type type;
	char model_path[PATH_MAX];
	char dir[PATH_MAX];            /* HOME/jobs/NAME */
	struct parts *parts;           /* HOME/jobs/NAME/parts */
	uint64_t run;                  /* this run's number, in its segments' names */
	char (*segs)[PARTS_SEGMENT_MAX]; /* the segments records name */
	int nsegs;
	char *recs;                    /* records not yet appended: "{..},{..}" */
	size_t recs_len, recs_cap;
	int nrecs;
	pthread_mutex_t rec_lock;      /* guards recs; held while appending them */
	char **files;
	size_t nfiles;
	struct mb *mbs;
	int nmb;
	int linked;                    /* a record says the output is linked */
	int *pending;
	int npending;
	atomic_int cursor;
	struct engine *engine;
	int script, features, outputs, missing;
	struct fleet_pyconf py;        /* custom_model: how its workers start */
	char *code_dir;                /* custom_model: its code folder (fleet_code_path) */
	struct joblog *log;
	pthread_mutex_t lock;          /* guards fatal, mbs[] and the job's figures */
	pthread_cond_t idle;           /* a worker thread ended */
	int active;                    /* worker threads running */
	char fatal[512];               /* why the job must fail, "" none */
};

/* ---- status ------------------------------------------------------------- */

struct status_arg {
	struct jobrun *jr;
	enum job_status to;
	const char *error;
};

static int status_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct status_arg *a = arg;
	const struct job *cur = batch_job_find(ws, a->jr->job.name);
	struct job j;
	int rc;

	(void)rt;
	if (cur == NULL)
		return error_set(err, 404, "NotFound", "job '%s' is gone", a->jr->job.name);
	if (job_copy(&j, cur) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	j.status = a->to;
	j.mini_batches = a->jr->job.mini_batches;
	j.mini_batches_done = a->jr->job.mini_batches_done;
	j.mini_batches_failed = a->jr->job.mini_batches_failed;
	j.items = a->jr->job.items;
	j.items_ok = a->jr->job.items_ok;
	j.items_failed = a->jr->job.items_failed;
	j.started = a->jr->job.started;
	j.ended = job_status_terminal(a->to) ? (int64_t)time(NULL) : 0;
	free(j.error);
	j.error = a->error != NULL ? strdup(a->error) : NULL;
	rc = batch_job_put(ws, &j, err);
	job_cleanup(&j);
	return rc;
}

/* Records a new status; -1 when the job may not take it (canceled meanwhile:
 * ctl->cancel is set then) or the store refused it. */
static int set_status(struct jobrun *jr, enum job_status to, const char *error)
{
	struct status_arg a = {jr, to, error};
	struct error err = {0};

	pthread_mutex_lock(&jr->lock);
	if (control_change(jr->rt, status_apply, NULL, &a, &err) == 0) {
		jr->job.status = to;
		pthread_mutex_unlock(&jr->lock);
		runtime_log(jr->rt, "job %s: %s%s%s", jr->job.name, job_status_name(to),
			    error ? ": " : "", error ? error : "");
		return 0;
	}
	pthread_mutex_unlock(&jr->lock);
	if (err.status == 409) {
		atomic_store(&jr->ctl->cancel, 1);
		atomic_store(&jr->ctl->halt, 1);
	} else {
		runtime_log(jr->rt, "job %s: cannot record %s: %s", jr->job.name,
			    job_status_name(to), err.message);
	}
	return -1;
}

static void fail(struct jobrun *jr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends the job as Failed with the reason. */
static void fail(struct jobrun *jr, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (jr->log != NULL)
		joblog_progress(jr->log, "the job failed: %s", why);
	set_status(jr, JOB_FAILED, why);
}

/* ---- the snapshot ------------------------------------------------------- */

/* custom_model: the interpreter, variables and modules of its environment,
 * and its code folder. */
static int script_config(struct jobrun *jr, const struct batch_deployment *d, char *why,
			 size_t len)
{
	const struct env_version *e = workspace_env_find(jr->rt->ws, d->env_name, d->env_version);

	if (e == NULL) {
		snprintf(why, len, "environment %.100s:%.20s no longer exists", d->env_name,
			 d->env_version);
		return -1;
	}
	if (fleet_pyconf(jr->rt->fleet, e, &d->variables, &jr->py) < 0) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	jr->code_dir = fleet_code_path(jr->rt->fleet, jr->rt->ws, d->code_name, d->code_version,
				       d->code_dir);
	if (jr->code_dir == NULL) {
		snprintf(why, len, "the code of deployment %s/%s is not there", d->endpoint,
			 d->name);
		return -1;
	}
	return 0;
}

/* Copies the job, its deployment and its model's path out of the workspace. */
static int snapshot(struct jobrun *jr, const char *name, char *why, size_t len)
{
	struct runtime *rt = jr->rt;
	const struct batch_deployment *d;
	const struct model_version *m;
	const struct job *j;
	int rc = -1;

	pthread_mutex_lock(&rt->lock);
	j = batch_job_find(rt->ws, name);
	if (j == NULL || job_copy(&jr->job, j) < 0)
		goto out;
	rc = 1; /* the job exists: problems below fail it */
	d = batch_deployment_find(rt->ws, j->endpoint, j->deployment);
	m = d != NULL ? workspace_model_find(rt->ws, d->model_name, d->model_version) : NULL;
	if (d == NULL || m == NULL || m->artifact == NULL) {
		snprintf(why, len, "deployment %s/%s or its model no longer exists", j->endpoint,
			 j->deployment);
		goto out;
	}
	if (batch_deployment_copy(&jr->dep, d) < 0 ||
	    artifact_path(rt->home, m->artifact, jr->model_path, sizeof jr->model_path) < 0) {
		snprintf(why, len, "out of memory");
		goto out;
	}
	jr->type = m->type;
	if (m->type == MODEL_CUSTOM && script_config(jr, d, why, len) < 0)
		goto out;
	rc = 0;
out:
	pthread_mutex_unlock(&rt->lock);
	return rc;
}

/* ---- the input list ----------------------------------------------------- */

static int add_file(struct jobrun *jr, const char *path)
{
	char **p;

	if (jr->nfiles >= FILES_MAX)
		return -1;
	if (jr->nfiles % 256 == 0) {
		p = realloc(jr->files, (jr->nfiles + 256) * sizeof *p);
		if (p == NULL)
			return -1;
		jr->files = p;
	}
	jr->files[jr->nfiles] = strdup(path);
	if (jr->files[jr->nfiles] == NULL)
		return -1;
	jr->nfiles++;
	return 0;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder's entries that may be files (symlinks resolve when read). */
static int list_folder(struct jobrun *jr, const char *dir, char *why, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (d == NULL) {
		snprintf(why, len, "cannot list the input folder %.300s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' || strchr(e->d_name, '\n') != NULL)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
			continue;
		if (lstat(path, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
			continue; /* nested folders are not traversed (Azure's rule) */
		if (add_file(jr, path) < 0) {
			closedir(d);
			snprintf(why, len, "the input has more than %d files", FILES_MAX);
			return -1;
		}
	}
	closedir(d);
	qsort(jr->files, jr->nfiles, sizeof *jr->files, path_cmp);
	return 0;
}

/* Reads a previous run's list back; 1 read, 0 none. */
static int read_list(struct jobrun *jr, char *why, size_t len)
{
	char path[PATH_MAX + 16], *text, *line, *save = NULL;
	size_t n;

	snprintf(path, sizeof path, "%s/inputs.list", jr->dir);
	text = file_read(path, LIST_MAX, &n);
	if (text == NULL && errno == ENOENT)
		return 0;
	if (text == NULL) {
		snprintf(why, len, "cannot read %.300s: %s", path, strerror(errno));
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (add_file(jr, line) < 0) {
			free(text);
			snprintf(why, len, "out of memory");
			return -1;
		}
	free(text);
	return 1;
}

static int write_list(struct jobrun *jr, char *why, size_t len)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 16];
	int fd, rc = 0;

	snprintf(path, sizeof path, "%s/inputs.list", jr->dir);
	snprintf(tmp, sizeof tmp, "%s/inputs.list.tmp", jr->dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	for (size_t i = 0; fd >= 0 && rc == 0 && i < jr->nfiles; i++)
		if (file_write_all(fd, jr->files[i], strlen(jr->files[i])) < 0 ||
		    file_write_all(fd, "\n", 1) < 0)
			rc = -1;
	if (fd < 0 || rc < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(why, len, "cannot write %.300s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int plan_input(struct jobrun *jr, char *why, size_t len)
{
	int rc = read_list(jr, why, len);
	int64_t mbs;

	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (jr->job.input_type == DATA_URI_FILE)
			rc = add_file(jr, jr->job.input_path) < 0 ? -1 : 0;
		else
			rc = list_folder(jr, jr->job.input_path, why, len);
		if (rc < 0 || write_list(jr, why, len) < 0)
			return -1;
	}
	if (jr->nfiles == 0) {
		snprintf(why, len, "the input folder %.300s has no files", jr->job.input_path);
		return -1;
	}
	mbs = ((int64_t)jr->nfiles + jr->job.settings.mini_batch_size - 1) /
	      jr->job.settings.mini_batch_size;
	jr->nmb = (int)mbs;
	jr->mbs = calloc((size_t)jr->nmb, sizeof *jr->mbs);
	jr->pending = calloc((size_t)jr->nmb, sizeof *jr->pending);
	if (jr->mbs == NULL || jr->pending == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	jr->job.mini_batches = jr->nmb;
	return 0;
}

/* ---- records ------------------------------------------------------------ */

static int64_t num(const cJSON *o, const char *key)
{
	long long v = 0;

	codec_number_in(cJSON_GetObjectItemCaseSensitive(o, key), -1e15, 1e15, &v);
	return v;
}

/* A segment's index in jr->segs, added when new; -1 when there are too many
 * or the name is not one. */
static int seg_index(struct jobrun *jr, const char *name)
{
	void *p;

	if (name == NULL || strlen(name) >= PARTS_SEGMENT_MAX)
		return -1;
	for (int i = jr->nsegs - 1; i >= 0; i--)
		if (strcmp(jr->segs[i], name) == 0)
			return i;
	if (jr->nsegs >= SEGMENTS_MAX)
		return -1;
	if (jr->nsegs % 16 == 0) {
		p = realloc(jr->segs, (size_t)(jr->nsegs + 16) * sizeof *jr->segs);
		if (p == NULL)
			return -1;
		jr->segs = p;
	}
	snprintf(jr->segs[jr->nsegs], PARTS_SEGMENT_MAX, "%s", name);
	return jr->nsegs++;
}

/* One mini-batch's record: {"mb":ID,"st":STATUS,"n","ok","bad","seg","off",
 * "size","hash",...}. */
static void on_mb(struct jobrun *jr, const cJSON *o)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "st");
	const cJSON *hash = cJSON_GetObjectItemCaseSensitive(o, "hash");
	const cJSON *seg = cJSON_GetObjectItemCaseSensitive(o, "seg");
	int64_t id = num(o, "mb");
	struct mb *m;

	if (!cJSON_IsString(st) || id < 0 || id >= jr->nmb)
		return;
	m = &jr->mbs[id];
	m->state = strcmp(st->valuestring, "RUN_DONE") == 0 ? MB_RECORDED_OK : MB_RECORDED_FAILED;
	m->n = num(o, "n");
	m->ok = num(o, "ok");
	m->bad = num(o, "bad");
	m->off = (uint64_t)num(o, "off");
	m->size = (uint64_t)num(o, "size");
	m->hash = cJSON_IsString(hash) ? strtoull(hash->valuestring, NULL, 16) : 0;
	m->seg = cJSON_IsString(seg) ? seg_index(jr, seg->valuestring) : -1;
	if (m->state == MB_RECORDED_OK && m->seg < 0)
		m->state = MB_PENDING; /* nowhere to find its rows: redo it */
}

/* A record: {"mbs":[...]} (mini-batches recorded together), {"linked":true}. */
static int on_record(void *ctx, int64_t seq, const char *value)
{
	struct jobrun *jr = ctx;
	cJSON *o = cJSON_Parse(value);
	const cJSON *mbs, *e;

	(void)seq;
	if (o == NULL)
		return 0;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "linked")))
		jr->linked = 1;
	mbs = cJSON_GetObjectItemCaseSensitive(o, "mbs");
	cJSON_ArrayForEach(e, mbs)
		on_mb(jr, e);
	cJSON_Delete(o);
	return 0;
}

/* Whether a recorded mini-batch's rows are there, whole. */
static int part_intact(struct jobrun *jr, int id)
{
	const struct mb *m = &jr->mbs[id];

	return parts_check(jr->parts, jr->segs[m->seg], m->off, m->size, m->hash);
}

/* The figures and the pending list from the records (and the parts). */
static int load_records(struct jobrun *jr, char *why, size_t len)
{
	struct error err = {0};

	if (store_records(jr->rt->store, WORKSPACE_JOBS, jr->job.name, 0, on_record, jr, &err) <
	    0) {
		snprintf(why, len, "cannot read the job's progress: %.300s", err.message);
		return -1;
	}
	jr->job.mini_batches_done = jr->job.mini_batches_failed = 0;
	jr->job.items = jr->job.items_ok = jr->job.items_failed = 0;
	jr->npending = 0;
	for (int i = 0; i < jr->nmb; i++) {
		struct mb *m = &jr->mbs[i];

		if (m->state == MB_RECORDED_OK && !jr->linked && !part_intact(jr, i))
			m->state = MB_PENDING; /* its part was lost (power loss): redo it */
		if (m->state == MB_PENDING) {
			jr->pending[jr->npending++] = i;
			continue;
		}
		jr->job.mini_batches_done++;
		jr->job.mini_batches_failed += m->state == MB_RECORDED_FAILED;
		jr->job.items += m->n;
		jr->job.items_ok += m->ok;
		jr->job.items_failed += m->bad;
	}
	return 0;
}

/* ---- figures ------------------------------------------------------------ */

static void publish(struct jobrun *jr)
{
	struct jobrun_figures *f = &jr->ctl->fig;

	pthread_mutex_lock(&jr->ctl->lock);
	f->mini_batches = jr->job.mini_batches;
	f->done = jr->job.mini_batches_done;
	f->failed = jr->job.mini_batches_failed;
	f->items = jr->job.items;
	f->ok = jr->job.items_ok;
	f->bad = jr->job.items_failed;
	f->started = jr->job.started;
	pthread_mutex_unlock(&jr->ctl->lock);
}

/* The job must fail: the first reason wins; every worker stops. */
static void abort_job(struct jobrun *jr, const char *why)
{
	pthread_mutex_lock(&jr->lock);
	if (jr->fatal[0] == '\0')
		snprintf(jr->fatal, sizeof jr->fatal, "%.500s", why);
	pthread_mutex_unlock(&jr->lock);
	atomic_store(&jr->ctl->halt, 1);
}

static void count(struct jobrun *jr, int id, enum mb_state st, const struct minibatch_result *r,
		  const struct worker *w)
{
	struct mb *m = &jr->mbs[id];
	char why[160];
	int over;

	pthread_mutex_lock(&jr->lock);
	m->state = st;
	m->n = r->items;
	m->ok = r->ok;
	m->bad = r->failed;
	m->seg = w->seg_id;
	m->size = st == MB_RECORDED_OK ? r->size : 0;
	m->off = parts_segment_end(w->seg) - m->size;
	m->hash = r->hash;
	jr->job.mini_batches_done++;
	jr->job.mini_batches_failed += st == MB_RECORDED_FAILED;
	jr->job.items += r->items;
	jr->job.items_ok += r->ok;
	jr->job.items_failed += r->failed;
	over = job_threshold_exceeded(jr->job.settings.error_threshold, jr->job.items_failed);
	snprintf(why, sizeof why, "errorThreshold %d exceeded: %lld items failed",
		 jr->job.settings.error_threshold, (long long)jr->job.items_failed);
	pthread_mutex_unlock(&jr->lock);
	pthread_mutex_lock(&jr->ctl->lock);
	jr->ctl->fig.run_items += r->items;
	pthread_mutex_unlock(&jr->ctl->lock);
	publish(jr);
	joblog_progress(jr->log, "%lld of %d mini-batches processed; %lld items succeeded, %lld failed",
			(long long)jr->job.mini_batches_done, jr->nmb, (long long)jr->job.items_ok,
			(long long)jr->job.items_failed);
	if (over)
		abort_job(jr, why);
}

/* ---- one mini-batch ----------------------------------------------------- */

/* Appends the pending records as one (a worker when RECORDS_BATCH are
 * pending, the runner every RECORDS_PERIOD_MS and at the end). A record that
 * cannot be written fails the job; the mini-batches it named are redone by a
 * resumed job. */
static void flush_records(struct jobrun *jr)
{
	struct error err = {0};
	char why[600];
	int rc = 0;

	pthread_mutex_lock(&jr->rec_lock);
	if (jr->nrecs > 0) {
		static const char head[] = "{\"mbs\":[";

		/* recs keeps room for the head in front and "]}" behind */
		memcpy(jr->recs, head, sizeof head - 1);
		memcpy(jr->recs + jr->recs_len, "]}", 3);
		rc = store_append(jr->rt->store, WORKSPACE_JOBS, jr->job.name, jr->recs, NULL, &err);
		jr->recs_len = sizeof head - 1;
		jr->nrecs = 0;
	}
	pthread_mutex_unlock(&jr->rec_lock);
	if (rc < 0) {
		snprintf(why, sizeof why, "cannot record progress: %s", err.message);
		abort_job(jr, why);
	}
}

/* Queues mini-batch ID's record; 1 when enough are pending to flush. -1 out
 * of memory (the job fails). */
static int record(struct jobrun *jr, int id, const struct minibatch_result *r, int tries,
		  double start, double secs, const struct worker *w)
{
	char buf[768];
	int k, full;

	if (r->status == MB_DONE)
		k = snprintf(buf, sizeof buf,
			     "{\"mb\":%d,\"st\":\"RUN_DONE\",\"n\":%lld,\"ok\":%lld,\"bad\":%lld,"
			     "\"tries\":%d,\"t0\":%.3f,\"secs\":%.3f,\"seg\":\"%s\",\"off\":%llu,"
			     "\"size\":%llu,\"hash\":\"%016llx\"}",
			     id, (long long)r->items, (long long)r->ok, (long long)r->failed, tries,
			     start, secs, parts_segment_name(w->seg),
			     (unsigned long long)parts_segment_end(w->seg) -
				     (unsigned long long)r->size,
			     (unsigned long long)r->size, (unsigned long long)r->hash);
	else
		k = snprintf(buf, sizeof buf,
			     "{\"mb\":%d,\"st\":\"%s\",\"n\":%lld,\"ok\":0,\"bad\":%lld,\"tries\":%d,"
			     "\"t0\":%.3f,\"secs\":%.3f}",
			     id, minibatch_status_name(r->status), (long long)r->items,
			     (long long)r->items, tries, start, secs);
	pthread_mutex_lock(&jr->rec_lock);
	if (jr->recs_len + (size_t)k + 4 > jr->recs_cap) {
		size_t cap = (jr->recs_cap + (size_t)k + 4) * 2;
		char *p = realloc(jr->recs, cap);

		if (p == NULL) {
			pthread_mutex_unlock(&jr->rec_lock);
			abort_job(jr, "out of memory");
			return -1;
		}
		jr->recs = p;
		jr->recs_cap = cap;
	}
	if (jr->nrecs > 0)
		jr->recs[jr->recs_len++] = ',';
	memcpy(jr->recs + jr->recs_len, buf, (size_t)k);
	jr->recs_len += (size_t)k;
	full = ++jr->nrecs >= RECORDS_BATCH;
	pthread_mutex_unlock(&jr->rec_lock);
	return full;
}

static void log_batch(struct jobrun *jr, int id, const struct minibatch_result *r, int tries,
		      double start, double secs)
{
	struct joblog_batch b;
	char detail[1024] = "";
	size_t used = 0;
	int first = id * jr->job.settings.mini_batch_size;

	for (size_t i = (size_t)first;
	     i < jr->nfiles && i < (size_t)first + (size_t)jr->job.settings.mini_batch_size; i++) {
		const char *s = strrchr(jr->files[i], '/');
		int k = snprintf(detail + used, sizeof detail - used, "%s%s", used ? ";" : "",
				 s ? s + 1 : jr->files[i]);

		if (k < 0 || (size_t)k >= sizeof detail - used)
			break;
		used += (size_t)k;
	}
	memset(&b, 0, sizeof b);
	b.id = id;
	b.picked = tries;
	b.start = start;
	b.total = r->items;
	b.succeeded = r->status == MB_DONE ? r->ok : 0;
	b.failed = r->status == MB_DONE ? r->failed : r->items;
	b.elapsed = secs;
	b.status = minibatch_status_name(r->status);
	b.category = r->status == MB_DONE ? "" : "UserError";
	b.message = r->error;
	b.detail = detail;
	joblog_batch(jr->log, &b);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One attempt, appended to the worker's segment: kept when done, else cut off. */
static void attempt(struct worker *w, int id, struct minibatch_result *r)
{
	struct jobrun *jr = w->jr;
	int first = id * jr->job.settings.mini_batch_size;
	size_t n = jr->nfiles - (size_t)first;
	struct minibatch_ctx c;

	if (n > (size_t)jr->job.settings.mini_batch_size)
		n = (size_t)jr->job.settings.mini_batch_size;
	memset(&c, 0, sizeof c);
	c.engine = jr->engine;
	c.script = jr->script;
	c.features = jr->features;
	c.outputs = jr->outputs;
	c.missing = jr->missing;
	c.cancel = &jr->ctl->halt;
	c.deadline_ns = server_now_ns() + (uint64_t)jr->job.settings.timeout_ms * 1000000ull;
	c.log = jr->log;
	c.id = id;
	minibatch_run(&c, w->bufs, jr->files + first, n, parts_segment_fd(w->seg), r);
	if (r->status == MB_DONE) {
		parts_segment_keep(w->seg, r->size);
		return;
	}
	if (parts_segment_drop(w->seg) < 0 && r->status != MB_IO_ERROR) {
		r->status = MB_IO_ERROR;
		snprintf(r->error, sizeof r->error, "cannot write the output: %s", strerror(errno));
	}
}

static void run_mb(struct worker *w, int id)
{
	struct jobrun *jr = w->jr;
	int tries = jr->job.settings.max_retries + 1, t;
	struct minibatch_result r;
	double start = now_s();

	for (t = 1; t <= tries; t++) {
		attempt(w, id, &r);
		if (r.status == MB_DONE || r.status == MB_CANCELED || r.status == MB_IO_ERROR)
			break;
		joblog_error(jr->log, "mini-batch %d, attempt %d of %d: %s: %s", id, t, tries,
			     minibatch_status_name(r.status), r.error);
	}
	if (r.status == MB_CANCELED)
		return;
	if (r.status == MB_IO_ERROR) {
		abort_job(jr, r.error);
		return;
	}
	if (r.status != MB_DONE) { /* every attempt failed: all its items did */
		size_t files = jr->nfiles - (size_t)id * (size_t)jr->job.settings.mini_batch_size;

		if (files > (size_t)jr->job.settings.mini_batch_size)
			files = (size_t)jr->job.settings.mini_batch_size;
		t = tries;
		if (r.items < (int64_t)files)
			r.items = (int64_t)files;
		r.failed = r.items;
		r.ok = 0;
	}
	log_batch(jr, id, &r, t, start, now_s() - start);
	switch (record(jr, id, &r, t, start, now_s() - start, w)) {
	case 1:
		flush_records(jr);
		/* fall through */
	case 0:
		count(jr, id, r.status == MB_DONE ? MB_RECORDED_OK : MB_RECORDED_FAILED, &r, w);
		break;
	default:
		break;
	}
}

/* A worker's segment (its name in jr->segs) and buffers; on the runner
 * thread, before the workers start. */
static int worker_open(struct worker *w)
{
	struct jobrun *jr = w->jr;
	struct error err = {0};

	w->bufs = minibatch_buffers_new(jr->features, jr->outputs);
	if (w->bufs == NULL) {
		abort_job(jr, "out of memory");
		return -1;
	}
	w->seg = parts_segment_new(jr->parts, jr->run, w->index, &err);
	if (w->seg == NULL) {
		abort_job(jr, err.message);
		return -1;
	}
	w->seg_id = seg_index(jr, parts_segment_name(w->seg));
	if (w->seg_id < 0) {
		abort_job(jr, "too many runs of this job; its parts cannot be named");
		return -1;
	}
	return 0;
}

static void worker_close(struct worker *w)
{
	minibatch_buffers_free(w->bufs);
	parts_segment_free(w->seg);
	w->bufs = NULL;
	w->seg = NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct jobrun *jr = w->jr;
	locale_t old = uselocale(input_c_locale());

	while (!atomic_load(&jr->ctl->halt)) {
		int i = atomic_fetch_add(&jr->cursor, 1);

		if (i >= jr->npending)
			break;
		run_mb(w, jr->pending[i]);
	}
	uselocale(old);
	pthread_mutex_lock(&jr->lock);
	jr->active--;
	pthread_cond_signal(&jr->idle);
	pthread_mutex_unlock(&jr->lock);
	return NULL;
}

/* Waits for the worker threads, appending their records every
 * RECORDS_PERIOD_MS; a halt (cancel, stop, a fatal error) stops a score.py
 * engine's runs at once, so they end within a second too. */
static void wait_workers(struct jobrun *jr)
{
	int cancelled = 0;

	pthread_mutex_lock(&jr->lock);
	while (jr->active > 0) {
		struct timespec ts;

		if (!cancelled && atomic_load(&jr->ctl->halt) && engine_waits(jr->engine)) {
			cancelled = 1;
			pthread_mutex_unlock(&jr->lock);
			engine_cancel(jr->engine);
			pthread_mutex_lock(&jr->lock);
			continue;
		}
		ts = clock_deadline(RECORDS_PERIOD_MS);
		if (pthread_cond_timedwait(&jr->idle, &jr->lock, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&jr->lock);
			flush_records(jr);
			pthread_mutex_lock(&jr->lock);
		}
	}
	pthread_mutex_unlock(&jr->lock);
	flush_records(jr);
}

/* Runs the pending mini-batches on instanceCount x maxConcurrencyPerInstance threads. */
static void run_workers(struct jobrun *jr)
{
	int n = job_workers(&jr->job.settings);
	struct worker *ws;
	pthread_attr_t attr;
	pthread_t t;

	if (n > jr->npending)
		n = jr->npending;
	if (n < 1)
		n = 1;
	ws = calloc((size_t)n, sizeof *ws);
	if (ws == NULL) {
		abort_job(jr, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		ws[i].jr = jr;
		ws[i].index = i;
		if (worker_open(&ws[i]) < 0) {
			for (int k = 0; k <= i; k++)
				worker_close(&ws[k]);
			free(ws);
			return;
		}
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < n; i++) {
		pthread_mutex_lock(&jr->lock);
		jr->active++;
		pthread_mutex_unlock(&jr->lock);
		if (pthread_create(&t, &attr, worker_main, &ws[i]) != 0) {
			pthread_mutex_lock(&jr->lock);
			jr->active--;
			pthread_mutex_unlock(&jr->lock);
		}
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_lock(&jr->lock);
	if (jr->active == 0) { /* no thread to spare: this one works alone */
		jr->active = 1;
		pthread_mutex_unlock(&jr->lock);
		worker_main(&ws[0]);
	} else {
		pthread_mutex_unlock(&jr->lock);
	}
	wait_workers(jr);
	for (int i = 0; i < n; i++)
		worker_close(&ws[i]);
	free(ws);
}

/* ---- finalizing --------------------------------------------------------- */

/* Tests only: MLDECK_TEST_CRASH=POINT makes the runtime die there, as a kill -9
 * would, to prove the recovery of a window too short to hit from outside. */
static void crash_point(const char *point)
{
	const char *c = getenv("MLDECK_TEST_CRASH");

	if (c != NULL && strcmp(c, point) == 0)
		_exit(137);
}

static int write_merged(struct jobrun *jr, const char *tmp, char *why, size_t len)
{
	char *buf = malloc(COPY_BUFFER);
	struct error err = {0};
	int fd = -1, rc = -1;

	if (buf == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(why, len, "cannot create the output file: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < jr->nmb; i++) {
		const struct mb *m = &jr->mbs[i];

		if (m->state != MB_RECORDED_OK || m->size == 0)
			continue;
		if (parts_copy(jr->parts, jr->segs[m->seg], m->off, m->size, fd, buf, COPY_BUFFER,
			       &err) < 0) {
			snprintf(why, len, "mini-batch %d: %.400s", i, err.message);
			goto out;
		}
	}
	if (fsync(fd) < 0) {
		snprintf(why, len, "cannot write the output file: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) < 0 && rc == 0) {
		snprintf(why, len, "cannot write the output file: %s", strerror(errno));
		rc = -1;
	}
	free(buf);
	return rc;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* The output's path and its temporary's. */
static void output_paths(const struct jobrun *jr, char *final, size_t flen, char *tmp, size_t tlen)
{
	snprintf(final, flen, "%s/%s", jr->job.output_dir, jr->job.settings.output_file);
	snprintf(tmp, tlen, "%s/.%s.%.64s.tmp", jr->job.output_dir, jr->job.settings.output_file,
		 jr->job.name);
}

/* Merges the parts into outputFileName, never replacing an existing file. */
static int merge(struct jobrun *jr, char *why, size_t len)
{
	char final[PATH_MAX], tmp[PATH_MAX];
	struct error err = {0};

	if (jr->linked)
		return 0;
	if (file_mkdirs(jr->job.output_dir, 0755) < 0) {
		snprintf(why, len, "cannot create the output folder %.300s: %s", jr->job.output_dir,
			 strerror(errno));
		return -1;
	}
	output_paths(jr, final, sizeof final, tmp, sizeof tmp);
	if (write_merged(jr, tmp, why, len) < 0) {
		unlink(tmp);
		return -1;
	}
	if (link(tmp, final) < 0) {
		if (errno == EEXIST)
			snprintf(why, len, "the output file %.300s already exists; a job never replaces "
					   "an output",
				 final);
		else
			snprintf(why, len, "cannot create the output file %.300s: %s", final,
				 strerror(errno));
		unlink(tmp);
		return -1;
	}
	crash_point("after-link");
	if (store_append(jr->rt->store, WORKSPACE_JOBS, jr->job.name, "{\"linked\":true}", NULL,
			 &err) < 0) {
		snprintf(why, len, "cannot record the output: %.300s", err.message);
		return -1; /* the output stays; a resumed job finds it and stops there */
	}
	unlink(tmp);
	sync_dir(jr->job.output_dir);
	return 0;
}

/* ---- the run ------------------------------------------------------------ */

static void engine_log(void *ctx, const char *line)
{
	joblog_progress(ctx, "%s", line);
}

static int load_engine(struct jobrun *jr, char *why, size_t len)
{
	struct engine_config cfg;
	struct error err = {0};

	memset(&cfg, 0, sizeof cfg);
	cfg.type = jr->type;
	cfg.model_path = jr->model_path;
	cfg.workers = 1;
	cfg.timeout_ms = jr->job.settings.timeout_ms;
	cfg.log = engine_log;
	cfg.log_ctx = jr->log;
	cfg.cancel = &jr->ctl->halt;
	if (jr->type == MODEL_CUSTOM) {
		cfg.python = jr->py.python;
		cfg.code_dir = jr->code_dir;
		cfg.scoring_script = jr->dep.scoring_script;
		cfg.env = (const char *const *)jr->py.env;
		cfg.modules = (const char *const *)jr->py.modules;
		cfg.workers = job_workers(&jr->job.settings);
		cfg.memory_mb = jr->py.memory_mb;
	}
	jr->engine = engine_load(&cfg, &err);
	if (jr->engine == NULL) {
		snprintf(why, len, "cannot load the model: %.400s", err.message);
		return -1;
	}
	jr->script = jr->type == MODEL_CUSTOM;
	jr->features = engine_features(jr->engine);
	jr->outputs = engine_outputs(jr->engine);
	jr->missing = engine_takes_missing(jr->engine);
	return 0;
}

static int open_dirs(struct jobrun *jr, char *why, size_t len)
{
	char parts[PATH_MAX + 16], logs[PATH_MAX + 16];
	struct error err = {0};

	if (snprintf(jr->dir, sizeof jr->dir, "%s/jobs/%s", jr->rt->home, jr->job.name) >=
	    (int)sizeof jr->dir) {
		snprintf(why, len, "the home's path is too long");
		return -1;
	}
	snprintf(parts, sizeof parts, "%s/parts", jr->dir);
	snprintf(logs, sizeof logs, "%s/logs", jr->dir);
	jr->parts = parts_open(parts, &err);
	if (jr->parts == NULL) {
		snprintf(why, len, "%s", err.message);
		return -1;
	}
	jr->log = joblog_open(logs, &err);
	if (jr->log == NULL) {
		snprintf(why, len, "%s", err.message);
		return -1;
	}
	return 0;
}

/* An output left by someone else stops the job before any work; one this job
 * linked just before a crash (it is still its temporary) is recorded now. */
static int output_free(struct jobrun *jr, char *why, size_t len)
{
	char final[PATH_MAX], tmp[PATH_MAX];
	struct stat st, ts;
	struct error err = {0};

	if (jr->linked || jr->job.settings.output_action != BATCH_APPEND_ROW)
		return 0;
	output_paths(jr, final, sizeof final, tmp, sizeof tmp);
	if (lstat(final, &st) != 0)
		return 0;
	if (lstat(tmp, &ts) == 0 && ts.st_dev == st.st_dev && ts.st_ino == st.st_ino &&
	    store_append(jr->rt->store, WORKSPACE_JOBS, jr->job.name, "{\"linked\":true}", NULL,
			 &err) == 0) {
		unlink(tmp);
		jr->linked = 1;
		return 0;
	}
	snprintf(why, len, "the output file %.300s already exists; a job never replaces an "
			   "output",
		 final);
	return -1;
}

static int prepare(struct jobrun *jr, char *why, size_t len)
{
	if (open_dirs(jr, why, len) < 0 || plan_input(jr, why, len) < 0 ||
	    load_records(jr, why, len) < 0 || output_free(jr, why, len) < 0)
		return -1;
	if (job_threshold_exceeded(jr->job.settings.error_threshold, jr->job.items_failed)) {
		snprintf(why, len, "errorThreshold %d exceeded: %lld items failed",
			 jr->job.settings.error_threshold, (long long)jr->job.items_failed);
		return -1;
	}
	if (jr->linked || jr->npending == 0)
		return 0;
	joblog_progress(jr->log, "%d mini-batches (tasks) created from %zu files; %d to process",
			jr->nmb, jr->nfiles, jr->npending);
	return load_engine(jr, why, len);
}

/* How the run ends once the workers stopped. */
static void finish(struct jobrun *jr)
{
	char why[512] = "";

	if (atomic_load(&jr->ctl->stop))
		return; /* the runtime stops: resume at the next start */
	if (atomic_load(&jr->ctl->cancel)) {
		joblog_progress(jr->log, "the job was canceled");
		set_status(jr, JOB_CANCELED, NULL);
		return;
	}
	if (jr->fatal[0] != '\0')
		return fail(jr, "%s", jr->fatal);
	if (set_status(jr, JOB_FINALIZING, NULL) < 0) {
		if (atomic_load(&jr->ctl->cancel))
			set_status(jr, JOB_CANCELED, NULL);
		return;
	}
	if (jr->job.settings.output_action == BATCH_APPEND_ROW && merge(jr, why, sizeof why) < 0)
		return fail(jr, "%s", why);
	joblog_progress(jr->log, "the job completed: %lld items succeeded, %lld failed",
			(long long)jr->job.items_ok, (long long)jr->job.items_failed);
	if (set_status(jr, JOB_COMPLETED, NULL) < 0 && atomic_load(&jr->ctl->cancel))
		set_status(jr, JOB_CANCELED, NULL);
}

static void cleanup(struct jobrun *jr)
{
	char rel[PATH_MAX];

	engine_free(jr->engine);
	parts_close(jr->parts);
	if (job_status_terminal(jr->job.status)) { /* the parts and the list served their turn */
		snprintf(rel, sizeof rel, "jobs/%s/parts", jr->job.name);
		file_remove_at(store_dirfd(jr->rt->store), rel);
		snprintf(rel, sizeof rel, "jobs/%s/inputs.list", jr->job.name);
		file_remove_at(store_dirfd(jr->rt->store), rel);
	}
	joblog_close(jr->log);
	for (size_t i = 0; i < jr->nfiles; i++)
		free(jr->files[i]);
	free(jr->files);
	free(jr->mbs);
	free(jr->pending);
	free(jr->segs);
	free(jr->recs);
	job_cleanup(&jr->job);
	batch_deployment_cleanup(&jr->dep);
	fleet_pyconf_cleanup(&jr->py);
	free(jr->code_dir);
	pthread_mutex_destroy(&jr->lock);
	pthread_mutex_destroy(&jr->rec_lock);
	pthread_cond_destroy(&jr->idle);
}

void jobrun_run(struct runtime *rt, const char *name, struct jobrun_ctl *ctl)
{
	struct jobrun jr;
	char why[512] = "";
	int rc;

	memset(&jr, 0, sizeof jr);
	jr.rt = rt;
	jr.ctl = ctl;
	pthread_mutex_init(&jr.lock, NULL);
	pthread_mutex_init(&jr.rec_lock, NULL);
	jr.recs_len = 8; /* room for {"mbs":[ */
	pthread_cond_init(&jr.idle, NULL);
	rc = snapshot(&jr, name, why, sizeof why);
	if (rc < 0)
		goto out; /* deleted meanwhile */
	if (set_status(&jr, JOB_PREPARING, NULL) < 0)
		goto out;
	if (rc > 0 || prepare(&jr, why, sizeof why) < 0) {
		fail(&jr, "%s", why);
		goto out;
	}
	if (jr.job.started == 0)
		jr.job.started = (int64_t)time(NULL);
	ctl->fig.run_start_ns = server_now_ns();
	jr.run = realtime_ns();
	ctl->fig.done_at_start = jr.job.mini_batches_done;
	publish(&jr);
	if (set_status(&jr, JOB_RUNNING, NULL) < 0) {
		finish(&jr);
		goto out;
	}
	run_workers(&jr);
	finish(&jr);
out:
	cleanup(&jr);
}
