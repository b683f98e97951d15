/* rows.c: streaming rows of CSV and JSON Lines files (see rows.h). */
#include "runtime/rows.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "runtime/engines/input.h"

struct rows {
	int fd;
	enum rows_format format;
	int cols, allow_missing;
	char *buf;      /* ROWS_BUFFER + 1 bytes */
	size_t start;   /* first unread byte */
	size_t end;     /* bytes in buf */
	int eof;
	int skipping;   /* inside an over-long line */
	int64_t next;   /* index of the next data row */
	char **keys;    /* JSON objects: the first object's keys, cols of them */
};

int rows_format_of(const char *name, enum rows_format *out)
{
	static const struct {
		const char *ext;
		enum rows_format f;
	} exts[] = {{".csv", ROWS_CSV},	     {".txt", ROWS_CSV},    {".jsonl", ROWS_JSONL},
		    {".ndjson", ROWS_JSONL}, {".json", ROWS_JSONL}};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof exts / sizeof exts[0]; i++)
		if (strcasecmp(dot, exts[i].ext) == 0) {
			*out = exts[i].f;
			return 0;
		}
	return -1;
}

/* ---- pure parsers ------------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks and one pair of double quotes around a field. */
static void field_trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
	if (*n >= 2 && (*s)[0] == '"' && (*s)[*n - 1] == '"') {
		(*s)++;
		*n -= 2;
	}
}

static int is_missing(const char *s, size_t n)
{
	return n == 0 || (n == 2 && strncasecmp(s, "NA", 2) == 0) ||
	       (n == 3 && strncasecmp(s, "NaN", 3) == 0) ||
	       (n == 4 && strncasecmp(s, "null", 4) == 0);
}

/* One field into *v; -1 with a 400 naming the column. */
static int field_value(const char *s, size_t n, int col, int allow_missing, double *v,
		       struct error *err)
{
	field_trim(&s, &n);
	if (is_missing(s, n)) {
		if (!allow_missing)
			return error_set(err, 400, "BadRow",
					 "column %d is empty (this model takes no missing values)",
					 col + 1);
		*v = NAN;
		return 0;
	}
	if (input_number(s, n, v) != n)
		return error_set(err, 400, "BadRow", "column %d is not a number", col + 1);
	return 0;
}

int rows_parse_csv(const char *line, size_t len, double *x, int cols, int allow_missing,
		   struct error *err)
{
	const char *p = line, *end = line + len;
	int c = 0;

	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma != NULL ? comma : end;

		if (c >= cols)
			return error_set(err, 400, "BadRow", "more than %d columns", cols);
		if (field_value(p, (size_t)(stop - p), c, allow_missing, &x[c], err) < 0)
			return -1;
		c++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (c != cols)
		return error_set(err, 400, "BadRow", "%d columns, the model expects %d", c, cols);
	return 0;
}

int rows_parse_header(const char *line, size_t len, int *cols, struct error *err)
{
	int n = 1;

	for (size_t i = 0; i < len; i++)
		n += line[i] == ',';
	if (n > ROWS_COLS_MAX)
		return error_set(err, 400, "BadInputFile", "the header has more than %d columns",
				 ROWS_COLS_MAX);
	*cols = n;
	return 0;
}

/* ---- the streaming reader ----------------------------------------------- */

static int refill(struct rows *r, struct error *err)
{
	ssize_t got;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	while (r->end < ROWS_BUFFER) {
		got = read(r->fd, r->buf + r->end, ROWS_BUFFER - r->end);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return error_set(err, 500, "ReadError", "cannot read the file: %s",
					 strerror(errno));
		if (got == 0) {
			r->eof = 1;
			break;
		}
		r->end += (size_t)got;
		break;
	}
	return 0;
}

/* The next line (without its newline) in *line and *len: 1, 0 at the end, -1 on
 * a read error. An over-long line comes back with *len > ROWS_LINE_MAX. */
static int next_line(struct rows *r, const char **line, size_t *len, struct error *err)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		size_t have = r->end - r->start;

		if (nl != NULL || (r->eof && have > 0)) {
			size_t n = nl != NULL ? (size_t)(nl - (r->buf + r->start)) : have;
			int long_line = r->skipping;

			*line = r->buf + r->start;
			*len = long_line ? ROWS_LINE_MAX + 1 : n;
			r->start += n + (nl != NULL);
			r->skipping = 0;
			return 1;
		}
		if (r->eof)
			return 0;
		if (have == ROWS_BUFFER) { /* a line longer than the buffer: drop what we have */
			r->skipping = 1;
			r->start = r->end;
		}
		if (refill(r, err) < 0)
			return -1;
	}
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(s[i]))
			return 0;
	return 1;
}

/* The next non-blank line. */
static int next_content(struct rows *r, const char **line, size_t *len, struct error *err)
{
	int rc;

	while ((rc = next_line(r, line, len, err)) == 1)
		if (*len > ROWS_LINE_MAX || !blank(*line, *len))
			return 1;
	return rc;
}

