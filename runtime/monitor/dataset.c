/* dataset.c: rows out of JSONL (rows or collector records) and CSV files (dataset.h). */
#define _GNU_SOURCE /* memmem: is "specversion" on the line at all */
#include "runtime/monitor/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/engines/input.h"
#include "state/civil.h"
#include "state/dynbuf.h"

#define CHUNK (1u << 20)
#define DEPTH_MAX 64
#define FOLDERS_MAX 32 /* folders within folders */

struct reader {
	const char *file; /* the file being read */
	uint64_t line;
	struct dataset_window w;
	dataset_row_fn fn;
	void *ctx;
	struct error *err;
	uint64_t rows;
	struct cell *cells;
	size_t ncells, capcells;
	char *scratch; /* unescaped strings of the current line */
	size_t used, capscratch;
	/* CSV: the header's names */
	char **names;
	size_t nnames;
	int lazy; /* numbers delimited, not converted */
	/* folders: the ones above the folder being read (a link back to one of
	 * them would loop), at most FOLDERS_MAX deep */
	struct {
		dev_t dev;
		ino_t ino;
	} above[FOLDERS_MAX];
	int nabove;
};

/* ---- errors and small helpers ------------------------------------------- */

static int bad(struct reader *r, const char *what)
{
	return error_set(r->err, 400, "InvalidData", "%s line %llu: %s", r->file,
			 (unsigned long long)r->line, what);
}

static int oom(struct reader *r)
{
	return error_set(r->err, 500, "InternalError", "out of memory reading %s", r->file);
}

static struct cell *cell_add(struct reader *r)
{
	if (r->ncells == r->capcells) {
		size_t cap = r->capcells ? 2 * r->capcells : 64;
		struct cell *c;
		if (cap > DATASET_COLUMNS_MAX)
			cap = DATASET_COLUMNS_MAX;
		if (r->ncells == cap)
			return NULL;
		c = realloc(r->cells, cap * sizeof *c);
		if (c == NULL)
			return NULL;
		r->cells = c;
		r->capcells = cap;
	}
	memset(&r->cells[r->ncells], 0, sizeof r->cells[0]);
	return &r->cells[r->ncells++];
}

/* Room for the unescaped strings of a line of n bytes (never more than n). */
static int scratch_reserve(struct reader *r, size_t n)
{
	char *s;

	r->used = 0;
	if (n + 1 <= r->capscratch)
		return 0;
	s = realloc(r->scratch, n + 1);
	if (s == NULL)
		return -1;
	r->scratch = s;
	r->capscratch = n + 1;
	return 0;
}

static int row(struct reader *r)
{
	int rc;

	r->rows++;
	rc = r->fn(r->ctx, r->cells, r->ncells, r->err);
	r->ncells = 0;
	return rc;
}

/* "0", "1", ...: the names of unnamed columns, as pandas gives them. */
static char colnames[DATASET_COLUMNS_MAX][6];
static pthread_once_t colnames_once = PTHREAD_ONCE_INIT;

static void colnames_init(void)
{
	for (unsigned i = 0; i < DATASET_COLUMNS_MAX; i++)
		snprintf(colnames[i], sizeof colnames[i], "%u", i % 100000u);
}

/* ---- time --------------------------------------------------------------- */

static int digits(const char *s, size_t len, size_t at, int n, int *out)
{
	int v = 0;

	if (at + (size_t)n > len)
		return -1;
	for (int i = 0; i < n; i++) {
		if (s[at + i] < '0' || s[at + i] > '9')
			return -1;
		v = v * 10 + (s[at + i] - '0');
	}
	*out = v;
	return 0;
}

int64_t dataset_time(const char *s, size_t len)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0;
	size_t i = 19;
	int64_t t;

	if (digits(s, len, 0, 4, &y) < 0 || len < 19 || s[4] != '-' ||
	    digits(s, len, 5, 2, &mo) < 0 || s[7] != '-' || digits(s, len, 8, 2, &d) < 0 ||
	    (s[10] != 'T' && s[10] != ' ') || digits(s, len, 11, 2, &h) < 0 || s[13] != ':' ||
	    digits(s, len, 14, 2, &mi) < 0 || s[16] != ':' || digits(s, len, 17, 2, &se) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
	t = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		if (digits(s, len, i + 1, 2, &oh) < 0 || i + 3 >= len || s[i + 3] != ':' ||
		    digits(s, len, i + 4, 2, &om) < 0)
			return -1;
		t -= (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		i += 6;
	} else if (i < len && s[i] == 'Z') {
		i++;
	}
	return i == len ? t : -1;
}

