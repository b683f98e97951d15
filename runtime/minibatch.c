/* minibatch.c: one attempt at one mini-batch (see minibatch.h). */
#include "runtime/minibatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "runtime/engines/input.h"
#include "runtime/engines/output.h"
#include "runtime/rows.h"
#include "runtime/server.h"
#include "state/file.h"

#define WRITE_BUFFER (256 * 1024)
#define CHUNK_VALUES (1 << 20) /* values held at once, whatever the feature count */

const char *minibatch_status_name(enum minibatch_status s)
{
	static const char *const names[] = {"RUN_DONE", "RUN_TIMEOUT", "RUN_EXCEPTION",
					    "RUN_CANCELED", "RUN_IO_ERROR"};

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "UNKNOWN";
}

uint64_t minibatch_hash(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The part being written: buffered, hashed as it goes. */
struct writer {
	int fd;
	char *buf;
	size_t n;
	int failed; /* errno of the first failed write, 0 */
	struct minibatch_result *res;
};

/* Writes s[0..n) to the part (after a failure: drops it). */
static void wdirect(struct writer *w, const char *s, size_t n)
{
	if (n == 0 || w->failed)
		return;
	if (file_write_all(w->fd, s, n) < 0)
		w->failed = errno != 0 ? errno : EIO;
	w->res->hash = minibatch_hash(w->res->hash, s, n);
	w->res->size += n;
}

static void wflush(struct writer *w)
{
	wdirect(w, w->buf, w->n);
	w->n = 0;
}

static void wput(struct writer *w, const char *s, size_t n)
{
	if (w->n + n > WRITE_BUFFER)
		wflush(w);
	if (n > WRITE_BUFFER) { /* a score.py's text: straight through */
		wdirect(w, s, n);
		return;
	}
	memcpy(w->buf + w->n, s, n);
	w->n += n;
}

/* What one attempt works with. */
struct attempt {
	const struct minibatch_ctx *ctx;
	struct minibatch_result *res;
	struct writer w;
	size_t chunk;    /* rows per chunk */
	double *x, *pred;
	int64_t *rows;   /* each chunk row's index in its file */
	const char *name; /* the file's base name */
	size_t name_len;
	char *read;       /* the readers' buffer */
};

static int stopping(struct attempt *a)
{
	if (atomic_load(a->ctx->cancel)) {
		a->res->status = MB_CANCELED;
		return 1;
	}
	if (a->ctx->deadline_ns != 0 && server_now_ns() > a->ctx->deadline_ns) {
		a->res->status = MB_TIMEOUT;
		snprintf(a->res->error, sizeof a->res->error,
			 "No progress update in time: mini-batch %d ran past its timeout",
			 a->ctx->id);
		return 1;
	}
	return a->w.failed != 0;
}

static size_t put_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		buf[i++] = tmp[--n];
	return i;
}

/* Scores the chunk's rows and writes their lines. -1 when the engine failed. */
static int score_chunk(struct attempt *a, size_t rows)
{
	const struct minibatch_ctx *c = a->ctx;
	char line[32 + OUTPUT_NUMBER_MAX * 64];
	struct input_matrix m;
	struct error err = {0};

	if (rows == 0)
		return 0;
	memset(&m, 0, sizeof m);
	m.values = a->x;
	m.rows = rows;
	m.cols = (size_t)c->features;
	m.cap = rows * m.cols;
	if (engine_predict(c->engine, &m, a->pred, &err) < 0) {
		a->res->status = MB_EXCEPTION;
		snprintf(a->res->error, sizeof a->res->error, "the model failed: %.200s",
			 err.message);
		return -1;
	}
	for (size_t r = 0; r < rows; r++) {
		size_t n = put_u64(line, (uint64_t)a->rows[r]);
		const double *p = a->pred + r * (size_t)c->outputs;

		line[n++] = ' ';
		if ((size_t)c->outputs <= 64) {
			n += output_row(line + n, p, (size_t)c->outputs);
			wput(&a->w, line, n);
		} else { /* a very wide prediction: one number at a time */
			char num[OUTPUT_NUMBER_MAX + 3];

			wput(&a->w, line, n);
			for (int k = 0; k < c->outputs; k++) {
				size_t len = output_row(num, p + k, 1);

				num[len++] = k + 1 < c->outputs ? ',' : ']';
				if (k == 0)
					wput(&a->w, "[", 1);
				wput(&a->w, num, len);
			}
		}
		wput(&a->w, " ", 1);
		wput(&a->w, a->name, a->name_len);
		wput(&a->w, "\n", 1);
	}
	a->res->ok += (int64_t)rows;
	return 0;
}

