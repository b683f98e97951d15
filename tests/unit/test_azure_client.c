/* test_azure_client.c: the pure parts of the Azure client: retry policy,
 * Retry-After, operation timeouts and states, Shared Key's string-to-sign,
 * token freshness and JWT expiry, Arc key paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/blob.h"
#include "api/credential.h"
#include "api/lro.h"
#include "api/msi.h"
#include "api/retry.h"

static void test_retry_should(void **state)
{
	static const struct {
		long status;
		int curl;
		const char *method;
		int want;
	} cases[] = {
	    {429, 0, "POST", 1},	      {503, 0, "PATCH", 1},
	    {500, 0, "GET", 1},		      {500, 0, "POST", 0},
	    {502, 0, "PUT", 1},		      {504, 0, "DELETE", 1},
	    {408, 0, "HEAD", 1},	      {404, 0, "GET", 0},
	    {409, 0, "PUT", 0},		      {400, 0, "GET", 0},
	    {0, CURLE_RECV_ERROR, "GET", 1},  {0, CURLE_GOT_NOTHING, "PUT", 1},
	    {0, CURLE_RECV_ERROR, "POST", 0}, {0, CURLE_COULDNT_CONNECT, "GET", 0},
	    {0, CURLE_OPERATION_TIMEDOUT, "GET", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = retry_should(cases[i].status, cases[i].curl, cases[i].method);
		if (got != cases[i].want)
			fail_msg("case %zu: %ld/%d %s -> %d", i, cases[i].status, cases[i].curl,
				 cases[i].method, got);
	}
}

static void test_retry_after(void **state)
{
	/* 1445412480 = Wed, 21 Oct 2015 07:28:00 GMT */
	(void)state;
	assert_int_equal(retry_after_ms("5", 0), 5000);
	assert_int_equal(retry_after_ms(" 1.5", 0), 1500);
	assert_int_equal(retry_after_ms("0", 0), 0);
	assert_int_equal(retry_after_ms(NULL, 0), -1);
	assert_int_equal(retry_after_ms("soon", 0), -1);
	assert_int_equal(retry_after_ms("-3", 0), -1);
	assert_int_equal(retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000);
	assert_int_equal(retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
	assert_int_equal(retry_after_ms("Wed, 21 Foo 2015 07:28:00 GMT", 0), -1);
	assert_int_equal(retry_after_ms("Wed, 21 Oct 2015 07:28:00 UTC", 0), -1);
}

static void test_retry_delay(void **state)
{
	(void)state;
	assert_int_equal(retry_delay_ms(1, 3000, 0.5), 3000); /* the server's word wins */
	assert_int_equal(retry_delay_ms(1, -1, 1.0), RETRY_BACKOFF_BASE_MS);
	assert_int_equal(retry_delay_ms(2, -1, 1.0), 2 * RETRY_BACKOFF_BASE_MS);
	assert_int_equal(retry_delay_ms(3, -1, 0.5), 2 * RETRY_BACKOFF_BASE_MS);
	assert_int_equal(retry_delay_ms(30, -1, 1.0), RETRY_BACKOFF_MAX_MS); /* bounded */
	assert_int_equal(retry_delay_ms(1, -1, 0.1), RETRY_BACKOFF_BASE_MS / 2);
	for (int a = 1; a < 12; a++)
		assert_true(retry_delay_ms(a, -1, 0.75) <= RETRY_BACKOFF_MAX_MS);
}

static void test_lro_duration(void **state)
{
	(void)state;
	assert_true(lro_duration_s("PT30M") == 1800);
	assert_true(lro_duration_s("PT1H") == 3600);
	assert_true(lro_duration_s("P1DT2H") == 93600);
	assert_true(lro_duration_s("PT1.5S") == 1.5);
	assert_true(lro_duration_s("PT") == -1);
	assert_true(lro_duration_s("30M") == -1);
	assert_true(lro_duration_s("PT5X") == -1);
	assert_true(lro_duration_s(NULL) == -1);
}

