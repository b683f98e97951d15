/*
 * resource.h: the workspace's resource types (DESIGN.md "Resources and rules").
 *
 * Plain data, no behaviour beyond construction, copy and destruction. Every
 * string is heap-owned by the struct that holds it (NULL means unset) unless a
 * fixed array is used. Not thread-safe: callers serialise access.
 */
#ifndef STATE_RESOURCE_H
#define STATE_RESOURCE_H

#include <stddef.h>
#include <stdint.h>

#define RESOURCE_NAME_MAX 32        /* endpoints, deployments: Azure's 3-32 characters */
#define RESOURCE_ASSET_NAME_MAX 255 /* models, environments, code, data, jobs, schedules */
#define RESOURCE_VERSION_MAX 64     /* asset versions are strings ("1", "1.0", 32 hex) */
#define RESOURCE_KEY_LEN 48     /* endpoint keys: base64url, 32 random bytes -> 43 */

enum model_type { MODEL_XGBOOST, MODEL_LINEAR, MODEL_MLP, MODEL_CUSTOM, MODEL_MLFLOW };
enum data_type { DATA_URI_FILE, DATA_URI_FOLDER };
enum env_kind { ENV_NATIVE, ENV_PYTHON };
enum auth_mode { AUTH_KEY, AUTH_AMLTOKEN, AUTH_AADTOKEN /* batch endpoints */ };
enum prov_state {
	PROV_CREATING,
	PROV_UPDATING,
	PROV_SCALING,
	PROV_SUCCEEDED,
	PROV_FAILED,
	PROV_DELETING
};

/* An ordered string map (tags, environment variables). */
struct kv {
	char *key;
	char *value;
};
struct kvlist {
	struct kv *items;
	size_t n;
};

/* A traffic map: deployment name -> integer percentage. */
struct share {
	char name[RESOURCE_NAME_MAX + 1];
	int pct;
};
struct traffic {
	struct share *items;
	size_t n;
};

struct model_version {
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	char version[RESOURCE_VERSION_MAX + 1];
	enum model_type type;
	char *artifact;    /* path relative to the home, e.g. models/NAME/V/file.json */
	char *uri;         /* properties.modelUri as registered; NULL for a raw upload */
	char sha256[65];   /* hex of the artifact's bytes (a directory: see artifact.h) */
	uint64_t size;     /* bytes */
	char *flavors;     /* MLflow flavors as JSON text ({"sklearn":{"data":{...}}}), or NULL */
	char *description;
	struct kvlist tags;
	int archived;
	int64_t created;   /* unix seconds */
	uint64_t serial;   /* registration order in the workspace (workspace.h) */
};

/* An environment: native, a python interpreter given by path, or (as Azure
 * has them) an image and/or conda file mapped to a local interpreter when a
 * deployment loads (see docs/azure-compat.md). */
struct env_version {
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	char version[RESOURCE_VERSION_MAX + 1];
	enum env_kind kind;
	char *python;            /* interpreter path, or NULL to map image/conda_file */
	char *image;             /* Azure's properties.image, kept as sent */
	char *conda_file;        /* Azure's properties.condaFile (YAML or JSON text) */
	struct kvlist variables; /* extra environment variables */
	char **modules;          /* modules that must import */
	size_t nmodules;
	char *description;
	struct kvlist tags;
	int archived;
	int64_t created;
	uint64_t serial;
};

/* A code asset: a directory of files (score.py and friends) in the home. */
struct code_version {
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	char version[RESOURCE_VERSION_MAX + 1];
	char *code_uri;    /* properties.codeUri as sent */
	char *dir;         /* the directory it names, relative to the home */
	char *description;
	struct kvlist tags;
	int archived;
	int anonymous;
	int64_t created;
	uint64_t serial;
};

/* A data asset: a file or folder that batch jobs read (uri_file, uri_folder). */
struct data_version {
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	char version[RESOURCE_VERSION_MAX + 1];
	enum data_type type;
	char *uri; /* dataUri as given: a path, file://, azureml://datastores/... */
	char *description;
	struct kvlist tags;
	int archived;
	int64_t created;
	uint64_t serial;
};

struct endpoint {
	char name[RESOURCE_NAME_MAX + 1];
	enum auth_mode auth;
	char *description;
	struct traffic traffic;
	struct traffic mirror;
	char primary_key[RESOURCE_KEY_LEN + 1];
	char secondary_key[RESOURCE_KEY_LEN + 1];
	uint32_t key_generation; /* bumped by regenerateKeys and authMode changes; tokens carry it */
	/* workers (issue 7 item 6): random, made with the endpoint, never shown in the API;
	 * tokens are bound to it, so they die with the endpoint ("" for older states) */
	char uid[RESOURCE_KEY_LEN + 1];
	enum prov_state state;
	struct kvlist tags;
	int64_t created;
};

