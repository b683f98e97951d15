/* resource.c: construction, copy and destruction of the resource types. */
#include "state/resource.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The first spelling of each type is the one written; Azure's "CustomModel" and
 * "MLFlowModel" are read only. */
static const struct enum_name model_types[] = {
    {"xgboost", MODEL_XGBOOST},	    {"linear", MODEL_LINEAR},	     {"mlp", MODEL_MLP},
    {"custom_model", MODEL_CUSTOM}, {"CustomModel", MODEL_CUSTOM},  {"mlflow_model", MODEL_MLFLOW},
    {"MLFlowModel", MODEL_MLFLOW},
};

static const struct enum_name env_kinds[] = {
    {"native", ENV_NATIVE},
    {"python", ENV_PYTHON},
};

static const struct enum_name auth_modes[] = {
    {"Key", AUTH_KEY},
    {"AMLToken", AUTH_AMLTOKEN},
    {"aml_token", AUTH_AMLTOKEN},
    {"AADToken", AUTH_AADTOKEN},
    {"aad_token", AUTH_AADTOKEN},
};

static const struct enum_name prov_states[] = {
    {"Creating", PROV_CREATING},   {"Updating", PROV_UPDATING}, {"Scaling", PROV_SCALING},
    {"Succeeded", PROV_SUCCEEDED}, {"Failed", PROV_FAILED},	{"Deleting", PROV_DELETING},
};

static const struct enum_name data_types[] = {
    {"uri_file", DATA_URI_FILE},     {"uri_folder", DATA_URI_FOLDER},
    {"UriFile", DATA_URI_FILE},	     {"UriFolder", DATA_URI_FOLDER},
};

static const struct enum_name op_statuses[] = {
    {"Updating", OP_RUNNING},
    {"Succeeded", OP_SUCCEEDED},
    {"Failed", OP_FAILED},
    {"Canceled", OP_CANCELED},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *resource_enum_name(const struct enum_name *t, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	return "unknown";
}

int resource_enum_parse(const struct enum_name *t, size_t n, const char *s, int *out)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(t[i].name, s) == 0) {
			*out = t[i].value;
			return 0;
		}
	}
	return -1;
}

const char *model_type_name(enum model_type t)
{
	return resource_enum_name(model_types, NELEM(model_types), (int)t);
}

int model_type_parse(const char *s, enum model_type *out)
{
	int v;

	if (resource_enum_parse(model_types, NELEM(model_types), s, &v) < 0)
		return -1;
	*out = (enum model_type)v;
	return 0;
}

const char *env_kind_name(enum env_kind k)
{
	return resource_enum_name(env_kinds, NELEM(env_kinds), (int)k);
}

const char *auth_mode_name(enum auth_mode m)
{
	return resource_enum_name(auth_modes, NELEM(auth_modes), (int)m);
}

int auth_mode_parse(const char *s, enum auth_mode *out)
{
	int v;

	if (resource_enum_parse(auth_modes, NELEM(auth_modes), s, &v) < 0)
		return -1;
	*out = (enum auth_mode)v;
	return 0;
}

const char *prov_state_name(enum prov_state s)
{
	return resource_enum_name(prov_states, NELEM(prov_states), (int)s);
}

int prov_state_parse(const char *s, enum prov_state *out)
{
	int v;

	if (resource_enum_parse(prov_states, NELEM(prov_states), s, &v) < 0)
		return -1;
	*out = (enum prov_state)v;
	return 0;
}

const char *data_type_name(enum data_type t)
{
	return resource_enum_name(data_types, NELEM(data_types), (int)t);
}

int data_type_parse(const char *s, enum data_type *out)
{
	int v;

	if (resource_enum_parse(data_types, NELEM(data_types), s, &v) < 0)
		return -1;
	*out = (enum data_type)v;
	return 0;
}

const char *op_status_name(enum op_status s)
{
	return resource_enum_name(op_statuses, NELEM(op_statuses), (int)s);
}

int op_status_parse(const char *s, enum op_status *out)
{
	int v;

	if (resource_enum_parse(op_statuses, NELEM(op_statuses), s, &v) < 0)
		return -1;
	*out = (enum op_status)v;
	return 0;
}

int resource_dup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

int kvlist_set(struct kvlist *l, const char *key, const char *value)
{
	char *v = strdup(value != NULL ? value : "");
	struct kv *items;

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			free(l->items[i].value);
			l->items[i].value = v;
			return 0;
		}
	}
	items = realloc(l->items, (l->n + 1) * sizeof *items);
	if (items == NULL) {
		free(v);
		return -1;
	}
	l->items = items;
	items[l->n].key = strdup(key);
	if (items[l->n].key == NULL) {
		free(v);
		return -1;
	}
	items[l->n].value = v;
	l->n++;
	return 0;
}

const char *kvlist_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}

