/* test_httpfast.c: what the fast lane takes, waits for and hands over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/httpfast.h"

#define PREFIX "/endpoints/"
#define HEAD_OK "POST /endpoints/churn/score HTTP/1.1\r\nHost: x\r\n" \
		"Authorization: Bearer k3y\r\nContent-Type: application/json\r\n"

static char buf[HTTPFAST_MAX * 2];

/* Parses text (copied into buf, n bytes of it). */
static int parse_n(const char *text, size_t n, struct httpfast_req *r)
{
	memcpy(buf, text, n);
	buf[n] = '#';
	return httpfast_parse(buf, n, PREFIX, r);
}

static int parse(const char *text, struct httpfast_req *r)
{
	return parse_n(text, strlen(text), r);
}

static void test_takes_a_whole_request(void **state)
{
	const char *text = HEAD_OK "Content-Length:  12 \r\n\r\n{\"data\": []}";
	struct httpfast_req r;

	(void)state;
	assert_int_equal(parse(text, &r), (int)strlen(text));
	assert_string_equal(r.target, "/endpoints/churn/score");
	assert_int_equal(r.nheaders, 4);
	assert_string_equal(httpfast_header(&r, "authorization"), "Bearer k3y");
	assert_string_equal(httpfast_header(&r, "CONTENT-LENGTH"), "12"); /* trimmed */
	assert_null(httpfast_header(&r, "x-request-id"));
	assert_null(httpfast_header(&r, "Host2"));
	assert_int_equal(r.body_len, 12);
	assert_memory_equal(r.body, "{\"data\": []}", 12);
	assert_int_equal(buf[strlen(text)], '#'); /* what follows the body is not touched */
}

static void test_pipelined_requests_are_taken_one_at_a_time(void **state)
{
	const char *one = HEAD_OK "Content-Length: 5\r\nConnection: Keep-Alive\r\n\r\n[1,2]";
	char two[1024];
	struct httpfast_req r;

	(void)state;
	snprintf(two, sizeof two, "%s%s", one, one);
	assert_int_equal(parse(two, &r), (int)strlen(one));
	assert_memory_equal(r.body, "[1,2]", 5);
	assert_int_equal(buf[strlen(one)], 'P'); /* the next request is left whole */
	assert_int_equal(r.close, 0);
}

static void test_connection_close_is_taken_and_said(void **state)
{
	const char *text = HEAD_OK "Content-Length: 0\r\nConnection: Close\r\n\r\n";
	struct httpfast_req r;

	(void)state;
	assert_int_equal(parse(text, &r), (int)strlen(text));
	assert_int_equal(r.close, 1);
}

static void test_waits_for_the_rest_of_a_head_and_of_a_body(void **state)
{
	const char *text = HEAD_OK "Content-Length: 12\r\n\r\n{\"data\": []}";
	size_t head = strstr(text, "\r\n\r\n") + 4 - text, n;
	struct httpfast_req r;

	(void)state;
	for (n = 0; n < head; n++)
		assert_int_equal(parse_n(text, n, &r), 0);
	/* the head whole, the body not: the length, for admission and waiting */
	for (; n < strlen(text); n++) {
		assert_int_equal(parse_n(text, n, &r), (int)strlen(text));
		assert_int_equal(buf[n], '#'); /* the byte past the data is not touched */
	}
}

static void test_hands_over_anything_else(void **state)
{
	static const char *const others[] = {
		"GET /endpoints/churn HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /endpoints/churn/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST /endpoints/churn/score HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST /endpoints/ch%75rn/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST /endpoints/churn/score?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST /subscriptions/s/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST //endpoints/churn/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST /endpoints/churn/score HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		"POST /endpoints/churn/score HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: 0\r\n\r\n",
		"POST /endpoints/churn/score HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n1",
		"POST /endpoints/churn/score HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n1",
		"POST /endpoints/churn/score HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n",
		"POST /endpoints/churn/score HTTP/1.1\r\nHost: x\r\nContent-Length: 17000\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nUpgrade: h2c\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: upgrade\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close, x\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nX-A: a\r\n b\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\nHost: x\nContent-Length: 0\n\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\nContent-Length: 0\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nX-A: \x80\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nX-A: a\x01\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nX A: a\r\n\r\n",
		"POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n: a\r\n\r\n",
		"POST  /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"post /endpoints/c/score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	};
	struct httpfast_req r;

	(void)state;
	for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
		int got = parse(others[i], &r);
		if (got != -1)
			fail_msg("taken (%d): %s", got, others[i]);
	}
}

