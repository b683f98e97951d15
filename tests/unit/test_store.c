/* test_store.c: the crash-safe home: round trip, lock, corrupt file, admin key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

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

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static void write_file(const char *home, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", home, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int exists(const char *home, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", home, name);
	return stat(path, &st) == 0;
}

static void test_round_trip(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	struct workspace *ws;
	struct endpoint ep;

	assert_non_null(s);
	assert_true(exists(home, "models") && exists(home, "tmp") && exists(home, "logs"));
	ws = store_load(s, "first", &err);
	assert_non_null(ws);
	assert_string_equal(workspace_name(ws), "first");
	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "ep-one");
	snprintf(ep.primary_key, sizeof ep.primary_key, "pk");
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, &err), 0);
	assert_int_equal(store_save(s, ws, &err), 0);
	assert_false(exists(home, "state.json.tmp"));
	workspace_free(ws);
	store_close(s);

	s = store_open(home, &err);
	assert_non_null(s);
	ws = store_load(s, "ignored", &err);
	assert_non_null(ws);
	assert_string_equal(workspace_name(ws), "first");
	assert_string_equal(workspace_endpoint_find(ws, "ep-one")->primary_key, "pk");
	workspace_free(ws);
	store_close(s);
}

static void test_lock_refuses_second_runtime(void **state)
{
	const char *home = *state;
	struct error err = {0};
	struct store *s = store_open(home, &err);
	int fds[2], status;
	char msg[600] = "";
	pid_t child;

	assert_non_null(s);
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct error e2 = {0};
		struct store *s2 = store_open(home, &e2);

		close(fds[0]);
		if (write(fds[1], e2.message, strlen(e2.message)) < 0)
			_exit(3);
		_exit(s2 == NULL && e2.status == 409 ? 0 : 1);
	}
	close(fds[1]);
	assert_true(read(fds[0], msg, sizeof msg - 1) > 0);
	close(fds[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		char want[128];

		snprintf(want, sizeof want, "another mldeck runtime (pid %ld) holds",
			 (long)getpid());
		if (strstr(msg, want) == NULL || strstr(msg, "/lock") == NULL)
			fail_msg("message: %s", msg);
	}
	store_close(s);
	/* released: a new open works */
	s = store_open(home, &err);
	assert_non_null(s);
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
	snprintf(path, sizeof path, "%s/state.json", home);
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
	snprintf(path, sizeof path, "%s/admin.key", home);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(store_admin_key(s, again, sizeof again, &err), 0);
	assert_string_equal(key, again);
	assert_false(exists(home, "admin.key.tmp"));
	/* a hand-written key with a newline is read back without it */
	write_file(home, "admin.key", "hand-made-key\n");
	assert_int_equal(store_admin_key(s, again, sizeof again, &err), 0);
	assert_string_equal(again, "hand-made-key");
	store_close(s);
}

static void test_write_atomic(void **state)
{
	const char *home = *state;
	struct error err = {0};
	char path[512], buf[64] = "";
	struct stat st;
	FILE *f;

	snprintf(path, sizeof path, "%s/x.txt", home);
	assert_int_equal(store_write_atomic(path, "one", 3, 0640, &err), 0);
	assert_int_equal(store_write_atomic(path, "second", 6, 0640, &err), 0);
	assert_false(exists(home, "x.txt.tmp"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "second");
	snprintf(path, sizeof path, "%s/no/such/dir/x", home);
	assert_int_equal(store_write_atomic(path, "x", 1, 0600, &err), -1);
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "no/such/dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_lock_refuses_second_runtime, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_corrupt_state_is_kept, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_admin_key, make_home, drop_home),
	    cmocka_unit_test_setup_teardown(test_write_atomic, make_home, drop_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
