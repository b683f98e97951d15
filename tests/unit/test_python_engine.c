/*
 * test_python_engine.c: the custom_model engine driven for real, /usr/bin/python3
 * running the fixture scripts of tests/data/score/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/engines/python.h"
#include "runtime/reaper.h"

#define PYTHON "/usr/bin/python3"
#define LOG_MAX (1 << 20)

static char code_dir[PATH_MAX];
static char model_file[PATH_MAX + 32];

/* ---- log capture ---- */

struct logcap {
	pthread_mutex_t lock;
	char *text;
	size_t len;
};

static void log_line(void *ctx, const char *line)
{
	struct logcap *lc = ctx;
	size_t n = strlen(line);

	pthread_mutex_lock(&lc->lock);
	if (lc->len + n + 2 < LOG_MAX) {
		memcpy(lc->text + lc->len, line, n);
		lc->len += n;
		lc->text[lc->len++] = '\n';
		lc->text[lc->len] = '\0';
	}
	pthread_mutex_unlock(&lc->lock);
}

static int log_has(struct logcap *lc, const char *needle)
{
	int found;

	pthread_mutex_lock(&lc->lock);
	found = strstr(lc->text, needle) != NULL;
	pthread_mutex_unlock(&lc->lock);
	return found;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(int ms)
{
	struct timespec ts = {0, ms * 1000000L};

	nanosleep(&ts, NULL);
}

/* Output arrives on the worker's reader thread: wait for it, bounded. */
static int log_wait(struct logcap *lc, const char *needle, int ms)
{
	int64_t until = now_ms() + ms;

	while (!log_has(lc, needle) && now_ms() < until)
		nap(10);
	return log_has(lc, needle);
}

/* ---- processes and fds of this test ---- */

static int child_count(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[300], buf[512], *p;
	int n = 0, ppid;
	FILE *f;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL && (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %*c %d", &ppid) == 1 && ppid == (int)getpid())
			n++;
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return n;
}

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n;
}

static int wait_children(int want, int ms)
{
	int64_t until = now_ms() + ms;

	while (child_count() != want && now_ms() < until)
		nap(20);
	return child_count();
}

/* ---- engine helpers ---- */

struct fixture {
	struct logcap log;
	struct engine_config cfg;
	struct error err;
	void *e;
};

static struct fixture *fixture_new(const char *script, int workers, int timeout_ms)
{
	static const char *const env[] = {"MLDECK_TEST_VAR=hi", NULL};
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	pthread_mutex_init(&f->log.lock, NULL);
	f->log.text = calloc(1, LOG_MAX);
	assert_non_null(f->log.text);
	f->cfg = (struct engine_config){
	    .type = MODEL_CUSTOM,
	    .model_path = model_file,
	    .python = PYTHON,
	    .code_dir = code_dir,
	    .scoring_script = script,
	    .env = env,
	    .workers = workers,
	    .timeout_ms = timeout_ms,
	    .log = log_line,
	    .log_ctx = &f->log,
	};
	return f;
}

static void fixture_load(struct fixture *f)
{
	f->e = python_engine_ops.load(&f->cfg, &f->err);
	if (f->e == NULL)
		fail_msg("load failed: %s\nlog:\n%s", f->err.message, f->log.text);
}

static void fixture_free(struct fixture *f)
{
	python_engine_ops.free(f->e);
	if (getenv("MLDECK_TEST_LOG") != NULL)
		fprintf(stderr, "--- engine log\n%s", f->log.text);
	free(f->log.text);
	pthread_mutex_destroy(&f->log.lock);
	free(f);
}

static cJSON *score(struct fixture *f, const char *body, const char *const *headers, int *status)
{
	struct engine_request req = {body, strlen(body), headers, "req-1", 0};
	struct engine_result out;
	cJSON *json;

	assert_int_equal(python_engine_ops.score(f->e, &req, &out), 0);
	*status = out.status;
	json = cJSON_ParseWithLength(out.body, out.len);
	if (json == NULL)
		fail_msg("answer is not JSON: %.*s", (int)out.len, out.body);
	free(out.body);
	return json;
}

static const char *error_message(cJSON *j)
{
	cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message");

	return cJSON_IsString(m) ? m->valuestring : "";
}

static void expect_error(struct fixture *f, const char *body, int want, const char *needle)
{
	int status;
	cJSON *j = score(f, body, NULL, &status);

	assert_int_equal(status, want);
	if (strstr(error_message(j), needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", error_message(j), needle);
	cJSON_Delete(j);
}

static void expect_ok(struct fixture *f, const char *body)
{
	int status;
	cJSON *j = score(f, body, NULL, &status);

	assert_int_equal(status, 200);
	cJSON_Delete(j);
}

/* ---- tests ---- */

static void test_echo(void **state)
{
	struct fixture *f = fixture_new("echo.py", 1, 5000);
	char dir[PATH_MAX + 8];
	int status;
	cJSON *j;

	(void)state;
	fixture_load(f);
	j = score(f, "{\"data\": [[1, 2], [3, 4.5]]}", NULL, &status);
	assert_int_equal(status, 200);
	assert_true(fabs(cJSON_GetObjectItem(j, "sum")->valuedouble - 10.5) < 1e-12);
	snprintf(dir, sizeof dir, "%s/model", code_dir);
	assert_string_equal(cJSON_GetObjectItem(j, "model_dir")->valuestring, dir);
	assert_string_equal(cJSON_GetObjectItem(j, "extra")->valuestring, "hi");
	cJSON_Delete(j);
	fixture_free(f);
}

static void test_headers(void **state)
{
	static const char *const hdrs[] = {"content-type: application/json", "x-custom: a",
					   "X-Custom:b", NULL};
	struct fixture *f = fixture_new("headers.py", 1, 5000);
	cJSON *j, *h;
	int status;

	(void)state;
	fixture_load(f);
	j = score(f, "raw body", hdrs, &status);
	assert_int_equal(status, 200);
	assert_string_equal(cJSON_GetObjectItem(j, "body")->valuestring, "raw body");
	h = cJSON_GetObjectItemCaseSensitive(j, "headers");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(h, "Content-Type")->valuestring,
			    "application/json");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(h, "X-Custom")->valuestring, "a, b");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(h, "X-Request-Id")->valuestring,
			    "req-1");
	cJSON_Delete(j);
	fixture_free(f);
}