static void test_refuses_at_the_first_wrong_byte(void **state)
{
	/* bytes that can no longer become a head the lane takes are refused at
	 * once, whole head or not: the connection goes to libmicrohttpd rather
	 * than waiting for bytes that may never come */
	static const char *const early[] = {
		"G", "POSX", "POST /a", "POST x", "POST /endpoints/a/score\r",
		"POST /endpoints/a/score HTTP/1.0", "POST /endpoints/a/score HTTP/1.1\r\nHo st",
		"POST /endpoints/a/score HTTP/1.1\r\nHost: x\x01",
		"POST /endpoints/a/score HTTP/1.1\r\nHost: x\rz",
		"POST /endpoints/a/score HTTP/1.1\r\n\rz",
	};
	static const char *const wait[] = {
		"", "POST", "POST ", "POST /endp", "POST /endpoints/a/sc",
		"POST /endpoints/a/score HTTP/1", "POST /endpoints/a/score HTTP/1.1\r",
		"POST /endpoints/a/score HTTP/1.1\r\nHost", "POST /endpoints/a/score HTTP/1.1\r\nHost: x",
		"POST /endpoints/a/score HTTP/1.1\r\nHost: x\r",
		"POST /endpoints/a/score HTTP/1.1\r\nHost: x\r\n\r",
	};
	struct httpfast_req r;

	(void)state;
	for (size_t i = 0; i < sizeof early / sizeof *early; i++)
		if (parse(early[i], &r) != -1)
			fail_msg("waits: %s", early[i]);
	for (size_t i = 0; i < sizeof wait / sizeof *wait; i++)
		if (parse(wait[i], &r) != 0)
			fail_msg("decided: %s", wait[i]);
}

static void test_bounds_on_headers_and_head(void **state)
{
	static char text[HTTPFAST_MAX + 1024];
	struct httpfast_req r;
	size_t n;

	(void)state;
	/* HTTPFAST_HEADERS lines in all are taken, one more is not */
	n = (size_t)snprintf(text, sizeof text, "POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\n"
						"Content-Length: 0\r\n");
	for (int k = 2; k < HTTPFAST_HEADERS; k++)
		n += (size_t)snprintf(text + n, sizeof text - n, "X-%d: v\r\n", k);
	snprintf(text + n, sizeof text - n, "\r\n");
	assert_true(parse(text, &r) > 0);
	assert_int_equal(r.nheaders, HTTPFAST_HEADERS);
	snprintf(text + n, sizeof text - n, "X-Last: v\r\n\r\n");
	assert_int_equal(parse(text, &r), -1);
	/* a head past HTTPFAST_HEAD_MAX, whole or not */
	n = (size_t)snprintf(text, sizeof text, "POST /endpoints/c/score HTTP/1.1\r\nHost: x\r\n"
						"Content-Length: 0\r\nX-Big: ");
	memset(text + n, 'a', HTTPFAST_HEAD_MAX);
	n += HTTPFAST_HEAD_MAX;
	assert_int_equal(parse_n(text, n, &r), -1);
	snprintf(text + n, sizeof text - n, "\r\n\r\n");
	assert_int_equal(parse(text, &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_takes_a_whole_request),
		cmocka_unit_test(test_pipelined_requests_are_taken_one_at_a_time),
		cmocka_unit_test(test_connection_close_is_taken_and_said),
		cmocka_unit_test(test_waits_for_the_rest_of_a_head_and_of_a_body),
		cmocka_unit_test(test_hands_over_anything_else),
		cmocka_unit_test(test_refuses_at_the_first_wrong_byte),
		cmocka_unit_test(test_bounds_on_headers_and_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
