/*
 * test_connect: the rules that decide where requests go. A profile reached
 * through an ssh tunnel is never "this machine" (its base URL is
 * http://localhost, the runtime is far away); the data plane of an mldeck
 * runtime follows the client's own base URL and socket, never the scoringUri
 * the runtime reports; Azure's follows the scoringUri; MLDECK_ADMIN_KEY wins
 * over the key fetched over ssh; connect_resolve refuses ssh:// (the
 * transport's business).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/connect.h"

static struct client *make(const char *base, const char *sock, int at_base)
{
	struct client_config cfg = {.base_url = base,
				    .ws_path = "/subscriptions/s",
				    .credential = "k",
				    .unix_socket = sock,
				    .dataplane_at_base = at_base};
	struct client *c = client_new(&cfg);

	assert_non_null(c);
	return c;
}

static void test_same_host(void **state)
{
	static const struct {
		const char *base, *sock;
		int same;
	} cases[] = {
	    {"http://127.0.0.1:5800", NULL, 1},
	    {"http://localhost:5800/", NULL, 1},
	    {"http://[::1]:5800", NULL, 1},
	    {"http://10.0.0.5:5800", NULL, 0},
	    {"https://management.azure.com", NULL, 0},
	    {"http://127.0.0.1.example.com", NULL, 0},
	    {"http://localhost", "/run/user/1/mldeck/ssh-1-a/api.sock", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct client *c = make(cases[i].base, cases[i].sock, 1);
		if (connect_same_host(c) != cases[i].same)
			fail_msg("%s via %s: expected %d", cases[i].base,
				 cases[i].sock ? cases[i].sock : "TCP", cases[i].same);
		client_free(c);
	}
}

static void test_scoring_url(void **state)
{
	char url[256];
	struct error err = {0};
	struct client *c = make("http://127.0.0.1:6000/", NULL, 1);

	(void)state;
	/* an mldeck runtime: the client's own way in, whatever it reports */
	assert_int_equal(client_scoring_url(c, "churn",
					    "http://127.0.0.1:5800/endpoints/churn/score", url,
					    sizeof url, &err),
			 0);
	assert_string_equal(url, "http://127.0.0.1:6000/endpoints/churn/score");
	assert_int_equal(client_scoring_url(c, "a b/c", "", url, sizeof url, &err), 0);
	assert_string_equal(url, "http://127.0.0.1:6000/endpoints/a%20b%2Fc/score");
	client_free(c);
	/* Azure: the endpoint's own data-plane host */
	c = make("https://management.azure.com", NULL, 0);
	assert_int_equal(client_scoring_url(c, "churn",
					    "https://churn.westeurope.inference.ml.azure.com/score",
					    url, sizeof url, &err),
			 0);
	assert_string_equal(url, "https://churn.westeurope.inference.ml.azure.com/score");
	assert_int_equal(client_scoring_url(c, "churn", "", url, sizeof url, &err), -1);
	client_free(c);
}

static void test_tunnel_credential(void **state)
{
	struct profile p = {.backend = "local", .url = "ssh://me@edge", .workspace = "ws1"};
	struct connect_info info;
	struct error err = {0};

	(void)state;
	unsetenv("MLDECK_URL");
	unsetenv("MLDECK_ADMIN_KEY");
	assert_int_equal(connect_resolve(&p, &info, &err), -1);
	assert_non_null(strstr(err.message, "ssh"));
	assert_int_equal(connect_resolve_tunnel(&p, "/run/x/api.sock", "fetched", &info, &err), 0);
	assert_string_equal(info.base_url, "http://localhost");
	assert_string_equal(info.unix_socket, "/run/x/api.sock");
	assert_string_equal(info.credential, "fetched");
	assert_true(info.dataplane_at_base);
	assert_non_null(strstr(info.ws_path, "/workspaces/ws1"));
	setenv("MLDECK_ADMIN_KEY", "from-env", 1);
	assert_int_equal(connect_resolve_tunnel(&p, "/run/x/api.sock", "fetched", &info, &err), 0);
	assert_string_equal(info.credential, "from-env");
	unsetenv("MLDECK_ADMIN_KEY");
	connect_info_cleanup(&info);
	assert_string_equal(info.credential, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_host),
	    cmocka_unit_test(test_scoring_url),
	    cmocka_unit_test(test_tunnel_credential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