static void test_stdout_in_log(void **state)
{
	struct fixture *f = fixture_new("prints.py", 1, 5000);
	int status;
	cJSON *j;

	(void)state;
	fixture_load(f);
	j = score(f, "\"x\"", NULL, &status);
	assert_int_equal(status, 200);
	assert_string_equal(j->valuestring, "printed");
	cJSON_Delete(j);
	assert_true(log_wait(&f->log, "[worker 1 stdout] init says hello", 3000));
	assert_true(log_wait(&f->log, "[worker 1 stdout] run got \"x\"", 3000));
	assert_true(log_wait(&f->log, "[worker 1 stderr] warning on stderr", 3000));
	fixture_free(f);
}

static void test_run_raises(void **state)
{
	struct fixture *f = fixture_new("raise_run.py", 1, 5000);

	(void)state;
	fixture_load(f);
	expect_error(f, "{\"fail\": true}", 424, "run() raised ValueError: boom from run");
	assert_true(log_wait(&f->log, "Traceback", 3000));
	expect_ok(f, "{}");
	assert_false(log_has(&f->log, "replacing"));
	fixture_free(f);
}

static void test_hang_times_out(void **state)
{
	struct fixture *f = fixture_new("hang.py", 1, 300);
	int64_t t0;
	int status;
	cJSON *j;

	(void)state;
	fixture_load(f);
	t0 = now_ms();
	expect_error(f, "{\"sleep\": 30}", 408, "within 300 ms");
	assert_true(now_ms() - t0 < 5000);
	j = score(f, "{}", NULL, &status);
	assert_int_equal(status, 200);
	assert_string_equal(j->valuestring, "awake");
	cJSON_Delete(j);
	assert_true(log_has(&f->log, "worker 1 ("));
	assert_true(log_has(&f->log, "worker 2 ready"));
	fixture_free(f);
}

static void test_crash_replaced(void **state)
{
	struct fixture *f = fixture_new("crash.py", 1, 5000);

	(void)state;
	fixture_load(f);
	expect_error(f, "{\"exit\": 3}", 424, "worker exited with status 3");
	expect_ok(f, "{}");
	expect_error(f, "{\"segv\": true}", 424, "worker killed by signal 11");
	expect_ok(f, "{}");
	assert_true(log_has(&f->log, "while scoring; replacing it"));
	fixture_free(f);
}

static void test_not_json(void **state)
{
	struct fixture *f = fixture_new("not_json.py", 1, 5000);
	int status;
	cJSON *j;

	(void)state;
	fixture_load(f);
	expect_error(f, "{\"bad\": \"set\"}", 424, "not JSON-encodable: TypeError");
	expect_error(f, "{\"bad\": \"nan\"}", 424, "not JSON-encodable: ValueError");
	j = score(f, "{\"bad\": \"str\"}", NULL, &status);
	assert_int_equal(status, 200);
	assert_string_equal(j->valuestring, "plain string");
	cJSON_Delete(j);
	j = score(f, "{}", NULL, &status);
	assert_int_equal(status, 200);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	cJSON_Delete(j);
	fixture_free(f);
}

