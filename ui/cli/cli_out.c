/* cli_out.c: JSON and table printing for the command line. */
#include "ui/cli/cli_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_OUT_CELL 256
#define CLI_OUT_ROWS_MAX 100000

static void indent(FILE *f, int depth)
{
	fputc('\n', f);
	for (int i = 0; i < depth; i++)
		fputs("  ", f);
}

/* Re-indents compact JSON with two spaces (cJSON's own pretty form uses tabs);
 * empty objects and arrays stay on one line. */
static void print_pretty(FILE *f, const char *s)
{
	int depth = 0, in_str = 0;

	for (; *s; s++) {
		char ch = *s;
		if (in_str) {
			fputc(ch, f);
			if (ch == '\\' && s[1])
				fputc(*++s, f);
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if (ch == '"') {
			in_str = 1;
			fputc(ch, f);
		} else if ((ch == '{' || ch == '[') && (s[1] == '}' || s[1] == ']')) {
			fputc(ch, f);
			fputc(*++s, f);
		} else if (ch == '{' || ch == '[') {
			fputc(ch, f);
			indent(f, ++depth);
		} else if (ch == '}' || ch == ']') {
			indent(f, --depth);
			fputc(ch, f);
		} else if (ch == ',') {
			fputc(ch, f);
			indent(f, depth);
		} else if (ch == ':') {
			fputs(": ", f);
		} else {
			fputc(ch, f);
		}
	}
}

void cli_out_json(const cJSON *doc)
{
	char *s = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;

	if (s != NULL)
		print_pretty(stdout, s);
	else
		fputs("null", stdout);
	fputc('\n', stdout);
	free(s);
}

const cJSON *cli_out_at(const cJSON *item, const char *path)
{
	char key[64];

	while (item != NULL && path != NULL && *path != '\0') {
		size_t k = 0;

		for (; *path != '\0' && *path != '.'; path++) {
			if (*path == '\\' && path[1] == '.') /* "a\\.b": a key with a dot */
				path++;
			if (k + 1 < sizeof key)
				key[k++] = *path;
		}
		key[k] = '\0';
		item = cJSON_GetObjectItemCaseSensitive(item, key);
		path += *path == '.';
	}
	return item;
}

static void cli_out_number(double v, char *buf, size_t len)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%g", v);
}

/* {"a":1,"b":2} -> "a=1,b=2"; "-" when empty. */
static void cli_out_map(const cJSON *node, char *buf, size_t len)
{
	size_t o = 0;
	const cJSON *it;
	char v[64];

	buf[0] = '\0';
	cJSON_ArrayForEach(it, node)
	{
		cli_out_text(it, v, sizeof v);
		int n = snprintf(buf + o, len - o, "%s%s=%s", o ? "," : "",
				 it->string != NULL ? it->string : "?", v);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
	if (o == 0)
		snprintf(buf, len, "-");
}

void cli_out_text(const cJSON *node, char *buf, size_t len)
{
	if (node == NULL || cJSON_IsNull(node))
		snprintf(buf, len, "-");
	else if (cJSON_IsString(node))
		snprintf(buf, len, "%s", node->valuestring[0] ? node->valuestring : "-");
	else if (cJSON_IsNumber(node))
		cli_out_number(node->valuedouble, buf, len);
	else if (cJSON_IsBool(node))
		snprintf(buf, len, "%s", cJSON_IsTrue(node) ? "true" : "false");
	else if (cJSON_IsObject(node))
		cli_out_map(node, buf, len);
	else {
		char *s = cJSON_PrintUnformatted(node);
		snprintf(buf, len, "%s", s != NULL ? s : "-");
		free(s);
	}
}

void cli_out_fmt_short(const cJSON *node, char *buf, size_t len)
{
	cli_out_text(node, buf, len);
	if (len > 13 && strlen(buf) > 12)
		buf[12] = '\0';
}

void cli_out_fmt_size(const cJSON *node, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v;

	if (cJSON_IsNumber(node))
		v = node->valuedouble;
	else if (cJSON_IsString(node))
		v = strtod(node->valuestring, NULL);
	else
		return (void)snprintf(buf, len, "-");
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

void cli_out_fmt_ref(const cJSON *node, char *buf, size_t len)
{
	const char *s = cJSON_IsString(node) ? node->valuestring : NULL;
	const char *v;

	if (s == NULL)
		return (void)snprintf(buf, len, "-");
	if (strncmp(s, "azureml:", 8) == 0)
		return (void)snprintf(buf, len, "%s", s + 8);
	/* ".../models/NAME/versions/V" */
	if ((v = strstr(s, "/versions/")) != NULL) {
		const char *n = v;
		while (n > s && n[-1] != '/')
			n--;
		return (void)snprintf(buf, len, "%.*s:%s", (int)(v - n), n, v + 10);
	}
	snprintf(buf, len, "%s", s);
}

static void cli_out_cell(const struct cli_col *col, const cJSON *item, char *buf, size_t len)
{
	const cJSON *node = col->path != NULL ? cli_out_at(item, col->path) : item;

	if (col->fmt != NULL)
		col->fmt(node, buf, len);
	else
		cli_out_text(node, buf, len);
}

void cli_out_table(const struct cli_col *cols, size_t ncols, const cJSON *array)
{
	size_t rows = (size_t)cJSON_GetArraySize(array);
	size_t width[16] = {0};
	char cell[CLI_OUT_CELL];
	const cJSON *it;

	if (ncols > 16 || rows > CLI_OUT_ROWS_MAX)
		return;
	for (size_t c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].title);
	cJSON_ArrayForEach(it, array)
	{
		for (size_t c = 0; c < ncols; c++) {
			cli_out_cell(&cols[c], it, cell, sizeof cell);
			if (strlen(cell) > width[c])
				width[c] = strlen(cell);
		}
	}
	for (size_t c = 0; c < ncols; c++)
		printf("%-*s%s", c + 1 < ncols ? (int)width[c] : 0, cols[c].title,
		       c + 1 < ncols ? "  " : "\n");
	cJSON_ArrayForEach(it, array)
	{
		for (size_t c = 0; c < ncols; c++) {
			cli_out_cell(&cols[c], it, cell, sizeof cell);
			printf("%-*s%s", c + 1 < ncols ? (int)width[c] : 0, cell,
			       c + 1 < ncols ? "  " : "\n");
		}
	}
}

void cli_out_detail(const struct cli_col *cols, size_t ncols, const cJSON *item)
{
	char cell[1024];
	size_t w = 0;

	for (size_t c = 0; c < ncols; c++)
		if (strlen(cols[c].title) > w)
			w = strlen(cols[c].title);
	for (size_t c = 0; c < ncols; c++) {
		cli_out_cell(&cols[c], item, cell, sizeof cell);
		printf("%-*s  %s\n", (int)w, cols[c].title, cell);
	}
}

void cli_out_kv(const cJSON *obj)
{
	const cJSON *it;
	char cell[1024];
	size_t w = 0;

	cJSON_ArrayForEach(it, obj) if (it->string != NULL && strlen(it->string) > w) w =
	    strlen(it->string);
	cJSON_ArrayForEach(it, obj)
	{
		cli_out_text(it, cell, sizeof cell);
		printf("%-*s  %s\n", (int)w, it->string != NULL ? it->string : "", cell);
	}
}
