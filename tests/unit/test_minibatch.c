/*
 * test_minibatch.c: batch input rows (CSV and JSON Lines, table-driven), and a
 * mini-batch's output against online scoring: every engine's prediction for a
 * row, as the batch job writes it, is the text the data plane answers.
 */
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/engines/engine.h"
#include "runtime/engines/input.h"
#include "runtime/minibatch.h"
#include "runtime/rows.h"
#include "state/file.h"

struct csv_case {
	const char *line;
	int cols, missing;
	int ok;
	double first, last;
};

static const struct csv_case csv_cases[] = {
    {"1,2,3", 3, 0, 1, 1, 3},
    {" 1.5 , \"2\" ,-3e2\r", 3, 0, 1, 1.5, -300},
    {"1,,3", 3, 1, 1, 1, 3},
    {"1,,3", 3, 0, 0, 0, 0},
    {"NaN,NA,null", 3, 1, 1, NAN, NAN},
    {"1,2", 3, 0, 0, 0, 0},
    {"1,2,3,4", 3, 0, 0, 0, 0},
    {"1,x,3", 3, 0, 0, 0, 0},
    {"1,2e,3", 3, 0, 0, 0, 0},
    {"0x10,2,3", 3, 0, 0, 0, 0},
    {"\"1,2\",3", 2, 0, 0, 0, 0},
};

static void test_csv_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof csv_cases / sizeof csv_cases[0]; i++) {
		const struct csv_case *c = &csv_cases[i];
		double x[8];
		struct error err = {0};
		int rc = rows_parse_csv(c->line, strlen(c->line), x, c->cols, c->missing, &err);

		if (!c->ok) {
			if (rc == 0)
				fail_msg("'%s' accepted", c->line);
			assert_int_equal(err.status, 400);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s': %s", c->line, err.message);
		if (isnan(c->first))
			assert_true(isnan(x[0]));
		else
			assert_true(x[0] == c->first && x[c->cols - 1] == c->last);
	}
}

static int file_with(const char *text)
{
	char path[] = "/tmp/mldeck-rows-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(file_write_all(fd, text, strlen(text)), 0);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Reads every row: "R" a row, "E" a malformed one, with its index. */
static void read_all(enum rows_format f, const char *text, int cols, char *trace, size_t len)
{
	struct error err = {0};
	struct rows *r = rows_open(file_with(text), f, cols, 1, NULL, &err);
	double x[8];
	int64_t index;
	size_t n = 0;
	int rc;

	if (r == NULL) {
		snprintf(trace, len, "open:%d", err.status);
		return;
	}
	trace[0] = '\0';
	while ((rc = rows_next(r, x, &index, &err)) != 0 && n + 8 < len)
		n += (size_t)snprintf(trace + n, len - n, "%c%lld ", rc > 0 ? 'R' : 'E',
				      (long long)index);
	rows_close(r);
}

static void test_files(void **state)
{
	static const struct {
		enum rows_format f;
		const char *text;
		int cols;
		const char *trace;
	} cases[] = {
	    {ROWS_CSV, "a,b\n1,2\n3,4\n", 2, "R0 R1 "},
	    {ROWS_CSV, "a,b\n1,2\n\n   \nx,4\n5,6", 2, "R0 E1 R2 "}, /* blank lines skipped */
	    {ROWS_CSV, "a,b,c\n1,2,3\n", 2, "open:400"},		/* header does not fit */
	    {ROWS_CSV, "", 2, ""},					/* an empty file */
	    {ROWS_JSONL, "[1,2]\n{\"a\":1,\"b\":2}\n[1]\n{\"b\":3,\"a\":4}\n", 2, "R0 R1 E2 R3 "},
	    {ROWS_JSONL, "{\"a\":1,\"b\":2}\n{\"a\":1}\nnot json\n[1,null]\n", 2, "R0 E1 E2 R3 "},
	};
	char trace[128];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		read_all(cases[i].f, cases[i].text, cases[i].cols, trace, sizeof trace);
		if (strcmp(trace, cases[i].trace) != 0)
			fail_msg("case %zu: '%s', want '%s'", i, trace, cases[i].trace);
	}
}

/* A line longer than the buffer is one malformed row; the next one reads. */
static void test_long_line(void **state)
{
	size_t n = ROWS_BUFFER * 2 + 100;
	char *text = malloc(n + 32), trace[64];

	(void)state;
	memcpy(text, "a\n", 2);
	memset(text + 2, '1', n);
	memcpy(text + 2 + n, "\n7\n", 4);
	read_all(ROWS_CSV, text, 1, trace, sizeof trace);
	assert_string_equal(trace, "E0 R1 ");
	free(text);
}