static void test_bad_utf8(void **state)
{
	struct fixture *f = fixture_new("echo.py", 1, 5000);

	(void)state;
	fixture_load(f);
	expect_error(f, "\"\xff\xfe\"", 400, "cannot be decoded as UTF-8");
	expect_ok(f, "{}");
	fixture_free(f);
}

/* A body far over the pipe buffer, both ways: the partial read/write paths. */
static void test_large_body(void **state)
{
	struct fixture *f = fixture_new("echo.py", 1, 10000);
	size_t pad = 3 << 20;
	char *body = malloc(pad + 32);
	int status;
	cJSON *j, *echo;

	(void)state;
	assert_non_null(body);
	memcpy(body, "{\"pad\": \"", 9);
	memset(body + 9, 'x', pad);
	memcpy(body + 9 + pad, "\"}", 3);
	fixture_load(f);
	j = score(f, body, NULL, &status);
	assert_int_equal(status, 200);
	echo = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "echo"), "pad");
	assert_true(cJSON_IsString(echo));
	assert_int_equal(strlen(echo->valuestring), pad);
	cJSON_Delete(j);
	free(body);
	fixture_free(f);
}

static void test_init_raises(void **state)
{
	struct fixture *f = fixture_new("raise_init.py", 2, 5000);

	(void)state;
	f->e = python_engine_ops.load(&f->cfg, &f->err);
	assert_null(f->e);
	assert_non_null(strstr(
	    f->err.message, "init() raised RuntimeError: cannot load model: weights.bin missing"));
	assert_true(log_has(&f->log, "Traceback"));
	assert_int_equal(child_count(), 0);
	fixture_free(f);
}

static void test_missing_module(void **state)
{
	static const char *const mods[] = {"json", "mldeck_no_such_module_xyz", NULL};
	struct fixture *f = fixture_new("missing_module.py", 1, 5000);

	(void)state;
	f->e = python_engine_ops.load(&f->cfg, &f->err);
	assert_null(f->e);
	assert_non_null(strstr(f->err.message, "No module named 'mldeck_no_such_module'"));
	f->cfg.scoring_script = "echo.py";
	f->cfg.modules = mods;
	f->e = python_engine_ops.load(&f->cfg, &f->err);
	assert_null(f->e);
	assert_non_null(strstr(f->err.message, "module mldeck_no_such_module_xyz is not "
					       "importable in environment"));
	f->cfg.scoring_script = "nope.py";
	f->e = python_engine_ops.load(&f->cfg, &f->err);
	assert_null(f->e);
	assert_non_null(strstr(f->err.message, "scoring script nope.py not found"));
	fixture_free(f);
}

struct load_arg {
	struct fixture *f;
	const char *body;
	int requests, ok;
	double pid;
};

static void *load_main(void *arg)
{
	struct load_arg *a = arg;
	struct engine_request req = {a->body, strlen(a->body), NULL, NULL, 0};
	struct engine_result out;
	cJSON *j;

	for (int i = 0; i < a->requests; i++) {
		if (python_engine_ops.score(a->f->e, &req, &out) != 0)
			continue;
		a->ok += out.status == 200;
		j = cJSON_ParseWithLength(out.body, out.len);
		if (cJSON_GetObjectItem(j, "pid") != NULL)
			a->pid = cJSON_GetObjectItem(j, "pid")->valuedouble;
		cJSON_Delete(j);
		free(out.body);
	}
	return NULL;
}