int kvlist_copy(struct kvlist *dst, const struct kvlist *src)
{
	dst->items = NULL;
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++) {
		if (kvlist_set(dst, src->items[i].key, src->items[i].value) < 0) {
			kvlist_clear(dst);
			return -1;
		}
	}
	return 0;
}

void kvlist_clear(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int traffic_set(struct traffic *t, const char *name, int pct)
{
	struct share *items;

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->items[i].name, name) == 0) {
			t->items[i].pct = pct;
			return 0;
		}
	}
	if (strlen(name) > RESOURCE_NAME_MAX)
		return -1;
	items = realloc(t->items, (t->n + 1) * sizeof *items);
	if (items == NULL)
		return -1;
	t->items = items;
	memset(&items[t->n], 0, sizeof items[t->n]);
	memcpy(items[t->n].name, name, strlen(name) + 1);
	items[t->n].pct = pct;
	t->n++;
	return 0;
}

int traffic_get(const struct traffic *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->items[i].name, name) == 0)
			return t->items[i].pct;
	return 0;
}

void traffic_remove(struct traffic *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->items[i].name, name) == 0) {
			memmove(&t->items[i], &t->items[i + 1],
				(t->n - i - 1) * sizeof t->items[0]);
			t->n--;
			return;
		}
	}
}

int traffic_sum(const struct traffic *t)
{
	int sum = 0;

	for (size_t i = 0; i < t->n; i++)
		sum += t->items[i].pct;
	return sum;
}

int traffic_copy(struct traffic *dst, const struct traffic *src)
{
	dst->items = NULL;
	dst->n = 0;
	if (src->n == 0)
		return 0;
	dst->items = malloc(src->n * sizeof *dst->items);
	if (dst->items == NULL)
		return -1;
	memcpy(dst->items, src->items, src->n * sizeof *dst->items);
	dst->n = src->n;
	return 0;
}

