/* test_profile.c: config.ini parsing, selection order and `profile use`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/profile.h"

static char tmpdir[256];
static char cfg_path[512];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_all(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/mldeck-test-profile-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(cfg_path, sizeof cfg_path, "%s/mldeck/config.ini", tmpdir);
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
	setenv("MLDECK_HOME", "/srv/mldeck-home", 1);
	unsetenv("MLDECK_PROFILE");
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_missing_file_gives_builtin_local(void **state)
{
	struct profile_set *s = calloc(1, sizeof *s);
	struct error err = {0};

	(void)state;
	unlink(cfg_path);
	assert_int_equal(profile_load(s, NULL, &err), 0);
	assert_string_equal(s->path, cfg_path);
	assert_int_equal(s->file_exists, 0);
	const struct profile *p = profile_select(s, NULL, &err);
	assert_non_null(p);
	assert_string_equal(p->name, "local");
	assert_string_equal(p->backend, "local");
	assert_string_equal(p->url, "http://127.0.0.1:5800");
	assert_string_equal(p->home, "/srv/mldeck-home");
	assert_string_equal(p->workspace, "local");
	assert_true(p->builtin);
	assert_true(p->embedded);
	free(s);
}

/* Only "local" may start the runtime in-process, unless a profile says so:
 * a tunnel on 127.0.0.1 that is down must never be replaced (issue 8). */
static void test_embedded_only_local_or_asked(void **state)
{
	struct profile_set *s = calloc(1, sizeof *s);
	struct error err = {0};
	char path[600];

	(void)state;
	snprintf(path, sizeof path, "%s/embedded.ini", tmpdir);
	write_file(path, "[profile local]\nurl = http://127.0.0.1:5900\n"
			 "[profile tunnel]\nurl = http://127.0.0.1:5800\n"
			 "[profile lab]\nurl = http://127.0.0.1:5801\nembedded = true\n"
			 "[profile off]\nurl = http://127.0.0.1:5802\nembedded = no\n");
	assert_int_equal(profile_load(s, path, &err), 0);
	assert_true(profile_find(s, "local")->embedded);
	assert_false(profile_find(s, "tunnel")->embedded);
	assert_true(profile_find(s, "lab")->embedded);
	assert_false(profile_find(s, "off")->embedded);
	free(s);
}

static void test_good_file(void **state)
{
	struct profile_set *s = calloc(1, sizeof *s);
	struct error err = {0};
	char path[600];

	(void)state;
	snprintf(path, sizeof path, "%s/good.ini", tmpdir);
	write_file(path,
		   "; comment\n[mldeck]\ndefault_profile = edge\n\n"
		   "[profile edge]\nbackend = local\nurl = http://10.0.0.5:5800\n"
		   "home = /var/lib/mldeck\nadmin_key_file = ~/k\nreadonly = yes\ntheme = light\n"
		   "[profile prod]\nbackend = azureml\nurl = https://management.azure.com\n"
		   "workspace = ws1\nsubscription = sub\nresource_group = rg\n");
	assert_int_equal(profile_load(s, path, &err), 0);
	assert_int_equal(s->count, 3); /* built-in local + 2 */
	assert_string_equal(s->default_profile, "edge");
	const struct profile *e = profile_find(s, "edge");
	assert_non_null(e);
	assert_string_equal(e->url, "http://10.0.0.5:5800");
	assert_string_equal(e->home, "/var/lib/mldeck");
	char want[600];
	snprintf(want, sizeof want, "%s/k", getenv("HOME"));
	assert_string_equal(e->admin_key_file, want);
	assert_int_equal(e->readonly, 1);
	assert_string_equal(e->theme, "light");
	const struct profile *p = profile_find(s, "prod");
	assert_non_null(p);
	assert_string_equal(p->backend, "azureml");
	assert_string_equal(p->resource_group, "rg");
	assert_non_null(profile_find(s, "local"));
	free(s);
}

/* Loads text and expects an error mentioning both fragments. */
static void expect_broken(const char *text, const char *frag1, const char *frag2)
{
	struct profile_set *s = calloc(1, sizeof *s);
	struct error err = {0};
	char path[600];

	snprintf(path, sizeof path, "%s/broken.ini", tmpdir);
	write_file(path, text);
	assert_int_equal(profile_load(s, path, &err), -1);
	if (strstr(err.message, frag1) == NULL || strstr(err.message, frag2) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.message, frag1, frag2);
	free(s);
}

static void test_broken_files_name_the_line(void **state)
{
	(void)state;
	expect_broken("[profile a]\nbackend = local\ncolour = red\n", "broken.ini:3:", "colour");
	expect_broken("[profile a]\nbackend = cloud\n", "broken.ini:2:", "backend");
	expect_broken("[profile a]\nurl = ftp://x\n", "broken.ini:2:", "http");
	expect_broken("[mldeck]\ndefault_profile = a\n[other]\nx = 1\n",
		      "broken.ini:4:", "unknown section");
	expect_broken("[profile a]\nreadonly = maybe\n", "broken.ini:2:", "readonly");
	expect_broken("[profile a]\nembedded = perhaps\n", "broken.ini:2:", "embedded");
	expect_broken("[profile a]\nthis line has no equals sign\n", "broken.ini:2:", "syntax");
	expect_broken("[profile a b]\nurl = http://x\n", "broken.ini:2:", "profile name");
	expect_broken("\n\n[mldeck]\nfoo = bar\n", "broken.ini:4:", "foo");
}

