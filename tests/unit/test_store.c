/*
 * test_store.c: the crash-safe home: rows written in proportion to the change,
 * a round trip that loses nothing, migration from state.json, record logs, the
 * lock that survives removing HOME/lock, the identity check before a write,
 * unsafe homes and planted links refused, corrupt state kept, the admin key.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/codec.h"
#include "state/store.h"

static int make_home(void **state)
{
	char *home = strdup("/tmp/mldeck-store-XXXXXX");

	assert_non_null(mkdtemp(home));
	*state = home;
	return 0;
}

static int drop_home(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", (char *)*state,
		 (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static void path_of(char *buf, size_t len, const char *home, const char *name)
{
	snprintf(buf, len, "%s/%s", home, name);
}

static void write_file(const char *home, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	path_of(path, sizeof path, home, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int exists(const char *home, const char *name)
{
	char path[512];
	struct stat st;

	path_of(path, sizeof path, home, name);
	return lstat(path, &st) == 0;
}

static void add_endpoint(struct workspace *ws, const char *name, const char *key)
{
	struct endpoint ep;
	struct error err;

	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "%s", name);
	snprintf(ep.primary_key, sizeof ep.primary_key, "%s", key);
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, &err), 0);
}

/* A model, a native environment, and deployments NAMES... of endpoint ep. */
static void add_deployments(struct workspace *ws, const char *ep, int n)
{
	struct model_version m;
	struct env_version e;
	struct deployment d;
	struct error err;

	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "model");
	snprintf(m.version, sizeof m.version, "1");
	m.type = MODEL_LINEAR;
	m.artifact = (char *)"models/model/1/m.json";
	assert_int_equal(workspace_model_put(ws, &m, NULL, &err), 0);
	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "native");
	snprintf(e.version, sizeof e.version, "1");
	assert_int_equal(workspace_env_put(ws, &e, NULL, &err), 0);
	for (int i = 0; i < n; i++) {
		memset(&d, 0, sizeof d);
		snprintf(d.endpoint, sizeof d.endpoint, "%s", ep);
		snprintf(d.name, sizeof d.name, "dep%d", i);
		snprintf(d.model_name, sizeof d.model_name, "model");
		snprintf(d.model_version, sizeof d.model_version, "1");
		snprintf(d.env_name, sizeof d.env_name, "native");
		snprintf(d.env_version, sizeof d.env_version, "1");
		d.instances = d.max_concurrent = 1;
		d.timeout_ms = 5000;
		assert_int_equal(workspace_deployment_put(ws, &d, i == 0, NULL, &err), 0);
	}
}

/* The whole workspace as text, to compare two of them. */
static char *dump(const struct workspace *ws)
{
	cJSON *j = codec_workspace_to_json(ws);
	char *s = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	return s;
}

static void assert_same(const struct workspace *a, const struct workspace *b)
{
	char *x = dump(a), *y = dump(b);

	assert_string_equal(x, y);
	cJSON_free(x);
	cJSON_free(y);
}

static struct workspace *reload(const char *home)
{
	struct error err = {0};
	struct store *s = store_open(home, &err);
	struct workspace *ws;

	if (s == NULL)
		fail_msg("reopen: %s", err.message);
	ws = store_load(s, "ignored", &err);
	if (ws == NULL)
		fail_msg("reload: %s", err.message);
	store_close(s);
	return ws;
}

static void test_round_trip(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	struct workspace *ws, *back;
	struct stat st;
	char path[512];

	assert_non_null(s);
	assert_true(exists(home, "models") && exists(home, "tmp") && exists(home, "logs"));
	path_of(path, sizeof path, home, "state.db");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	ws = store_load(s, "first", &err);
	assert_non_null(ws);
	assert_string_equal(workspace_name(ws), "first");
	add_endpoint(ws, "ep-one", "pk");
	add_deployments(ws, "ep-one", 2);
	assert_int_equal(store_commit(s, ws, &err), 0);
	store_close(s);

	back = reload(home);
	assert_string_equal(workspace_name(back), "first");
	assert_string_equal(workspace_endpoint_find(back, "ep-one")->primary_key, "pk");
	assert_int_equal(traffic_get(&workspace_endpoint_find(back, "ep-one")->traffic, "dep0"),
			 100);
	assert_same(ws, back);
	workspace_free(back);
	workspace_free(ws);
}