void traffic_clear(struct traffic *t)
{
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

int model_version_copy(struct model_version *dst, const struct model_version *src)
{
	*dst = *src;
	dst->artifact = NULL;
	dst->uri = NULL;
	dst->flavors = NULL;
	dst->description = NULL;
	dst->tags.items = NULL;
	dst->tags.n = 0;
	if (resource_dup(&dst->artifact, src->artifact) < 0 || resource_dup(&dst->uri, src->uri) < 0 ||
	    resource_dup(&dst->flavors, src->flavors) < 0 ||
	    resource_dup(&dst->description, src->description) < 0 ||
	    kvlist_copy(&dst->tags, &src->tags) < 0) {
		model_version_cleanup(dst);
		return -1;
	}
	return 0;
}

void model_version_cleanup(struct model_version *m)
{
	free(m->artifact);
	free(m->uri);
	free(m->flavors);
	free(m->description);
	kvlist_clear(&m->tags);
	m->artifact = NULL;
	m->uri = NULL;
	m->flavors = NULL;
	m->description = NULL;
}

static int modules_copy(struct env_version *dst, const struct env_version *src)
{
	dst->modules = NULL;
	dst->nmodules = 0;
	if (src->nmodules == 0)
		return 0;
	dst->modules = calloc(src->nmodules, sizeof *dst->modules);
	if (dst->modules == NULL)
		return -1;
	for (size_t i = 0; i < src->nmodules; i++) {
		dst->nmodules = i + 1;
		if (resource_dup(&dst->modules[i], src->modules[i]) < 0)
			return -1;
	}
	return 0;
}

int env_version_copy(struct env_version *dst, const struct env_version *src)
{
	*dst = *src;
	dst->python = NULL;
	dst->image = NULL;
	dst->conda_file = NULL;
	dst->description = NULL;
	dst->modules = NULL;
	dst->nmodules = 0;
	memset(&dst->variables, 0, sizeof dst->variables);
	memset(&dst->tags, 0, sizeof dst->tags);
	if (resource_dup(&dst->python, src->python) < 0 || resource_dup(&dst->image, src->image) < 0 ||
	    resource_dup(&dst->conda_file, src->conda_file) < 0 ||
	    resource_dup(&dst->description, src->description) < 0 ||
	    kvlist_copy(&dst->variables, &src->variables) < 0 ||
	    kvlist_copy(&dst->tags, &src->tags) < 0 || modules_copy(dst, src) < 0) {
		env_version_cleanup(dst);
		return -1;
	}
	return 0;
}

void env_version_cleanup(struct env_version *e)
{
	free(e->python);
	free(e->image);
	free(e->conda_file);
	free(e->description);
	kvlist_clear(&e->variables);
	kvlist_clear(&e->tags);
	for (size_t i = 0; i < e->nmodules; i++)
		free(e->modules[i]);
	free(e->modules);
	e->python = NULL;
	e->image = NULL;
	e->conda_file = NULL;
	e->description = NULL;
	e->modules = NULL;
	e->nmodules = 0;
}

int endpoint_copy(struct endpoint *dst, const struct endpoint *src)
{
	*dst = *src;
	dst->description = NULL;
	memset(&dst->traffic, 0, sizeof dst->traffic);
	memset(&dst->mirror, 0, sizeof dst->mirror);
	memset(&dst->tags, 0, sizeof dst->tags);
	if (resource_dup(&dst->description, src->description) < 0 ||
	    traffic_copy(&dst->traffic, &src->traffic) < 0 ||
	    traffic_copy(&dst->mirror, &src->mirror) < 0 ||
	    kvlist_copy(&dst->tags, &src->tags) < 0) {
		endpoint_cleanup(dst);
		return -1;
	}
	return 0;
}

void endpoint_cleanup(struct endpoint *e)
{
	free(e->description);
	e->description = NULL;
	traffic_clear(&e->traffic);
	traffic_clear(&e->mirror);
	kvlist_clear(&e->tags);
}

int code_version_copy(struct code_version *dst, const struct code_version *src)
{
	*dst = *src;
	dst->code_uri = NULL;
	dst->dir = NULL;
	dst->description = NULL;
	memset(&dst->tags, 0, sizeof dst->tags);
	if (resource_dup(&dst->code_uri, src->code_uri) < 0 || resource_dup(&dst->dir, src->dir) < 0 ||
	    resource_dup(&dst->description, src->description) < 0 ||
	    kvlist_copy(&dst->tags, &src->tags) < 0) {
		code_version_cleanup(dst);
		return -1;
	}
	return 0;
}

void code_version_cleanup(struct code_version *c)
{
	free(c->code_uri);
	free(c->dir);
	free(c->description);
	kvlist_clear(&c->tags);
	c->code_uri = NULL;
	c->dir = NULL;
	c->description = NULL;
}

int data_version_copy(struct data_version *dst, const struct data_version *src)
{
	*dst = *src;
	dst->uri = dst->description = NULL;
	memset(&dst->tags, 0, sizeof dst->tags);
	if (resource_dup(&dst->uri, src->uri) < 0 ||
	    resource_dup(&dst->description, src->description) < 0 ||
	    kvlist_copy(&dst->tags, &src->tags) < 0) {
		data_version_cleanup(dst);
		return -1;
	}
	return 0;
}

void data_version_cleanup(struct data_version *d)
{
	free(d->uri);
	free(d->description);
	d->uri = d->description = NULL;
	kvlist_clear(&d->tags);
}

int deployment_copy(struct deployment *dst, const struct deployment *src)
{
	*dst = *src;
	dst->code_dir = NULL;
	dst->scoring_script = NULL;
	dst->instance_type = NULL;
	dst->error = NULL;
	dst->description = NULL;
	dst->data_collector = NULL;
	memset(&dst->variables, 0, sizeof dst->variables);
	if (resource_dup(&dst->code_dir, src->code_dir) < 0 ||
	    resource_dup(&dst->data_collector, src->data_collector) < 0 ||
	    resource_dup(&dst->scoring_script, src->scoring_script) < 0 ||
	    resource_dup(&dst->instance_type, src->instance_type) < 0 ||
	    resource_dup(&dst->error, src->error) < 0 ||
	    resource_dup(&dst->description, src->description) < 0 ||
	    kvlist_copy(&dst->variables, &src->variables) < 0) {
		deployment_cleanup(dst);
		return -1;
	}
	return 0;
}

void deployment_cleanup(struct deployment *d)
{
	free(d->code_dir);
	free(d->scoring_script);
	free(d->instance_type);
	free(d->error);
	free(d->description);
	free(d->data_collector);
	d->data_collector = NULL;
	d->code_dir = NULL;
	d->scoring_script = NULL;
	d->instance_type = NULL;
	d->error = NULL;
	d->description = NULL;
	kvlist_clear(&d->variables);
}

static int str_same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static int kv_same(const struct kvlist *a, const struct kvlist *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const char *v = kvlist_get(b, a->items[i].key);

		if (v == NULL || strcmp(v, a->items[i].value) != 0)
			return 0;
	}
	return 1;
}

int deployment_needs_reload(const struct deployment *old, const struct deployment *next)
{
	return strcmp(old->model_name, next->model_name) != 0 ||
	       strcmp(old->model_version, next->model_version) != 0 ||
	       strcmp(old->env_name, next->env_name) != 0 ||
	       strcmp(old->env_version, next->env_version) != 0 ||
	       strcmp(old->code_name, next->code_name) != 0 ||
	       strcmp(old->code_version, next->code_version) != 0 ||
	       !str_same(old->code_dir, next->code_dir) ||
	       !str_same(old->scoring_script, next->scoring_script) ||
	       old->timeout_ms != next->timeout_ms || !kv_same(&old->variables, &next->variables);
}

int deployment_needs_rescale(const struct deployment *old, const struct deployment *next)
{
	return old->instances != next->instances || old->max_concurrent != next->max_concurrent;
}
