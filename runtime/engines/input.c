/* input.c: one-pass scanner for {"data": [[...], ...]} into a dense matrix. */
#include "runtime/engines/input.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX_VALUES (8u << 20) /* 64 MiB of doubles; the body limit binds first */
#define SKIP_MAX_DEPTH 64
#define NUMBER_MAX_LEN 400

struct scan {
	const char *p;
	const char *start;
	const char *end;
	struct error *err;
};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t input_c_locale(void)
{
	pthread_once(&c_locale_once, c_locale_init);
	return c_locale;
}

void input_init(struct input_matrix *m)
{
	m->values = m->inline_buf;
	m->rows = 0;
	m->cols = 0;
	m->cap = INPUT_INLINE;
}

void input_cleanup(struct input_matrix *m)
{
	if (m->values != m->inline_buf)
		free(m->values);
	m->values = m->inline_buf;
	m->cap = INPUT_INLINE;
}

/* Powers of ten that are exact doubles: the range of Clinger's fast path. */
static const double exact_pow10[] = {1e0,  1e1,	 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,
				     1e8,  1e9,	 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Validates the JSON number grammar at s; returns its length or 0. */
static size_t number_span(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && is_digit(s[i]))
		while (i < len && is_digit(s[i]))
			i++;
	else
		return 0;
	if (i < len && s[i] == '.') {
		if (++i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i]))
			i++;
	}
	return i;
}

/* Exact when the decimal significand fits in 2^53 and the power of ten is an
 * exact double (Clinger's fast path); returns 0 when the slow path is needed.
 * s[0..n) has already passed number_span. */
static int number_fast(const char *s, size_t n, double *out)
{
	uint64_t mant = 0;
	int digits = 0, exp10 = 0, seen_dot = 0, e = 0, eneg = 0;
	int neg = s[0] == '-';
	size_t i = (size_t)neg;

	for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			seen_dot = 1;
			continue;
		}
		exp10 -= seen_dot;
		if (mant == 0 && s[i] == '0')
			continue;
		if (++digits > 19)
			return 0;
		mant = mant * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < n) {
		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n && e <= 400; i++)
			e = e * 10 + (s[i] - '0');
		exp10 += eneg ? -e : e;
	}
	if (mant == 0) {
		*out = neg ? -0.0 : 0.0;
		return 1;
	}
	if (mant > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
		return 0;
	*out = exp10 < 0 ? (double)mant / exact_pow10[-exp10] : (double)mant * exact_pow10[exp10];
	if (neg)
		*out = -*out;
	return 1;
}

static double number_slow(const char *s, size_t n)
{
	char buf[NUMBER_MAX_LEN + 1];
	locale_t old;
	double v;

	memcpy(buf, s, n);
	buf[n] = '\0';
	old = uselocale(input_c_locale());
	v = strtod(buf, NULL);
	uselocale(old);
	return v;
}

size_t input_number(const char *s, size_t len, double *out)
{
	size_t n = number_span(s, len);

	if (n == 0 || n > NUMBER_MAX_LEN)
		return 0;
	if (!number_fast(s, n, out))
		*out = number_slow(s, n);
	return n;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

/* Skips whitespace, then consumes c if it is next. */
static int accept(struct scan *s, char c)
{
	skip_ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return 1;
	}
	return 0;
}

static int bad_json(struct scan *s)
{
	return error_set(s->err, 400, "BadRequest", "body is not valid JSON (at byte %ld)",
			 (long)(s->p - s->start));
}

/* Consumes a string (the opening quote is next); its raw bytes in *str, *n. */
static int scan_string(struct scan *s, const char **str, size_t *n)
{
	const char *q = ++s->p;

	while (q < s->end && *q != '"') {
		if ((unsigned char)*q < 0x20)
			return bad_json(s);
		q += *q == '\\' ? 2 : 1;
	}
	if (q >= s->end)
		return bad_json(s);
	*str = s->p;
	*n = (size_t)(q - s->p);
	s->p = q + 1;
	return 0;
}

static int skip_value(struct scan *s, int depth);

/* Skips the members of an array ('[' consumed: close ']') or object (close '}'). */
static int skip_members(struct scan *s, char close, int depth)
{
	const char *str;
	size_t n;

	if (accept(s, close))
		return 0;
	do {
		if (close == '}') {
			skip_ws(s);
			if (s->p >= s->end || *s->p != '"' || scan_string(s, &str, &n) != 0 ||
			    !accept(s, ':'))
				return bad_json(s);
		}
		if (skip_value(s, depth + 1) != 0)
			return -1;
	} while (accept(s, ','));
	return accept(s, close) ? 0 : bad_json(s);
}

static int skip_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return bad_json(s);
	s->p += n;
	return 0;
}

/* Skips any JSON value (used for top-level keys other than "data"). */
static int skip_value(struct scan *s, int depth)
{
	const char *str;
	size_t n;
	double v;

	skip_ws(s);
	if (s->p >= s->end || depth > SKIP_MAX_DEPTH)
		return bad_json(s);
	switch (*s->p) {
	case '"':
		return scan_string(s, &str, &n);
	case '[':
	case '{':
		return skip_members(s, *s->p++ == '[' ? ']' : '}', depth);
	case 't':
		return skip_literal(s, "true");
	case 'f':
		return skip_literal(s, "false");
	case 'n':
		return skip_literal(s, "null");
	default:
		n = input_number(s->p, (size_t)(s->end - s->p), &v);
		s->p += n;
		return n == 0 ? bad_json(s) : 0;
	}
}