/* Item 12: a change writes its own rows, not the workspace. */
static void test_writes_only_changed_rows(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	struct workspace *ws = store_load(s, "local", &err), *back;
	struct traffic t = {0};
	char name[32];
	uint64_t before;

	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "ep-%d", i);
		add_endpoint(ws, name, "k");
	}
	add_deployments(ws, "ep-7", 3);
	assert_int_equal(store_commit(s, ws, &err), 0);
	assert_int_equal(store_rows_written(s), 3000 + 2 + 3 + 1);

	before = store_rows_written(s);
	traffic_set(&t, "dep1", 100);
	assert_int_equal(workspace_endpoint_set_traffic(ws, "ep-7", &t, NULL, &err), 0);
	traffic_clear(&t);
	assert_int_equal(store_commit(s, ws, &err), 0);
	assert_int_equal(store_rows_written(s) - before, 1);

	before = store_rows_written(s);
	assert_int_equal(workspace_endpoint_delete(ws, "ep-7", &err), 0);
	assert_int_equal(store_commit(s, ws, &err), 0);
	assert_int_equal(store_rows_written(s) - before, 4); /* the endpoint, its 3 deployments */

	before = store_rows_written(s);
	assert_int_equal(store_commit(s, ws, &err), 0); /* nothing changed, nothing written */
	assert_int_equal(store_rows_written(s) - before, 0);
	store_close(s);
	back = reload(home);
	assert_same(ws, back);
	assert_null(workspace_endpoint_find(back, "ep-7"));
	workspace_free(back);
	workspace_free(ws);
}

/* A sequence of every kind of change, committed one by one, reloads equal. */
static void test_every_change_persists(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	struct workspace *ws = store_load(s, "local", &err), *back;

	add_endpoint(ws, "alpha", "k1");
	add_endpoint(ws, "beta", "k2");
	assert_int_equal(store_commit(s, ws, &err), 0);
	add_deployments(ws, "alpha", 2);
	assert_int_equal(store_commit(s, ws, &err), 0);
	assert_int_equal(workspace_endpoint_set_keys(ws, "beta", NULL, "k3", &err), 0);
	assert_int_equal(workspace_deployment_set_state(ws, "alpha", "dep1", PROV_FAILED, "boom"),
			 0);
	assert_int_equal(store_commit(s, ws, &err), 0);
	assert_int_equal(workspace_deployment_delete(ws, "alpha", "dep1", &err), 0);
	assert_int_equal(workspace_endpoint_delete(ws, "beta", &err), 0);
	assert_int_equal(store_commit(s, ws, &err), 0);
	store_close(s);
	back = reload(home);
	assert_same(ws, back);
	workspace_free(back);
	workspace_free(ws);
}

/* The kinds the Azure SDK's workflow added (issue 9) persist through the same
 * rows: code versions, archived containers, operations; and what the new
 * fields of models, environments and deployments hold. */
