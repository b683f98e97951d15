/* yaml.c: libyaml events to a cJSON tree (see yaml.h). */
#include "state/yaml.h"

#include <string.h>
#include <strings.h>

#include <yaml.h>

#define DEPTH_MAX 64

struct reader {
	yaml_parser_t p;
	struct error *err;
};

static int fail(struct reader *r, const char *what)
{
	return error_set(r->err, 400, "ValidationError", "YAML line %lu: %s",
			 (unsigned long)r->p.problem_mark.line + 1,
			 r->p.problem != NULL ? r->p.problem : what);
}

static cJSON *scalar(const yaml_event_t *e)
{
	const char *v = (const char *)e->data.scalar.value;

	if (strlen(v) != e->data.scalar.length) /* "\0" in a quoted scalar: not JSON text */
		return NULL;
	if (e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (v[0] == '\0' || !strcmp(v, "~") || !strcasecmp(v, "null")))
		return cJSON_CreateNull();
	return cJSON_CreateString(v);
}

static cJSON *node(struct reader *r, yaml_event_t *e, int depth);

/* Reads nodes until the closing event; pairs them when it is a mapping. */
static cJSON *collection(struct reader *r, int mapping, int depth)
{
	cJSON *c = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
	yaml_event_t e, k;

	for (;;) {
		if (!yaml_parser_parse(&r->p, &e))
			goto bad;
		if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&e);
			return c;
		}
		if (!mapping) {
			cJSON *v = node(r, &e, depth + 1);

			if (v == NULL)
				goto out;
			cJSON_AddItemToArray(c, v);
			continue;
		}
		if (e.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&e);
			fail(r, "mapping keys must be plain text");
			goto out;
		}
		k = e;
		if (!yaml_parser_parse(&r->p, &e)) {
			yaml_event_delete(&k);
			goto bad;
		}
		if (cJSON_GetObjectItemCaseSensitive(c, (const char *)k.data.scalar.value) != NULL ||
		    strlen((const char *)k.data.scalar.value) != k.data.scalar.length) {
			/* YAML wants keys unique; conda and MLflow (PyYAML) take the last, a
			 * lookup here the first: neither is guessed */
			error_set(r->err, 400, "ValidationError", "YAML line %lu: %s \"%.80s\"",
				  (unsigned long)k.start_mark.line + 1,
				  k.data.scalar.length == strlen((const char *)k.data.scalar.value)
				      ? "duplicate key"
				      : "a NUL byte in the key",
				  (const char *)k.data.scalar.value);
			yaml_event_delete(&k);
			yaml_event_delete(&e);
			goto out;
		}
		{
			cJSON *v = node(r, &e, depth + 1);

			if (v != NULL)
				cJSON_AddItemToObject(c, (const char *)k.data.scalar.value, v);
			yaml_event_delete(&k);
			if (v == NULL)
				goto out;
		}
	}
bad:
	fail(r, "malformed");
out:
	cJSON_Delete(c);
	return NULL;
}

/* Consumes event e (and the events of its children). */
static cJSON *node(struct reader *r, yaml_event_t *e, int depth)
{
	cJSON *v = NULL;

	if (depth > DEPTH_MAX) {
		fail(r, "nested too deeply");
	} else if (e->type == YAML_SCALAR_EVENT) {
		v = e->data.scalar.anchor != NULL ? NULL : scalar(e);
		if (v == NULL)
			error_set(r->err, 400, "ValidationError", "YAML line %lu: %s",
				  (unsigned long)e->start_mark.line + 1,
				  e->data.scalar.anchor != NULL ? "anchors are not supported"
								: "a NUL byte in a string");
	} else if (e->type == YAML_MAPPING_START_EVENT || e->type == YAML_SEQUENCE_START_EVENT) {
		v = collection(r, e->type == YAML_MAPPING_START_EVENT, depth);
	} else {
		fail(r, e->type == YAML_ALIAS_EVENT ? "aliases are not supported" : "unexpected");
	}
	yaml_event_delete(e);
	return v;
}

cJSON *yaml_to_json(const char *text, size_t len, struct error *err)
{
	struct reader r;
	yaml_event_t e;
	cJSON *doc = NULL;
	int done = 0;

	memset(&r, 0, sizeof r);
	r.err = err;
	if (!yaml_parser_initialize(&r.p)) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&r.p, (const unsigned char *)text, len);
	while (!done && doc == NULL) {
		if (!yaml_parser_parse(&r.p, &e)) {
			fail(&r, "malformed");
			break;
		}
		if (e.type == YAML_STREAM_END_EVENT) {
			error_set(err, 400, "ValidationError", "the YAML document is empty");
			done = 1;
		} else if (e.type == YAML_STREAM_START_EVENT || e.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&e);
			continue;
		}
		if (done) {
			yaml_event_delete(&e);
			break;
		}
		doc = node(&r, &e, 0);
		done = 1;
	}
	yaml_parser_delete(&r.p);
	return doc;
}