/* ---- JSON --------------------------------------------------------------- */

struct js {
	const char *p, *end;
};

static void ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* A string at j->p (its quote next): its raw bytes, and whether it has escapes. */
static int js_string(struct js *j, const char **raw, size_t *len, int *esc)
{
	const char *q = ++j->p;

	*esc = 0;
	while (q < j->end && *q != '"') {
		if ((unsigned char)*q < 0x20)
			return -1;
		if (*q == '\\') { /* only JSON's escapes: no raw byte may hide behind one */
			*esc = 1;
			if (++q >= j->end || strchr("\"\\/bfnrtu", *q) == NULL || *q == '\0')
				return -1;
			if (*q == 'u' && (j->end - q < 5 || hex4(q + 1, &(unsigned){0}) < 0))
				return -1;
		}
		q++;
	}
	if (q >= j->end)
		return -1;
	*raw = j->p;
	*len = (size_t)(q - j->p);
	j->p = q + 1;
	return 0;
}

static size_t utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Unescapes raw[0..len) into the scratch; never longer than len. */
static int unescape(struct reader *r, const char *raw, size_t len, const char **out, size_t *olen)
{
	char *o = r->scratch + r->used, *start = o;
	const char *s = raw, *end = raw + len;
	unsigned cp, lo;

	while (s < end) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		if (++s >= end)
			return -1;
		switch (*s) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case '"': case '\\': case '/': *o++ = *s; break;
		case 'u':
			if (end - s < 5 || hex4(s + 1, &cp) < 0)
				return -1;
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && end - s >= 7 && s[1] == '\\' &&
			    s[2] == 'u' && hex4(s + 3, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
			o += utf8(o, cp);
			break;
		default:
			return -1;
		}
		s++;
	}
	*out = start;
	*olen = (size_t)(o - start);
	r->used += *olen;
	return 0;
}

static int js_text(struct reader *r, struct js *j, const char **out, size_t *len)
{
	const char *raw;
	int esc;

	if (js_string(j, &raw, len, &esc) < 0)
		return -1;
	if (!esc) {
		*out = raw;
		return 0;
	}
	return unescape(r, raw, *len, out, len);
}

/* The length of the JSON number at s (0 when there is none): -?int(.digits)?(e[+-]?digits)? */
static size_t number_length(const char *s, size_t len)
{
	size_t i = 0, d;

	if (i < len && s[i] == '-')
		i++;
	for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == d || (s[d] == '0' && i - d > 1)) /* JSON: no leading zero */
		return 0;
	if (i < len && s[i] == '.') {
		for (d = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i;
}

static int js_skip(struct js *j, int depth);

static int js_skip_container(struct js *j, char close, int depth)
{
	const char *raw;
	size_t len;
	int esc;

	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		ws(j);
		if (close == '}') {
			if (j->p >= j->end || *j->p != '"' || js_string(j, &raw, &len, &esc) < 0)
				return -1;
			ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return -1;
		}
		if (js_skip(j, depth + 1) < 0)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		return -1;
	}
}

/* Skips one value (whitespace first). */
static int js_skip(struct js *j, int depth)
{
	const char *raw;
	size_t len;
	int esc;

	ws(j);
	if (j->p >= j->end || depth > DEPTH_MAX)
		return -1;
	switch (*j->p) {
	case '{': return js_skip_container(j, '}', depth);
	case '[': return js_skip_container(j, ']', depth);
	case '"': return js_string(j, &raw, &len, &esc);
	case 't': len = 4; break;
	case 'f': len = 5; break;
	case 'n': len = 4; break;
	case 'N': len = 3; break; /* Python's NaN */
	default:
		len = number_length(j->p, (size_t)(j->end - j->p));
		if (len == 0)
			return -1;
		j->p += len;
		return 0;
	}
	if ((size_t)(j->end - j->p) < len ||
	    memcmp(j->p, *j->p == 't' ? "true" : *j->p == 'f' ? "false" : *j->p == 'n' ? "null" : "NaN",
		   len) != 0)
		return -1;
	j->p += len;
	return 0;
}

