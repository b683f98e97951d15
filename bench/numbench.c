/*
 * numbench: the data plane's numbers in and out, one thread. Not a test: it
 * measures, and prints a markdown table.
 *
 *   make bench-num && build/bench/numbench [--reps N] [--quick]
 *
 * Cells: reading a 100-row request body of 30 features as Python's json.dumps
 * writes it (17 significant digits, ", " separators: 61.6 KB, the benchmark's
 * payload) with input_parse, in MB/s; printing doubles with shortest_double
 * against the snprintf("%.17g") it replaced; and one logistic request of 100
 * rows through engine_score (read, score, print) without HTTP. Median of
 * --reps repetitions (5), thread CPU time (wall clock in brackets).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/benchlib.h"
#include "runtime/engines/engine.h"
#include "runtime/engines/input.h"
#include "runtime/engines/shortest.h"

#define MAX_REPS 21
#define ROWS 100
#define COLS 30

/* {"data": [[...], ...]} as json.dumps writes random normal features. */
static char *make_body(size_t rows, size_t cols, uint64_t seed, size_t *len)
{
	size_t cap = rows * cols * (SHORTEST_MAX + 2) + 64, k = 0;
	char *b = malloc(cap);

	k += (size_t)snprintf(b, cap, "{\"data\": [");
	for (size_t r = 0; r < rows; r++) {
		b[k++] = '[';
		for (size_t c = 0; c < cols; c++) {
			if (c > 0) {
				memcpy(b + k, ", ", 2);
				k += 2;
			}
			k += shortest_double(b + k, bench_normal(&seed) * 3);
		}
		b[k++] = ']';
		if (r + 1 < rows) {
			memcpy(b + k, ", ", 2);
			k += 2;
		}
	}
	memcpy(b + k, "]}", 3);
	*len = k + 2;
	return b;
}

struct timing {
	double cpu, wall, min; /* medians, and the least CPU time of a repetition */
};

/* fn(ctx) iters times per repetition; medians per iteration. */
static struct timing measure(void (*fn)(void *), void *ctx, size_t iters, int reps)
{
	double cpu[MAX_REPS], wall[MAX_REPS];

	fn(ctx);
	for (int k = 0; k < reps; k++) {
		double w0 = bench_now(CLOCK_MONOTONIC), c0 = bench_now(CLOCK_THREAD_CPUTIME_ID);

		for (size_t i = 0; i < iters; i++)
			fn(ctx);
		cpu[k] = (bench_now(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)iters;
		wall[k] = (bench_now(CLOCK_MONOTONIC) - w0) / (double)iters;
	}
	bench_median(cpu, reps); /* sorts cpu */
	return (struct timing){bench_median(cpu, reps), bench_median(wall, reps), cpu[0]};
}

struct body {
	const char *text;
	size_t len;
};

static void run_parse(void *p)
{
	struct body *b = p;
	struct input_matrix m;
	struct error err;

	input_init(&m);
	if (input_parse(b->text, b->len, COLS, 0, &m, &err) != 0) {
		fprintf(stderr, "numbench: %s\n", err.message);
		exit(1);
	}
	input_cleanup(&m);
}

struct numbers {
	const double *v;
	size_t n;
	int libc;
};

static void run_print(void *p)
{
	struct numbers *nb = p;
	char buf[SHORTEST_MAX];
	volatile size_t sink = 0;

	for (size_t i = 0; i < nb->n; i++)
		sink += nb->libc ? (size_t)snprintf(buf, sizeof buf, "%.17g", nb->v[i])
				 : shortest_double(buf, nb->v[i]);
	(void)sink;
}

struct scoring {
	struct engine *e;
	struct body body;
};

static void run_score(void *p)
{
	struct scoring *s = p;
	struct engine_request req = {s->body.text, s->body.len, NULL, "b"};
	struct engine_result res;

	engine_score(s->e, &req, &res);
	if (res.status != 200) {
		fprintf(stderr, "numbench: %d %s\n", res.status, res.body);
		exit(1);
	}
	free(res.body);
}

int main(int argc, char **argv)
{
	int reps = 5, quick = 0;
	size_t len;
	uint64_t seed = 99;
	struct body body;
	double *v = malloc(10000 * sizeof *v);
	struct engine_config cfg = {0};
	struct error err;
	struct timing t, u;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1, reps = 3;
		else if (i + 1 < argc && strcmp(argv[i], "--reps") == 0)
			reps = (int)strtol(argv[++i], NULL, 10);
		else
			return fprintf(stderr, "usage: numbench [--reps N] [--quick]\n"), 2;
	}
	if (reps < 1 || reps > MAX_REPS)
		return 2;
	body.text = make_body(ROWS, COLS, 7, &len);
	body.len = len;
	printf("| measure | result |\n|---|---|\n");
	t = measure(run_parse, &body, quick ? 300 : 2000, reps);
	printf("| read a %d-row body (%.1f KB, %d numbers): input_parse | %.1f us (%.1f us; "
	       "least %.1f us), %.2f GB/s, %.1f ns/number |\n",
	       ROWS, (double)len / 1000, ROWS * COLS, t.cpu * 1e6, t.wall * 1e6, t.min * 1e6,
	       (double)len / t.cpu / 1e9, t.cpu / (ROWS * COLS) * 1e9);
	for (int i = 0; i < 10000; i++)
		v[i] = bench_normal(&seed) * pow(10, (double)(bench_rng(&seed) % 20) - 10);
	{
		struct numbers s = {v, 10000, 0}, l = {v, 10000, 1};

		t = measure(run_print, &s, quick ? 20 : 200, reps);
		u = measure(run_print, &l, quick ? 5 : 50, reps);
		printf("| print a double: shortest_double vs snprintf %%.17g | %.1f ns vs %.1f ns "
		       "(%.1fx) |\n",
		       t.cpu / 1e4 * 1e9, u.cpu / 1e4 * 1e9, u.cpu / t.cpu);
	}
	cfg.type = MODEL_LINEAR;
	cfg.model_path = "tests/data/logistic.json";
	{
		struct scoring s = {engine_load(&cfg, &err), body};

		if (s.e == NULL)
			return fprintf(stderr, "numbench: %s\n", err.message), 1;
		t = measure(run_score, &s, quick ? 300 : 2000, reps);
		printf("| logistic, one request of %d rows: engine_score | %.1f us (%.1f us), "
		       "%.2f GB/s of body |\n",
		       ROWS, t.cpu * 1e6, t.wall * 1e6, (double)len / t.cpu / 1e9);
		engine_free(s.e);
	}
	free(v);
	free((char *)body.text);
	return 0;
}