/* n threads, each sending `requests` requests; returns how many distinct pids answered. */
static int run_threads(struct fixture *f, int n, int requests, const char *body)
{
	pthread_t t[8];
	struct load_arg a[8];
	int distinct = 0;

	for (int i = 0; i < n; i++) {
		a[i] = (struct load_arg){f, body, requests, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, load_main, &a[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < n; i++) {
		assert_int_equal(a[i].ok, requests);
		int seen = 0;
		for (int k = 0; k < i; k++)
			seen |= a[k].pid == a[i].pid;
		distinct += !seen;
	}
	return distinct;
}

static void test_concurrent(void **state)
{
	struct fixture *f = fixture_new("echo.py", 3, 5000);

	(void)state;
	fixture_load(f);
	run_threads(f, 6, 25, "{\"data\": [[1, 2, 3]]}");
	/* three requests that each hold a worker for a while land on three processes */
	assert_int_equal(run_threads(f, 3, 1, "{\"sleep\": 0.3}"), 3);
	fixture_free(f);
}

static void test_resize(void **state)
{
	struct fixture *f = fixture_new("echo.py", 1, 5000);

	(void)state;
	fixture_load(f);
	assert_int_equal(child_count(), 1);
	assert_int_equal(python_engine_ops.resize(f->e, 3, &f->err), 0);
	assert_int_equal(child_count(), 3);
	assert_int_equal(run_threads(f, 3, 1, "{\"sleep\": 0.3}"), 3);
	assert_int_equal(python_engine_ops.resize(f->e, 1, &f->err), 0);
	assert_int_equal(wait_children(1, 5000), 1);
	expect_ok(f, "{}");
	assert_int_equal(python_engine_ops.resize(f->e, 0, &f->err), -1);
	assert_int_equal(python_engine_ops.resize(f->e, PYTHON_MAX_WORKERS + 1, &f->err), -1);
	fixture_free(f);
}

/* A replacement whose init() keeps failing: requests fail fast, the engine backs off,
 * then recovers once init() works again. */
static void test_replacement_backoff(void **state)
{
	char marker[PATH_MAX], env_marker[PATH_MAX + 32];
	const char *env[2] = {env_marker, NULL};
	struct fixture *f = fixture_new("flaky_init.py", 1, 2000);
	int64_t until;
	int status = 0;
	cJSON *j;
	FILE *m;

	(void)state;
	snprintf(marker, sizeof marker, "/tmp/mldeck-test-marker-%d", (int)getpid());
	snprintf(env_marker, sizeof env_marker, "MLDECK_FAIL_MARKER=%s", marker);
	unlink(marker);
	f->cfg.env = env;
	fixture_load(f);
	m = fopen(marker, "w");
	assert_non_null(m);
	fclose(m);
	expect_error(f, "{\"exit\": 1}", 424, "worker exited with status 1");
	assert_true(log_wait(&f->log, "retrying in 1 s", 5000));
	expect_error(f, "{}", 500, "marker present");
	unlink(marker);
	until = now_ms() + 10000;
	do {
		j = score(f, "{}", NULL, &status);
		cJSON_Delete(j);
		if (status != 200)
			nap(50);
	} while (status != 200 && now_ms() < until);
	assert_int_equal(status, 200);
	fixture_free(f);
}

static void test_sklearn_logistic(void **state)
{
	static const double coef[] = {0.5, -1.25, 2.0}, intercept = -0.75;
	static const double rows[2][3] = {{1, 2, 3}, {-0.5, 0.25, 0.1}};
	struct fixture *f = fixture_new("sklearn_logistic.py", 1, 10000);
	int status;
	cJSON *j;

	(void)state;
	fixture_load(f);
	j = score(f, "{\"data\": [[1, 2, 3], [-0.5, 0.25, 0.1]]}", NULL, &status);
	assert_int_equal(status, 200);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	for (int r = 0; r < 2; r++) {
		double z = intercept;
		for (int c = 0; c < 3; c++)
			z += coef[c] * rows[r][c];
		assert_true(fabs(cJSON_GetArrayItem(j, r)->valuedouble - 1 / (1 + exp(-z))) <
			    1e-12);
	}
	cJSON_Delete(j);
	fixture_free(f);
}

static void test_free_reaps_everything(void **state)
{
	struct fixture *f = fixture_new("echo.py", 3, 5000);
	int fds = fd_count();

	(void)state;
	fixture_load(f);
	assert_int_equal(child_count(), 3);
	expect_ok(f, "{}");
	python_engine_ops.free(f->e);
	f->e = NULL;
	assert_int_equal(child_count(), 0);
	assert_int_equal(fd_count(), fds);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	const char *src = getenv("MLDECK_SRC");
	char path[PATH_MAX];
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_stdout_in_log),
	    cmocka_unit_test(test_run_raises),
	    cmocka_unit_test(test_hang_times_out),
	    cmocka_unit_test(test_crash_replaced),
	    cmocka_unit_test(test_not_json),
	    cmocka_unit_test(test_bad_utf8),
	    cmocka_unit_test(test_large_body),
	    cmocka_unit_test(test_init_raises),
	    cmocka_unit_test(test_missing_module),
	    cmocka_unit_test(test_concurrent),
	    cmocka_unit_test(test_resize),
	    cmocka_unit_test(test_replacement_backoff),
	    cmocka_unit_test(test_sklearn_logistic),
	    cmocka_unit_test(test_free_reaps_everything),
	};

	if (argc > 1 && strcmp(argv[1], REAPER_ARG) == 0) /* as ui/main.c does */
		return reaper_main(argc - 1, argv + 1);
	signal(SIGPIPE, SIG_IGN); /* as the runtime does */
	snprintf(path, sizeof path, "%s/tests/data/score", src != NULL ? src : ".");
	if (realpath(path, code_dir) == NULL) {
		fprintf(stderr, "cannot find %s (set MLDECK_SRC)\n", path);
		return 1;
	}
	snprintf(model_file, sizeof model_file, "%s/model/logistic.json", code_dir);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
