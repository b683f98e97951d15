/*
 * test_artifact.c: importing files and directories into the home, with sha256;
 * a registration never replaces an earlier one in place; removal and the
 * sweep at start know both layouts (VERSION/BASE of older versions, and
 * VERSION/ID/BASE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/artifact.h"

static int make_dirs(void **state)
{
	char *base = strdup("/tmp/mldeck-art-XXXXXX");
	char cmd[512];

	assert_non_null(mkdtemp(base));
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && mkdir -p home/tmp src/tree/sub && printf 'hello mldeck\\n' > src/m.json "
		 "&& printf 'a' > src/tree/a.txt && printf 'bb' > src/tree/sub/b.txt && "
		 "ln -s /etc/passwd src/tree/leak && mkfifo src/fifo",
		 base);
	assert_int_equal(system(cmd), 0);
	*state = base;
	return 0;
}

static int drop_dirs(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

/* Stage and place in one go. */
static int import(const char *home, const char *name, const char *version, const char *src,
		  struct artifact_info *a, struct error *err)
{
	struct artifact_stage st;
	int rc = artifact_stage_import(home, src, &st, err);

	memset(a, 0, sizeof *a);
	if (rc == 0)
		rc = artifact_place(home, name, version, &st, a, err);
	artifact_stage_discard(&st);
	return rc;
}

/* rel is models/NAME/VERSION/<6 characters>/BASE */
static void assert_rel(const char *rel, const char *prefix, const char *base)
{
	size_t n = strlen(prefix);

	assert_memory_equal(rel, prefix, n);
	assert_int_equal(strlen(rel), n + 7 + strlen(base));
	assert_int_equal(rel[n + 6], '/');
	assert_string_equal(rel + n + 7, base);
}

static int exists(const char *home, const char *rel)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", home, rel);
	return lstat(path, &st) == 0;
}

/* sha256sum's answer for a file. */
static void sha256sum(const char *path, char out[65])
{
	char cmd[600];
	FILE *p;

	snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", out), 1);
	pclose(p);
}

static void test_import_file(void **state)
{
	const char *base = *state;
	char home[256], src[512], uri[600], path[1024], want[65];
	struct artifact_info a, b;
	struct error err = {0};
	struct stat st;

	snprintf(home, sizeof home, "%s/home", base);
	snprintf(src, sizeof src, "%s/src/m.json", base);
	sha256sum(src, want);
	assert_int_equal(import(home, "mod1", "1", src, &a, &err), 0);
	assert_rel(a.rel, "models/mod1/1/", "m.json");
	assert_string_equal(a.sha256, want);
	assert_int_equal(a.size, 13);
	assert_int_equal(artifact_path(home, a.rel, path, sizeof path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 13);
	/* file:// URI; the same version again goes beside it, never over it */
	snprintf(uri, sizeof uri, "file://%s", src);
	assert_int_equal(import(home, "mod1", "1", uri, &b, &err), 0);
	assert_string_equal(b.sha256, want);
	assert_string_not_equal(a.rel, b.rel);
	assert_true(exists(home, a.rel) && exists(home, b.rel));
	/* nothing left in tmp */
	snprintf(path, sizeof path, "rmdir '%s/tmp' 2>/dev/null && mkdir '%s/tmp'", home, home);
	assert_int_equal(system(path), 0);
	/* removing the replaced one leaves the new one */
	assert_int_equal(artifact_remove(home, a.rel), 0);
	assert_false(exists(home, a.rel));
	assert_true(exists(home, b.rel));
	assert_int_equal(artifact_remove(home, b.rel), 0);
	snprintf(path, sizeof path, "%s/models/mod1", home);
	assert_int_not_equal(stat(path, &st), 0); /* empty parents go too */
	artifact_info_cleanup(&a);
	artifact_info_cleanup(&b);
}

static void test_import_directory(void **state)
{
	const char *base = *state;
	char home[512], src[512], path[1024];
	struct artifact_info a, b;
	struct error err = {0};
	struct stat st;

	snprintf(home, sizeof home, "%s/home", base);
	snprintf(src, sizeof src, "%s/src/tree/", base);
	assert_int_equal(import(home, "tree-model", "2", src, &a, &err), 0);
	assert_rel(a.rel, "models/tree-model/2/", "tree");
	assert_int_equal(a.size, 3);
	assert_int_equal(strlen(a.sha256), 64);
	snprintf(path, sizeof path, "%s/%s/sub/b.txt", home, a.rel);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof path, "%s/%s/leak", home, a.rel);
	assert_int_not_equal(lstat(path, &st), 0); /* symlinks are not copied */
	/* the digest is stable */
	assert_int_equal(import(home, "tree-model", "3", src, &b, &err), 0);
	assert_string_equal(a.sha256, b.sha256);
	artifact_info_cleanup(&a);
	artifact_info_cleanup(&b);
}