static void test_lro_states(void **state)
{
	(void)state;
	assert_int_equal(lro_state_of("Succeeded"), LRO_SUCCEEDED);
	assert_int_equal(lro_state_of("succeeded"), LRO_SUCCEEDED);
	assert_int_equal(lro_state_of("Failed"), LRO_FAILED);
	assert_int_equal(lro_state_of("Canceled"), LRO_CANCELED);
	assert_int_equal(lro_state_of("Updating"), LRO_RUNNING);
	assert_int_equal(lro_state_of("InProgress"), LRO_RUNNING);
	assert_int_equal(lro_state_of("Creating"), LRO_RUNNING);
}

/* LRO mode from the first answer's headers and body. */
static void begin(struct lro *op, const char *method, long status, const char *head,
		  const char *body)
{
	struct client_response rs = {.status = status, .head = (char *)head};
	cJSON *doc = body != NULL ? cJSON_Parse(body) : NULL;

	lro_begin(op, method, "/onlineEndpoints/x", &rs, doc);
	cJSON_Delete(doc);
}

static void test_lro_begin(void **state)
{
	static struct lro op;

	(void)state;
	begin(&op, "PUT", 201,
	      "HTTP/1.1 201 Created\r\nazure-asyncoperation: https://m/op?x=1\r\n"
	      "Location: https://m/res\r\nx-ms-async-operation-timeout: PT2M\r\n\r\n",
	      "{\"properties\":{\"provisioningState\":\"Creating\"}}");
	assert_int_equal(op.mode, LRO_ASYNC);
	assert_string_equal(op.poll_url, "https://m/op?x=1");
	assert_string_equal(op.status, "Creating");
	assert_true(fabs(op.deadline_ms - op.started_ms - 120000) < 0.01);
	assert_int_equal(op.next_ms, LRO_POLL_FIRST_MS);
	begin(&op, "DELETE", 202, "HTTP/1.1 202\r\nLocation: https://m/result\r\nRetry-After: 10\r\n",
	      NULL);
	assert_int_equal(op.mode, LRO_LOCATION);
	assert_int_equal(op.next_ms, 10000);
	assert_true(fabs(op.deadline_ms - op.started_ms - LRO_DEFAULT_TIMEOUT_S * 1000.0) < 0.01);
	begin(&op, "PUT", 201, "HTTP/1.1 201\r\n", "{\"properties\":{\"provisioningState\":\"Creating\"}}");
	assert_int_equal(op.mode, LRO_RESOURCE);
	begin(&op, "DELETE", 202, "HTTP/1.1 202\r\n", NULL);
	assert_int_equal(op.mode, LRO_RESOURCE);
	begin(&op, "PUT", 200, "HTTP/1.1 200\r\n",
	      "{\"properties\":{\"provisioningState\":\"Succeeded\"}}");
	assert_int_equal(op.mode, LRO_DONE);
	assert_int_equal(op.state, LRO_SUCCEEDED);
	begin(&op, "PUT", 201, "HTTP/1.1 201\r\nLocation: https://m/res\r\n", "{}");
	assert_int_equal(op.mode, LRO_DONE); /* a 201's Location is just the resource */
}