static void test_azure_kinds_persist(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	struct workspace *ws = store_load(s, "local", &err), *back;
	struct code_version cv;
	struct env_version ev;
	struct operation op;

	memset(&cv, 0, sizeof cv);
	snprintf(cv.name, sizeof cv.name, "06d51e21-36cb-4802-89aa-2ed15c87c620");
	snprintf(cv.version, sizeof cv.version, "1");
	cv.code_uri = (char *)"https://h/mldeck.blob.core.windows.net/c/LocalUpload/ab/code";
	cv.dir = (char *)"blobs/c/LocalUpload/ab/code";
	cv.created = 1700000000;
	assert_int_equal(workspace_code_put(ws, &cv, NULL, &err), 0);
	memset(&ev, 0, sizeof ev);
	snprintf(ev.name, sizeof ev.name, "CliV2AnonymousEnvironment");
	snprintf(ev.version, sizeof ev.version, "0d0b44ad5b7ef2fbcbfea27dbdc3a7a1");
	ev.kind = ENV_PYTHON;
	ev.image = (char *)"python:3.11";
	ev.conda_file = (char *)"dependencies:\n- numpy\n";
	ev.archived = 1;
	assert_int_equal(workspace_env_put(ws, &ev, NULL, &err), 0);
	assert_int_equal(workspace_container_set_archived(ws, "environments",
							  "CliV2AnonymousEnvironment", 1, &err),
			 0);
	memset(&op, 0, sizeof op);
	snprintf(op.id, sizeof op.id, "od:0123456789abcdef0123456789abcdef");
	snprintf(op.endpoint, sizeof op.endpoint, "alpha");
	snprintf(op.deployment, sizeof op.deployment, "dep0");
	op.start = 1700000001;
	assert_int_equal(workspace_op_add(ws, &op, &err), 0);
	assert_int_equal(store_commit(s, ws, &err), 0);
	assert_int_equal(workspace_op_settle(ws, "alpha", "dep0", OP_FAILED, "no model", 1700000009),
			 1);
	assert_int_equal(store_commit(s, ws, &err), 0);
	store_close(s);
	back = reload(home);
	assert_same(ws, back);
	assert_string_equal(workspace_code_find(back, cv.name, "1")->dir, cv.dir);
	assert_true(workspace_container_archived(back, "environments", ev.name));
	assert_string_equal(workspace_op_find(back, op.id)->error, "no model");
	assert_int_equal(workspace_op_find(back, op.id)->status, OP_FAILED);
	workspace_free(back);
	/* the last version of a name gone, its archive flag goes too */
	s = store_open(home, &err);
	assert_int_equal(workspace_env_delete(ws, ev.name, ev.version, &err), 0);
	assert_int_equal(store_commit(s, ws, &err), 0);
	store_close(s);
	back = reload(home);
	assert_false(workspace_container_archived(back, "environments", ev.name));
	assert_same(ws, back);
	workspace_free(back);
	workspace_free(ws);
}

/* An older mldeck's state.json becomes rows once; the file is kept aside. */
static void test_migrates_state_json(void **state)
{
	const char *home = *state;
	struct workspace *old = workspace_new("legacy"), *ws, *back;
	struct error err = {0};
	struct store *s;
	cJSON *doc;
	char *text;

	add_endpoint(old, "ep-old", "secret");
	add_deployments(old, "ep-old", 2);
	doc = codec_workspace_to_json(old);
	text = cJSON_Print(doc);
	write_file(home, "state.json", text);
	cJSON_free(text);
	cJSON_Delete(doc);

	s = store_open(home, &err);
	assert_non_null(s);
	ws = store_load(s, "local", &err);
	assert_non_null(ws);
	assert_same(old, ws);
	assert_non_null(store_notice(s));
	assert_non_null(strstr(store_notice(s), "state.json.migrated"));
	assert_false(exists(home, "state.json"));
	assert_true(exists(home, "state.json.migrated"));
	store_close(s);
	back = reload(home);
	assert_same(old, back);
	workspace_free(back);
	workspace_free(ws);
	workspace_free(old);
}

struct seen {
	int n;
	int64_t last;
	char values[8][32];
};

static int collect(void *ctx, int64_t seq, const char *value)
{
	struct seen *s = ctx;

	if (s->n < 8)
		snprintf(s->values[s->n], sizeof s->values[0], "%s", value);
	s->n++;
	s->last = seq;
	return 0;
}

