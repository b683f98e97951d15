/* test_auth.c: key comparison, key generation and HS256 tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/auth.h"

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
#define SECRET_LEN (sizeof secret - 1)
#define NOW 1700000000

static void test_equal(void **state)
{
	(void)state;
	assert_int_equal(auth_equal("abc", "abc"), 1);
	assert_int_equal(auth_equal("", ""), 1);
	assert_int_equal(auth_equal("abc", "abd"), 0);
	assert_int_equal(auth_equal("abc", "ab"), 0);
	assert_int_equal(auth_equal("ab", "abc"), 0);
	assert_int_equal(auth_equal("", "a"), 0);
	assert_int_equal(auth_equal("xbc", "abc"), 0);
	assert_int_equal(auth_equal(NULL, "abc"), 0);
	assert_int_equal(auth_equal("abc", NULL), 0);
}

static void test_random_key(void **state)
{
	char a[AUTH_KEY_LEN], b[AUTH_KEY_LEN], small[10];

	(void)state;
	assert_int_equal(auth_random_key(a, sizeof a), 0);
	assert_int_equal(auth_random_key(b, sizeof b), 0);
	assert_int_equal(strlen(a), 43);
	assert_int_equal(
	    strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_false(auth_equal(a, b));
	assert_int_equal(auth_random_key(small, sizeof small), -1);
}

#define UID "uid-of-this-endpoint"

static int verify(const unsigned char *key, size_t len, const char *tok, const char *ep,
		  const char *uid, uint32_t gen, int64_t now, struct error *err)
{
	return auth_token_verify(key, len, tok, &(struct auth_audience){ep, uid, gen}, now, err);
}

static void issue(char *tok, const char *ep, uint32_t gen, int64_t now, int ttl)
{
	struct error err;

	assert_int_equal(auth_token_issue(secret, SECRET_LEN, &(struct auth_audience){ep, UID, gen},
					  now, ttl, tok, AUTH_TOKEN_MAX, &err),
			 0);
}

static void expect_fail_uid(const char *tok, const char *ep, const char *uid, uint32_t gen,
			    int64_t now, const char *reason)
{
	struct error err = {0};

	assert_int_equal(verify(secret, SECRET_LEN, tok, ep, uid, gen, now, &err), -1);
	assert_int_equal(err.status, 401);
	if (reason != NULL)
		assert_string_equal(err.message, reason);
}

static void expect_fail(const char *tok, const char *ep, uint32_t gen, int64_t now,
			const char *reason)
{
	struct error err = {0};

	assert_int_equal(verify(secret, SECRET_LEN, tok, ep, UID, gen, now, &err), -1);
	assert_int_equal(err.status, 401);
	if (reason != NULL)
		assert_string_equal(err.message, reason);
}

static void test_round_trip(void **state)
{
	char tok[AUTH_TOKEN_MAX];
	struct error err;
	int64_t exp;

	(void)state;
	issue(tok, "my-endpoint", 3, NOW, 0);
	assert_int_equal(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37), 0);
	assert_int_equal(verify(secret, SECRET_LEN, tok, "my-endpoint", UID, 3, NOW, &err), 0);
	assert_int_equal(verify(secret, SECRET_LEN, tok, "my-endpoint", UID, 3, NOW + 3599, &err),
			 0);
	assert_int_equal(auth_token_expiry(tok, &exp), 0);
	assert_int_equal(exp, NOW + AUTH_TOKEN_TTL);
}

static void test_tamper(void **state)
{
	char tok[AUTH_TOKEN_MAX], bad[AUTH_TOKEN_MAX];
	size_t n;

	(void)state;
	issue(tok, "my-endpoint", 1, NOW, 60);
	n = strlen(tok);
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, tok, n + 1);
		bad[i] ^= 0x01;
		expect_fail(bad, "my-endpoint", 1, NOW, NULL);
	}
	/* Truncated, extended, empty, garbage. */
	memcpy(bad, tok, n + 1);
	bad[n - 1] = '\0';
	expect_fail(bad, "my-endpoint", 1, NOW, "bad signature");
	memcpy(bad, tok, n + 1);
	bad[n] = 'A';
	bad[n + 1] = '\0';
	expect_fail(bad, "my-endpoint", 1, NOW, "bad signature");
	expect_fail("", "my-endpoint", 1, NOW, "malformed token");
	expect_fail("a.b", "my-endpoint", 1, NOW, "malformed token");
	expect_fail("a.b.c.d", "my-endpoint", 1, NOW, "malformed token");
	expect_fail(NULL, "my-endpoint", 1, NOW, "malformed token");
}

static void test_wrong_secret(void **state)
{
	static const unsigned char other[] = "fedcba9876543210fedcba9876543210";
	char tok[AUTH_TOKEN_MAX];
	struct error err;

	(void)state;
	issue(tok, "my-endpoint", 1, NOW, 60);
	assert_int_equal(verify(other, sizeof other - 1, tok, "my-endpoint", UID, 1, NOW, &err),
			 -1);
	assert_string_equal(err.message, "bad signature");
}

static void test_expiry(void **state)
{
	char tok[AUTH_TOKEN_MAX];

	(void)state;
	issue(tok, "my-endpoint", 1, NOW, 60);
	expect_fail(tok, "my-endpoint", 1, NOW + 60, "token expired");
	expect_fail(tok, "my-endpoint", 1, NOW + 100000, "token expired");
}

static void test_wrong_endpoint(void **state)
{
	char tok[AUTH_TOKEN_MAX];

	(void)state;
	issue(tok, "my-endpoint", 1, NOW, 60);
	expect_fail(tok, "other-endpoint", 1, NOW, "token is for another endpoint");
	expect_fail(tok, "my-endpoin", 1, NOW, "token is for another endpoint");
}

static void test_wrong_generation(void **state)
{
	char tok[AUTH_TOKEN_MAX];

	(void)state;
	issue(tok, "my-endpoint", 1, NOW, 60);
	expect_fail(tok, "my-endpoint", 2, NOW,
		    "token was revoked (keys regenerated or auth mode changed)");
}

/* An endpoint deleted and created again under its name has a new uid. */
static void test_wrong_incarnation(void **state)
{
	char tok[AUTH_TOKEN_MAX];

	(void)state;
	issue(tok, "my-endpoint", 0, NOW, 60);
	expect_fail_uid(tok, "my-endpoint", "another-uid", 0, NOW, "token is for another endpoint");
	expect_fail_uid(tok, "my-endpoint", "", 0, NOW, "token is for another endpoint");
	expect_fail_uid(tok, "my-endpoint", UID "x", 0, NOW, "token is for another endpoint");
}

static void test_issue_errors(void **state)
{
	char tok[AUTH_TOKEN_MAX];
	struct error err;
	struct auth_audience aud = {"ep1", UID, 1};

	(void)state;
	assert_int_equal(auth_token_issue(secret, 4, &aud, NOW, 60, tok, sizeof tok, &err), -1);
	assert_int_equal(err.status, 500);
	assert_int_equal(auth_token_issue(secret, SECRET_LEN, &aud, NOW, 60, tok, 20, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equal),	   cmocka_unit_test(test_random_key),
	    cmocka_unit_test(test_round_trip),	   cmocka_unit_test(test_tamper),
	    cmocka_unit_test(test_wrong_secret),   cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_wrong_endpoint), cmocka_unit_test(test_wrong_generation),
	    cmocka_unit_test(test_wrong_incarnation), cmocka_unit_test(test_issue_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