static void test_blob_string_to_sign(void **state)
{
	char out[2048];
	const char *put[] = {"x-ms-version: 2021-12-02",
			     "x-ms-date: Wed, 21 Oct 2015 07:28:00 GMT",
			     "Content-Length: 5",
			     "Content-Type: application/octet-stream",
			     "Content-MD5: XUFAKrxLKna5cZ2REBfFkg==",
			     "X-MS-Blob-Type: BlockBlob",
			     NULL};
	const char *meta[] = {"x-ms-date: D", "x-ms-version: V", "Content-Length: 0",
			      "x-ms-meta-name: churn", "Content-Type: application/octet-stream",
			      NULL};

	(void)state;
	assert_int_equal(blob_string_to_sign("PUT", "acct", "/c/LocalUpload/ab/m%20x.pkl", NULL,
					     put, out, sizeof out),
			 0);
	assert_string_equal(out, "PUT\n\n\n5\nXUFAKrxLKna5cZ2REBfFkg==\napplication/octet-stream\n"
				 "\n\n\n\n\n\n"
				 "x-ms-blob-type:BlockBlob\n"
				 "x-ms-date:Wed, 21 Oct 2015 07:28:00 GMT\n"
				 "x-ms-version:2021-12-02\n"
				 "/acct/c/LocalUpload/ab/m%20x.pkl");
	assert_int_equal(blob_string_to_sign("PUT", "acct", "/c/b", "comp=block&blockid=YWI%3D",
					     meta, out, sizeof out),
			 0);
	assert_string_equal(out, "PUT\n\n\n\n\napplication/octet-stream\n\n\n\n\n\n\n"
				 "x-ms-date:D\nx-ms-meta-name:churn\nx-ms-version:V\n"
				 "/acct/c/b\nblockid:YWI=\ncomp:block");
}

static void test_blob_url(void **state)
{
	struct blob_target t = {"acct", "cont", "core.windows.net", "", ""};
	char url[512];

	(void)state;
	assert_int_equal(blob_url(&t, "LocalUpload/h/a b#c.txt", NULL, url, sizeof url), 0);
	assert_string_equal(url,
			    "https://acct.blob.core.windows.net/cont/LocalUpload/h/a%20b%23c.txt");
	snprintf(t.sas, sizeof t.sas, "sv=1&sig=x");
	assert_int_equal(blob_url(&t, "n", "comp=metadata", url, sizeof url), 0);
	assert_string_equal(url, "https://acct.blob.core.windows.net/cont/n?comp=metadata&sv=1&sig=x");
}

static void test_token_fresh(void **state)
{
	struct credential_token t = {.expires_on = 10000};

	(void)state;
	snprintf(t.value, sizeof t.value, "tok");
	assert_true(credential_token_fresh(&t, 10000 - CREDENTIAL_MARGIN_S - 1));
	assert_false(credential_token_fresh(&t, 10000 - CREDENTIAL_MARGIN_S));
	t.refresh_on = 5000;
	assert_false(credential_token_fresh(&t, 5000));
	assert_true(credential_token_fresh(&t, 4999));
	t.value[0] = '\0';
	assert_false(credential_token_fresh(&t, 0));
}

static void test_jwt_exp(void **state)
{
	/* {"alg":"none"} . {"aud":"x","exp":1700000000} . sig */
	(void)state;
	assert_true(credential_jwt_exp("eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4IiwiZXhwIjoxNzAwMDAwMDAwfQ.c2ln") ==
		    1700000000LL);
	assert_true(credential_jwt_exp("not-a-jwt") == 0);
	assert_true(credential_jwt_exp("a.!!!.b") == 0);
}

static void test_arc_key_path(void **state)
{
	(void)state;
	assert_true(msi_arc_key_path_ok("/var/opt/azcmagent/tokens/abc.key"));
	assert_false(msi_arc_key_path_ok("/etc/shadow"));
	assert_false(msi_arc_key_path_ok("/var/opt/azcmagent/tokens/../x.key"));
	assert_false(msi_arc_key_path_ok("/var/opt/azcmagent/tokens/sub/x.key"));
	assert_false(msi_arc_key_path_ok("/var/opt/azcmagent/tokens/abc.txt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry_should),	 cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_retry_delay),		 cmocka_unit_test(test_lro_duration),
	    cmocka_unit_test(test_lro_states),		 cmocka_unit_test(test_lro_begin),
	    cmocka_unit_test(test_blob_string_to_sign), cmocka_unit_test(test_blob_url),
	    cmocka_unit_test(test_token_fresh),		 cmocka_unit_test(test_jwt_exp),
	    cmocka_unit_test(test_arc_key_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
