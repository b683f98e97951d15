/* input.c: one-pass scanner for {"data": [[...], ...]} (or Azure's MLflow
 * {"input_data": ...}) into a dense matrix. */
#include "runtime/engines/input.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/fastfloat.h"

#define INPUT_MAX_VALUES (8u << 20) /* 64 MiB of doubles; the body limit binds first */
#define SKIP_MAX_DEPTH 64
#define NUMBER_MAX_LEN 400

struct scan {
	const char *p;
	const char *start;
	const char *end;
	struct error *err;
	const char *rows_at, *rows_end; /* the array of rows scored, once read */
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

/* Exponents beyond this are clamped while reading: far outside every double. */
#define EXP10_CLAMP 100000

/* A JSON number read in one pass: +-mant * 10^exp10 when digits fit. */
struct decimal {
	uint64_t mant; /* the significand's digits; wraps past FASTFLOAT_MAX_DIGITS */
	int64_t exp10; /* power of ten applied to mant */
	size_t digits; /* at least the significant digits; exact past FASTFLOAT_MAX_DIGITS */
	int neg;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Appends the digits at s[i..len) to *mant; returns the index after them. */
static size_t read_digits(const char *s, size_t i, size_t len, uint64_t *mant)
{
	uint64_t m = *mant;

	for (; i < len && is_digit(s[i]); i++)
		m = m * 10 + (uint64_t)(s[i] - '0');
	*mant = m;
	return i;
}

/* Reads an exponent's optional sign and digits at s[i..) into *exp10; returns
 * the index after them, or 0 when there is no digit. */
static size_t read_exponent(const char *s, size_t i, size_t len, int64_t *exp10)
{
	int64_t e = 0;
	int neg = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i >= len || !is_digit(s[i]))
		return 0;
	for (; i < len && is_digit(s[i]); i++)
		if (e < EXP10_CLAMP)
			e = e * 10 + (s[i] - '0');
	*exp10 += neg ? -e : e;
	return i;
}

/* Digits of the significand s[0..n) after its leading zeros (and point). */
static size_t significant_digits(const char *s, size_t n)
{
	size_t i = 0, count = 0;

	while (i < n && (s[i] == '0' || s[i] == '.'))
		i++;
	for (; i < n; i++)
		count += s[i] != '.';
	return count;
}

/* Validates the JSON number grammar at s and reads its decimal value in the
 * same pass; returns the number's length, or 0 when it is not one. */
static size_t number_scan(const char *s, size_t len, struct decimal *d)
{
	size_t i = 0, start, frac;

	d->mant = 0;
	d->exp10 = 0;
	d->neg = len > 0 && s[0] == '-';
	i = start = (size_t)d->neg;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && is_digit(s[i]))
		i = read_digits(s, i, len, &d->mant);
	else
		return 0;
	if (i < len && s[i] == '.') {
		frac = ++i;
		if (i >= len || !is_digit(s[i]))
			return 0;
		i = read_digits(s, i, len, &d->mant);
		d->exp10 = -(int64_t)(i - frac);
	}
	/* An upper bound (it counts the point and leading zeros); exact if it matters. */
	d->digits = i - start - (s[start] == '0');
	if (d->digits > FASTFLOAT_MAX_DIGITS)
		d->digits = significant_digits(s + start, i - start);
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
		i = read_exponent(s, i + 1, len, &d->exp10);
	return i;
}

/* strtod (or, with f, strtof) in the "C" locale on a bounded copy of s[0..n). */
static double number_slow(const char *s, size_t n, float *f)
{
	char buf[NUMBER_MAX_LEN + 1];
	locale_t old;
	double v = 0;

	memcpy(buf, s, n);
	buf[n] = '\0';
	old = uselocale(input_c_locale());
	if (f != NULL)
		*f = strtof(buf, NULL);
	else
		v = strtod(buf, NULL);
	uselocale(old);
	return v;
}