static int number_kind(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			return CELL_DOUBLE;
	return CELL_INT;
}

double cell_number(const struct cell *c)
{
	double v;

	if (!c->lazy)
		return c->num;
	return input_number(c->text, c->tlen, &v) == c->tlen && c->tlen ? v : NAN;
}

int cell_is_null(const struct cell *c)
{
	return c->kind == CELL_NULL ||
	       ((c->kind == CELL_INT || c->kind == CELL_DOUBLE) && !c->lazy && isnan(c->num));
}

/* One value into c (whitespace first); containers are skipped as CELL_OTHER. */
static int js_cell(struct reader *r, struct js *j, struct cell *c)
{
	const char *start;
	size_t n;

	ws(j);
	if (j->p >= j->end)
		return -1;
	start = j->p;
	switch (*j->p) {
	case '"':
		c->kind = CELL_STRING;
		return js_text(r, j, &c->text, &c->tlen);
	case '{':
	case '[':
		c->kind = CELL_OTHER;
		if (js_skip(j, 1) < 0)
			return -1;
		c->text = start; /* the raw JSON */
		c->tlen = (size_t)(j->p - start);
		return 0;
	case 't':
	case 'f':
		c->kind = CELL_BOOL;
		c->num = *j->p == 't';
		return js_skip(j, 1);
	case 'n':
	case 'N':
		c->kind = CELL_NULL;
		return js_skip(j, 1);
	default:
		n = number_length(j->p, (size_t)(j->end - j->p)); /* the grammar, then the value */
		if (n == 0 || (!r->lazy && input_number(j->p, n, &c->num) != n))
			return -1;
		c->lazy = r->lazy;
		j->p += n;
		c->kind = number_kind(start, n);
		c->text = start;
		c->tlen = n;
		return 0;
	}
}

/* An object's members as cells; j->p at '{'. */
static int js_object_row(struct reader *r, struct js *j)
{
	struct cell *c;

	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		ws(j);
		if (j->p >= j->end || *j->p != '"')
			return -1;
		if ((c = cell_add(r)) == NULL)
			return -2;
		if (js_text(r, j, &c->key, &c->klen) < 0)
			return -1;
		ws(j);
		if (j->p >= j->end || *j->p++ != ':' || js_cell(r, j, c) < 0)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return -1;
	}
}

/* An array's elements as cells named "0", "1", ...; j->p at '['. */
static int js_array_row(struct reader *r, struct js *j)
{
	struct cell *c;

	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	pthread_once(&colnames_once, colnames_init);
	for (;;) {
		if ((c = cell_add(r)) == NULL)
			return -2;
		c->key = colnames[r->ncells - 1];
		c->klen = strlen(c->key);
		if (js_cell(r, j, c) < 0)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return -1;
	}
}

static int row_error(struct reader *r, int rc)
{
	return rc == -2 ? bad(r, "more than 4096 columns in a row") : bad(r, "not valid JSON");
}

/* The rows of an array at j->p ('['): objects are named rows, arrays rows
 * of columns "0", "1", ..., a scalar a row of one column "0". */
static int array_rows(struct reader *r, struct js *j)
{
	struct cell *c;
	int rc;

	j->p++;
	for (;;) {
		ws(j);
		if (j->p < j->end && *j->p == ']')
			return 0;
		r->ncells = 0;
		r->used = 0;
		if (j->p >= j->end)
			return bad(r, "not valid JSON");
		if (*j->p == '{') {
			rc = js_object_row(r, j);
		} else if (*j->p == '[') {
			rc = js_array_row(r, j);
		} else {
			pthread_once(&colnames_once, colnames_init);
			rc = (c = cell_add(r)) == NULL ? -2 : js_cell(r, j, c);
			if (c) {
				c->key = colnames[0];
				c->klen = 1;
			}
		}
		if (rc < 0)
			return row_error(r, rc);
		if (row(r) < 0)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',')
			j->p++;
		else if (j->p >= j->end || *j->p != ']')
			return bad(r, "not valid JSON");
	}
}