static void test_bad_sources(void **state)
{
	const char *base = *state;
	char home[512], src[512];
	struct artifact_info a;
	struct error err = {0};

	snprintf(home, sizeof home, "%s/home", base);
	snprintf(src, sizeof src, "%s/src/missing.json", base);
	assert_int_equal(import(home, "mod1", "1", src, &a, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "missing.json"));
	snprintf(src, sizeof src, "%s/src/fifo", base);
	assert_int_equal(import(home, "mod1", "1", src, &a, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(import(home, "mod1", "1", "relative/path", &a, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(import(home, "mod1", "1", "string", &a, &err), -1);
	assert_int_equal(import(home, "../x", "1", "/etc/hostname", &a, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(import(home, "mod1", "1/..", "/etc/hostname", &a, &err), -1);
	assert_int_equal(artifact_remove(home, "../../etc"), -1);
}

static void test_upload(void **state)
{
	const char *base = *state;
	char home[512], tmp[600], want[65];
	struct artifact_stage st;
	struct artifact_info a;
	struct error err = {0};
	FILE *f;

	snprintf(home, sizeof home, "%s/home", base);
	snprintf(tmp, sizeof tmp, "%s/tmp/upload-1", home);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("hello mldeck\n", f);
	fclose(f);
	sha256sum(tmp, want);
	assert_int_equal(artifact_stage_upload(home, tmp, "model.json", &st, &err), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(artifact_place(home, "up1", "1", &st, &a, &err), 0);
	assert_string_equal(a.sha256, want);
	assert_rel(a.rel, "models/up1/1/", "model.json");
	assert_true(exists(home, a.rel));
	artifact_info_cleanup(&a);
	assert_int_equal(artifact_stage_upload(home, "/etc/hostname", "x", &st, &err), -1);
}

/* Older versions kept the artifact directly in VERSION/: removing it must not
 * take a newer registration of the same version placed beside it. */
static void test_old_layout(void **state)
{
	const char *base = *state;
	char home[512], cmd[1200];
	struct artifact_info a;
	struct error err = {0};
	char src[512];

	snprintf(home, sizeof home, "%s/home", base);
	snprintf(src, sizeof src, "%s/src/m.json", base);
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/models/old/1' && echo x > '%s/models/old/1/m.json'",
		 home, home);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(import(home, "old", "1", src, &a, &err), 0);
	assert_int_equal(artifact_remove(home, "models/old/1/m.json"), 0);
	assert_false(exists(home, "models/old/1/m.json"));
	assert_true(exists(home, a.rel));
	artifact_info_cleanup(&a);
}

/* At start, what no model version names goes; what one names stays. */
static void test_sweep(void **state)
{
	const char *base = *state;
	char home[512], cmd[1600], src[512];
	struct artifact_info a, b;
	struct error err = {0};
	const char *keep[3];

	snprintf(home, sizeof home, "%s/home", base);
	snprintf(src, sizeof src, "%s/src/m.json", base);
	assert_int_equal(import(home, "kept", "1", src, &a, &err), 0);
	assert_int_equal(import(home, "kept", "1", src, &b, &err), 0);   /* an interrupted re-registration */
	snprintf(cmd, sizeof cmd,
		 "cd '%s/models' && mkdir -p legacy/2 gone/1/ABCDEF && echo x > legacy/2/m.json "
		 "&& echo y > legacy/2/stray && echo z > gone/1/ABCDEF/m.json",
		 home);
	assert_int_equal(system(cmd), 0);
	keep[0] = a.rel;
	keep[1] = "models/legacy/2/m.json";
	assert_int_equal(artifact_sweep(home, keep, 2), 3);
	assert_true(exists(home, a.rel));
	assert_false(exists(home, b.rel));
	assert_true(exists(home, "models/legacy/2/m.json"));
	assert_false(exists(home, "models/legacy/2/stray"));
	assert_false(exists(home, "models/gone"));
	assert_int_equal(artifact_sweep(home, keep, 2), 0);
	artifact_info_cleanup(&a);
	artifact_info_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_import_file, make_dirs, drop_dirs),
	    cmocka_unit_test_setup_teardown(test_import_directory, make_dirs, drop_dirs),
	    cmocka_unit_test_setup_teardown(test_bad_sources, make_dirs, drop_dirs),
	    cmocka_unit_test_setup_teardown(test_upload, make_dirs, drop_dirs),
	    cmocka_unit_test_setup_teardown(test_old_layout, make_dirs, drop_dirs),
	    cmocka_unit_test_setup_teardown(test_sweep, make_dirs, drop_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
