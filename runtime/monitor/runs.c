/* runs.c: sorted runs of numbers with a spill file, read back merged (runs.h). */
#include "runtime/monitor/runs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct run {
	off_t off;  /* in the spill file */
	uint64_t n;
};

struct col {
	double *buf; /* unsorted since the last spill; sorted after runs_finish */
	size_t n, cap;
	struct run *runs;
	size_t nruns, capruns;
	uint64_t count;
};

struct runs {
	char tmpdir[PATH_MAX];
	int fd; /* the spill file, -1 until the first spill */
	off_t end;
	struct col *cols;
	size_t ncols;
	size_t buffered;
	double *tmp; /* the radix sort's scratch */
	size_t tmpcap;
};

/* ---- sorting ------------------------------------------------------------ */

/* The IEEE order as an unsigned order: negative numbers reversed. */
static uint64_t key_of(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	return (u >> 63) ? ~u : u | (1ull << 63);
}

static double of_key(uint64_t u)
{
	double d;

	u = (u >> 63) ? u & ~(1ull << 63) : ~u;
	memcpy(&d, &u, sizeof d);
	return d;
}

static void insertion(double *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double v = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

void runs_sort(double *a, size_t n, double *tmp)
{
	static size_t hist_bytes = 8 * 256 * sizeof(size_t);
	size_t *hist, i;
	uint64_t *src = (uint64_t *)(void *)a, *dst = (uint64_t *)(void *)tmp, *t;

	if (n < 64) {
		insertion(a, n);
		return;
	}
	hist = calloc(1, hist_bytes);
	if (hist == NULL) {
		insertion(a, n); /* slow, but correct */
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t k = key_of(a[i]);
		src[i] = k;
		for (int b = 0; b < 8; b++)
			hist[b * 256 + ((k >> (8 * b)) & 0xff)]++;
	}
	for (int b = 0; b < 8; b++) {
		size_t *h = hist + b * 256, sum = 0;
		if (h[(src[0] >> (8 * b)) & 0xff] == n)
			continue; /* every key has this byte: nothing to do */
		for (int v = 0; v < 256; v++) {
			size_t c = h[v];
			h[v] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[h[(src[i] >> (8 * b)) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	for (i = 0; i < n; i++)
		a[i] = of_key(src[i]);
	free(hist);
}

/* ---- writing ------------------------------------------------------------ */

struct runs *runs_new(const char *tmpdir)
{
	struct runs *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	snprintf(r->tmpdir, sizeof r->tmpdir, "%s", tmpdir);
	r->fd = -1;
	return r;
}

void runs_free(struct runs *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ncols; i++) {
		free(r->cols[i].buf);
		free(r->cols[i].runs);
	}
	free(r->cols);
	free(r->tmp);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

int runs_column(struct runs *r)
{
	struct col *c = realloc(r->cols, (r->ncols + 1) * sizeof *c);

	if (c == NULL)
		return -1;
	r->cols = c;
	memset(&c[r->ncols], 0, sizeof *c);
	return (int)r->ncols++;
}

uint64_t runs_count(const struct runs *r, int col)
{
	return r->cols[col].count;
}

/* Sorts a column's buffer in place (the scratch grows to fit). */
static int sort_buffer(struct runs *r, struct col *c)
{
	if (c->n > r->tmpcap) {
		double *t = realloc(r->tmp, c->n * sizeof *t);
		if (t == NULL)
			return -1;
		r->tmp = t;
		r->tmpcap = c->n;
	}
	runs_sort(c->buf, c->n, r->tmp);
	return 0;
}

static int open_spill(struct runs *r, struct error *err)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/monitor-runs-XXXXXX", r->tmpdir) >= (int)sizeof path)
		return error_set(err, 500, "InternalError", "temporary folder name too long");
	r->fd = mkstemp(path);
	if (r->fd < 0)
		return error_set(err, 500, "InternalError", "cannot create a temporary file in %s: %s",
				 r->tmpdir, strerror(errno));
	unlink(path);
	return 0;
}

static int write_all(int fd, const void *p, size_t n, off_t off)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = pwrite(fd, s, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* Every buffer becomes a sorted run in the file. */
static int spill(struct runs *r, struct error *err)
{
	if (r->fd < 0 && open_spill(r, err) < 0)
		return -1;
	for (size_t i = 0; i < r->ncols; i++) {
		struct col *c = &r->cols[i];
		if (c->n == 0)
			continue;
		if (c->nruns == c->capruns) {
			size_t cap = c->capruns ? 2 * c->capruns : 8;
			struct run *nr = realloc(c->runs, cap * sizeof *nr);
			if (nr == NULL)
				return error_set(err, 500, "InternalError", "out of memory");
			c->runs = nr;
			c->capruns = cap;
		}
		if (sort_buffer(r, c) < 0)
			return error_set(err, 500, "InternalError", "out of memory");
		if (write_all(r->fd, c->buf, c->n * sizeof *c->buf, r->end) < 0)
			return error_set(err, 507, "InsufficientStorage",
					 "cannot write the monitor's temporary file: %s",
					 strerror(errno ? errno : ENOSPC));
		c->runs[c->nruns].off = r->end;
		c->runs[c->nruns++].n = c->n;
		r->end += (off_t)(c->n * sizeof *c->buf);
		c->n = 0;
	}
	r->buffered = 0;
	return 0;
}

int runs_add(struct runs *r, int col, double v, struct error *err)
{
	struct col *c = &r->cols[col];

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		double *b;
		if (cap > RUNS_BUDGET)
			cap = RUNS_BUDGET;
		b = realloc(c->buf, cap * sizeof *b);
		if (b == NULL)
			return error_set(err, 500, "InternalError", "out of memory");
		c->buf = b;
		c->cap = cap;
	}
	c->buf[c->n++] = v;
	c->count++;
	if (++r->buffered >= RUNS_BUDGET)
		return spill(r, err);
	return 0;
}

void runs_finish(struct runs *r)
{
	for (size_t i = 0; i < r->ncols; i++)
		if (sort_buffer(r, &r->cols[i]) < 0)
			insertion(r->cols[i].buf, r->cols[i].n);
	free(r->tmp);
	r->tmp = NULL;
	r->tmpcap = 0;
}

/* ---- reading: a k-way merge with a binary heap ------------------------- */

struct cursor {
	const double *p, *end; /* buffered values */
	double *buf;           /* read buffer (file runs) */
	off_t off;
	uint64_t left;         /* values of the run still in the file */
};

struct runs_reader {
	int fd;
	struct cursor *c;
	size_t n;
	size_t *heap; /* cursor indices ordered by their current value */
	size_t nheap;
};

static int refill(struct runs_reader *rd, struct cursor *c, struct error *err)
{
	size_t want = c->left < RUNS_READ ? (size_t)c->left : RUNS_READ, got = 0;

	while (got < want * sizeof(double)) {
		ssize_t n = pread(rd->fd, (char *)c->buf + got, want * sizeof(double) - got,
				  c->off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, 500, "InternalError",
					 "reading the monitor's temporary file: %s",
					 n < 0 ? strerror(errno) : "short read");
		got += (size_t)n;
	}
	c->off += (off_t)got;
	c->left -= want;
	c->p = c->buf;
	c->end = c->buf + want;
	return 0;
}

static double head(const struct runs_reader *rd, size_t i)
{
	return *rd->c[rd->heap[i]].p;
}

static void sift_down(struct runs_reader *rd, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i, t;
		if (l < rd->nheap && head(rd, l) < head(rd, m))
			m = l;
		if (l + 1 < rd->nheap && head(rd, l + 1) < head(rd, m))
			m = l + 1;
		if (m == i)
			return;
		t = rd->heap[i];
		rd->heap[i] = rd->heap[m];
		rd->heap[m] = t;
		i = m;
	}
}

struct runs_reader *runs_open(const struct runs *r, int col, struct error *err)
{
	const struct col *c = &r->cols[col];
	struct runs_reader *rd = calloc(1, sizeof *rd);
	size_t i;

	if (rd == NULL || (rd->c = calloc(c->nruns + 1, sizeof *rd->c)) == NULL ||
	    (rd->heap = calloc(c->nruns + 1, sizeof *rd->heap)) == NULL)
		goto oom;
	rd->fd = r->fd;
	for (i = 0; i < c->nruns; i++) {
		struct cursor *k = &rd->c[rd->n++];
		if ((k->buf = malloc(RUNS_READ * sizeof *k->buf)) == NULL)
			goto oom;
		k->off = c->runs[i].off;
		k->left = c->runs[i].n;
		if (refill(rd, k, err) < 0) {
			runs_close(rd);
			return NULL;
		}
	}
	if (c->n > 0) {
		rd->c[rd->n].p = c->buf;
		rd->c[rd->n].end = c->buf + c->n;
		rd->n++;
	}
	for (i = 0; i < rd->n; i++)
		rd->heap[rd->nheap++] = i;
	for (i = rd->nheap; i-- > 0;)
		sift_down(rd, i);
	return rd;
oom:
	runs_close(rd);
	error_set(err, 500, "InternalError", "out of memory");
	return NULL;
}

/* Moves the smallest cursor on; drops it from the heap when empty. */
static int advance(struct runs_reader *rd, struct error *err)
{
	struct cursor *k = &rd->c[rd->heap[0]];

	if (++k->p == k->end) {
		if (k->left > 0) {
			if (refill(rd, k, err) < 0)
				return -1;
		} else {
			rd->heap[0] = rd->heap[--rd->nheap];
		}
	}
	if (rd->nheap > 0)
		sift_down(rd, 0);
	return 0;
}

int runs_next(struct runs_reader *rd, double *v, uint64_t *count, struct error *err)
{
	double x;

	if (rd->nheap == 0)
		return 0;
	x = head(rd, 0);
	*v = x;
	*count = 0;
	while (rd->nheap > 0 && head(rd, 0) == x) {
		(*count)++;
		if (advance(rd, err) < 0)
			return -1;
	}
	return 1;
}

void runs_close(struct runs_reader *rd)
{
	if (rd == NULL)
		return;
	for (size_t i = 0; rd->c && i < rd->n; i++)
		free(rd->c[i].buf);
	free(rd->c);
	free(rd->heap);
	free(rd);
}