size_t input_number_exact(const char *s, size_t len, double *out)
{
	struct decimal d;
	size_t n = number_scan(s, len, &d);

	if (n == 0 || n > NUMBER_MAX_LEN)
		return 0;
	if (d.digits > FASTFLOAT_MAX_DIGITS || !fastfloat_decimal(d.mant, d.exp10, d.neg, out))
		*out = number_slow(s, n, NULL);
	return n;
}

/* ---- the usual shape, sixteen digits at a time ---------------------------
 * A client's numbers are nearly all -?D{1,3}.D{1,19} (Python's repr of a
 * double: 16-17 significant digits). Read a digit at a time they are a chain
 * of dependent multiply-adds, most of a body's scan. Here the integer part
 * is found and converted eight bytes at a time (byte masks, then Lemire's
 * eight-digit multiplications), and the fraction sixteen digits at a time
 * with SSE2 (a digit mask, then three multiply-adds of pairs); its value is
 * taken as 16 digits (zeros after a shorter fraction) over 10^16, which reads
 * as the same double. Anything else (an exponent, a longer integer part,
 * over 19 significant digits, a grammar error) is left to number_scan, which
 * then decides alone. x86-64 always has SSE2; elsewhere every number takes
 * number_scan. */

#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FAST_NUMBERS 1
#include <emmintrin.h>

#define ONES UINT64_C(0x0101010101010101)
#define POW10_16 UINT64_C(10000000000000000)

static const uint64_t pow10_u64[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
				     100000000};

/* Bytes number_fast may look at: sign, 3 digits, point, 16 + 8 digits, and more. */
#define NUMBER_FAST_SPAN 40

/* Eight bytes at s as digit values: '0'..'9' become 0..9. */
static uint64_t load_digits(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof w);
	return w ^ (0x30 * ONES);
}

/* How many of t's bytes (first byte lowest) are digits before another byte: 0..8. */
static unsigned digit_run(uint64_t t)
{
	/* bit 7 of a byte ends up set when it is not 0..9: no carry crosses bytes */
	uint64_t h = (((t & (0x7f * ONES)) + 0x76 * ONES) | t) & (0x80 * ONES);

	return h ? (unsigned)__builtin_ctzll(h) >> 3 : 8;
}

/* The value of t's first n digits, 1 <= n <= 8. */
static uint64_t digits_value(uint64_t t, unsigned n)
{
	t <<= 8 * (8 - n); /* the bytes after them go; zeros lead */
	t = t * 10 + (t >> 8);
	return ((t & UINT64_C(0x000000FF000000FF)) * (100 + (UINT64_C(1000000) << 32)) +
		((t >> 16) & UINT64_C(0x000000FF000000FF)) * (1 + (UINT64_C(10000) << 32))) >>
	       32;
}

/* How many of the 16 byte values in d (text minus '0') are digits before another. */
static unsigned digit_run16(__m128i d)
{
	unsigned digits = (unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_max_epu8(d, _mm_set1_epi8(9)), _mm_set1_epi8(9)));

	return (unsigned)__builtin_ctz(~digits); /* 16 when all are */
}

/* The first n (1..16) digits of d as a 16-digit number: zeros after them. */
static uint64_t value16(__m128i d, unsigned n)
{
	const __m128i idx = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	const __m128i zero = _mm_setzero_si128();
	__m128i lo, hi, x;

	d = _mm_and_si128(d, _mm_cmpgt_epi8(_mm_set1_epi8((char)n), idx));
	/* pairs of digits, then of pairs, then of quadruples: two 8-digit halves */
	lo = _mm_madd_epi16(_mm_unpacklo_epi8(d, zero), _mm_set1_epi32(1 << 16 | 10));
	hi = _mm_madd_epi16(_mm_unpackhi_epi8(d, zero), _mm_set1_epi32(1 << 16 | 10));
	x = _mm_madd_epi16(_mm_packs_epi32(lo, hi), _mm_set1_epi32(1 << 16 | 100));
	x = _mm_madd_epi16(_mm_packs_epi32(x, x), _mm_set1_epi32(1 << 16 | 10000));
	return (uint64_t)(uint32_t)_mm_cvtsi128_si32(x) * 100000000u +
	       (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(x, 4));
}

