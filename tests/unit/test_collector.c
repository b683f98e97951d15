/* test_collector.c: the collector's writer runs on spare CPU only
 * (SCHED_IDLE), so it may sit preempted for long in the middle of a drain;
 * nothing but a reader of its files may wait for it then. The writer is
 * parked here inside a drain (the rows callback blocks) and every other
 * entry point must still return. */
#define _GNU_SOURCE /* SCHED_IDLE */
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "runtime/monitor/collector.h"
#include "state/clock.h"
#include "state/file.h"

#define GENEROUS_MS 20000 /* a deadlock, not a speed, is what this catches */

struct park {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int parked, released, policy, rows;
};

static struct park park = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, -1, 0};

/* The rows callback: the first row parks the writer until released. */
static void on_rows(void *ctx, struct collector_tap *t, const char *collection,
		    const struct cell *cells, size_t n)
{
	(void)ctx, (void)t, (void)collection, (void)cells, (void)n;
	pthread_mutex_lock(&park.lock);
	park.rows++;
	park.policy = sched_getscheduler(0);
	park.parked = 1;
	pthread_cond_broadcast(&park.cond);
	while (!park.released)
		pthread_cond_wait(&park.cond, &park.lock);
	pthread_mutex_unlock(&park.lock);
}

/* Waits for *flag under park.lock; 0, or -1 past GENEROUS_MS. */
static int wait_flag(int *flag)
{
	struct timespec ts = clock_deadline(GENEROUS_MS);
	int rc = 0;

	pthread_mutex_lock(&park.lock);
	while (!*flag && rc == 0)
		rc = pthread_cond_timedwait(&park.cond, &park.lock, &ts);
	rc = *flag ? 0 : -1;
	pthread_mutex_unlock(&park.lock);
	return rc;
}

static void release(void)
{
	pthread_mutex_lock(&park.lock);
	park.released = 1;
	pthread_cond_broadcast(&park.cond);
	pthread_mutex_unlock(&park.lock);
}

static struct datacollector inputs_only(void)
{
	struct datacollector dc;

	memset(&dc, 0, sizeof dc);
	snprintf(dc.items[0].name, sizeof dc.items[0].name, "model_inputs");
	dc.items[0].enabled = 1;
	dc.items[0].sampling_rate = 1.0;
	dc.n = 1;
	dc.rolling = DC_ROLL_HOUR;
	return dc;
}

static void offer(struct collector_tap *t, const char *body)
{
	struct collector_event ev = {.body = body, .len = strlen(body), .answer = "[0.5]",
				     .alen = 5, .status = 200, .request_id = "rid"};

	collector_offer(t, &ev);
}

/* What the main thread does while the writer is parked, on a thread of its
 * own so that a hang shows as a failure rather than a stuck test. */
struct others {
	struct collector *c;
	struct collector_tap *t;
	struct dynbuf metrics;
	struct collector_counts counts;
	int flushed, counted, done;
};

static void *others_main(void *arg)
{
	struct others *o = arg;
	struct datacollector dc = inputs_only();
	char *big = malloc(1u << 20);

	memset(big, ' ', (1u << 20) - 1);
	big[(1u << 20) - 1] = '\0';
	memcpy(big, "{\"data\":[[1]]}", 14);
	struct collector_tap *made;

	collector_tap_configure(o->t, &dc, 1, 0);     /* the control plane */
	for (int i = 0; i < 12; i++)                  /* past the queue's 8 MiB */
		offer(o->t, big);
	collector_custom(o->t, "model_inputs", "[{\"a\":1}]", 9, "c", "r");
	collector_prometheus(o->c, &o->metrics);      /* a scrape */
	o->counted = collector_counts(o->c, "ep", "dep", "model_inputs", &o->counts);
	o->flushed = collector_flush(o->c, 200);      /* a reader: waits, bounded */
	made = collector_tap(o->c, "ep", "made");     /* a new deployment */
	collector_tap_configure(made, &dc, 1, 0);
	collector_tap_unref(made);
	collector_forget(o->c, "ep", "other");        /* a delete, of a tap being drained */
	free(big);
	pthread_mutex_lock(&park.lock);
	o->done = 1;
	pthread_cond_broadcast(&park.cond);
	pthread_mutex_unlock(&park.lock);
	return NULL;
}

