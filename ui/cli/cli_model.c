/* cli_model.c: `mldeck model ...` and `mldeck env ...` (versioned assets). */
#include "ui/cli/cli.h"
#include "state/file.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/upload.h"

#define CLI_MODEL_UPLOAD_MAX ((size_t)1 << 30)
#define CLI_CONDA_MAX ((size_t)1 << 20)

/* ".../models/NAME/versions/V" -> "NAME". */
static void cli_model_fmt_name(const cJSON *node, char *buf, size_t len)
{
	const char *s = cJSON_IsString(node) ? node->valuestring : "";
	const char *v = strstr(s, "/versions/");
	const char *n = v;

	if (v == NULL)
		return (void)snprintf(buf, len, "-");
	while (n > s && n[-1] != '/')
		n--;
	snprintf(buf, len, "%.*s", (int)(v - n), n);
}

static const struct cli_col cli_model_cols[] = {
    {"NAME", "id", cli_model_fmt_name},
    {"VERSION", "name", NULL},
    {"TYPE", "properties.modelType", NULL},
    {"SIZE", "properties.properties.size", cli_out_fmt_size},
    {"SHA256", "properties.properties.sha256", cli_out_fmt_short},
};

static const struct cli_col cli_model_detail[] = {
    {"name", "id", cli_model_fmt_name},
    {"version", "name", NULL},
    {"type", "properties.modelType", NULL},
    {"uri", "properties.modelUri", NULL},
    {"size", "properties.properties.size", cli_out_fmt_size},
    {"sha256", "properties.properties.sha256", NULL},
    {"description", "properties.description", NULL},
    {"id", "id", NULL},
};

static const struct cli_col cli_env_cols[] = {
    {"NAME", "id", cli_model_fmt_name},
    {"VERSION", "name", NULL},
    {"KIND", "properties.environmentKind", NULL},
    {"PYTHON", "properties.interpreterPath", NULL},
};

static const struct cli_col cli_env_detail[] = {
    {"name", "id", cli_model_fmt_name},
    {"version", "name", NULL},
    {"kind", "properties.environmentKind", NULL},
    {"python", "properties.interpreterPath", NULL},
    {"requires", "properties.requiredModules", NULL},
    {"variables", "properties.environmentVariables", NULL},
    {"description", "properties.description", NULL},
    {"id", "id", NULL},
};

/* The two asset kinds share list/show/delete and "next version". */
struct cli_asset {
	const char *kind; /* URL segment */
	const struct cli_col *cols, *detail;
	size_t ncols, ndetail;
};

static const struct cli_asset cli_assets[] = {
    {"models", cli_model_cols, cli_model_detail, 5, 8},
    {"environments", cli_env_cols, cli_env_detail, 4, 8},
};

static const struct cli_asset *cli_asset_of(const struct cli_verb *v)
{
	return strcmp(v->noun, "model") == 0 ? &cli_assets[0] : &cli_assets[1];
}

/* The versions of every asset of a kind, concatenated into one array. */
static int cli_asset_all(struct client *cl, const char *kind, cJSON **out, struct error *err)
{
	char path[512], e[200];
	cJSON *names = NULL, *all = cJSON_CreateArray();
	const cJSON *it;

	snprintf(path, sizeof path, "/%s", kind);
	if (client_list(cl, path, &names, err) < 0) {
		cJSON_Delete(all);
		return -1;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(names, "value"))
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		cJSON *vers = NULL, *x;
		if (!cJSON_IsString(n))
			continue;
		snprintf(path, sizeof path, "/%s/%s/versions", kind,
			 cli_esc(e, sizeof e, n->valuestring));
		if (client_list(cl, path, &vers, err) < 0 && err->status == 404) {
			error_clear(err); /* removed meanwhile */
			continue;
		}
		if (vers == NULL) {
			cJSON_Delete(names);
			cJSON_Delete(all);
			return -1;
		}
		cJSON *val = cJSON_GetObjectItemCaseSensitive(vers, "value");
		while (cJSON_IsArray(val) && (x = cJSON_DetachItemFromArray(val, 0)) != NULL)
			cJSON_AddItemToArray(all, x);
		cJSON_Delete(vers);
	}
	cJSON_Delete(names);
	*out = all;
	return 0;
}

static int cli_asset_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const struct cli_asset *as = cli_asset_of(v);
	struct error err = {0};
	struct client *cl = cli_client(c, &err);
	cJSON *doc = NULL;

	(void)a;
	if (cl == NULL || cli_asset_all(cl, as->kind, &doc, &err) < 0)
		return cli_fail(&err);
	return cli_show(c, as->cols, as->ncols, as->detail, as->ndetail, doc);
}