static void file_failed(struct attempt *a, const char *reason)
{
	a->res->items++;
	a->res->failed++;
	joblog_error(a->ctx->log, "mini-batch %d, file %s: %s", a->ctx->id, a->name, reason);
}

/* Reads and scores one file's rows. -1 when the attempt must stop. */
static int score_rows(struct attempt *a, struct rows *rd)
{
	size_t have = 0;
	int64_t index;
	struct error err;
	int rc;

	for (;;) {
		error_clear(&err);
		rc = rows_next(rd, a->x + have * (size_t)a->ctx->features, &index, &err);
		if (rc == 1) {
			a->rows[have++] = index;
			a->res->items++;
		} else if (rc < 0 && err.status == 400) {
			a->res->items++;
			a->res->failed++;
			joblog_error(a->ctx->log, "mini-batch %d, file %s, row %lld: %s",
				     a->ctx->id, a->name, (long long)index, err.message);
		}
		if (rc == 0 || have == a->chunk || (rc < 0 && err.status != 400)) {
			if (score_chunk(a, have) < 0 || stopping(a))
				return -1;
			have = 0;
		}
		if (rc == 0)
			return 0;
		if (rc < 0 && err.status != 400) {
			file_failed(a, err.message);
			return 0;
		}
	}
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* One file of the mini-batch. -1 when the attempt must stop. */
static int score_file(struct attempt *a, const char *path)
{
	enum rows_format f;
	struct rows *rd;
	struct error err = {0};
	int fd, rc;

	a->name = base_name(path);
	a->name_len = strlen(a->name);
	if (rows_format_of(a->name, &f) < 0) {
		file_failed(a, "not a .csv, .txt, .jsonl, .ndjson or .json file");
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		file_failed(a, strerror(errno));
		return 0;
	}
	rd = rows_open(fd, f, a->ctx->features, a->ctx->missing, a->read, &err);
	if (rd == NULL) {
		file_failed(a, err.message);
		return 0;
	}
	rc = score_rows(a, rd);
	rows_close(rd);
	return rc;
}

struct minibatch_buffers {
	char *write;  /* WRITE_BUFFER */
	char *read;   /* ROWS_BUFFER + 1, for each file's reader */
	double *x, *pred;
	int64_t *rows;
	size_t chunk; /* rows per chunk */
};

struct minibatch_buffers *minibatch_buffers_new(int features, int outputs)
{
	struct minibatch_buffers *b = calloc(1, sizeof *b);
	size_t width = (size_t)(features > 0 ? features : 1);

	if (b == NULL)
		return NULL;
	b->chunk = CHUNK_VALUES / width;
	if (b->chunk > MINIBATCH_CHUNK)
		b->chunk = MINIBATCH_CHUNK;
	if (b->chunk == 0)
		b->chunk = 1;
	b->write = malloc(WRITE_BUFFER);
	b->read = malloc(ROWS_BUFFER + 1);
	b->x = malloc(b->chunk * width * sizeof *b->x);
	b->pred = malloc(b->chunk * (size_t)(outputs > 0 ? outputs : 1) * sizeof *b->pred);
	b->rows = malloc(b->chunk * sizeof *b->rows);
	if (b->write == NULL || b->read == NULL || b->x == NULL || b->pred == NULL ||
	    b->rows == NULL) {
		minibatch_buffers_free(b);
		return NULL;
	}
	return b;
}

void minibatch_buffers_free(struct minibatch_buffers *b)
{
	if (b == NULL)
		return;
	free(b->write);
	free(b->read);
	free(b->x);
	free(b->pred);
	free(b->rows);
	free(b);
}

static void attempt_init(struct attempt *a, const struct minibatch_ctx *ctx,
			 struct minibatch_buffers *b, struct minibatch_result *res, int out_fd)
{
	memset(a, 0, sizeof *a);
	a->ctx = ctx;
	a->res = res;
	a->w.fd = out_fd;
	a->w.res = res;
	a->w.buf = b->write;
	a->chunk = b->chunk;
	a->x = b->x;
	a->pred = b->pred;
	a->rows = b->rows;
	a->read = b->read;
}

/* The message of an engine's error body, into res->error. */
static void engine_message(struct minibatch_result *res, const struct engine_result *out)
{
	cJSON *j = out->body != NULL ? cJSON_ParseWithLength(out->body, out->len) : NULL;
	const char *m = cJSON_GetStringValue(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message"));

	snprintf(res->error, sizeof res->error, "%s", m != NULL ? m : "the scoring script failed");
	cJSON_Delete(j);
}

/* A worker's answer to a mini-batch (docs/worker-protocol.md): the number of
 * rows run() returned on a line, then the lines. The lines, or NULL when the
 * answer is not that. */
static const char *script_answer(const char *body, size_t len, uint64_t *items)
{
	size_t i = 0;

	*items = 0;
	while (i < len && i < 19 && body[i] >= '0' && body[i] <= '9')
		*items = *items * 10 + (uint64_t)(body[i++] - '0');
	return i > 0 && i < len && body[i] == '\n' ? body + i + 1 : NULL;
}

/* custom_model: run(mini_batch) in a score.py worker, Azure's batch contract.
 * Items are the mini-batch's files; each row run() returns is one succeeded
 * item (up to their number), the rest failed. */
static void run_script(struct attempt *a, char *const *files, size_t n)
{
	struct minibatch_result *res = a->res;
	cJSON *list = cJSON_CreateArray();
	struct engine_result out = {0};
	struct engine_request req;
	const char *text;
	uint64_t items;
	char *body;

	for (size_t i = 0; list != NULL && i < n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(files[i]));
	body = list != NULL ? cJSON_PrintUnformatted(list) : NULL;
	cJSON_Delete(list);
	memset(&req, 0, sizeof req);
	req.body = body;
	req.len = body != NULL ? strlen(body) : 0;
	req.batch = 1;
	res->items = (int64_t)n;
	if (body == NULL || engine_score(a->ctx->engine, &req, &out) < 0) {
		res->status = MB_EXCEPTION;
		snprintf(res->error, sizeof res->error, "out of memory");
	} else if (out.status != 200) {
		res->status = out.status == 408   ? MB_TIMEOUT
			      : out.status == 503 && atomic_load(a->ctx->cancel) ? MB_CANCELED
										: MB_EXCEPTION;
		engine_message(res, &out);
	} else if ((text = script_answer(out.body, out.len, &items)) == NULL) {
		res->status = MB_EXCEPTION;
		snprintf(res->error, sizeof res->error, "the worker's answer is malformed");
	} else {
		res->ok = items < (uint64_t)n ? (int64_t)items : (int64_t)n;
		res->failed = (int64_t)n - res->ok;
		if (res->ok == 0)
			snprintf(res->error, sizeof res->error,
				 "No succeeded mini batch item returned from run()");
		wput(&a->w, text, out.len - (size_t)(text - out.body));
	}
	free(out.body);
	free(body);
}

void minibatch_run(const struct minibatch_ctx *ctx, struct minibatch_buffers *b,
		   char *const *files, size_t n, int out_fd, struct minibatch_result *res)
{
	struct attempt a;

	memset(res, 0, sizeof *res);
	res->hash = MINIBATCH_HASH_INIT;
	res->status = MB_DONE;
	attempt_init(&a, ctx, b, res, out_fd);
	if (ctx->script)
		run_script(&a, files, n);
	for (size_t i = 0; !ctx->script && i < n && !stopping(&a); i++)
		if (score_file(&a, files[i]) < 0)
			break;
	wflush(&a.w);
	if (a.w.failed != 0) {
		res->status = MB_IO_ERROR;
		snprintf(res->error, sizeof res->error, "cannot write the output: %s",
			 strerror(a.w.failed));
	}
}
