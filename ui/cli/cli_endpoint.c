/* cli_endpoint.c: `mldeck endpoint ...`. */
#include "ui/cli/cli.h"

#include <string.h>

static const struct cli_col cli_endpoint_cols[] = {
    {"NAME", "name", NULL},
    {"AUTH", "properties.authMode", NULL},
    {"TRAFFIC", "properties.traffic", NULL},
    {"MIRROR", "properties.mirrorTraffic", NULL},
    {"STATE", "properties.provisioningState", NULL},
};

static const struct cli_col cli_endpoint_detail[] = {
    {"name", "name", NULL},
    {"auth", "properties.authMode", NULL},
    {"state", "properties.provisioningState", NULL},
    {"scoring uri", "properties.scoringUri", NULL},
    {"traffic", "properties.traffic", NULL},
    {"mirror", "properties.mirrorTraffic", NULL},
    {"description", "properties.description", NULL},
    {"id", "id", NULL},
};

#define CLI_EP_SHOW(c, doc)                                                                        \
	cli_show(c, cli_endpoint_cols, sizeof cli_endpoint_cols / sizeof cli_endpoint_cols[0],     \
		 cli_endpoint_detail, sizeof cli_endpoint_detail / sizeof cli_endpoint_detail[0],  \
		 doc)

/* "/onlineEndpoints/NAME" + suffix. */
static const char *cli_endpoint_path(char *buf, size_t len, const char *name, const char *suffix)
{
	char e[200];

	snprintf(buf, len, "/onlineEndpoints/%s%s", cli_esc(e, sizeof e, name), suffix);
	return buf;
}

/* One call on the endpoint and the answer printed with `show` (NULL: kv). */
static int cli_endpoint_call(struct cli *c, const char *method, const char *name,
			     const char *suffix, const cJSON *body, int endpoint_shape)
{
	char path[400];
	struct error err = {0};
	cJSON *doc = NULL;
	struct client *cl = cli_client(c, &err);

	cli_endpoint_path(path, sizeof path, name, suffix);
	if (cl == NULL || client_call(cl, method, path, body, &doc, &err) < 0)
		return cli_fail(&err);
	if (doc == NULL)
		return CLI_OK;
	if (endpoint_shape)
		return CLI_EP_SHOW(c, doc);
	return cli_show(c, NULL, 0, NULL, 0, doc);
}

static int cli_endpoint_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *auth = cli_args_get(a, "--auth");
	const char *mode;

	if (auth == NULL || strcmp(auth, "key") == 0)
		mode = "Key";
	else if (strcmp(auth, "aml_token") == 0)
		mode = "AMLToken";
	else
		return cli_usage(v, "--auth must be key or aml_token, not \"%s\"", auth);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "location", "local");
	cJSON *props = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(props, "authMode", mode);
	if (cli_args_get(a, "--description") != NULL)
		cJSON_AddStringToObject(props, "description", cli_args_get(a, "--description"));
	int rc = cli_endpoint_call(c, "PUT", a->pos[0], "", body, 1);
	cJSON_Delete(body);
	return rc;
}

static int cli_endpoint_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	cJSON *doc = NULL;
	struct client *cl = cli_client(c, &err);

	(void)v, (void)a;
	if (cl == NULL || client_call(cl, "GET", "/onlineEndpoints", NULL, &doc, &err) < 0)
		return cli_fail(&err);
	return CLI_EP_SHOW(c, doc);
}

static int cli_endpoint_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_endpoint_call(c, "GET", a->pos[0], "", NULL, 1);
}

static int cli_endpoint_delete(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char what[160];
	int rc;

	snprintf(what, sizeof what, "endpoint %s and all its deployments", a->pos[0]);
	if ((rc = cli_confirm(v, a, what)) != CLI_OK)
		return rc;
	rc = cli_endpoint_call(c, "DELETE", a->pos[0], "", NULL, 0);
	if (rc == CLI_OK && !c->json)
		printf("Deleted endpoint %s.\n", a->pos[0]);
	return rc;
}

static int cli_endpoint_keys(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_endpoint_call(c, "POST", a->pos[0], "/listKeys", NULL, 0);
}

static int cli_endpoint_regen(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *kt = cli_args_get(a, "--key-type");
	const char *type;

	if (kt == NULL)
		return cli_usage(v, "--key-type is required");
	if (strcmp(kt, "primary") == 0)
		type = "Primary";
	else if (strcmp(kt, "secondary") == 0)
		type = "Secondary";
	else
		return cli_usage(v, "--key-type must be primary or secondary, not \"%s\"", kt);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "keyType", type);
	int rc = cli_endpoint_call(c, "POST", a->pos[0], "/regenerateKeys", body, 0);
	cJSON_Delete(body);
	if (rc == CLI_OK && !c->json)
		printf("Regenerated the %s key of %s.\n", kt, a->pos[0]);
	return rc;
}

static int cli_endpoint_token(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_endpoint_call(c, "POST", a->pos[0], "/token", NULL, 0);
}

const struct cli_verb cli_endpoint_verbs[] = {
    {"endpoint", "create", cli_endpoint_create,
     "endpoint create NAME [--auth key|aml_token] [--description TEXT]",
     "create (or update) an online endpoint", "--auth= --description=", 1, 1, CLI_CHANGES},
    {"endpoint", "list", cli_endpoint_list, "endpoint list", "list endpoints", "", 0, 0, CLI_READS},
    {"endpoint", "show", cli_endpoint_show, "endpoint show NAME",
     "show an endpoint, its scoring URI and traffic", "", 1, 1, CLI_READS},
    {"endpoint", "delete", cli_endpoint_delete, "endpoint delete NAME [--yes]",
     "delete an endpoint and its deployments (asks on a terminal; else needs --yes)", "--yes", 1, 1,
     1},
    {"endpoint", "keys", cli_endpoint_keys, "endpoint keys NAME",
     "print the endpoint's primary and secondary keys", "", 1, 1, CLI_READS},
    {"endpoint", "regenerate-keys", cli_endpoint_regen,
     "endpoint regenerate-keys NAME --key-type primary|secondary",
     "replace a key (the old one stops working at once)", "--key-type=", 1, 1, CLI_CHANGES},
    {"endpoint", "token", cli_endpoint_token, "endpoint token NAME",
     "get a scoring token (aml_token endpoints)", "", 1, 1, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