static int cli_asset_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const struct cli_asset *as = cli_asset_of(v);
	char name[256], ver[65], en[800], ev[200], path[1100];
	struct error err = {0};
	cJSON *doc = NULL;

	if (cli_split_ref(a->pos[0], name, sizeof name, ver, sizeof ver) < 0)
		return cli_usage(v, "bad reference \"%s\" (NAME or NAME:VERSION)", a->pos[0]);
	snprintf(path, sizeof path, "/%s/%s/versions%s%s", as->kind, cli_esc(en, sizeof en, name),
		 ver[0] ? "/" : "", cli_esc(ev, sizeof ev, ver));
	struct client *cl = cli_client(c, &err);
	if (cl == NULL || (ver[0] ? client_call(cl, "GET", path, NULL, &doc, &err)
				  : client_list(cl, path, &doc, &err)) < 0)
		return cli_fail(&err);
	return cli_show(c, as->cols, as->ncols, as->detail, as->ndetail, doc);
}

static int cli_asset_delete(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const struct cli_asset *as = cli_asset_of(v);
	char name[256], ver[65], en[800], ev[200], path[1100];
	struct error err = {0};
	cJSON *doc = NULL;

	if (cli_split_ref(a->pos[0], name, sizeof name, ver, sizeof ver) < 0 || ver[0] == '\0')
		return cli_usage(v, "give NAME:VERSION, not \"%s\"", a->pos[0]);
	snprintf(path, sizeof path, "/%s/%s/versions/%s", as->kind, cli_esc(en, sizeof en, name),
		 cli_esc(ev, sizeof ev, ver));
	struct client *cl = cli_client(c, &err);
	if (cl == NULL || client_call(cl, "DELETE", path, NULL, &doc, &err) < 0)
		return cli_fail(&err);
	cJSON_Delete(doc);
	if (!c->json)
		printf("Deleted %s %s:%s.\n", v->noun, name, ver);
	return CLI_OK;
}

/* Highest existing version + 1 ("1" when there is none). */
static int cli_asset_next(struct client *cl, const char *kind, const char *name, char *ver,
			  size_t len, struct error *err)
{
	char en[400], path[600];
	cJSON *doc = NULL;
	const cJSON *it;
	long max = 0;

	snprintf(path, sizeof path, "/%s/%s/versions", kind, cli_esc(en, sizeof en, name));
	if (client_list(cl, path, &doc, err) < 0 && err->status != 404)
		return -1;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "value"))
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *pv = cli_out_at(it, "properties.version");
		const char *s = cJSON_IsString(pv)  ? pv->valuestring
				: cJSON_IsString(n) ? n->valuestring
						    : "0";
		long x = strtol(s, NULL, 10);
		if (x > max)
			max = x;
	}
	cJSON_Delete(doc);
	error_clear(err);
	snprintf(ver, len, "%ld", max + 1);
	return 0;
}

/* PUTs the version built by put(); without --version takes the next one and
 * tries once more on a 409 (someone else took it meanwhile). */
static int cli_asset_put(struct cli *c, const struct cli_verb *v, const struct cli_args *a,
			 int (*put)(struct cli *, const struct cli_args *, const char *path,
				    cJSON **out, struct error *),
			 const struct cli_asset *as)
{
	char ver[65], en[800], ev[200], path[1100];
	const char *given = cli_args_get(a, "--version");
	struct error err = {0};
	cJSON *doc = NULL;
	struct client *cl = cli_client(c, &err);

	if (cl == NULL)
		return cli_fail(&err);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (given != NULL)
			snprintf(ver, sizeof ver, "%s", given);
		else if (cli_asset_next(cl, as->kind, a->pos[0], ver, sizeof ver, &err) < 0)
			return cli_fail(&err);
		snprintf(path, sizeof path, "/%s/%s/versions/%s", as->kind,
			 cli_esc(en, sizeof en, a->pos[0]), cli_esc(ev, sizeof ev, ver));
		if (put(c, a, path, &doc, &err) == 0)
			return cli_show(c, as->cols, as->ncols, as->detail, as->ndetail, doc);
		if (given != NULL || err.status != 409)
			break;
	}
	(void)v;
	return cli_fail(&err);
}

/* Model types: the runtime's native engines, and what Azure ML serves too. */
static const char *const cli_model_types[] = {"xgboost",      "linear",       "mlp",
					       "custom_model", "mlflow_model", "triton_model"};
#define CLI_MODEL_AZURE_TYPES 3 /* the last three */

/* Azure: the file or folder goes to the workspace's datastore first; the
 * version points at it (azureml://.../paths/LocalUpload/{hash}/{name}). */