/* The rows of a collector record's "data" array, within the window. */
static int record_rows(struct reader *r, struct js *j, int64_t t)
{
	if (t >= 0 && (t < r->w.start || (r->w.end && t >= r->w.end)))
		return 0;
	return array_rows(r, j);
}

/* A collector record if the line is one (its "data" array and "time"), else 0.
 * Records written by the collector name specversion and time before data, so
 * one pass reads them. */
static int record_of(const char *s, size_t n, struct js *data, int64_t *t)
{
	struct js j = {s, s + n};
	const char *key, *v;
	size_t klen, vlen;
	int esc, spec = 0;

	data->p = NULL;
	*t = -1;
	ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return 0;
	j.p++;
	for (;;) {
		ws(&j);
		if (j.p >= j.end || *j.p != '"' || js_string(&j, &key, &klen, &esc) < 0)
			return 0;
		ws(&j);
		if (j.p >= j.end || *j.p++ != ':')
			return 0;
		ws(&j);
		if (klen == 11 && memcmp(key, "specversion", 11) == 0)
			spec = 1;
		if (klen == 4 && memcmp(key, "data", 4) == 0 && j.p < j.end && *j.p == '[') {
			*data = j;
			if (spec && *t >= 0)
				return 1; /* all that matters is known: no need to skip the rows */
		}
		if (klen == 4 && memcmp(key, "time", 4) == 0 && j.p < j.end && *j.p == '"') {
			if (js_string(&j, &v, &vlen, &esc) < 0)
				return 0;
			*t = dataset_time(v, vlen);
		} else if (js_skip(&j, 1) < 0) {
			return 0;
		}
		ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		break;
	}
	return spec && data->p != NULL;
}

static int json_line(struct reader *r, const char *s, size_t n)
{
	struct js j = {s, s + n}, data;
	int64_t t;
	int rc;

	ws(&j);
	if (j.p == j.end)
		return 0; /* a blank line */
	if (*j.p != '{')
		return bad(r, "not a JSON object (a row or a collector record)");
	if (scratch_reserve(r, n) < 0)
		return oom(r);
	if (memmem(s, n, "\"specversion\"", 13) && record_of(s, n, &data, &t)) {
		data.end = s + n;
		return record_rows(r, &data, t);
	}
	r->ncells = 0;
	rc = js_object_row(r, &j);
	if (rc < 0)
		return row_error(r, rc);
	ws(&j);
	if (j.p != j.end)
		return bad(r, "text after the JSON object");
	return row(r);
}

/* ---- CSV ---------------------------------------------------------------- */

/* A field's text as a cell. */
static void csv_cell(struct cell *c, const char *s, size_t n, int quoted)
{
	c->text = s;
	c->tlen = n;
	if (n == 0 && !quoted) {
		c->kind = CELL_NULL;
	} else if (input_number(s, n, &c->num) == n && n > 0) {
		c->kind = number_kind(s, n);
	} else if ((n == 4 && strncasecmp(s, "true", 4) == 0) ||
		   (n == 5 && strncasecmp(s, "false", 5) == 0)) {
		c->kind = CELL_BOOL;
		c->num = n == 4;
	} else {
		c->kind = n == 0 ? CELL_NULL : CELL_STRING;
	}
}

/* Splits a record into fields; a quoted field is unescaped into the scratch. */
static int csv_fields(struct reader *r, const char *s, size_t n,
		      int (*field)(struct reader *, const char *, size_t, int))
{
	size_t i = 0;

	for (;;) {
		const char *start;
		size_t len;
		int quoted = 0;

		if (i < n && s[i] == '"') {
			char *o = r->scratch + r->used;
			quoted = 1;
			start = o;
			for (i++;; i++) {
				if (i >= n)
					return bad(r, "a quoted field does not end");
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"')
						i++;
					else
						break;
				}
				*o++ = s[i];
			}
			len = (size_t)(o - start);
			r->used += len;
			i++;
		} else {
			start = s + i;
			while (i < n && s[i] != ',')
				i++;
			len = (size_t)(s + i - start);
		}
		if (field(r, start, len, quoted) < 0)
			return -1;
		if (i >= n)
			return 0;
		if (s[i] != ',')
			return bad(r, "text after a quoted field");
		i++;
	}
}