/* Makes room for value index i (0-based) in the matrix. */
static int reserve(struct input_matrix *m, size_t i, struct error *err)
{
	size_t cap = m->cap;
	double *v;

	if (i < m->cap)
		return 0;
	if (i >= INPUT_MAX_VALUES)
		return error_set(err, 400, "BadRequest", "data has more than %u values",
				 INPUT_MAX_VALUES);
	while (cap <= i)
		cap *= 2;
	if (cap > INPUT_MAX_VALUES)
		cap = INPUT_MAX_VALUES;
	v = m->values == m->inline_buf ? malloc(cap * sizeof *v)
				       : realloc(m->values, cap * sizeof *v);
	if (v == NULL)
		return error_set(err, 500, "InternalError", "out of memory for %zu values", cap);
	if (m->values == m->inline_buf)
		memcpy(v, m->inline_buf, m->cap * sizeof *v);
	m->values = v;
	m->cap = cap;
	return 0;
}

/* Reads one value of row r at column c into *v (NaN for an allowed null). */
static int scan_value(struct scan *s, size_t r, size_t c, int flags, double *v)
{
	size_t n;

	skip_ws(s);
	n = input_number(s->p, (size_t)(s->end - s->p), v);
	if (n == 0 && (flags & INPUT_ALLOW_NULL) && s->end - s->p >= 4 &&
	    memcmp(s->p, "null", 4) == 0) {
		*v = NAN;
		n = 4;
	} else if (n == 0 || !isfinite(*v)) {
		return error_set(s->err, 400, "BadRequest", "row %zu column %zu is not %s", r, c,
				 n == 0 ? "a number" : "a finite number");
	}
	s->p += n;
	return 0;
}

/* Row r ('[' next). Stores up to `width` values (0: unbounded, first row) and
 * counts all of them into *count. */
static int scan_row(struct scan *s, struct input_matrix *m, size_t r, size_t width, int flags,
		    size_t *count)
{
	size_t c = 0, base = r * width;
	double v;

	if (!accept(s, '['))
		return error_set(s->err, 400, "BadRequest", "row %zu must be an array of numbers",
				 r);
	if (!accept(s, ']')) {
		do {
			if (scan_value(s, r, c, flags, &v) != 0)
				return -1;
			if (width == 0 || c < width) {
				if (reserve(m, base + c, s->err) != 0)
					return -1;
				m->values[base + c] = v;
			}
			if (++c > INPUT_MAX_COLS)
				return error_set(s->err, 400, "BadRequest",
						 "row %zu has more than %d features", r,
						 INPUT_MAX_COLS);
		} while (accept(s, ','));
		if (!accept(s, ']'))
			return error_set(s->err, 400, "BadRequest",
					 "row %zu must be an array of numbers", r);
	}
	*count = c;
	return 0;
}

static int check_width(struct scan *s, size_t r, size_t count, size_t width, int expect_cols)
{
	if (count == width && count > 0)
		return 0;
	if (expect_cols > 0)
		return error_set(s->err, 400, "BadRequest",
				 "row %zu has %zu features, the model expects %d", r, count,
				 expect_cols);
	if (count == 0)
		return error_set(s->err, 400, "BadRequest", "row %zu has no features", r);
	return error_set(s->err, 400, "BadRequest", "row %zu has %zu features, row 0 has %zu", r,
			 count, width);
}

/* The value of "data" ('[' of the outer array next). */
static int scan_data(struct scan *s, int expect_cols, int flags, struct input_matrix *m)
{
	size_t width = expect_cols > 0 ? (size_t)expect_cols : 0, count = 0, r = 0;

	if (!accept(s, '['))
		return error_set(s->err, 400, "BadRequest", "data must be an array of rows");
	if (accept(s, ']'))
		return error_set(s->err, 400, "BadRequest", "data has no rows");
	do {
		if (r >= INPUT_MAX_ROWS)
			return error_set(s->err, 400, "BadRequest", "data has more than %d rows",
					 INPUT_MAX_ROWS);
		if (scan_row(s, m, r, width, flags, &count) != 0)
			return -1;
		if (r == 0 && width == 0)
			width = count;
		if (check_width(s, r, count, width, expect_cols) != 0)
			return -1;
		r++;
	} while (accept(s, ','));
	if (!accept(s, ']'))
		return error_set(s->err, 400, "BadRequest", "data must be an array of rows");
	m->rows = r;
	m->cols = width;
	return 0;
}

static int scan_member(struct scan *s, int expect_cols, int flags, struct input_matrix *m,
		       int *seen)
{
	const char *key;
	size_t n;

	skip_ws(s);
	if (s->p >= s->end || *s->p != '"' || scan_string(s, &key, &n) != 0 || !accept(s, ':'))
		return bad_json(s);
	if (n == 4 && memcmp(key, "data", 4) == 0 && !*seen) {
		*seen = 1;
		return scan_data(s, expect_cols, flags, m);
	}
	return skip_value(s, 1);
}

int input_parse(const char *body, size_t len, int expect_cols, int flags, struct input_matrix *m,
		struct error *err)
{
	struct scan s = {body, body, body + len, err};
	int seen = 0;

	m->rows = m->cols = 0;
	if (body == NULL || !accept(&s, '{'))
		return error_set(err, 400, "BadRequest",
				 "body must be a JSON object like {\"data\": [[1.0, 2.0], ...]}");
	if (!accept(&s, '}')) {
		do {
			if (scan_member(&s, expect_cols, flags, m, &seen) != 0)
				return -1;
		} while (accept(&s, ','));
		if (!accept(&s, '}'))
			return bad_json(&s);
	}
	skip_ws(&s);
	if (s.p != s.end)
		return error_set(err, 400, "BadRequest", "unexpected text after the JSON object");
	if (!seen)
		return error_set(
		    err, 400, "BadRequest",
		    "body has no \"data\" field: expected {\"data\": [[1.0, 2.0], ...]}");
	return 0;
}
