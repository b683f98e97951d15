/* shortest.c: Schubfach for binary64 and binary32, laid out as Python's repr. */
#include "runtime/engines/shortest.h"

#include <string.h>

#include "runtime/engines/pow5_table.h"

__extension__ typedef unsigned __int128 u128;

/* A decimal f x 10^e. */
struct decimal {
	uint64_t f;
	int e;
};

/* The binary layouts: significand bits (with the hidden one) and smallest
 * exponent. (Java's Schubfach scales the tiniest subnormals by ten first,
 * for its two-digit minimum "4.9E-324"; the shortest text is "5e-324".) */
#define D_P 53
#define D_QMIN (-1074)
#define F_P 24
#define F_QMIN (-149)

/* floor(q log10 2), floor(log10(3/4 2^q)) and floor(e log2 10), exact for
 * |q| <= 1200 and |e| <= 400 (test_shortest.c checks them all). */
static int flog10pow2(int q)
{
	return (int)(((int64_t)q * 661971961083) >> 41);
}

static int flog10threequarterspow2(int q)
{
	return (int)(((int64_t)q * 661971961083 - 274743187321) >> 41);
}

static int flog2pow10(int e)
{
	return (int)(((int64_t)e * 913124641741) >> 38);
}

/* 5^q normalised into [2^127, 2^128), truncated (the table's entry). */
static u128 pow5(int q)
{
	const uint64_t *p = pow5_table[q - POW5_TABLE_MIN];

	return (u128)p[0] << 64 | p[1];
}

/* g x cp / 2^127 rounded to odd, for g = floor(10^-k 2^-r) + 1 in
 * [2^125, 2^126) and cp < 2^63: the floor, its last bit set when bits of
 * weight 2^-63 .. 2^-1 are not all zero. The 64 lowest bits of g0 x cp are
 * left out on purpose: the + 1 in g lands there, and Schubfach's proof
 * (section 9) shows that what is left decides every comparison exactly. */
static uint64_t rop128(u128 g, uint64_t cp)
{
	uint64_t g1 = (uint64_t)(g >> 63), g0 = (uint64_t)g & (UINT64_MAX >> 1);
	uint64_t x1 = (uint64_t)(((u128)g0 * cp) >> 64);
	u128 y = (u128)g1 * cp;
	uint64_t z = ((uint64_t)y >> 1) + x1, vbp = (uint64_t)(y >> 64) + (z >> 63);

	return vbp | ((z & (UINT64_MAX >> 1)) != 0);
}

/* g x cp / 2^95 rounded to odd, for g = floor(10^-k 2^-r) + 1 in
 * [2^63, 2^64): likewise from the high 64 bits of the product only. */
static uint64_t rop64(uint64_t g, uint64_t cp)
{
	uint64_t x1 = (uint64_t)(((u128)g * cp) >> 64);

	return x1 >> 31 | ((x1 & UINT32_MAX) != 0);
}

/* The scaled interval of v = c 2^q: vb ~ 4 v 10^-k and its bounds, rounded to
 * odd, so that comparing them with multiples of 4 is exact. */
struct scaled {
	uint64_t vb, vbl, vbr;
	int k;
};

/* Picks the digits from the scaled interval (Schubfach, section 9): a
 * multiple of ten when one is in the interval, else the one or two
 * candidates s and s + 1, the closer one on a tie of both. `out` is 1 when
 * the bounds are excluded (c odd: strtod's ties-to-even goes elsewhere).
 * (Java tries the multiple of ten only from s >= 100, as it prints two digits
 * at least; shortest text wants it from 10: "5e-323", not "4.9e-323".) */
static struct decimal pick(const struct scaled *sc, int out)
{
	uint64_t s = sc->vb >> 2, t, sp10, tp10;
	int uin, win;
	int64_t cmp;

