/*
 * test_httpcheck: the strict framing rules as a table of header sets, and the
 * percent-decoder on the bytes that must be refused rather than cut short.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/httpcheck.h"

static const struct {
	const char *version;
	unsigned hosts;
	const char *cl[3];
	const char *te[3];
	int want;
} heads[] = {
	{"HTTP/1.1", 1, {NULL}, {NULL}, 0},
	{"HTTP/1.1", 0, {NULL}, {NULL}, 400},          /* no Host */
	{"HTTP/1.1", 2, {NULL}, {NULL}, 400},          /* two Hosts */
	{"HTTP/1.0", 0, {NULL}, {NULL}, 0},            /* 1.0 may go without */
	{"HTTP/1.1", 1, {"5", "5"}, {NULL}, 0},        /* the same twice is one */
	{"HTTP/1.1", 1, {"5", " 5 "}, {NULL}, 0},
	{"HTTP/1.1", 1, {"0", "35"}, {NULL}, 400},     /* smuggling */
	{"HTTP/1.1", 1, {"-5"}, {NULL}, 400},
	{"HTTP/1.1", 1, {"5, 5"}, {NULL}, 400},
	{"HTTP/1.1", 1, {"99999999999999999999"}, {NULL}, 400},
	{"HTTP/1.1", 1, {"5"}, {"chunked"}, 400},      /* both */
	{"HTTP/1.1", 1, {NULL}, {"chunked"}, 0},
	{"HTTP/1.1", 1, {NULL}, {" Chunked "}, 0},
	{"HTTP/1.1", 1, {NULL}, {"chunked, chunked"}, 400},
	{"HTTP/1.1", 1, {NULL}, {"chunked", "chunked"}, 400},
	{"HTTP/1.1", 1, {NULL}, {"gzip"}, 501},
	{"HTTP/1.1", 1, {NULL}, {"gzip, chunked"}, 501},
	{"HTTP/1.1", 1, {NULL}, {"identity"}, 501},
	{"HTTP/1.1", 1, {NULL}, {","}, 400},
};

static void test_framing_table(void **state)
{
	char msg[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		struct httpcheck_head h;
		int k;
		memset(&h, 0, sizeof h);
		h.version = heads[i].version;
		h.hosts = heads[i].hosts;
		for (k = 0; k < 3 && heads[i].cl[k]; k++)
			h.cl[h.ncl++] = heads[i].cl[k];
		for (k = 0; k < 3 && heads[i].te[k]; k++)
			h.te[h.nte++] = heads[i].te[k];
		msg[0] = '\0';
		if (httpcheck_head(&h, msg, sizeof msg) != heads[i].want)
			fail_msg("case %zu: want %d (%s)", i, heads[i].want, msg);
		if (heads[i].want && msg[0] == '\0')
			fail_msg("case %zu: no reason", i);
	}
}

static void test_unescape(void **state)
{
	static const struct {
		const char *in, *out;
		int bad;
	} cases[] = {
		{"/a%20b", "/a b", 0},     {"/abc%00def", NULL, 1}, {"/x%0a", NULL, 1},
		{"/x%7F", NULL, 1},        {"/x\x01y", NULL, 1},    {"/%zz%4", "/%zz%4", 0},
		{"/%C3%A9", "/\xc3\xa9", 0}, {"%2F", "/", 0},
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int bad = 0;
		snprintf(buf, sizeof buf, "%s", cases[i].in);
		httpcheck_unescape(buf, &bad);
		assert_int_equal(bad, cases[i].bad);
		if (cases[i].out)
			assert_string_equal(buf, cases[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_framing_table),
	    cmocka_unit_test(test_unescape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
