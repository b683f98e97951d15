/* cli_azure.c: `mldeck login` and `mldeck logout` (Entra ID, for Azure profiles). */
#include "ui/cli/cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "api/entra.h"

static void cli_login_show(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "%s\n", message);
	fflush(stderr);
}

/* A plain client with the profile's TLS and routing (token endpoints). */
static struct client *cli_login_client(struct cli *c, struct error *err)
{
	const struct profile *p = cli_profile(c, err);

	if (p == NULL)
		return NULL;
	struct client_config cfg = {.base_url = "", .ws_path = "", .credential = "",
				    .ca_file = p->ca_file, .connect_to = p->connect_to,
				    .trace = c->g->verbose ? stderr : NULL};
	struct client *http = client_new(&cfg);
	if (http == NULL)
		error_set(err, 500, "NoMemory", "out of memory");
	return http;
}

static int cli_login(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[PATH_MAX];
	const char *tenant = cli_args_get(a, "--tenant");
	const char *id = cli_args_get(a, "--client-id");
	struct error err = {0};

	if (!cli_args_has(a, "--device-code"))
		return cli_usage(v, "only --device-code is built in; for a service principal, a "
				    "managed identity or the Azure CLI see docs/azure.md");
	struct client *http = cli_login_client(c, &err);
	if (http == NULL)
		return cli_fail(&err);
	if (tenant == NULL)
		tenant = c->profile->tenant[0] ? c->profile->tenant : getenv("AZURE_TENANT_ID");
	if (tenant == NULL || tenant[0] == '\0')
		tenant = "organizations";
	int rc = entra_device_login(http, tenant, id != NULL ? id : ENTRA_CLI_CLIENT_ID,
				    cli_login_show, NULL, &err);
	client_free(http);
	if (rc < 0)
		return cli_fail(&err);
	entra_cache_path(path, sizeof path);
	if (!c->json)
		printf("Logged in. The sign-in is kept in %s (mode 0600); `mldeck logout` removes "
		       "it.\n",
		       path);
	return CLI_OK;
}

static int cli_logout(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};

	(void)v, (void)a;
	if (entra_logout(&err) < 0)
		return cli_fail(&err);
	if (!c->json)
		printf("Logged out.\n");
	return CLI_OK;
}

const struct cli_verb cli_azure_verbs[] = {
    {"login", NULL, cli_login, "login --device-code [--tenant TENANT] [--client-id ID]",
     "sign in to Entra ID from a machine without a browser: prints a URL and a code to enter "
     "elsewhere, then keeps the sign-in for Azure profiles",
     "--device-code --tenant= --client-id=", 0, 0, CLI_READS},
    {"logout", NULL, cli_logout, "logout", "forget the sign-in kept by `mldeck login`", "", 0,
     0, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