/* Frequent records: appends, reads after a point, trims, and go with their row. */
static void test_records(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	struct store_row row = {"jobs", "job-1", "{\"status\":\"Running\"}"};
	struct seen seen;
	int64_t seq = 0;
	uint64_t rows;

	assert_int_equal(store_write(s, &row, 1, &err), 0);
	rows = store_rows_written(s);
	for (int i = 1; i <= 5; i++) {
		char v[32];

		snprintf(v, sizeof v, "{\"batch\":%d}", i);
		assert_int_equal(store_append(s, "jobs", "job-1", v, &seq, &err), 0);
		assert_int_equal(seq, i);
	}
	assert_int_equal(store_rows_written(s), rows); /* appends never rewrite rows */
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_records(s, "jobs", "job-1", 3, collect, &seen, &err), 2);
	assert_string_equal(seen.values[0], "{\"batch\":4}");
	assert_int_equal(seen.last, 5);
	assert_int_equal(store_records_drop(s, "jobs", "job-1", 2, &err), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_records(s, "jobs", "job-1", 0, collect, &seen, &err), 3);
	store_close(s);
	s = store_open(home, &err); /* durable */
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_records(s, "jobs", "job-1", 0, collect, &seen, &err), 3);
	row.value = NULL; /* deleting the row deletes its records */
	assert_int_equal(store_write(s, &row, 1, &err), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_records(s, "jobs", "job-1", 0, collect, &seen, &err), 0);
	store_close(s);
}

/* Runs store_open(home) in a child; its error message into msg, 0 when refused. */
static int open_in_child(const char *home, int want_status, char *msg, size_t len)
{
	int fds[2], status;
	ssize_t n;
	pid_t child;

	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct error e2 = {0};
		struct store *s2 = store_open(home, &e2);

		close(fds[0]);
		if (write(fds[1], e2.message, strlen(e2.message)) < 0)
			_exit(3);
		_exit(s2 == NULL && e2.status == want_status ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], msg, len - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Item 11: the lock is on the home itself, so removing HOME/lock frees nothing. */
static void test_lock_refuses_second_runtime(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	char msg[600], want[128], path[512];

	assert_non_null(s);
	assert_int_equal(open_in_child(home, 409, msg, sizeof msg), 0);
	snprintf(want, sizeof want, "another mldeck runtime (pid %ld) holds the lock on",
		 (long)getpid());
	if (strstr(msg, want) == NULL || strstr(msg, home) == NULL)
		fail_msg("message: %s", msg);
	path_of(path, sizeof path, home, "lock");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(open_in_child(home, 409, msg, sizeof msg), 0);
	assert_non_null(strstr(msg, "holds the lock on"));
	store_close(s);
	/* released: a new open works */
	s = store_open(home, &err);
	assert_non_null(s);
	store_close(s);
}

/* Item 11: a state file replaced under a running store is never written. */
static void test_refuses_replaced_state_file(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	struct workspace *ws = store_load(s, "local", &err);
	char path[512], aside[512];
	struct store_row row = {"endpoints", "x", "{}"};

	add_endpoint(ws, "kept", "k");
	assert_int_equal(store_commit(s, ws, &err), 0);
	path_of(path, sizeof path, home, "state.db");
	path_of(aside, sizeof aside, home, "other.db");
	write_file(home, "other.db", "");
	assert_int_equal(rename(aside, path), 0); /* another process "replaced" it */
	add_endpoint(ws, "lost", "k");
	assert_int_equal(store_commit(s, ws, &err), -1);
	assert_string_equal(err.code, "StateFileReplaced");
	assert_non_null(strstr(err.message, "REFUSING TO WRITE"));
	assert_non_null(strstr(err.message, path));
	assert_int_equal(store_write(s, &row, 1, &err), -1);
	assert_int_equal(store_append(s, "jobs", "j", "{}", NULL, &err), -1);
	store_close(s);
	workspace_free(ws);
}

/* Item 4: a home others can write to, or links planted in it, are refused. */
static void test_unsafe_home_refused(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s;
	char path[512];

	assert_int_equal(chmod(home, 0777), 0);
	assert_null(store_open(home, &err));
	assert_string_equal(err.code, "UnsafeHome");
	assert_non_null(strstr(err.message, "writable by others"));
	assert_non_null(strstr(err.message, "chmod 700"));
	assert_false(exists(home, "state.db")); /* nothing was created in it */
	assert_int_equal(chmod(home, 0770), 0);
	assert_null(store_open(home, &err));
	assert_non_null(strstr(err.message, "writable by its group"));
	assert_int_equal(chmod(home, 0700), 0);

	/* a planted symlink for the state file is never followed */
	write_file(home, "target", "do not touch");
	path_of(path, sizeof path, home, "state.db");
	assert_int_equal(symlink("target", path), 0);
	assert_null(store_open(home, &err));
	assert_int_equal(err.status, 500);
	assert_int_equal(unlink(path), 0);
	path_of(path, sizeof path, home, "tmp");
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink("/tmp", path), 0);
	assert_null(store_open(home, &err));
	assert_string_equal(err.code, "UnsafeHome");
	assert_int_equal(unlink(path), 0);
	s = store_open(home, &err);
	assert_non_null(s);
	store_close(s);
	{
		FILE *f;
		char buf[32] = "";

		path_of(path, sizeof path, home, "target");
		f = fopen(path, "r");
		assert_non_null(fgets(buf, sizeof buf, f));
		fclose(f);
		assert_string_equal(buf, "do not touch");
	}
	/* a new home is created private */
	path_of(path, sizeof path, home, "sub/new-home");
	s = store_open(path, &err);
	assert_non_null(s);
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
	}
	store_close(s);
}