static int csv_name(struct reader *r, const char *s, size_t n, int quoted)
{
	char **names;

	(void)quoted;
	if (r->nnames == DATASET_COLUMNS_MAX)
		return bad(r, "more than 4096 columns");
	names = realloc(r->names, (r->nnames + 1) * sizeof *names);
	if (names == NULL)
		return oom(r);
	r->names = names;
	if ((names[r->nnames] = strndup(s, n)) == NULL)
		return oom(r);
	r->nnames++;
	return 0;
}

static int csv_value(struct reader *r, const char *s, size_t n, int quoted)
{
	struct cell *c;

	if (r->ncells >= r->nnames)
		return bad(r, "more fields than the header names");
	if ((c = cell_add(r)) == NULL)
		return oom(r);
	c->key = r->names[r->ncells - 1];
	c->klen = strlen(c->key);
	csv_cell(c, s, n, quoted);
	return 0;
}

static int csv_record(struct reader *r, const char *s, size_t n)
{
	if (scratch_reserve(r, n) < 0)
		return oom(r);
	if (r->names == NULL)
		return csv_fields(r, s, n, csv_name);
	if (n == 0)
		return 0;
	r->ncells = 0;
	if (csv_fields(r, s, n, csv_value) < 0)
		return -1;
	return row(r);
}

/* Whether a CSV record's quotes are balanced (else it goes on past the newline). */
static int quotes_closed(const char *s, size_t n)
{
	int open = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '"')
			open = !open;
	return !open;
}

/* ---- files -------------------------------------------------------------- */

enum format { FMT_NONE, FMT_JSONL, FMT_CSV };

static enum format format_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (name[0] == '.' || dot == NULL)
		return FMT_NONE;
	if (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".json") == 0)
		return FMT_JSONL;
	if (strcasecmp(dot, ".csv") == 0)
		return FMT_CSV;
	return FMT_NONE;
}

/* Calls each complete line (CSV: record) of fd; buf grows up to DATASET_LINE_MAX. */
static int read_lines(struct reader *r, int fd, enum format fmt)
{
	size_t cap = CHUNK, len = 0, start = 0, scan = 0;
	char *buf = malloc(cap), *nb;
	ssize_t got;
	int rc = 0, eof = 0;

	if (buf == NULL)
		return oom(r);
	while (rc == 0) {
		char *nl = memchr(buf + scan, '\n', len - scan);
		if (nl == NULL && !eof) {
			memmove(buf, buf + start, len - start);
			len -= start;
			scan -= start;
			start = 0;
			if (len == cap) {
				if (cap >= DATASET_LINE_MAX) {
					rc = bad(r, "a line longer than 64 MiB");
					break;
				}
				if ((nb = realloc(buf, cap * 2)) == NULL) {
					rc = oom(r);
					break;
				}
				buf = nb;
				cap *= 2;
			}
			got = read(fd, buf + len, cap - len);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				rc = error_set(r->err, 500, "InternalError", "reading %s: %s", r->file,
					       strerror(errno));
				break;
			}
			if (got == 0)
				eof = 1;
			len += (size_t)got;
			continue;
		}
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - start;
		if (nl == NULL && n == 0)
			break;
		if (fmt == FMT_CSV && nl && !quotes_closed(buf + start, n)) {
			scan = end + 1; /* a quoted newline: the record goes on */
			continue;
		}
		r->line++;
		if (n > 0 && buf[start + n - 1] == '\r')
			n--;
		rc = fmt == FMT_CSV ? csv_record(r, buf + start, n) : json_line(r, buf + start, n);
		start = scan = nl ? end + 1 : len;
		if (nl == NULL)
			break;
	}
	free(buf);
	return rc;
}

static void names_free(struct reader *r)
{
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	r->names = NULL;
	r->nnames = 0;
}

