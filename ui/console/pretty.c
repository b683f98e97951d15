/* pretty.c: a readable layout for JSON answers. */
#include "ui/console/pretty.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pretty_buf {
	char *data;
	size_t len, cap;
	int failed;
};

static void pretty_add(struct pretty_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((d = realloc(b->data, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void pretty_str(struct pretty_buf *b, const char *s)
{
	pretty_add(b, s, strlen(s));
}

static void pretty_indent(struct pretty_buf *b, int depth)
{
	pretty_add(b, "\n", 1);
	for (int i = 0; i < depth; i++)
		pretty_add(b, "  ", 2);
}

/* A plain value (or an empty container) as cJSON writes it. */
static void pretty_scalar(struct pretty_buf *b, const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);

	if (s == NULL) {
		b->failed = 1;
		return;
	}
	pretty_str(b, s);
	free(s);
}

/* 1 when v is an array of plain values that reads well on one line. */
static int pretty_inline(const cJSON *v)
{
	const cJSON *e;
	size_t width = 2;

	if (!cJSON_IsArray(v))
		return 0;
	cJSON_ArrayForEach(e, v)
	{
		char *s;

		if (cJSON_IsArray(e) || cJSON_IsObject(e))
			return 0;
		if ((s = cJSON_PrintUnformatted(e)) == NULL)
			return 0;
		width += strlen(s) + 2;
		free(s);
		if (width > PRETTY_INLINE_MAX)
			return 0;
	}
	return 1;
}

static void pretty_value(struct pretty_buf *b, const cJSON *v, int depth)
{
	const cJSON *e;
	int obj = cJSON_IsObject(v), first = 1;

	if ((!obj && !cJSON_IsArray(v)) || v->child == NULL) {
		pretty_scalar(b, v);
		return;
	}
	if (pretty_inline(v)) {
		pretty_str(b, "[");
		cJSON_ArrayForEach(e, v)
		{
			pretty_str(b, first ? "" : ", ");
			pretty_scalar(b, e);
			first = 0;
		}
		pretty_str(b, "]");
		return;
	}
	pretty_str(b, obj ? "{" : "[");
	cJSON_ArrayForEach(e, v)
	{
		pretty_str(b, first ? "" : ",");
		pretty_indent(b, depth + 1);
		if (obj) {
			cJSON key = {.type = cJSON_String, .valuestring = e->string};

			pretty_scalar(b, &key);
			pretty_str(b, ": ");
		}
		pretty_value(b, e, depth + 1);
		first = 0;
	}
	pretty_indent(b, depth);
	pretty_str(b, obj ? "}" : "]");
}

char *pretty_item(const cJSON *v)
{
	struct pretty_buf b = {0};

	pretty_value(&b, v, 0);
	if (b.failed) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

char *pretty_json(const char *text, size_t len)
{
	cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
	char *p;

	if (doc == NULL)
		return NULL;
	p = pretty_item(doc);
	cJSON_Delete(doc);
	return p;
}