static void test_corrupt_state_is_kept(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	char path[512];
	struct stat before, after;

	assert_non_null(s);
	write_file(home, "state.json", "{\n  \"format\": 1,\n  \"workspace\": oops\n}\n");
	path_of(path, sizeof path, home, "state.json");
	assert_int_equal(stat(path, &before), 0);
	assert_null(store_load(s, "local", &err));
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "line 3"));
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	/* valid JSON, wrong content */
	write_file(home, "state.json", "{\"format\": 1, \"workspace\": \"w\", \"models\": 3}");
	assert_null(store_load(s, "local", &err));
	assert_non_null(strstr(err.message, "models"));
	store_close(s);
	/* a database that is not one is never replaced either */
	unlink(path);
	path_of(path, sizeof path, home, "state.db");
	unlink(path);
	write_file(home, "state.db", "this is not a database, but it is someone's data....");
	assert_int_equal(stat(path, &before), 0);
	assert_null(store_open(home, &err));
	assert_string_equal(err.code, "CorruptState");
	assert_non_null(strstr(err.message, "left untouched"));
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
}

static void test_admin_key(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	char key[128], again[128], path[512];
	struct stat st;

	assert_non_null(s);
	assert_int_equal(store_admin_key(s, key, sizeof key, &err), 0);
	assert_int_equal(strlen(key), 43);
	assert_int_equal(
	    strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	path_of(path, sizeof path, home, "admin.key");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(store_admin_key(s, again, sizeof again, &err), 0);
	assert_string_equal(key, again);
	/* a hand-written key with a newline is read back without it */
	write_file(home, "admin.key", "hand-made-key\n");
	assert_int_equal(store_admin_key(s, again, sizeof again, &err), 0);
	assert_string_equal(again, "hand-made-key");
	/* a planted link is not followed */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(store_admin_key(s, again, sizeof again, &err), -1);
	store_close(s);
}

static void test_write_file(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	char path[512], buf[64] = "";
	struct stat st;
	FILE *f;

	assert_int_equal(store_write_file(s, "x.txt", "one", 3, 0640, &err), 0);
	assert_int_equal(store_write_file(s, "x.txt", "second", 6, 0640, &err), 0);
	path_of(path, sizeof path, home, "x.txt");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "second");
	assert_int_equal(store_write_file(s, "../escape", "x", 1, 0600, &err), -1);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_writes_only_changed_rows, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_every_change_persists, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_azure_kinds_persist, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_migrates_state_json, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_records, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_lock_refuses_second_runtime, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_refuses_replaced_state_file, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_unsafe_home_refused, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_corrupt_state_is_kept, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_admin_key, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_write_file, make_home, drop_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
