/*
 * cli_out.h: printing answers as pretty JSON or as aligned columns. Columns
 * are tables of {title, JSON path, formatter}. Writes to stdout.
 */
#ifndef UI_CLI_CLI_OUT_H
#define UI_CLI_CLI_OUT_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct cli_col {
	const char *title;
	const char *path; /* dotted: "properties.modelType"; NULL = the item itself */
	/* Text for the node found at path (NULL when absent); NULL fmt = default. */
	void (*fmt)(const cJSON *node, char *buf, size_t len);
};

/* Pretty JSON and a newline. */
void cli_out_json(const cJSON *doc);
/* One row per element of array, with a header line. */
void cli_out_table(const struct cli_col *cols, size_t ncols, const cJSON *array);
/* "TITLE  value" lines for one item. */
void cli_out_detail(const struct cli_col *cols, size_t ncols, const cJSON *item);
/* "key  value" lines for a flat object (keys, tokens). */
void cli_out_kv(const cJSON *obj);
/* The node at a dotted path ("\\." is a dot inside a key), or NULL. */
const cJSON *cli_out_at(const cJSON *item, const char *path);
/* Default text of a node: strings as is, integers without decimals, objects
 * as "k=v,k=v", NULL as "-". */
void cli_out_text(const cJSON *node, char *buf, size_t len);
/* Formatters: first 12 hex digits; bytes as "1.2 MiB"; "90%,10%" maps. */
void cli_out_fmt_short(const cJSON *node, char *buf, size_t len);
void cli_out_fmt_size(const cJSON *node, char *buf, size_t len);
/* "azureml:NAME:1" or an ARM id -> "NAME:1". */
void cli_out_fmt_ref(const cJSON *node, char *buf, size_t len);

#endif
