/* jdoc.c: bounded JSON and UBJSON readers into one packed, read-only tree. */
#include "runtime/engines/jdoc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/input.h"

/* How the items of an array are stored. */
enum pack { PACK_NONE, PACK_U8, PACK_I32, PACK_I64, PACK_F32, PACK_F64 };

static const size_t pack_size[] = {0, 1, 4, 8, 4, 8};

struct jdoc_value {
	uint8_t type;	 /* enum jdoc_type */
	uint8_t pack;	 /* arrays: enum pack; floats: 1 for float64 */
	uint32_t n;	 /* items, members or bytes */
	uint32_t key;	 /* object members: key offset in strings */
	uint32_t keylen; /* object members: key bytes */
	union {
		int64_t i;    /* int, bool */
		double f;     /* float */
		uint64_t off; /* string: in strings; array/object: first child; packed: in data */
	} u;
};

struct jdoc {
	struct jdoc_value *values; /* children of one container are contiguous */
	char *strings;
	unsigned char *data; /* packed arrays, 8-byte aligned */
	struct jdoc_value root;
};

struct buf {
	void *p;
	size_t n; /* bytes used */
	size_t cap;
};

struct parser {
	const unsigned char *p, *start, *end;
	struct buf values, strings, data, stack; /* stack: pending children (values) */
	size_t budget;				 /* bytes the buffers may still grow by */
	int ubjson;
	char *why;
	size_t why_size;
};

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (ps->why == NULL || ps->why[0] != '\0')
		return -1; /* keep the first (innermost) reason */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(ps->why, ps->why_size, "%s at byte %ld", msg, (long)(ps->p - ps->start));
	return -1;
}