/* The fraction after the point at s (ni integer digits of value *mant before
 * it): *mant and *exp10 become the whole number's. Returns the fraction's
 * length, or 0 when number_scan must decide. */
static unsigned fraction_fast(const char *s, unsigned ni, uint64_t *mant, int64_t *exp10)
{
	__m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)s),
				 _mm_set1_epi8('0'));
	unsigned nf = digit_run16(d), more;
	uint64_t t;

	if (nf == 0)
		return 0;
	*mant = *mant * POW10_16 + value16(d, nf);
	*exp10 = -16;
	if (nf < 16)
		return nf;
	t = load_digits(s + 16);
	more = digit_run(t);
	if (more == 0)
		return nf;
	/* beyond 19 significant digits a uint64_t no longer holds them exactly */
	if ((*mant >= POW10_16 ? ni : 0) + 16 + more > FASTFLOAT_MAX_DIGITS)
		return 0;
	*mant = *mant * pow10_u64[more] + digits_value(t, more);
	*exp10 -= more;
	return nf + more;
}

/* The usual shape from s, which has at least NUMBER_FAST_SPAN readable bytes.
 * Returns its length with *out set, or 0 when number_scan must decide. */
static size_t number_fast(const char *s, double *out)
{
	int neg = s[0] == '-';
	const char *p = s + neg;
	uint64_t t = load_digits(p), mant;
	unsigned ni = digit_run(t), nf;
	int64_t exp10 = 0;

	if (ni == 0 || ni == 8 || (ni > 1 && p[0] == '0'))
		return 0;
	mant = digits_value(t, ni);
	p += ni;
	if (*p == '.') {
		/* three integer digits and sixteen of the fraction fit a uint64_t */
		if (ni > 3 || (nf = fraction_fast(p + 1, ni, &mant, &exp10)) == 0)
			return 0;
		p += 1 + nf;
	}
	if ((*p | 0x20) == 'e' || !fastfloat_decimal(mant, exp10, neg, out))
		return 0;
	return (size_t)(p - s);
}
#endif

size_t input_number(const char *s, size_t len, double *out)
{
#ifdef FAST_NUMBERS
	size_t n;

	if (len >= NUMBER_FAST_SPAN && (n = number_fast(s, out)) != 0)
		return n;
#endif
	return input_number_exact(s, len, out);
}