static int cli_model_put_azure(struct cli *c, const struct cli_args *a, const char *path,
			       cJSON **out, struct error *err)
{
	struct upload_result r;
	const char *ver = strrchr(path, '/') + 1, *name = a->pos[0];

	if (upload_path(c->client, cli_args_get(a, "--path"), name, ver, cli_upload_progress, NULL,
			&r, err) < 0)
		return -1;
	cli_upload_note(&r, "");
	cJSON *body = cJSON_CreateObject();
	cJSON *props = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(props, "modelType", cli_args_get(a, "--type"));
	cJSON_AddStringToObject(props, "modelUri", r.azureml_uri);
	if (cli_args_get(a, "--description") != NULL)
		cJSON_AddStringToObject(props, "description", cli_args_get(a, "--description"));
	int rc = client_call(c->client, "PUT", path, body, out, err);
	cJSON_Delete(body);
	return rc;
}

/* Reads a regular file for a raw upload (bounded). */
static int cli_model_read(const char *path, char **data, size_t *len, struct error *err)
{
	*data = file_read(path, CLI_MODEL_UPLOAD_MAX, len);
	if (*data == NULL)
		return error_set(err, 400, "BadPath", "cannot upload %s (unreadable or over 1 GiB)",
				 path);
	return 0;
}

/* Remote runtime: the file's bytes go in the body; name, type and
 * description ride in the query (and x-mldeck-filename, see client.c). */
static int cli_model_upload(struct cli *c, const struct cli_args *a, const char *path,
			    const char *abs, cJSON **out, struct error *err)
{
	char full[2048], fn[600], ty[100], de[1200], copy[PATH_MAX];
	char *data = NULL;
	size_t len = 0;
	const char *desc = cli_args_get(a, "--description");

	snprintf(copy, sizeof copy, "%s", abs);
	if (cli_model_read(abs, &data, &len, err) < 0)
		return -1;
	snprintf(full, sizeof full, "%s?filename=%s&modelType=%s%s%s", path,
		 cli_esc(fn, sizeof fn, basename(copy)),
		 cli_esc(ty, sizeof ty, cli_args_get(a, "--type")), desc ? "&description=" : "",
		 desc ? cli_esc(de, sizeof de, desc) : "");
	int rc = client_call_raw(c->client, "PUT", full, data, len, "application/octet-stream", out,
				 err);
	free(data);
	return rc;
}

static int cli_model_put(struct cli *c, const struct cli_args *a, const char *path, cJSON **out,
			 struct error *err)
{
	char abs[PATH_MAX];
	struct stat st;

	if (realpath(cli_args_get(a, "--path"), abs) == NULL || stat(abs, &st) < 0)
		return error_set(err, 400, "BadPath", "--path %s: %s", cli_args_get(a, "--path"),
				 strerror(errno));
	if (cli_is_azure(c))
		return cli_model_put_azure(c, a, path, out, err);
	if (!connect_same_host(c->client)) {
		if (!S_ISREG(st.st_mode))
			return error_set(err, 400, "BadPath",
					 "%s is a directory: a remote runtime takes single files "
					 "(or register a path on the runtime's host)",
					 abs);
		return cli_model_upload(c, a, path, abs, out, err);
	}
	cJSON *body = cJSON_CreateObject();
	cJSON *props = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(props, "modelType", cli_args_get(a, "--type"));
	cJSON_AddStringToObject(props, "modelUri", abs);
	if (cli_args_get(a, "--description") != NULL)
		cJSON_AddStringToObject(props, "description", cli_args_get(a, "--description"));
	int rc = client_call(c->client, "PUT", path, body, out, err);
	cJSON_Delete(body);
	return rc;
}

static int cli_model_register(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *type = cli_args_get(a, "--type");
	const char *path = cli_args_get(a, "--path");
	struct stat st;
	size_t k;

	if (path == NULL || type == NULL)
		return cli_usage(v, "--path and --type are required");
	for (k = 0; k < sizeof cli_model_types / sizeof cli_model_types[0]; k++)
		if (strcmp(type, cli_model_types[k]) == 0)
			break;
	if (k == sizeof cli_model_types / sizeof cli_model_types[0])
		return cli_usage(v,
				 "--type must be xgboost, linear, mlp, custom_model, mlflow_model "
				 "or triton_model, not \"%s\"",
				 type);
	if (cli_is_azure(c) &&
	    k < sizeof cli_model_types / sizeof cli_model_types[0] - CLI_MODEL_AZURE_TYPES)
		return cli_usage(v,
				 "Azure ML serves custom_model, mlflow_model and triton_model; "
				 "%s is one of the local runtime's engines",
				 type);
	if (stat(path, &st) < 0)
		return cli_usage(v, "--path %s: %s", path, strerror(errno));
	return cli_asset_put(c, v, a, cli_model_put, &cli_assets[0]);
}

/* A relative interpreter path with a slash is made absolute; "python3" stays. */
static void cli_env_interpreter(const char *in, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (in[0] != '/' && strchr(in, '/') != NULL && getcwd(cwd, sizeof cwd) != NULL)
		snprintf(out, len, "%s/%s", cwd, in);
	else
		snprintf(out, len, "%s", in);
}