	if (s >= 10) {
		sp10 = 10 * (s / 10);
		tp10 = sp10 + 10;
		uin = sc->vbl + (uint64_t)out <= sp10 << 2;
		win = (tp10 << 2) + (uint64_t)out <= sc->vbr;
		if (uin != win)
			return (struct decimal){uin ? sp10 : tp10, sc->k};
	}
	t = s + 1;
	uin = sc->vbl + (uint64_t)out <= s << 2;
	win = (t << 2) + (uint64_t)out <= sc->vbr;
	if (uin != win)
		return (struct decimal){uin ? s : t, sc->k};
	cmp = (int64_t)(sc->vb - ((s + t) << 1));
	return (struct decimal){cmp < 0 || (cmp == 0 && (s & 1) == 0) ? s : t, sc->k};
}

/* The interval's lower bound (scaled by 4) and k: closer below a power of two. */
static uint64_t lower(uint64_t c, uint64_t cmin, int q, int qmin, int *k)
{
	if (c != cmin || q == qmin) {
		*k = flog10pow2(q);
		return (c << 2) - 2;
	}
	*k = flog10threequarterspow2(q);
	return (c << 2) - 1;
}

static struct decimal to_decimal64(uint64_t c, int q)
{
	struct scaled sc;
	uint64_t cb = c << 2, cbl = lower(c, UINT64_C(1) << (D_P - 1), q, D_QMIN, &sc.k);
	int h = q + flog2pow10(-sc.k) + 2;
	u128 g = (pow5(-sc.k) >> 2) + 1;

	sc.vb = rop128(g, cb << h);
	sc.vbl = rop128(g, cbl << h);
	sc.vbr = rop128(g, (cb + 2) << h);
	return pick(&sc, (int)(c & 1));
}

static struct decimal to_decimal32(uint64_t c, int q)
{
	struct scaled sc;
	uint64_t cb = c << 2, cbl = lower(c, UINT64_C(1) << (F_P - 1), q, F_QMIN, &sc.k);
	int h = q + flog2pow10(-sc.k) + 32;
	uint64_t g = (uint64_t)(pow5(-sc.k) >> 64) + 1;

	sc.vb = rop64(g, cb << h);
	sc.vbl = rop64(g, cbl << h);
	sc.vbr = rop64(g, (cb + 2) << h);
	return pick(&sc, (int)(c & 1));
}

/* Significand c and exponent q of a finite nonzero binary value (p bits of
 * significand, e bits of exponent); integers below 2^p directly. */
static int decompose(uint64_t bits, int p, int ebits, struct decimal *d)
{
	uint64_t frac = bits & ((UINT64_C(1) << (p - 1)) - 1), c;
	int be = (int)(bits >> (p - 1) & ((1u << ebits) - 1)), bias = (1 << (ebits - 1)) - 1;
	int qmin = 2 - bias - p, q;
	struct decimal (*to)(uint64_t, int) = p == D_P ? to_decimal64 : to_decimal32;

	if (be == (1 << ebits) - 1 || (be == 0 && frac == 0))
		return -1;
	if (be == 0) { /* subnormal */
		*d = to(frac, qmin);
		return 0;
	}
	c = frac | UINT64_C(1) << (p - 1);
	q = be - bias - (p - 1);
	if (q < 0 && q > -p && (c >> -q) << -q == c)
		*d = (struct decimal){c >> -q, 0};
	else
		*d = to(c, q);
	return 0;
}

static void strip_zeros(struct decimal *d)
{
	while (d->f >= 10 && d->f % 10 == 0) {
		d->f /= 10;
		d->e++;
	}
}

/* The digits of a binary value's magnitude (p significand bits with the
 * hidden one, ebits exponent bits), trailing zeros stripped. */
static int digits_of(uint64_t mag, int p, int ebits, uint64_t *digits, int *exp10)
{
	struct decimal d;

	if (decompose(mag, p, ebits, &d) != 0)
		return -1;
	strip_zeros(&d);
	*digits = d.f;
	*exp10 = d.e;
	return 0;
}