size_t input_number_float(const char *s, size_t len, float *out)
{
	double d, mid;
	size_t n = input_number(s, len, &d);
	float f, g;

	if (n == 0)
		return 0;
	/* The correctly rounded double, rounded again to float, is the correctly
	 * rounded float unless the double landed exactly halfway between two
	 * floats (or past the largest one): then strtof decides from the text. */
	f = (float)d;
	if ((double)f != d) {
		g = nextafterf(f, d > (double)f ? INFINITY : -INFINITY);
		mid = ((double)f + (double)g) / 2;
		if (!isfinite(f) || !isfinite(g) || mid == d)
			number_slow(s, n, &f);
	}
	*out = f;
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

/* accept(s, ','), the usual case (no whitespace before it) first. */
static int comma(struct scan *s)
{
	if (s->p < s->end && *s->p == ',') {
		s->p++;
		return 1;
	}
	return accept(s, ',');
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
#ifdef FAST_NUMBERS
	/* the usual shape is always finite: no exponent, at most 7 integer digits */
	if (s->end - s->p >= NUMBER_FAST_SPAN && (n = number_fast(s->p, v)) != 0) {
		s->p += n;
		return 0;
	}
#endif
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
	/* room for the whole row at once when its width is known */
	if (width > 0 && reserve(m, base + width - 1, s->err) != 0)
		return -1;
	if (!accept(s, ']')) {
		do {
			if (scan_value(s, r, c, flags, &v) != 0)
				return -1;
			if (c < width) {
				m->values[base + c] = v;
			} else if (width == 0) {
				if (reserve(m, c, s->err) != 0)
					return -1;
				m->values[c] = v;
			}
			if (++c > INPUT_MAX_COLS)
				return error_set(s->err, 400, "BadRequest",
						 "row %zu has more than %d features", r,
						 INPUT_MAX_COLS);
		} while (comma(s));
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

	skip_ws(s);
	s->rows_at = s->p;
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
	s->rows_end = s->p;
	return 0;
}

static int scan_member(struct scan *s, int expect_cols, int flags, struct input_matrix *m,
		       int *seen, int depth);

/* Azure's MLflow input: "input_data": [[...], ...] or {"data": [[...]], ...}
 * (its "columns" and "index" are skipped: rows are positional). */
static int scan_input_data(struct scan *s, int expect_cols, int flags, struct input_matrix *m,
			   int *seen)
{
	skip_ws(s);
	if (s->p < s->end && *s->p == '[') {
		*seen = 1;
		return scan_data(s, expect_cols, flags, m);
	}
	if (!accept(s, '{'))
		return error_set(s->err, 400, "BadRequest",
				 "input_data must be an array of rows or {\"data\": [...]}");
	if (!accept(s, '}')) {
		do {
			if (scan_member(s, expect_cols, flags, m, seen, 1) != 0)
				return -1;
		} while (accept(s, ','));
		if (!accept(s, '}'))
			return bad_json(s);
	}
	return 0;
}

static int scan_member(struct scan *s, int expect_cols, int flags, struct input_matrix *m,
		       int *seen, int depth)
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
	if (depth == 0 && n == 10 && memcmp(key, "input_data", 10) == 0 && !*seen)
		return scan_input_data(s, expect_cols, flags, m, seen);
	return skip_value(s, 1);
}

static int parse(struct scan *s, int expect_cols, int flags, struct input_matrix *m);

int input_parse(const char *body, size_t len, int expect_cols, int flags, struct input_matrix *m,
		struct error *err)
{
	struct scan s = {body, body, body + len, err, NULL, NULL};

	return parse(&s, expect_cols, flags, m);
}

int input_rows_span(const char *body, size_t len, size_t *off, size_t *n)
{
	struct input_matrix m;
	struct error err;
	struct scan s = {body, body, body + len, &err, NULL, NULL};
	int rc;

	input_init(&m);
	rc = parse(&s, 0, INPUT_ALLOW_NULL, &m);
	input_cleanup(&m);
	if (rc < 0 || s.rows_at == NULL || s.rows_end == NULL)
		return -1;
	*off = (size_t)(s.rows_at - body);
	*n = (size_t)(s.rows_end - s.rows_at);
	return 0;
}

static int parse(struct scan *s, int expect_cols, int flags, struct input_matrix *m)
{
	const char *body = s->start;
	struct error *err = s->err;
	int seen = 0;

	m->rows = m->cols = 0;
	if (body == NULL || !accept(s, '{'))
		return error_set(err, 400, "BadRequest",
				 "body must be a JSON object like {\"data\": [[1.0, 2.0], ...]}");
	if (!accept(s, '}')) {
		do {
			if (scan_member(s, expect_cols, flags, m, &seen, 0) != 0)
				return -1;
		} while (accept(s, ','));
		if (!accept(s, '}'))
			return bad_json(s);
	}
	skip_ws(s);
	if (s->p != s->end)
		return error_set(err, 400, "BadRequest", "unexpected text after the JSON object");
	if (!seen)
		return error_set(
		    err, 400, "BadRequest",
		    "body has no \"data\" field: expected {\"data\": [[1.0, 2.0], ...]}");
	return 0;
}
