/* fastfloat.c: Clinger's fast path and the Eisel-Lemire algorithm. */
#include "runtime/engines/fastfloat.h"

#include <string.h>

#include "runtime/engines/pow5_table.h"

__extension__ typedef unsigned __int128 u128;

#define DOUBLE_BIAS 1023
#define DOUBLE_MANT_MASK ((UINT64_C(1) << 52) - 1)
#define DOUBLE_EXP_INF 0x7FF

/* Powers of ten that are exact doubles: the range of Clinger's fast path. */
static const double exact_pow10[] = {1e0,  1e1,	 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,
				     1e8,  1e9,	 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static double from_bits(uint64_t bits)
{
	double d;

	memcpy(&d, &bits, sizeof d);
	return d;
}

/* floor(q * log2(10)) for |q| < 2^16, as 217706 / 2^16 approximates log2(10)
 * closely enough over the table's range; q is shifted positive so that the
 * right shift is of a non-negative number. */
static int64_t floor_log2_pow10(int64_t q)
{
	return ((217706 * (q + 65536)) >> 16) - 217706;
}

/* Both operands and the quotient or product are exact doubles, so the one
 * IEEE rounding gives the correctly rounded result (Clinger 1990). */
static int clinger(uint64_t mant, int64_t exp10, int neg, double *out)
{
	double v;

	if (mant > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
		return 0;
	v = exp10 < 0 ? (double)mant / exact_pow10[-exp10] : (double)mant * exact_pow10[exp10];
	*out = neg ? -v : v;
	return 1;
}

/* The top 128 bits of mant (normalised) times 10^q; 0 when the truncated
 * table cannot tell which way the bits below would carry. */
static int product(uint64_t mant, int64_t q, uint64_t *hi, uint64_t *lo)
{
	const uint64_t *p = pow5_table[q - POW5_TABLE_MIN];
	u128 x = (u128)mant * p[0], y;
	uint64_t xhi = (uint64_t)(x >> 64), xlo = (uint64_t)x, mhi, mlo;

	/* The table's high word is short by less than 2^64, so the true product
	 * exceeds x by less than mant: only a carry into the 9 bits below the
	 * 54 we keep could change the result. Then add the low word's product. */
	if ((xhi & 0x1FF) == 0x1FF && xlo + mant < mant) {
		y = (u128)mant * p[1];
		mhi = xhi;
		mlo = xlo + (uint64_t)(y >> 64);
		if (mlo < xlo)
			mhi++;
		if ((mhi & 0x1FF) == 0x1FF && mlo + 1 == 0 && (uint64_t)y + mant < mant)
			return 0;
		xhi = mhi;
		xlo = mlo;
	}
	*hi = xhi;
	*lo = xlo;
	return 1;
}

/* Eisel-Lemire: mant * 10^q from a 128-bit product, rounded to 53 bits. */
static int eisel_lemire(uint64_t mant, int64_t q, int neg, double *out)
{
	uint64_t hi, lo, m, msb, bits;
	int clz;
	int64_t exp2;

	if (q < POW5_TABLE_MIN || q > POW5_TABLE_MAX)
		return 0;
	clz = __builtin_clzll(mant);
	mant <<= clz;
	exp2 = floor_log2_pow10(q) + 64 + DOUBLE_BIAS - clz;
	if (!product(mant, q, &hi, &lo))
		return 0;
	/* Keep 54 bits: 53 plus one for rounding. */
	msb = hi >> 63;
	m = hi >> (msb + 9);
	exp2 -= (int64_t)(1 ^ msb);
	/* Exactly halfway between two doubles (or seemingly so): strtod decides. */
	if (lo == 0 && (hi & 0x1FF) == 0 && (m & 3) == 1)
		return 0;
	m += m & 1;
	m >>= 1;
	if (m >> 53) {
		m >>= 1;
		exp2++;
	}
	/* Subnormal, zero or infinite results take the slow path. */
	if (exp2 <= 0 || exp2 >= DOUBLE_EXP_INF)
		return 0;
	bits = (uint64_t)exp2 << 52 | (m & DOUBLE_MANT_MASK);
	if (neg)
		bits |= UINT64_C(1) << 63;
	*out = from_bits(bits);
	return 1;
}

int fastfloat_decimal(uint64_t mant, int64_t exp10, int neg, double *out)
{
	if (mant == 0) {
		*out = neg ? -0.0 : 0.0;
		return 1;
	}
	if (clinger(mant, exp10, neg, out) || eisel_lemire(mant, exp10, neg, out))
		return 1;
	/* Eisel-Lemire cannot decide values that are exact doubles with a
	 * negative exponent, as "4135262340852591.0" (the truncated reciprocal
	 * lands just below them); without trailing zeros Clinger can. */
	if (exp10 >= 0 || mant % 10 != 0)
		return 0;
	while (mant % 10 == 0 && exp10 < 0) {
		mant /= 10;
		exp10++;
	}
	return clinger(mant, exp10, neg, out);
}