static char *repo_file(const char *rel, size_t *len)
{
	char path[4096];
	const char *src = getenv("MLDECK_SRC");
	char *data;

	snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
	data = file_read(path, 1 << 24, len);
	assert_non_null(data);
	return data;
}

/* The batch line of each row carries what engine_score answers for it. */
static void check_model(enum model_type type, const char *model, const char *input)
{
	char mpath[4096], *body, *csv, *out, *p;
	struct engine_config cfg;
	struct engine_request rq = {0};
	struct engine_result res = {0};
	struct minibatch_result mr;
	struct minibatch_ctx ctx;
	struct minibatch_buffers *bufs;
	struct input_matrix m;
	struct error err = {0};
	atomic_int stop = 0;
	struct engine *e;
	size_t len, used = 0, cap;
	char *save = NULL;
	int fd, outfd;
	char *files[1], path[] = "/tmp/mldeck-mb-XXXXXX.csv", opath[] = "/tmp/mldeck-out-XXXXXX";

	snprintf(mpath, sizeof mpath, "%s/%s", getenv("MLDECK_SRC") ? getenv("MLDECK_SRC") : ".",
		 model);
	memset(&cfg, 0, sizeof cfg);
	cfg.type = type;
	cfg.model_path = mpath;
	e = engine_load(&cfg, &err);
	assert_non_null(e);
	body = repo_file(input, &len);
	rq.body = body;
	rq.len = len;
	assert_int_equal(engine_score(e, &rq, &res), 0);
	assert_int_equal(res.status, 200);
	/* the same rows as a CSV file */
	input_init(&m);
	assert_int_equal(input_parse(body, len, engine_features(e), INPUT_ALLOW_NULL, &m, &err), 0);
	cap = (m.rows + 1) * m.cols * 32 + 64;
	csv = malloc(cap);
	used = (size_t)snprintf(csv, cap, "h");
	for (size_t c = 1; c < m.cols; c++)
		used += (size_t)snprintf(csv + used, cap - used, ",h");
	for (size_t r = 0; r < m.rows; r++)
		for (size_t c = 0; c < m.cols; c++)
			used += (size_t)snprintf(csv + used, cap - used, "%s%.17g", c ? "," : "\n",
						 m.values[r * m.cols + c]);
	csv[used++] = '\n';
	fd = mkstemps(path, 4);
	assert_int_equal(file_write_all(fd, csv, used), 0);
	close(fd);
	files[0] = path;
	memset(&ctx, 0, sizeof ctx);
	ctx.engine = e;
	ctx.features = engine_features(e);
	ctx.outputs = engine_outputs(e);
	ctx.missing = engine_takes_missing(e);
	ctx.cancel = &stop;
	outfd = mkstemp(opath);
	assert_true(outfd >= 0);
	unlink(opath);
	setlocale(LC_NUMERIC, "C");
	bufs = minibatch_buffers_new(ctx.features, ctx.outputs);
	minibatch_run(&ctx, bufs, files, 1, outfd, &mr);
	minibatch_buffers_free(bufs);
	assert_int_equal(mr.status, MB_DONE);
	assert_int_equal(mr.ok, (int64_t)m.rows);
	out = calloc(1, mr.size + 1);
	assert_int_equal(pread(outfd, out, mr.size, 0), (ssize_t)mr.size);
	/* "[p0,p1,...]" == each line's middle field joined */
	p = res.body;
	for (char *line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *a = strchr(line, ' ') + 1, *b = strrchr(line, ' ');
		size_t k = (size_t)(b - a);

		p++; /* '[' or ',' */
		assert_memory_equal(p, a, k);
		p += k;
	}
	assert_string_equal(p, "]");
	unlink(path);
	close(outfd);
	free(out);
	free(csv);
	input_cleanup(&m);
	free(res.body);
	free(body);
	engine_free(e);
}

static void test_batch_lines_match_online(void **state)
{
	(void)state;
	check_model(MODEL_LINEAR, "tests/data/logistic.json", "tests/data/logistic.input.json");
	check_model(MODEL_LINEAR, "tests/data/softmax.json", "tests/data/softmax.input.json");
	check_model(MODEL_MLP, "tests/data/mlp_digits.json", "tests/data/mlp_digits.input.json");
	check_model(MODEL_XGBOOST, "tests/data/xgb_binary.json", "tests/data/xgb_binary.input.json");
	check_model(MODEL_XGBOOST, "tests/data/xgb_multi.json", "tests/data/xgb_multi.input.json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_lines),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_batch_lines_match_online),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