static void test_ssh_profiles(void **state)
{
	struct profile_set *s = calloc(1, sizeof *s);
	struct error err = {0};
	char path[600];

	(void)state;
	snprintf(path, sizeof path, "%s/ssh.ini", tmpdir);
	write_file(path, "[profile a]\nurl = ssh://me@edge.example:2222\nhome = ~/mldeck\n"
			 "remote_mldeck = /opt/mldeck/bin/mldeck\n"
			 "[profile b]\nurl = ssh://edge\n[profile c]\nurl = ssh://me@[::1]:22/\n");
	assert_int_equal(profile_load(s, path, &err), 0);
	const struct profile *a = profile_find(s, "a");
	assert_string_equal(a->url, "ssh://me@edge.example:2222");
	assert_string_equal(a->home, "~/mldeck"); /* the remote's ~, untouched */
	assert_string_equal(a->remote_mldeck, "/opt/mldeck/bin/mldeck");
	assert_string_equal(profile_find(s, "b")->home, ""); /* the remote's default */
	assert_true(profile_url_is_ssh(profile_find(s, "c")->url));
	assert_false(profile_url_is_ssh(profile_find(s, "local")->url));
	free(s);
	/* nothing ssh could read as an option, no path, no bad port */
	expect_broken("[profile a]\nurl = ssh://-oProxyCommand=x\n", "broken.ini:2:", "ssh://");
	expect_broken("[profile a]\nurl = ssh://me@-host\n", "broken.ini:2:", "ssh://");
	expect_broken("[profile a]\nurl = ssh://host:99999\n", "broken.ini:2:", "ssh://");
	expect_broken("[profile a]\nurl = ssh://host/srv\n", "broken.ini:2:", "ssh://");
	expect_broken("[profile a]\nurl = ssh://a b@host\n", "broken.ini:2:", "ssh://");
	expect_broken("[profile a]\nurl = ssh://\n", "broken.ini:2:", "ssh://");
}

static void test_readonly_is_one_answer(void **state)
{
	struct profile p = {.readonly = 0};

	(void)state;
	assert_false(profile_readonly(&p, 0));
	assert_true(profile_readonly(&p, 1));
	p.readonly = 1;
	assert_true(profile_readonly(&p, 0));
	assert_false(profile_readonly(NULL, 0));
	assert_true(profile_readonly(NULL, 1));
}

static void test_selection_order(void **state)
{
	struct profile_set *s = calloc(1, sizeof *s);
	struct error err = {0};
	char path[600];

	(void)state;
	snprintf(path, sizeof path, "%s/sel.ini", tmpdir);
	write_file(path, "[mldeck]\ndefault_profile = b\n[profile a]\nurl = http://a\n"
			 "[profile b]\nurl = http://b\n[profile c]\nurl = http://c\n");
	assert_int_equal(profile_load(s, path, &err), 0);
	assert_string_equal(profile_select(s, NULL, &err)->name, "b");
	setenv("MLDECK_PROFILE", "c", 1);
	assert_string_equal(profile_select(s, NULL, &err)->name, "c");
	assert_string_equal(profile_select(s, "a", &err)->name, "a");
	setenv("MLDECK_PROFILE", "zzz", 1);
	assert_null(profile_select(s, NULL, &err));
	assert_non_null(strstr(err.message, "zzz"));
	unsetenv("MLDECK_PROFILE");
	s->default_profile[0] = '\0';
	assert_string_equal(profile_select(s, NULL, &err)->name, "local");
	free(s);
}

static void test_use_creates_and_rewrites(void **state)
{
	struct error err = {0};

	(void)state;
	unlink(cfg_path);
	/* No file yet: "local" always exists. */
	assert_int_equal(profile_use(NULL, "local", &err), 0);
	assert_string_equal(read_all(cfg_path), "[mldeck]\ndefault_profile = local\n");
	assert_int_equal(profile_use(NULL, "nope", &err), -1);
	assert_int_equal(err.status, 404);

	write_file(cfg_path, "# mine\n[profile x]\nurl = http://x\n\n[mldeck]\n"
			     "default_profile=local\ntheme_dir = keep\n");
	/* theme_dir is not a key we know, so the file is refused untouched. */
	assert_int_equal(profile_use(NULL, "x", &err), -1);
	assert_non_null(strstr(err.message, ":7:"));

	write_file(cfg_path, "# mine\n[profile x]\nurl = http://x\n\n[mldeck]\n"
			     "default_profile=local\n[profile y]\nurl = http://y");
	assert_int_equal(profile_use(NULL, "y", &err), 0);
	assert_string_equal(read_all(cfg_path),
			    "# mine\n[profile x]\nurl = http://x\n\n[mldeck]\n"
			    "default_profile = y\n[profile y]\nurl = http://y\n");

	write_file(cfg_path, "[profile x]\nurl = http://x\n");
	assert_int_equal(profile_use(NULL, "x", &err), 0);
	assert_string_equal(read_all(cfg_path),
			    "[mldeck]\ndefault_profile = x\n\n[profile x]\nurl = http://x\n");

	write_file(cfg_path, "[mldeck]\n[profile x]\nurl = http://x\n");
	assert_int_equal(profile_use(NULL, "x", &err), 0);
	assert_string_equal(read_all(cfg_path),
			    "[mldeck]\ndefault_profile = x\n[profile x]\nurl = http://x\n");

	struct profile_set *s = calloc(1, sizeof *s);
	assert_int_equal(profile_load(s, NULL, &err), 0);
	assert_string_equal(profile_select(s, NULL, &err)->name, "x");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_missing_file_gives_builtin_local),
	    cmocka_unit_test(test_good_file),
	    cmocka_unit_test(test_embedded_only_local_or_asked),
	    cmocka_unit_test(test_broken_files_name_the_line),
	    cmocka_unit_test(test_ssh_profiles),
	    cmocka_unit_test(test_readonly_is_one_answer),
	    cmocka_unit_test(test_selection_order),
	    cmocka_unit_test(test_use_creates_and_rewrites),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
