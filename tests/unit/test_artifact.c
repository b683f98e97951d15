/* test_artifact.c: importing files and directories into the home, with sha256. */
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
		 "cd '%s' && mkdir -p home src/tree/sub && printf 'hello mldeck\\n' > src/m.json "
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
	struct artifact_info a;
	struct error err = {0};
	struct stat st;

	snprintf(home, sizeof home, "%s/home", base);
	snprintf(src, sizeof src, "%s/src/m.json", base);
	sha256sum(src, want);
	assert_int_equal(artifact_import(home, "mod1", "1", src, &a, &err), 0);
	assert_string_equal(a.rel, "models/mod1/1/m.json");
	assert_string_equal(a.sha256, want);
	assert_int_equal(a.size, 13);
	assert_int_equal(artifact_path(home, a.rel, path, sizeof path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 13);
	artifact_info_cleanup(&a);
	/* file:// URI, and replacing an existing version */
	snprintf(uri, sizeof uri, "file://%s", src);
	assert_int_equal(artifact_import(home, "mod1", "1", uri, &a, &err), 0);
	assert_string_equal(a.sha256, want);
	artifact_info_cleanup(&a);
	/* nothing left in tmp */
	snprintf(path, sizeof path, "rmdir '%s/tmp' 2>/dev/null && mkdir '%s/tmp'", home, home);
	assert_int_equal(system(path), 0);
	assert_int_equal(artifact_remove(home, "models/mod1/1/m.json"), 0);
	snprintf(path, sizeof path, "%s/models/mod1", home);
	assert_int_not_equal(stat(path, &st), 0);
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
	assert_int_equal(artifact_import(home, "tree-model", "2", src, &a, &err), 0);
	assert_string_equal(a.rel, "models/tree-model/2/tree");
	assert_int_equal(a.size, 3);
	assert_int_equal(strlen(a.sha256), 64);
	snprintf(path, sizeof path, "%s/%s/sub/b.txt", home, a.rel);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof path, "%s/%s/leak", home, a.rel);
	assert_int_not_equal(lstat(path, &st), 0); /* symlinks are not copied */
	/* the digest is stable */
	assert_int_equal(artifact_import(home, "tree-model", "3", src, &b, &err), 0);
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
	assert_int_equal(artifact_import(home, "mod1", "1", src, &a, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "missing.json"));
	snprintf(src, sizeof src, "%s/src/fifo", base);
	assert_int_equal(artifact_import(home, "mod1", "1", src, &a, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(artifact_import(home, "mod1", "1", "relative/path", &a, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(artifact_import(home, "mod1", "1", "string", &a, &err), -1);
	assert_int_equal(artifact_import(home, "../x", "1", "/etc/hostname", &a, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(artifact_import(home, "mod1", "1/..", "/etc/hostname", &a, &err), -1);
	assert_int_equal(artifact_remove(home, "../../etc"), -1);
}

static void test_adopt(void **state)
{
	const char *base = *state;
	char home[512], tmp[600], want[65], path[1024];
	struct artifact_info a;
	struct error err = {0};
	FILE *f;

	snprintf(home, sizeof home, "%s/home", base);
	snprintf(tmp, sizeof tmp, "%s/tmp/upload-1", home);
	mkdir(home, 0700);
	snprintf(path, sizeof path, "%s/tmp", home);
	mkdir(path, 0700);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("hello mldeck\n", f);
	fclose(f);
	sha256sum(tmp, want);
	assert_int_equal(artifact_adopt(home, "up1", "1", tmp, "model.json", &a, &err), 0);
	assert_string_equal(a.sha256, want);
	assert_string_equal(a.rel, "models/up1/1/model.json");
	assert_int_equal(access(tmp, F_OK), -1);
	artifact_info_cleanup(&a);
	assert_int_equal(artifact_adopt(home, "up1", "1", "/etc/hostname", "x", &a, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_import_file, make_dirs, drop_dirs),
	    cmocka_unit_test_setup_teardown(test_import_directory, make_dirs, drop_dirs),
	    cmocka_unit_test_setup_teardown(test_bad_sources, make_dirs, drop_dirs),
	    cmocka_unit_test_setup_teardown(test_adopt, make_dirs, drop_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
