/*
 * test_keys: docs/console.md's key reference is the key table itself: the
 * Markdown the table generates must appear verbatim in the document, so a
 * key added or changed in code without regenerating the doc fails here.
 * Regenerate with the program in the failure message's hint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ui/console/keys.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void test_doc_matches_key_table(void **state)
{
	const char *src = getenv("MLDECK_SRC");
	char path[4096], *doc, *gen = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&gen, &len);

	(void)state;
	assert_non_null(f);
	keys_write_markdown(f);
	fclose(f);
	assert_true(len > 200);
	snprintf(path, sizeof path, "%s/docs/console.md", src ? src : ".");
	doc = read_all(path);
	assert_non_null(doc);
	if (strstr(doc, gen) == NULL)
		fail_msg("docs/console.md's key table is stale: replace it with the output of "
			 "keys_write_markdown()");
	free(doc);
	free(gen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doc_matches_key_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