/* Makes room for `more` bytes in b, charged to the parser's budget. */
static int reserve(struct parser *ps, struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256, need = b->n + more;
	void *p;

	if (need < b->n)
		return fail(ps, "document too large");
	if (need <= b->cap)
		return 0;
	while (cap < need && cap <= SIZE_MAX / 2)
		cap *= 2;
	if (cap < need || cap - b->cap > ps->budget)
		cap = need;
	if (cap - b->cap > ps->budget)
		return fail(ps, "document needs more memory than %d times its size",
			    JDOC_MEMORY_FACTOR);
	p = realloc(b->p, cap);
	if (p == NULL)
		return fail(ps, "out of memory");
	ps->budget -= cap - b->cap;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int push(struct parser *ps, const struct jdoc_value *v)
{
	if (reserve(ps, &ps->stack, sizeof *v) != 0)
		return -1;
	memcpy((char *)ps->stack.p + ps->stack.n, v, sizeof *v);
	ps->stack.n += sizeof *v;
	return 0;
}

static struct jdoc_value *stack_at(struct parser *ps, size_t i)
{
	return (struct jdoc_value *)ps->stack.p + i;
}

static size_t stack_len(const struct parser *ps)
{
	return ps->stack.n / sizeof(struct jdoc_value);
}

/* Appends n bytes to the strings; their offset in *off. */
static int add_string(struct parser *ps, const void *s, size_t n, uint32_t *off)
{
	if (n > UINT32_MAX || reserve(ps, &ps->strings, n + 1) != 0)
		return fail(ps, "string too long");
	if (ps->strings.n > UINT32_MAX)
		return fail(ps, "document too large");
	*off = (uint32_t)ps->strings.n;
	memcpy((char *)ps->strings.p + ps->strings.n, s, n);
	((char *)ps->strings.p)[ps->strings.n + n] = '\0';
	ps->strings.n += n + 1;
	return 0;
}

/* Room for n packed items of kind k in the data; their offset in *off. */
static void *add_data(struct parser *ps, enum pack k, size_t n, uint64_t *off)
{
	size_t size = pack_size[k], pad = (8 - ps->data.n % 8) % 8;
	void *at;

	if (n > (SIZE_MAX - pad - 8) / size || reserve(ps, &ps->data, pad + n * size) != 0) {
		fail(ps, "array too long");
		return NULL;
	}
	ps->data.n += pad;
	*off = ps->data.n;
	at = (unsigned char *)ps->data.p + ps->data.n;
	ps->data.n += n * size;
	return at;
}

/* ---- containers: pending children become packed data or values ---------- */

/* The packing every item of stack[from..) allows, or PACK_NONE. */
static enum pack common_pack(struct parser *ps, size_t from)
{
	size_t i, n = stack_len(ps);
	int ints = 1, floats = 1, bools = 1, wide = 0, f64 = 0;

	if (from == n)
		return PACK_NONE;
	for (i = from; i < n; i++) {
		const struct jdoc_value *v = stack_at(ps, i);

		ints &= v->type == JDOC_INT;
		floats &= v->type == JDOC_FLOAT;
		bools &= v->type == JDOC_BOOL;
		if (v->type == JDOC_INT && (v->u.i < INT32_MIN || v->u.i > INT32_MAX))
			wide = 1;
		if (v->type == JDOC_FLOAT && v->pack)
			f64 = 1;
	}
	if (ints)
		return wide ? PACK_I64 : PACK_I32;
	if (floats)
		return f64 ? PACK_F64 : PACK_F32;
	return bools ? PACK_U8 : PACK_NONE;
}

static void pack_item(void *at, enum pack k, size_t i, const struct jdoc_value *v)
{
	int32_t i32;
	float f32;
	uint8_t u8;

	switch (k) {
	case PACK_U8:
		u8 = (uint8_t)v->u.i;
		memcpy((uint8_t *)at + i, &u8, 1);
		break;
	case PACK_I32:
		i32 = (int32_t)v->u.i;
		memcpy((char *)at + 4 * i, &i32, 4);
		break;
	case PACK_I64:
		memcpy((char *)at + 8 * i, &v->u.i, 8);
		break;
	case PACK_F32:
		f32 = (float)v->u.f;
		memcpy((char *)at + 4 * i, &f32, 4);
		break;
	default:
		memcpy((char *)at + 8 * i, &v->u.f, 8);
		break;
	}
}

/* Moves stack[from..) into the container *c (an array or object). */
static int commit(struct parser *ps, size_t from, struct jdoc_value *c)
{
	size_t n = stack_len(ps) - from;
	enum pack k = c->type == JDOC_ARRAY ? common_pack(ps, from) : PACK_NONE;
	void *at;

	if (n > UINT32_MAX)
		return fail(ps, "container too long");
	c->n = (uint32_t)n;
	c->pack = (uint8_t)k;
	if (n == 0)
		return 0;
	if (k != PACK_NONE) {
		if ((at = add_data(ps, k, n, &c->u.off)) == NULL)
			return -1;
		for (size_t i = 0; i < n; i++)
			pack_item(at, k, i, stack_at(ps, from + i));
	} else {
		if (reserve(ps, &ps->values, n * sizeof *c) != 0)
			return -1;
		c->u.off = ps->values.n / sizeof *c;
		memcpy((char *)ps->values.p + ps->values.n, stack_at(ps, from), n * sizeof *c);
		ps->values.n += n * sizeof *c;
	}
	ps->stack.n = from * sizeof *c;
	return 0;
}

/* ---- numbers as text ---------------------------------------------------- */

int jdoc_text_float32(const char *s, size_t n, float *out)
{
	if (n == 3 && memcmp(s, "NaN", 3) == 0) {
		*out = NAN;
		return 0;
	}
	if ((n == 8 && memcmp(s, "Infinity", 8) == 0) ||
	    (n == 9 && memcmp(s, "-Infinity", 9) == 0)) {
		*out = s[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	return n > 0 && input_number_float(s, n, out) == n ? 0 : -1;
}

static int string_value(struct parser *ps, struct jdoc_value *v);

/* ---- JSON --------------------------------------------------------------- */

static void json_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static int json_expect(struct parser *ps, char c)
{
	json_ws(ps);
	if (ps->p >= ps->end || *ps->p != (unsigned char)c)
		return fail(ps, "expected '%c'", c);
	ps->p++;
	return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* One escape after the backslash at q (q + 1 < end); writes its UTF-8 to o.
 * Returns the input bytes consumed, 0 when invalid. */
static size_t json_escape(const unsigned char *q, const unsigned char *end, unsigned char *o,
			  size_t *w)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = memchr(from, q[1], sizeof from - 1);
	unsigned cp, lo;

	if (q[1] != 'u') {
		if (k == NULL)
			return 0;
		o[(*w)++] = (unsigned char)to[k - from];
		return 2;
	}
	if (end - q < 6 || hex4(q + 2, &cp) != 0 || (cp >= 0xDC00 && cp < 0xE000))
		return 0;
	if (cp >= 0xD800 && cp < 0xDC00) {
		if (end - q < 12 || q[6] != '\\' || q[7] != 'u' || hex4(q + 8, &lo) != 0 ||
		    lo < 0xDC00 || lo >= 0xE000)
			return 0;
		*w += utf8_put(o + *w, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
		return 12;
	}
	*w += utf8_put(o + *w, cp);
	return 6;
}

/* A string ('"' next) decoded into the strings; its offset and length. */
static int json_string(struct parser *ps, uint32_t *off, uint32_t *len)
{
	const unsigned char *q = ++ps->p, *run;
	unsigned char *o;
	size_t w = 0, used;

	for (run = q; run < ps->end && *run != '"'; run += *run == '\\' ? 2 : 1)
		if (*run < 0x20)
			return fail(ps, "control character in a string");
	if (run >= ps->end)
		return fail(ps, "unterminated string");
	/* decoded text is never longer than the escaped text */
	if (add_string(ps, q, (size_t)(run - q), off) != 0)
		return -1;
	o = (unsigned char *)ps->strings.p + *off;
	while (q < run) {
		if (*q != '\\') {
			o[w++] = *q++;
			continue;
		}
		used = json_escape(q, run, o, &w);
		if (used == 0) {
			ps->p = q;
			return fail(ps, "bad escape in a string");
		}
		q += used;
	}
	o[w] = '\0';
	ps->strings.n = *off + w + 1;
	*len = (uint32_t)w;
	ps->p = run + 1;
	return 0;
}

static int json_int(struct parser *ps, const unsigned char *s, size_t n, int64_t *out)
{
	int neg = s[0] == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	for (size_t i = (size_t)neg; i < n; i++) {
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return fail(ps, "integer out of range");
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int json_number(struct parser *ps, struct jdoc_value *v)
{
	const unsigned char *s = ps->p;
	size_t n, avail = (size_t)(ps->end - s);
	int special = 1;
	double d;
	float f;

	if (avail >= 3 && memcmp(s, "NaN", 3) == 0)
		n = 3;
	else if (avail >= 8 && memcmp(s, "Infinity", 8) == 0)
		n = 8;
	else if (avail >= 9 && memcmp(s, "-Infinity", 9) == 0)
		n = 9;
	else if ((n = input_number((const char *)s, avail, &d)) == 0)
		return fail(ps, "expected a value");
	else
		special = 0;
	ps->p += n;
	if (special || memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n)) {
		if (jdoc_text_float32((const char *)s, n, &f) != 0)
			return fail(ps, "bad number");
		v->type = JDOC_FLOAT;
		v->u.f = f;
		return 0;
	}
	v->type = JDOC_INT;
	return json_int(ps, s, n, &v->u.i);
}

static int json_value(struct parser *ps, int depth, struct jdoc_value *v);

static int json_members(struct parser *ps, int depth, struct jdoc_value *c, char close)
{
	size_t from = stack_len(ps);
	struct jdoc_value item;

	json_ws(ps);
	if (ps->p < ps->end && *ps->p == (unsigned char)close) {
		ps->p++;
		return commit(ps, from, c);
	}
	for (;;) {
		memset(&item, 0, sizeof item);
		if (close == '}') {
			json_ws(ps);
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a key");
			if (json_string(ps, &item.key, &item.keylen) != 0 ||
			    json_expect(ps, ':') != 0)
				return -1;
		}
		if (json_value(ps, depth + 1, &item) != 0 || push(ps, &item) != 0)
			return -1;
		json_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (json_expect(ps, close) != 0)
			return -1;
		return commit(ps, from, c);
	}
}

static int json_literal(struct parser *ps, const char *word, struct jdoc_value *v, int type,
			int64_t i)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "expected a value");
	ps->p += n;
	v->type = (uint8_t)type;
	v->u.i = i;
	return 0;
}

/* Any value; keeps v->key/keylen as the caller set them. */
static int json_value(struct parser *ps, int depth, struct jdoc_value *v)
{
	json_ws(ps);
	if (depth > JDOC_MAX_DEPTH)
		return fail(ps, "nested deeper than %d", JDOC_MAX_DEPTH);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end");
	switch (*ps->p) {
	case '{':
	case '[':
		v->type = *ps->p == '{' ? JDOC_OBJECT : JDOC_ARRAY;
		return json_members(ps, depth, v, *ps->p++ == '{' ? '}' : ']');
	case '"':
		return string_value(ps, v);
	case 't':
		return json_literal(ps, "true", v, JDOC_BOOL, 1);
	case 'f':
		return json_literal(ps, "false", v, JDOC_BOOL, 0);
	case 'n':
		return json_literal(ps, "null", v, JDOC_NULL, 0);
	default:
		return json_number(ps, v);
	}
}

/* ---- UBJSON ------------------------------------------------------------- */

static int ub_bytes(struct parser *ps, size_t n, const unsigned char **at)
{
	if ((size_t)(ps->end - ps->p) < n)
		return fail(ps, "unexpected end");
	*at = ps->p;
	ps->p += n;
	return 0;
}

static uint64_t big_endian(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The integer of marker m (i U I l L) that follows. */
static int ub_int(struct parser *ps, unsigned char m, int64_t *out)
{
	static const char markers[] = "iUIlL";
	static const size_t sizes[] = {1, 1, 2, 4, 8};
	const char *k = m != '\0' ? strchr(markers, m) : NULL;
	const unsigned char *at = NULL;
	size_t size;
	uint64_t u;

	if (k == NULL)
		return fail(ps, "expected an integer marker");
	size = sizes[k - markers];
	if (ub_bytes(ps, size, &at) != 0)
		return -1;
	u = big_endian(at, size);
	if (m == 'U')
		*out = (int64_t)u;
	else if (size == 8)
		*out = (int64_t)u;
	else /* sign-extend */
		*out = (int64_t)(u ^ (UINT64_C(1) << (8 * size - 1))) -
		       (int64_t)(UINT64_C(1) << (8 * size - 1));
	return 0;
}

/* A length or count: an integer marker and a non-negative integer. */
static int ub_count(struct parser *ps, int64_t *n)
{
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end");
	if (ub_int(ps, *ps->p++, n) != 0)
		return -1;
	if (*n < 0 || (uint64_t)*n > (uint64_t)(ps->end - ps->p))
		return fail(ps, "length %lld exceeds the input", (long long)*n);
	return 0;
}

static int ub_string(struct parser *ps, uint32_t *off, uint32_t *len)
{
	const unsigned char *at = NULL;
	int64_t n;

	if (ub_count(ps, &n) != 0 || ub_bytes(ps, (size_t)n, &at) != 0 ||
	    add_string(ps, at, (size_t)n, off) != 0)
		return -1;
	*len = (uint32_t)n;
	return 0;
}

/* A string value, in either syntax. */
static int string_value(struct parser *ps, struct jdoc_value *v)
{
	uint32_t off;

	v->type = JDOC_STRING;
	if ((ps->ubjson ? ub_string(ps, &off, &v->n) : json_string(ps, &off, &v->n)) != 0)
		return -1;
	v->u.off = off;
	return 0;
}

static int ub_float(struct parser *ps, size_t size, struct jdoc_value *v)
{
	const unsigned char *at = NULL;
	uint64_t u;
	uint32_t u32;
	float f;

	if (ub_bytes(ps, size, &at) != 0)
		return -1;
	u = big_endian(at, size);
	v->type = JDOC_FLOAT;
	if (size == 4) {
		u32 = (uint32_t)u;
		memcpy(&f, &u32, 4);
		v->u.f = f;
	} else {
		memcpy(&v->u.f, &u, 8);
		v->pack = 1;
	}
	return 0;
}

/* A typed array's items ('$' type '#' count read) decoded into the data. */
static int ub_typed(struct parser *ps, unsigned char type, struct jdoc_value *c)
{
	static const char types[] = "iUIlLdD";
	static const size_t sizes[] = {1, 1, 2, 4, 8, 4, 8};
	static const enum pack packs[] = {PACK_I32, PACK_U8,  PACK_I32, PACK_I32,
					  PACK_I64, PACK_F32, PACK_F64};
	const char *k = type != '\0' ? strchr(types, type) : NULL;
	struct jdoc_value item;
	int64_t n;
	void *at;

	if (k == NULL)
		return fail(ps, "typed array of '%c' is not supported", type);
	if (ps->p >= ps->end || *ps->p++ != '#' || ub_count(ps, &n) != 0)
		return fail(ps, "typed array without a count");
	if ((uint64_t)n > (uint64_t)(ps->end - ps->p) / sizes[k - types] || n > UINT32_MAX)
		return fail(ps, "typed array of %lld items exceeds the input", (long long)n);
	c->n = (uint32_t)n;
	c->pack = (uint8_t)(n > 0 ? packs[k - types] : PACK_NONE);
	if (n == 0)
		return 0;
	if ((at = add_data(ps, packs[k - types], (size_t)n, &c->u.off)) == NULL)
		return -1;
	for (int64_t i = 0; i < n; i++) {
		memset(&item, 0, sizeof item);
		if ((type == 'd' || type == 'D') ? ub_float(ps, sizes[k - types], &item)
						 : ub_int(ps, type, &item.u.i))
			return -1;
		pack_item(at, packs[k - types], (size_t)i, &item);
	}
	return 0;
}

static int ub_value(struct parser *ps, int depth, struct jdoc_value *v);

static int ub_container(struct parser *ps, int depth, struct jdoc_value *c)
{
	size_t from = stack_len(ps);
	int64_t count = -1;
	struct jdoc_value item;
	int object = c->type == JDOC_OBJECT;

	if (ps->p < ps->end && *ps->p == '$') {
		ps->p++;
		if (object || ps->p >= ps->end)
			return fail(ps, "typed objects are not supported");
		return ub_typed(ps, *ps->p++, c);
	}
	if (ps->p < ps->end && *ps->p == '#') {
		ps->p++;
		if (ub_count(ps, &count) != 0)
			return -1;
	}
	for (int64_t i = 0; count < 0 || i < count; i++) {
		while (ps->p < ps->end && *ps->p == 'N')
			ps->p++; /* no-op */
		if (ps->p >= ps->end)
			return fail(ps, "unexpected end");
		if (count < 0 && *ps->p == (object ? '}' : ']')) {
			ps->p++;
			break;
		}
		memset(&item, 0, sizeof item);
		if (object && ub_string(ps, &item.key, &item.keylen) != 0)
			return -1;
		if (ub_value(ps, depth + 1, &item) != 0 || push(ps, &item) != 0)
			return -1;
	}
	return commit(ps, from, c);
}

static int ub_value(struct parser *ps, int depth, struct jdoc_value *v)
{
	unsigned char m;

	while (ps->p < ps->end && *ps->p == 'N')
		ps->p++;
	if (depth > JDOC_MAX_DEPTH)
		return fail(ps, "nested deeper than %d", JDOC_MAX_DEPTH);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end");
	switch ((m = *ps->p++)) {
	case '{':
	case '[':
		v->type = m == '{' ? JDOC_OBJECT : JDOC_ARRAY;
		return ub_container(ps, depth, v);
	case 'Z':
		v->type = JDOC_NULL;
		return 0;
	case 'T':
	case 'F':
		v->type = JDOC_BOOL;
		v->u.i = m == 'T';
		return 0;
	case 'd':
	case 'D':
		return ub_float(ps, m == 'd' ? 4 : 8, v);
	case 'S':
		return string_value(ps, v);
	case 'C': /* a char is one unsigned byte */
	case 'i':
	case 'U':
	case 'I':
	case 'l':
	case 'L':
		v->type = JDOC_INT;
		return ub_int(ps, m == 'C' ? 'U' : m, &v->u.i);
	default:
		ps->p--;
		return fail(ps, "unknown marker 0x%02x", m);
	}
}

/* ---- the document ------------------------------------------------------- */

static int looks_ubjson(const unsigned char *p, size_t len)
{
	return len >= 2 && ((p[0] == '{' && strchr("iUIlL#$", p[1]) != NULL && p[1] != '\0') ||
			    (p[0] == '[' && strchr("$#iUlLdDSTFZC", p[1]) != NULL && p[1] != '\0'));
}

int jdoc_sniff(const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len;

	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p < end && (*p == '{' || *p == '[');
}

static void parser_cleanup(struct parser *ps)
{
	free(ps->values.p);
	free(ps->strings.p);
	free(ps->data.p);
	free(ps->stack.p);
}

struct jdoc *jdoc_parse(const void *buf, size_t len, char *why, size_t why_size)
{
	struct parser ps = {0};
	struct jdoc *d = calloc(1, sizeof *d);
	int rc;

	if (why != NULL && why_size > 0)
		why[0] = '\0';
	ps.p = ps.start = buf;
	ps.end = ps.p + len;
	ps.why = why_size > 0 ? why : NULL;
	ps.why_size = why_size;
	ps.budget = len > (SIZE_MAX - (1u << 20)) / JDOC_MEMORY_FACTOR
			? SIZE_MAX
			: len * JDOC_MEMORY_FACTOR + (1u << 20);
	if (d == NULL) {
		fail(&ps, "out of memory");
		return NULL;
	}
	json_ws(&ps);
	ps.ubjson = looks_ubjson(ps.p, (size_t)(ps.end - ps.p));
	rc = ps.ubjson ? ub_value(&ps, 0, &d->root) : json_value(&ps, 0, &d->root);
	if (rc == 0 && !ps.ubjson)
		json_ws(&ps);
	if (rc == 0 && ps.p != ps.end)
		rc = fail(&ps, "unexpected data after the document");
	if (rc != 0) {
		parser_cleanup(&ps);
		free(d);
		return NULL;
	}
	d->values = ps.values.p;
	d->strings = ps.strings.p;
	d->data = ps.data.p;
	free(ps.stack.p);
	return d;
}

void jdoc_free(struct jdoc *d)
{
	if (d == NULL)
		return;
	free(d->values);
	free(d->strings);
	free(d->data);
	free(d);
}

/* ---- reading ------------------------------------------------------------ */

const struct jdoc_value *jdoc_root(const struct jdoc *d)
{
	return &d->root;
}

enum jdoc_type jdoc_type(const struct jdoc_value *v)
{
	return v != NULL ? (enum jdoc_type)v->type : JDOC_NULL;
}

size_t jdoc_len(const struct jdoc_value *v)
{
	if (v == NULL ||
	    (v->type != JDOC_ARRAY && v->type != JDOC_OBJECT && v->type != JDOC_STRING))
		return 0;
	return v->n;
}

const struct jdoc_value *jdoc_get(const struct jdoc *d, const struct jdoc_value *v, const char *key)
{
	size_t n = strlen(key);

	if (v == NULL || v->type != JDOC_OBJECT)
		return NULL;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct jdoc_value *m = &d->values[v->u.off + i];

		if (m->keylen == n && memcmp(d->strings + m->key, key, n) == 0)
			return m;
	}
	return NULL;
}

const struct jdoc_value *jdoc_at(const struct jdoc *d, const struct jdoc_value *v, size_t i)
{
	if (v == NULL || v->type != JDOC_ARRAY || v->pack != PACK_NONE || i >= v->n)
		return NULL;
	return &d->values[v->u.off + i];
}

const char *jdoc_str(const struct jdoc *d, const struct jdoc_value *v, size_t *len)
{
	if (v == NULL || v->type != JDOC_STRING)
		return NULL;
	if (len != NULL)
		*len = v->n;
	return d->strings + v->u.off;
}

int jdoc_is(const struct jdoc *d, const struct jdoc_value *v, const char *s)
{
	size_t n;
	const char *t = jdoc_str(d, v, &n);

	return t != NULL && n == strlen(s) && memcmp(t, s, n) == 0;
}

int jdoc_int(const struct jdoc_value *v, int64_t *out)
{
	if (v == NULL || (v->type != JDOC_INT && v->type != JDOC_BOOL))
		return -1;
	*out = v->u.i;
	return 0;
}

int jdoc_float32(const struct jdoc_value *v, float *out)
{
	if (v != NULL && v->type == JDOC_FLOAT) {
		*out = (float)v->u.f;
		return 0;
	}
	if (v != NULL && v->type == JDOC_INT) {
		*out = (float)v->u.i;
		return 0;
	}
	return -1;
}

/* Item i of a packed array as int64 (ints) or double (floats); 0, or -1 when
 * the packing is not of that kind. */
static int packed_item(const struct jdoc *d, const struct jdoc_value *v, size_t i, int64_t *iv,
		       double *fv, int *is_float)
{
	const unsigned char *at = d->data + v->u.off + i * pack_size[v->pack];
	int32_t i32;
	float f32;

	*is_float = v->pack == PACK_F32 || v->pack == PACK_F64;
	switch (v->pack) {
	case PACK_U8:
		*iv = at[0];
		return 0;
	case PACK_I32:
		memcpy(&i32, at, 4);
		*iv = i32;
		return 0;
	case PACK_I64:
		memcpy(iv, at, 8);
		return 0;
	case PACK_F32:
		memcpy(&f32, at, 4);
		*fv = f32;
		return 0;
	case PACK_F64:
		memcpy(fv, at, 8);
		return 0;
	default:
		return -1;
	}
}

/* Item i of any array of numbers: 0 with the value, or -1. */
static int number_at(const struct jdoc *d, const struct jdoc_value *v, size_t i, int64_t *iv,
		     double *fv, int *is_float)
{
	const struct jdoc_value *item;

	if (v->pack != PACK_NONE)
		return packed_item(d, v, i, iv, fv, is_float);
	item = &d->values[v->u.off + i];
	*is_float = item->type == JDOC_FLOAT;
	if (item->type == JDOC_FLOAT)
		*fv = item->u.f;
	else if (item->type == JDOC_INT || item->type == JDOC_BOOL)
		*iv = item->u.i;
	else
		return -1;
	return 0;
}

int jdoc_ints(const struct jdoc *d, const struct jdoc_value *v, int64_t *out, size_t n)
{
	double f;
	int is_float;

	if (v == NULL || v->type != JDOC_ARRAY || v->n != n)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (number_at(d, v, i, &out[i], &f, &is_float) != 0 || is_float)
			return -1;
	return 0;
}

int jdoc_floats(const struct jdoc *d, const struct jdoc_value *v, float *out, size_t n)
{
	int64_t iv;
	double f;
	int is_float;

	if (v == NULL || v->type != JDOC_ARRAY || v->n != n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (number_at(d, v, i, &iv, &f, &is_float) != 0)
			return -1;
		out[i] = is_float ? (float)f : (float)iv;
	}
	return 0;
}