static int read_file(struct reader *r, const char *path, enum format fmt)
{
	/* not blocking in open: a FIFO named as data would wait for a writer
	 * forever, with the monitors' thread */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;
	struct stat st;

	if (fd < 0)
		return error_set(r->err, errno == ENOENT ? 404 : 400, "InvalidData",
				 "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		close(fd);
		return error_set(r->err, 400, "InvalidData", "%s is not a regular file", path);
	}
	r->file = path;
	r->line = 0;
	rc = read_lines(r, fd, fmt);
	close(fd);
	names_free(r);
	return rc;
}

/* ---- folders ------------------------------------------------------------ */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The period [start, end) a collector folder covers, from the numbers in its
 * path below the root (yyyy, MM, dd, HH, mm); 0 when the path is not one. */
static int period_of(const int *parts, int n, int64_t *start, int64_t *end)
{
	static const int64_t unit[] = {0, 0, 86400, 3600, 60};
	int y = parts[0], m = n > 1 ? parts[1] : 1, d = n > 2 ? parts[2] : 1;

	if (n < 1 || y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	*start = civil_days(y, m, d) * 86400 + (n > 3 ? parts[3] * 3600 : 0) +
		 (n > 4 ? parts[4] * 60 : 0);
	if (n == 1)
		*end = civil_days(y + 1, 1, 1) * 86400;
	else if (n == 2)
		*end = civil_days(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
	else
		*end = *start + unit[n - 1];
	return 1;
}

static int outside(const struct reader *r, const int *parts, int n)
{
	int64_t s, e;

	if (r->w.start == 0 && r->w.end == 0)
		return 0;
	if (!period_of(parts, n, &s, &e))
		return 0;
	return e <= r->w.start || (r->w.end && s >= r->w.end);
}

static int number_name(const char *s, int *v)
{
	char *end;
	long x;

	if (*s < '0' || *s > '9' || strlen(s) > 4)
		return 0;
	x = strtol(s, &end, 10);
	*v = (int)x;
	return *end == '\0';
}

static int walk(struct reader *r, const char *dir, int *parts, int depth);

static int walk_entry(struct reader *r, const char *dir, const char *name, int *parts,
		      int depth)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return error_set(r->err, 400, "InvalidData", "path too long: %s/%s", dir, name);
	if (stat(path, &st) < 0)
		return 0; /* gone meanwhile */
	if (S_ISDIR(st.st_mode)) {
		int v, numeric = depth < 5 && depth >= 0 && number_name(name, &v), rc;

		for (int i = 0; i < r->nabove; i++)
			if (r->above[i].dev == st.st_dev && r->above[i].ino == st.st_ino)
				return error_set(r->err, 400, "InvalidData",
						 "%s leads back to a folder above it", path);
		if (r->nabove == FOLDERS_MAX)
			return error_set(r->err, 400, "InvalidData",
					 "%s: folders more than %d deep", path, FOLDERS_MAX);
		if (numeric) {
			parts[depth] = v;
			if (outside(r, parts, depth + 1))
				return 0;
		}
		r->above[r->nabove].dev = st.st_dev;
		r->above[r->nabove++].ino = st.st_ino;
		rc = walk(r, path, parts, numeric ? depth + 1 : (depth == 0 ? 0 : -1));
		r->nabove--;
		return rc;
	}
	if (S_ISREG(st.st_mode) && format_of(name) != FMT_NONE)
		return read_file(r, path, format_of(name));
	return 0;
}

/* depth: how many date folders are above (0 none yet, -1 not a date path). */
static int walk(struct reader *r, const char *dir, int *parts, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL)
		return error_set(r->err, 400, "InvalidData", "cannot read folder %s: %s", dir,
				 strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 32) * sizeof *nn);
			if (nn == NULL) {
				rc = oom(r);
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			rc = oom(r);
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = walk_entry(r, dir, names[i], parts, depth);
		free(names[i]);
	}
	free(names);
	return rc;
}