static void test_nothing_waits_for_a_parked_writer(void **state)
{
	char root[] = "/tmp/mldeck-collector-XXXXXX", path[PATH_MAX];
	struct collector_config cfg = {.root = root, .source = "/subscriptions/x", .quota = 1u << 30,
				       .rows = on_rows};
	struct datacollector dc = inputs_only();
	struct others o = {0};
	struct error err;
	struct collector *c;
	struct collector_tap *other;
	pthread_t th;
	int finished;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_non_null(c = collector_new(&cfg, &err));
	assert_int_equal(collector_start(c, &err), 0);
	o.c = c;
	o.t = collector_tap(c, "ep", "dep");
	collector_tap_configure(o.t, &dc, 1, 0);
	other = collector_tap(c, "ep", "other");
	collector_tap_configure(other, &dc, 1, 0);
	collector_tap_unref(other); /* the registry holds it, and the parked drain */
	offer(o.t, "{\"data\":[[1,2,3]]}");
	assert_int_equal(wait_flag(&park.parked), 0); /* the writer is inside a drain */
	assert_int_equal(park.policy, SCHED_IDLE);
	dynbuf_init(&o.metrics, 1u << 20);
	assert_int_equal(pthread_create(&th, NULL, others_main, &o), 0);
	finished = wait_flag(&o.done) == 0;
	release(); /* whatever happened, let the writer go so the test can end */
	pthread_join(th, NULL);
	assert_true(finished);
	assert_int_equal(o.flushed, -1); /* the reader gave up waiting, as it should */
	assert_int_equal(o.counted, 0);
	assert_true(o.counts.dropped > 0);  /* counted at the queue, before any write */
	/* the queue's loss shows before the writer ever published a count */
	assert_non_null(strstr(o.metrics.p, "mldeck_collector_lost_records_total{endpoint=\"ep\","
					   "deployment=\"dep\",collection=\"model_inputs\","
					   "reason=\"queue\"}"));
	assert_null(strstr(o.metrics.p, "reason=\"queue\"} 0\n"));
	dynbuf_free(&o.metrics);

	/* released, it writes everything it took, and the counts are published */
	assert_int_equal(collector_flush(c, GENEROUS_MS), 0);
	dynbuf_init(&o.metrics, 1u << 20);
	collector_prometheus(c, &o.metrics);
	assert_non_null(strstr(o.metrics.p, "mldeck_collector_records_total{endpoint=\"ep\","
					   "deployment=\"dep\",collection=\"model_inputs\"} "));
	assert_null(strstr(o.metrics.p, "collection=\"model_inputs\"} 0\n"));
	dynbuf_free(&o.metrics);
	collector_tap_unref(o.t);
	collector_free(c);
	snprintf(path, sizeof path, "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

/* A full disk (here the file size limit) in the middle of a write: the file
 * keeps whole records only, and what was not written counts as lost. */
static void test_a_failed_write_leaves_whole_records(void **state)
{
	char root[] = "/tmp/mldeck-collector-XXXXXX", pattern[PATH_MAX], cmd[PATH_MAX];
	struct collector_config cfg = {.root = root, .source = "/subscriptions/x", .quota = 1u << 30};
	struct datacollector dc = inputs_only();
	struct rlimit old, lim;
	struct dynbuf body, metrics;
	struct collector *c;
	struct collector_tap *t;
	struct collector_counts counts;
	struct error err;
	glob_t g;
	size_t total = 0, lines = 0;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_non_null(c = collector_new(&cfg, &err));
	assert_int_equal(collector_start(c, &err), 0);
	t = collector_tap(c, "ep", "dep");
	collector_tap_configure(t, &dc, 1, 0);
	dynbuf_init(&body, 1u << 20);
	dynbuf_adds(&body, "{\"data\":[[");
	for (int i = 0; i < 2000; i++)
		dynbuf_addf(&body, "%s%d.125", i ? "," : "", i);
	dynbuf_adds(&body, "]]}");
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100000; /* some three records of ~30 KB, the fourth torn */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 8; i++)
		offer(t, body.p);
	assert_int_equal(collector_flush(c, GENEROUS_MS), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	for (int i = 0; i < 3; i++) /* the disk has room again: records after the cut are whole */
		offer(t, body.p);
	assert_int_equal(collector_flush(c, GENEROUS_MS), 0);
	assert_int_equal(collector_counts(c, "ep", "dep", "model_inputs", &counts), 0);

	snprintf(pattern, sizeof pattern, "%s/modelDataCollector/ep/dep/model_inputs/*/*/*/*/*.jsonl",
		 root);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		size_t len;
		char *text = file_read(g.gl_pathv[i], 1u << 24, &len);
		assert_non_null(text);
		assert_true(len > 0 && text[len - 1] == '\n'); /* no torn record at the end */
		for (size_t k = 0, start = 0; k < len; k++) {
			cJSON *rec;
			if (text[k] != '\n')
				continue;
			rec = cJSON_ParseWithLength(text + start, k - start); /* a whole record */
			assert_non_null(rec);
			assert_non_null(cJSON_GetObjectItemCaseSensitive(rec, "data"));
			cJSON_Delete(rec);
			lines++;
			start = k + 1;
		}
		total += len;
		free(text);
	}
	globfree(&g);
	assert_true(total > 100000 && total < 100000 + 4 * 40000); /* the cut, then three more */
	assert_int_equal(lines, counts.records); /* every line on disk is one counted record */
	assert_true(counts.failed > 0);
	dynbuf_init(&metrics, 1u << 20);
	collector_prometheus(c, &metrics);
	assert_null(strstr(metrics.p, "collection=\"model_inputs\",reason=\"error\"} 0\n"));
	assert_non_null(strstr(metrics.p, "collection=\"model_inputs\",reason=\"error\"}"));
	dynbuf_free(&metrics);
	dynbuf_free(&body);
	collector_tap_unref(t);
	collector_free(c);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_waits_for_a_parked_writer),
		cmocka_unit_test(test_a_failed_write_leaves_whole_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
