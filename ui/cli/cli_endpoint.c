/* cli_endpoint.c: `mldeck endpoint ...`. */
#include "ui/cli/cli_endpoint.h"

#include <string.h>

#include "api/azure.h"

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

int cli_endpoint_set_traffic(struct cli *c, const struct cli_args *a, const char *ep,
			     const cJSON *traffic, const cJSON *mirror, cJSON **out,
			     struct error *err)
{
	char path[400], what[200];
	cJSON *cur = NULL;
	struct client *cl = cli_client(c, err);

	*out = NULL;
	cli_endpoint_path(path, sizeof path, ep, "");
	if (cl == NULL || client_call(cl, "GET", path, NULL, &cur, err) < 0)
		return -1;
	cJSON *body = azure_endpoint_body(cur);
	cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "properties");
	azure_replace(p, "traffic", traffic);
	azure_replace(p, "mirrorTraffic", mirror);
	snprintf(what, sizeof what, "traffic of %s", ep);
	int rc = cli_lro(c, a, "PUT", path, body, what, out, err);
	cJSON_Delete(body);
	cJSON_Delete(cur);
	return rc;
}

/* The endpoint as it is, or NULL when it does not exist (404 is no error). */
static int cli_endpoint_current(struct cli *c, const char *path, cJSON **cur, struct error *err)
{
	struct client *cl = cli_client(c, err);

	*cur = NULL;
	if (cl == NULL)
		return -1;
	if (client_call(cl, "GET", path, NULL, cur, err) == 0 || err->status == 404)
		return error_clear(err), 0;
	return -1;
}

static int cli_endpoint_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *auth = cli_args_get(a, "--auth");
	const char *mode;
	char path[400], loc[64], what[160];
	struct error err = {0};
	cJSON *cur = NULL, *doc = NULL;

	if (auth == NULL || strcmp(auth, "key") == 0)
		mode = "Key";
	else if (strcmp(auth, "aml_token") == 0)
		mode = "AMLToken";
	else if (strcmp(auth, "aad_token") == 0)
		mode = "AADToken";
	else
		return cli_usage(v, "--auth must be key, aml_token or aad_token, not \"%s\"", auth);
	cli_endpoint_path(path, sizeof path, a->pos[0], "");
	if (cli_endpoint_current(c, path, &cur, &err) < 0 ||
	    (cur == NULL && cli_location(c, loc, sizeof loc, &err) < 0))
		return cli_fail(&err);
	cJSON *body = azure_endpoint_body(cur);
	if (cur == NULL)
		cJSON_AddStringToObject(body, "location", loc);
	cJSON *props = cJSON_GetObjectItemCaseSensitive(body, "properties");
	cJSON_DeleteItemFromObjectCaseSensitive(props, "authMode");
	cJSON_AddStringToObject(props, "authMode", mode);
	if (cli_args_get(a, "--description") != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(props, "description");
		cJSON_AddStringToObject(props, "description", cli_args_get(a, "--description"));
	}
	snprintf(what, sizeof what, "endpoint %s", a->pos[0]);
	int rc = cli_lro(c, a, "PUT", path, body, what, &doc, &err);
	cJSON_Delete(body);
	cJSON_Delete(cur);
	if (rc < 0)
		return cli_fail(&err);
	return CLI_EP_SHOW(c, doc);
}

static int cli_endpoint_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	cJSON *doc = NULL;
	struct client *cl = cli_client(c, &err);

	(void)v, (void)a;
	if (cl == NULL || client_list(cl, "/onlineEndpoints", &doc, &err) < 0)
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
	char what[160], path[400];
	struct error err = {0};
	cJSON *doc = NULL;
	int rc;

	snprintf(what, sizeof what, "endpoint %s and all its deployments", a->pos[0]);
	if ((rc = cli_confirm(v, a, what)) != CLI_OK)
		return rc;
	snprintf(what, sizeof what, "endpoint %s", a->pos[0]);
	cli_endpoint_path(path, sizeof path, a->pos[0], "");
	if (cli_lro(c, a, "DELETE", path, NULL, what, &doc, &err) < 0)
		return cli_fail(&err);
	cJSON_Delete(doc);
	if (!c->json)
		printf("%s endpoint %s.\n", cli_args_has(a, "--no-wait") ? "Deleting" : "Deleted",
		       a->pos[0]);
	return CLI_OK;
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
	char path[400], what[160];
	struct error err = {0};
	cJSON *doc = NULL;
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "keyType", type);
	cli_endpoint_path(path, sizeof path, a->pos[0], "/regenerateKeys");
	snprintf(what, sizeof what, "%s key of %s", kt, a->pos[0]);
	int rc = cli_lro(c, a, "POST", path, body, what, &doc, &err);
	cJSON_Delete(body);
	cJSON_Delete(doc);
	if (rc < 0)
		return cli_fail(&err);
	if (!c->json)
		printf("Regenerated the %s key of %s.\n", kt, a->pos[0]);
	return CLI_OK;
}

static int cli_endpoint_token(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v;
	return cli_endpoint_call(c, "POST", a->pos[0], "/token", NULL, 0);
}

const struct cli_verb cli_endpoint_verbs[] = {
    {"endpoint", "create", cli_endpoint_create,
     "endpoint create NAME [--auth key|aml_token|aad_token] [--description TEXT] [--no-wait]",
     "create (or update) an online endpoint in the workspace's region and wait until it is "
     "ready",
     "--auth= --description= --no-wait", 1, 1, CLI_CHANGES},
    {"endpoint", "list", cli_endpoint_list, "endpoint list", "list endpoints", "", 0, 0, CLI_READS},
    {"endpoint", "show", cli_endpoint_show, "endpoint show NAME",
     "show an endpoint, its scoring URI and traffic", "", 1, 1, CLI_READS},
    {"endpoint", "delete", cli_endpoint_delete, "endpoint delete NAME [--yes] [--no-wait]",
     "delete an endpoint and its deployments (asks on a terminal; else needs --yes)",
     "--yes --no-wait", 1, 1, CLI_CHANGES},
    {"endpoint", "keys", cli_endpoint_keys, "endpoint keys NAME",
     "print the endpoint's primary and secondary keys", "", 1, 1, CLI_READS},
    {"endpoint", "regenerate-keys", cli_endpoint_regen,
     "endpoint regenerate-keys NAME --key-type primary|secondary [--no-wait]",
     "replace a key (the old one stops working at once)", "--key-type= --no-wait", 1, 1,
     CLI_CHANGES},
    {"endpoint", "token", cli_endpoint_token, "endpoint token NAME",
     "get a scoring token (aml_token endpoints)", "", 1, 1, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