static void free_keys(struct rows *r)
{
	for (int i = 0; r->keys != NULL && i < r->cols; i++)
		free(r->keys[i]);
	free(r->keys);
	r->keys = NULL;
}

void rows_close(struct rows *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free_keys(r);
	free(r->buf);
	free(r);
}

static int read_header(struct rows *r, struct error *err)
{
	const char *line;
	size_t len;
	int n = 0, rc = next_content(r, &line, &len, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0; /* an empty file: no rows */
	if (len > ROWS_LINE_MAX)
		return error_set(err, 400, "BadInputFile", "the header line is too long");
	if (rows_parse_header(line, len, &n, err) < 0)
		return -1;
	if (n != r->cols)
		return error_set(err, 400, "BadInputFile",
				 "the header has %d columns, the model expects %d", n, r->cols);
	return 0;
}

struct rows *rows_open(int fd, enum rows_format f, int cols, int allow_missing,
		       struct error *err)
{
	struct rows *r = calloc(1, sizeof *r);

	if (r == NULL || (r->buf = malloc(ROWS_BUFFER + 1)) == NULL) {
		free(r);
		close(fd);
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	r->fd = fd;
	r->format = f;
	r->cols = cols;
	r->allow_missing = allow_missing;
	if (cols < 1 || cols > ROWS_COLS_MAX) {
		error_set(err, 400, "BadInputFile", "the model's feature count is unknown");
		goto fail;
	}
	if (f == ROWS_CSV && read_header(r, err) < 0)
		goto fail;
	return r;
fail:
	rows_close(r);
	return NULL;
}

static int json_value(const cJSON *v, int col, int allow_missing, double *x, struct error *err)
{
	if (cJSON_IsNumber(v)) {
		*x = v->valuedouble;
		return 0;
	}
	if (cJSON_IsNull(v) && allow_missing) {
		*x = NAN;
		return 0;
	}
	return error_set(err, 400, "BadRow", "value %d is not a number", col + 1);
}

/* The first object names the columns. */
static int learn_keys(struct rows *r, const cJSON *o, struct error *err)
{
	const cJSON *it;
	int i = 0;

	if (cJSON_GetArraySize(o) != r->cols)
		return error_set(err, 400, "BadRow", "%d values, the model expects %d",
				 cJSON_GetArraySize(o), r->cols);
	r->keys = calloc((size_t)r->cols, sizeof *r->keys);
	if (r->keys == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	cJSON_ArrayForEach(it, o)
	{
		r->keys[i] = strdup(it->string);
		if (r->keys[i++] == NULL) {
			free_keys(r);
			return error_set(err, 500, "InternalError", "out of memory");
		}
	}
	return 0;
}

static int json_row(struct rows *r, const cJSON *j, double *x, struct error *err)
{
	if (cJSON_IsArray(j)) {
		if (cJSON_GetArraySize(j) != r->cols)
			return error_set(err, 400, "BadRow", "%d values, the model expects %d",
					 cJSON_GetArraySize(j), r->cols);
		for (int i = 0; i < r->cols; i++)
			if (json_value(cJSON_GetArrayItem(j, i), i, r->allow_missing, &x[i], err) <
			    0)
				return -1;
		return 0;
	}
	if (!cJSON_IsObject(j))
		return error_set(err, 400, "BadRow", "not a JSON array or object");
	if (r->keys == NULL && learn_keys(r, j, err) < 0)
		return -1;
	for (int i = 0; i < r->cols; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, r->keys[i]);

		if (v == NULL)
			return error_set(err, 400, "BadRow", "key %d of the first row is missing",
					 i + 1);
		if (json_value(v, i, r->allow_missing, &x[i], err) < 0)
			return -1;
	}
	return 0;
}

static int parse_json_line(struct rows *r, const char *line, size_t len, double *x,
			   struct error *err)
{
	cJSON *j = cJSON_ParseWithLength(line, len);
	int rc;

	if (j == NULL)
		return error_set(err, 400, "BadRow", "not valid JSON");
	rc = json_row(r, j, x, err);
	cJSON_Delete(j);
	return rc;
}

int rows_next(struct rows *r, double *x, int64_t *index, struct error *err)
{
	const char *line;
	size_t len;
	int rc = next_content(r, &line, &len, err);

	if (rc <= 0)
		return rc;
	*index = r->next++;
	if (len > ROWS_LINE_MAX)
		return error_set(err, 400, "BadRow", "the line is longer than %d bytes",
				 ROWS_LINE_MAX);
	if (r->format == ROWS_CSV)
		rc = rows_parse_csv(line, len, x, r->cols, r->allow_missing, err);
	else
		rc = parse_json_line(r, line, len, x, err);
	return rc < 0 ? -1 : 1;
}