struct deployment {
	char endpoint[RESOURCE_NAME_MAX + 1];
	char name[RESOURCE_NAME_MAX + 1];
	char model_name[RESOURCE_ASSET_NAME_MAX + 1];
	char model_version[RESOURCE_VERSION_MAX + 1];
	char env_name[RESOURCE_ASSET_NAME_MAX + 1]; /* "" when none (mlflow_model) */
	char env_version[RESOURCE_VERSION_MAX + 1];
	char code_name[RESOURCE_ASSET_NAME_MAX + 1]; /* a code asset, "" when code_dir */
	char code_version[RESOURCE_VERSION_MAX + 1];
	char *code_dir;       /* custom_model: an absolute host directory (local extension) */
	char *scoring_script; /* custom_model only: relative to the code */
	char *instance_type;  /* echoed back; no local meaning */
	int instances;        /* sku.capacity, >= 1 */
	int max_concurrent;   /* maxConcurrentRequestsPerInstance, default 1 */
	int timeout_ms;       /* requestTimeout, default 5000 */
	struct kvlist variables;
	enum prov_state state;
	char *error;          /* last error, NULL when none */
	char *description;
	char *data_collector; /* monitor: the dataCollector, normalized JSON (datacollector.h); NULL none */
	int64_t created;
};

/* An enum's spellings: the first name of a value is how it is written. */
struct enum_name {
	const char *name;
	int value;
};
/* The name of v in t[0..n), "unknown" when absent. */
const char *resource_enum_name(const struct enum_name *t, size_t n, int v);
/* The value named s (case-insensitive) into *out; 0, or -1 when none. */
int resource_enum_parse(const struct enum_name *t, size_t n, const char *s, int *out);
/* *dst = strdup(src), NULL for NULL; 0, or -1 on ENOMEM. */
int resource_dup(char **dst, const char *src);

/* A long-running operation (Azure-AsyncOperation): a create, update or delete
 * of an endpoint or deployment, until it settles. Its status reads as Azure's
 * do: "Updating" while running, then Succeeded, Failed or Canceled. */
enum op_status { OP_RUNNING, OP_SUCCEEDED, OP_FAILED, OP_CANCELED };
struct operation {
	char id[40];                          /* "od:" + 32 hex, say */
	char endpoint[RESOURCE_NAME_MAX + 1];
	char deployment[RESOURCE_NAME_MAX + 1]; /* "" for the endpoint itself */
	enum op_status status;
	char *error;                          /* why it Failed, NULL otherwise */
	int64_t start, end;                   /* unix seconds; end 0 while running */
};

const char *model_type_name(enum model_type t);
int model_type_parse(const char *s, enum model_type *out); /* 0 or -1 */
const char *env_kind_name(enum env_kind k);
const char *auth_mode_name(enum auth_mode m);              /* "Key", "AMLToken" */
int auth_mode_parse(const char *s, enum auth_mode *out);    /* case-insensitive, aml_token too */
const char *prov_state_name(enum prov_state s);
int prov_state_parse(const char *s, enum prov_state *out);
const char *data_type_name(enum data_type t);       /* "uri_file", "uri_folder" */
int data_type_parse(const char *s, enum data_type *out); /* uri_file, UriFile, ... */
const char *op_status_name(enum op_status s);
int op_status_parse(const char *s, enum op_status *out);

/* kvlist: set replaces an existing key; strings are copied. 0 or -1 (ENOMEM). */
int kvlist_set(struct kvlist *l, const char *key, const char *value);
const char *kvlist_get(const struct kvlist *l, const char *key);
int kvlist_copy(struct kvlist *dst, const struct kvlist *src);
void kvlist_clear(struct kvlist *l);

/* traffic: set replaces (pct 0 keeps the entry); remove drops a name. */
int traffic_set(struct traffic *t, const char *name, int pct);
int traffic_get(const struct traffic *t, const char *name); /* 0 if absent */
void traffic_remove(struct traffic *t, const char *name);
int traffic_sum(const struct traffic *t);
int traffic_copy(struct traffic *dst, const struct traffic *src);
void traffic_clear(struct traffic *t);

/* Deep copies and cleanup of embedded structs. copy: 0 or -1 (ENOMEM). */
int model_version_copy(struct model_version *dst, const struct model_version *src);
void model_version_cleanup(struct model_version *m);
int env_version_copy(struct env_version *dst, const struct env_version *src);
void env_version_cleanup(struct env_version *e);
int endpoint_copy(struct endpoint *dst, const struct endpoint *src);
void endpoint_cleanup(struct endpoint *e);
int code_version_copy(struct code_version *dst, const struct code_version *src);
void code_version_cleanup(struct code_version *c);
int data_version_copy(struct data_version *dst, const struct data_version *src);
void data_version_cleanup(struct data_version *d);
int deployment_copy(struct deployment *dst, const struct deployment *src);
void deployment_cleanup(struct deployment *d);

/* The one rule for what a deployment change needs (the workspace's state
 * after a PUT, and the fleet): a new engine when the model, environment, code,
 * scoring script, timeout or environment variables change; else a live
 * rescale when the instance count or concurrency changes; else nothing (an
 * identical PUT). Specs only: a re-PUT of a Failed deployment retries, which
 * the workspace marks by moving it to Updating (workspace.h). */
int deployment_needs_reload(const struct deployment *old, const struct deployment *next);
int deployment_needs_rescale(const struct deployment *old, const struct deployment *next);

#endif