/* --image IMAGE [--conda-file FILE]: Azure's environment shape (the conda
 * file's YAML text goes in condaFile). */
static int cli_env_image(cJSON *props, const struct cli_args *a, struct error *err)
{
	const char *conda = cli_args_get(a, "--conda-file");
	size_t len;

	cJSON_AddStringToObject(props, "image", cli_args_get(a, "--image"));
	cJSON_AddStringToObject(props, "osType", "Linux");
	if (conda == NULL)
		return 0;
	char *text = file_read(conda, CLI_CONDA_MAX, &len);
	if (text == NULL)
		return error_set(err, 400, "BadPath", "--conda-file %s: %s", conda,
				 errno == EFBIG ? "over 1 MiB" : strerror(errno));
	cJSON_AddStringToObject(props, "condaFile", text);
	free(text);
	return 0;
}

static int cli_env_put(struct cli *c, const struct cli_args *a, const char *path, cJSON **out,
		       struct error *err)
{
	char py[PATH_MAX + 8];
	cJSON *body = cJSON_CreateObject();
	cJSON *props = cJSON_AddObjectToObject(body, "properties");
	const char *python = cli_args_get(a, "--python");
	int rc = 0;

	if (cli_args_has(a, "--image")) {
		rc = cli_env_image(props, a, err);
	} else {
		cJSON_AddStringToObject(props, "environmentKind",
					python != NULL ? "python" : "native");
	}
	if (python != NULL) {
		cli_env_interpreter(python, py, sizeof py);
		cJSON_AddStringToObject(props, "interpreterPath", py);
		cJSON *mods = cJSON_AddArrayToObject(props, "requiredModules");
		for (int k = 0; cli_args_nth(a, "--require", k) != NULL; k++)
			cJSON_AddItemToArray(mods,
					     cJSON_CreateString(cli_args_nth(a, "--require", k)));
	}
	if (cli_args_get(a, "--description") != NULL)
		cJSON_AddStringToObject(props, "description", cli_args_get(a, "--description"));
	if (rc == 0)
		rc = client_call(c->client, "PUT", path, body, out, err);
	cJSON_Delete(body);
	return rc;
}

static int cli_env_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	int native = cli_args_has(a, "--native");
	int python = cli_args_has(a, "--python");
	int image = cli_args_has(a, "--image");

	if (native + python + image != 1)
		return cli_usage(v, "give exactly one of --native, --python PATH and --image IMAGE");
	if (!python && cli_args_has(a, "--require"))
		return cli_usage(v, "--require goes with --python");
	if (!image && cli_args_has(a, "--conda-file"))
		return cli_usage(v, "--conda-file goes with --image");
	if (!image && cli_is_azure(c))
		return cli_usage(v, "Azure ML environments are container images: use --image IMAGE "
				    "[--conda-file FILE] (--native and --python are the local "
				    "runtime's)");
	return cli_asset_put(c, v, a, cli_env_put, &cli_assets[1]);
}

const struct cli_verb cli_model_verbs[] = {
    {"model", "register", cli_model_register,
     "model register NAME --path PATH --type TYPE [--version V] [--description TEXT]",
     "register a model version (TYPE: xgboost, linear, mlp, custom_model, mlflow_model: a "
     "folder with an MLmodel file; on Azure custom_model, mlflow_model, triton_model: the "
     "file or folder is uploaded to the workspace's datastore); without --version the next "
     "version",
     "--path= --type= --version= --description=", 1, 1, CLI_CHANGES},
    {"model", "list", cli_asset_list, "model list", "list every model version", "", 0, 0, CLI_READS},
    {"model", "show", cli_asset_show, "model show NAME[:V]",
     "show a model version, or every version of NAME", "", 1, 1, CLI_READS},
    {"model", "delete", cli_asset_delete, "model delete NAME:V",
     "delete a model version (refused while a deployment uses it)", "", 1, 1, CLI_CHANGES},
    {"env", "create", cli_env_create,
     "env create NAME (--native | --python PATH [--require MOD]... | --image IMAGE "
     "[--conda-file FILE]) [--version V]",
     "create an environment version: native engines, a Python interpreter whose listed "
     "modules must import, or (Azure) a container image with an optional conda file",
     "--native --python= --require=* --image= --conda-file= --version= --description=", 1, 1,
     CLI_CHANGES},
    {"env", "list", cli_asset_list, "env list", "list every environment version", "", 0, 0, CLI_READS},
    {"env", "show", cli_asset_show, "env show NAME[:V]",
     "show an environment version, or every version of NAME", "", 1, 1, CLI_READS},
    {"env", "delete", cli_asset_delete, "env delete NAME:V",
     "delete an environment version (refused while a deployment uses it)", "", 1, 1, CLI_CHANGES},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