int dataset_read(const char *path, const struct dataset_window *w, dataset_row_fn fn, void *ctx,
		 uint64_t *rows, struct error *err)
{
	struct reader r;
	struct stat st;
	int parts[5] = {0}, rc;

	memset(&r, 0, sizeof r);
	r.fn = fn;
	r.ctx = ctx;
	r.err = err;
	if (w)
		r.w = *w;
	if (stat(path, &st) < 0)
		return error_set(err, errno == ENOENT ? 404 : 400, "DataNotFound", "%s: %s", path,
				 strerror(errno));
	r.above[0].dev = st.st_dev;
	r.above[0].ino = st.st_ino;
	r.nabove = 1;
	if (S_ISDIR(st.st_mode))
		rc = walk(&r, path, parts, 0);
	else
		rc = read_file(&r, path, format_of(path) == FMT_CSV ? FMT_CSV : FMT_JSONL);
	if (rows)
		*rows = r.rows;
	free(r.cells);
	free(r.scratch);
	names_free(&r);
	return rc;
}

/* ---- in memory ---------------------------------------------------------- */

/* The value of member `name` of the object at j->p ('{'), positioned there. */
static int js_member(struct js *j, const char *name)
{
	size_t want = strlen(name), klen;
	const char *key;
	int esc;

	j->p++;
	for (;;) {
		ws(j);
		if (j->p >= j->end || *j->p != '"' || js_string(j, &key, &klen, &esc) < 0)
			return -1;
		ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return -1;
		ws(j);
		if (klen == want && memcmp(key, name, want) == 0)
			return 0;
		if (js_skip(j, 1) < 0)
			return -1;
		ws(j);
		if (j->p >= j->end || *j->p++ != ',')
			return -1;
	}
}

static int rows_of(const char *json, size_t len, const char *member, dataset_row_fn fn,
		   void *ctx, uint64_t *rows, int lazy, struct error *err)
{
	struct reader r;
	struct js j = {json, json + len};
	int rc;

	memset(&r, 0, sizeof r);
	r.lazy = lazy;
	r.file = member ? "the request" : "the answer";
	r.line = 1;
	r.fn = fn;
	r.ctx = ctx;
	r.err = err;
	if (scratch_reserve(&r, len) < 0)
		return oom(&r);
	ws(&j);
	if (member && (j.p >= j.end || *j.p != '{' || js_member(&j, member) < 0))
		rc = error_set(err, 400, "InvalidData", "no \"%s\" member", member);
	else if (j.p >= j.end || *j.p != '[')
		rc = error_set(err, 400, "InvalidData", "not an array of rows");
	else
		rc = array_rows(&r, &j);
	if (rows)
		*rows = r.rows;
	free(r.cells);
	free(r.scratch);
	return rc;
}

int dataset_rows(const char *json, size_t len, const char *member, dataset_row_fn fn, void *ctx,
		 uint64_t *rows, struct error *err)
{
	return rows_of(json, len, member, fn, ctx, rows, 0, err);
}

int dataset_rows_lazy(const char *json, size_t len, const char *member, dataset_row_fn fn,
		      void *ctx, uint64_t *rows, struct error *err)
{
	return rows_of(json, len, member, fn, ctx, rows, 1, err);
}

static int json_valid(const char *json, size_t len)
{
	struct js j = {json, json + len};

	if (js_skip(&j, 0) < 0)
		return 0;
	ws(&j);
	return j.p == j.end;
}

size_t dataset_json_squeeze(char *out, const char *json, size_t len)
{
	size_t o = 0;
	int in_string = 0;

	for (size_t i = 0; i < len; i++) {
		char c = json[i];

		if (in_string) {
			if (c == '\\' && i + 1 < len) { /* the escaped byte never ends it */
				out[o++] = c;
				c = json[++i];
			} else {
				in_string = c != '"';
			}
		} else if (c == '"') {
			in_string = 1;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			continue;
		}
		out[o++] = c;
	}
	return o;
}

int dataset_json_compact(const char *json, size_t len, struct dynbuf *out)
{
	if (len == 0 || !json_valid(json, len) || dynbuf_reserve(out, len) < 0)
		return -1;
	out->len += dataset_json_squeeze(out->p + out->len, json, len);
	out->p[out->len] = '\0';
	return 0;
}
