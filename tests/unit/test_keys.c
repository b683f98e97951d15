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

#include "state/file.h"
#include "ui/console/keys.h"

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
	doc = file_read(path, 1 << 20, &len);
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