int shortest_decimal_double(double v, uint64_t *digits, int *exp10)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof bits);
	return digits_of(bits & (UINT64_MAX >> 1), D_P, 11, digits, exp10);
}

int shortest_decimal_float(float v, uint64_t *digits, int *exp10)
{
	uint32_t bits;

	memcpy(&bits, &v, sizeof bits);
	return digits_of(bits & 0x7FFFFFFFu, F_P, 8, digits, exp10);
}

/* ---- Python's repr layout ----------------------------------------------- */

/* The digits of f at p (right-aligned in a 20-byte scratch); their count. */
static int put_digits(char *scratch, uint64_t f)
{
	int n = 0;

	do {
		scratch[19 - n++] = (char)('0' + f % 10);
		f /= 10;
	} while (f != 0);
	return n;
}

static size_t put_exponent(char *p, int e)
{
	size_t n = 0;

	p[n++] = 'e';
	p[n++] = e < 0 ? '-' : '+';
	e = e < 0 ? -e : e;
	if (e >= 100)
		p[n++] = (char)('0' + e / 100);
	p[n++] = (char)('0' + e / 10 % 10);
	p[n++] = (char)('0' + e % 10);
	return n;
}

/* digits (n of them) x 10^(decpt - n), as repr lays it out. */
static size_t layout(char *p, const char *digits, int n, int decpt)
{
	size_t k = 0;

	if (decpt <= -4 || decpt > 16) { /* d.ddde+XX */
		p[k++] = digits[0];
		if (n > 1) {
			p[k++] = '.';
			memcpy(p + k, digits + 1, (size_t)n - 1);
			k += (size_t)n - 1;
		}
		return k + put_exponent(p + k, decpt - 1);
	}
	if (decpt <= 0) { /* 0.000ddd */
		memcpy(p, "0.000", (size_t)(2 - decpt));
		k = (size_t)(2 - decpt);
		memcpy(p + k, digits, (size_t)n);
		return k + (size_t)n;
	}
	if (decpt < n) { /* dd.ddd */
		memcpy(p, digits, (size_t)decpt);
		p[decpt] = '.';
		memcpy(p + decpt + 1, digits + decpt, (size_t)(n - decpt));
		return (size_t)n + 1;
	}
	memcpy(p, digits, (size_t)n); /* ddd00.0 */
	memset(p + n, '0', (size_t)(decpt - n));
	memcpy(p + decpt, ".0", 2);
	return (size_t)decpt + 2;
}

static size_t format(char *buf, int neg, int zero, uint64_t f, int e)
{
	char scratch[20];
	size_t k = 0;
	int n;

	if (neg)
		buf[k++] = '-';
	if (zero) {
		memcpy(buf + k, "0.0", 4);
		return k + 3;
	}
	n = put_digits(scratch, f);
	k += layout(buf + k, scratch + 20 - n, n, n + e);
	buf[k] = '\0';
	return k;
}

/* A binary value (sign bit above ebits exponent bits and p - 1 fraction
 * bits) as text; 0 for NaN and infinities. */
static size_t print(char *buf, uint64_t bits, int p, int ebits)
{
	int top = p - 1 + ebits;
	uint64_t mag = bits & ((UINT64_C(1) << top) - 1), f = 0;
	int e = 0;

	if (mag >> (p - 1) == (UINT64_C(1) << ebits) - 1)
		return 0;
	if (mag != 0 && digits_of(mag, p, ebits, &f, &e) != 0)
		return 0;
	return format(buf, (int)(bits >> top & 1), mag == 0, f, e);
}

size_t shortest_double(char *buf, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof bits);
	return print(buf, bits, D_P, 11);
}

size_t shortest_float(char *buf, float v)
{
	uint32_t bits;

	memcpy(&bits, &v, sizeof bits);
	return print(buf, bits, F_P, 8);
}
