/*
 * test_shortest.c: the shortest round-trip printer (shortest.c) against
 * strtod/strtof and a brute-force reference on random bit patterns, every
 * binade's edges, subnormals, +-0 and the extremes; Python's repr layout on
 * a table of cases; NaN and infinities refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/input.h"
#include "runtime/engines/shortest.h"

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static double from_bits(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof d);
	return d;
}

static float from_bits32(uint32_t b)
{
	float f;

	memcpy(&f, &b, sizeof f);
	return f;
}

/* "digits e exp10" as text that strtod reads. */
static void decimal_text(char *buf, size_t size, uint64_t digits, int exp10)
{
	snprintf(buf, size, "%llue%d", (unsigned long long)digits, exp10);
}

static int digit_count(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Does digits x 10^exp10 read back to v (as double, or as float)? */
static int reads_back(uint64_t digits, int exp10, double v, int as_float)
{
	char text[64];

	decimal_text(text, sizeof text, digits, exp10);
	if (as_float) {
		float f = strtof(text, NULL), w = (float)v;

		return memcmp(&f, &w, sizeof f) == 0;
	}
	return strtod(text, NULL) == v;
}

/* Compares v > 0 with digits x 10^exp10 exactly: -1, 0 or 1. glibc prints
 * a double's exact expansion (at most 767 significant digits). */
static int compare_exact(double v, uint64_t digits, int exp10)
{
	char a[900], b[32];
	size_t na = 0, nb;
	int ea, eb, c;

	snprintf(a, sizeof a, "%.800e", v);
	ea = (int)strtol(strchr(a, 'e') + 1, NULL, 10);
	for (char *p = a; *p != 'e'; p++)
		if (*p != '.')
			a[na++] = *p;
	nb = (size_t)snprintf(b, sizeof b, "%llu", (unsigned long long)digits);
	eb = exp10 + (int)nb - 1;
	if (ea != eb)
		return ea < eb ? -1 : 1;
	for (size_t i = 0; i < (na > nb ? na : nb); i++) {
		char x = i < na ? a[i] : '0', y = i < nb ? b[i] : '0';

		if ((c = (x > y) - (x < y)) != 0)
			return c;
	}
	return 0;
}

/* |v| as printed: the digits read back, and no decimal with fewer digits
 * does (the nearest ones at each shorter length and their neighbours are
 * the only candidates), and no other decimal of the same length is closer. */
static void check_digits(double v, int as_float, uint64_t digits, int exp10)
{
	int n = digit_count(digits);
	char text[64];

	v = fabs(v);
	if (!reads_back(digits, exp10, v, as_float))
		fail_msg("%a: %llue%d does not read back", v, (unsigned long long)digits, exp10);
	assert_true(digits % 10 != 0 || digits == 0);
	for (int p = 1; p < n; p++) {
		char d[32];
		size_t k = 0;
		uint64_t near;
		int e;

		snprintf(text, sizeof text, "%.*e", p - 1, v); /* the nearest of p digits */
		for (const char *c = text; *c != 'e'; c++)
			if (*c != '.')
				d[k++] = *c;
		d[k] = '\0';
		near = strtoull(d, NULL, 10);
		e = (int)strtol(strchr(text, 'e') + 1, NULL, 10) - (p - 1);
		for (int delta = -1; delta <= 1; delta++)
			if (near + (uint64_t)delta > 0 &&
			    reads_back(near + (uint64_t)delta, e, v, as_float))
				fail_msg("%a: %llue%d has %d digits, %llue%d reads back too", v,
					 (unsigned long long)digits, exp10, n,
					 (unsigned long long)(near + (uint64_t)delta), e);
	}
	/* the closest of its length: v is on our side of the midpoint with a
	 * neighbour that reads back too (on it: ours is the even one) */
	for (int delta = -1; delta <= 1; delta += 2) {
		uint64_t other = digits + (uint64_t)delta, lo = delta < 0 ? other : digits;
		int side;

		if (other == 0 || digit_count(other) != n || !reads_back(other, exp10, v, as_float))
			continue;
		side = compare_exact(v, (2 * lo + 1) * 5, exp10 - 1);
		if (side == 0 ? digits % 2 != 0 : (side < 0) != (delta > 0))
			fail_msg("%a: %llue%d, but %llue%d is closer", v,
				 (unsigned long long)digits, exp10, (unsigned long long)other,
				 exp10);
	}
}

static void check_double(double v)
{
	char buf[SHORTEST_MAX];
	size_t n = shortest_double(buf, v);
	double back = 0;
	uint64_t digits;
	int e;

	assert_true(n > 0 && n < SHORTEST_MAX);
	assert_int_equal(strlen(buf), n);
	if (input_number(buf, n, &back) != n || memcmp(&back, &v, sizeof v) != 0)
		fail_msg("%a printed %s, reads back as %a", v, buf, back);
	if (v != 0) {
		assert_int_equal(shortest_decimal_double(v, &digits, &e), 0);
		check_digits(v, 0, digits, e);
	}
}

static void check_float(float v)
{
	char buf[SHORTEST_MAX];
	size_t n = shortest_float(buf, v);
	float back = 0;
	uint64_t digits;
	int e;

	assert_true(n > 0 && n < SHORTEST_MAX);
	if (input_number_float(buf, n, &back) != n || memcmp(&back, &v, sizeof v) != 0)
		fail_msg("%a printed %s, reads back as %a", (double)v, buf, (double)back);
	if (v != 0) {
		assert_int_equal(shortest_decimal_float(v, &digits, &e), 0);
		check_digits(v, 1, digits, e);
	}
}

static void test_log_approximations(void **state)
{
	/* the printer's floor(q log10 2) etc. must be exact where it uses them:
	 * compare its output exponents against long double logarithms (never
	 * within 1e-4 of an integer in this range, so long double decides) */
	(void)state;
	for (int q = -1100; q <= 1100; q++) {
		long double x = (long double)q * log10l(2.0L);
		long double y = x + log10l(0.75L);
		int64_t a = ((int64_t)q * 661971961083) >> 41;
		int64_t b = ((int64_t)q * 661971961083 - 274743187321) >> 41;

		assert_int_equal(a, (int64_t)floorl(x));
		assert_int_equal(b, (int64_t)floorl(y));
	}
	for (int e = -400; e <= 400; e++)
		assert_int_equal(((int64_t)e * 913124641741) >> 38,
				 (int64_t)floorl((long double)e * log2l(10.0L)));
}

static void test_python_layout(void **state)
{
	static const struct {
		double v;
		const char *text; /* repr(v) in Python 3 */
	} cases[] = {
	    {0.0, "0.0"},
	    {-0.0, "-0.0"},
	    {1.0, "1.0"},
	    {-2.5, "-2.5"},
	    {0.1, "0.1"},
	    {0.3, "0.3"},
	    {1.0 / 3, "0.3333333333333333"},
	    {100.0, "100.0"},
	    {123456789.0, "123456789.0"},
	    {0.0001, "0.0001"},
	    {0.00001, "1e-05"},
	    {0.000123, "0.000123"},
	    {1.5e-10, "1.5e-10"},
	    {1e15, "1000000000000000.0"},
	    {9999999999999998.0, "9999999999999998.0"},
	    {1e16, "1e+16"},
	    {1.2345678901234568e17, "1.2345678901234568e+17"},
	    {1e22, "1e+22"},
	    {1e23, "1e+23"},
	    {5e-324, "5e-324"},
	    {1e-323, "1e-323"},
	    {2.2250738585072014e-308, "2.2250738585072014e-308"},
	    {1.7976931348623157e308, "1.7976931348623157e+308"},
	    {0.7749383449554443, "0.7749383449554443"},
	    {9007199254740993.0, "9007199254740992.0"},
	    {-1.25865078068979e17, "-1.25865078068979e+17"},
	};
	char buf[SHORTEST_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		shortest_double(buf, cases[i].v);
		if (strcmp(buf, cases[i].text) != 0)
			fail_msg("%a printed %s, Python says %s", cases[i].v, buf, cases[i].text);
	}
	assert_int_equal(shortest_float(buf, 0.1f), 3);
	assert_string_equal(buf, "0.1");
	shortest_float(buf, 16777216.0f);
	assert_string_equal(buf, "16777216.0");
	shortest_float(buf, FLT_MAX);
	assert_string_equal(buf, "3.4028235e+38");
	shortest_float(buf, 1e-45f);
	assert_string_equal(buf, "1e-45");
}

static void test_refused(void **state)
{
	char buf[SHORTEST_MAX] = "x";
	uint64_t d;
	int e;

	(void)state;
	assert_int_equal(shortest_double(buf, NAN), 0);
	assert_int_equal(shortest_double(buf, INFINITY), 0);
	assert_int_equal(shortest_double(buf, -INFINITY), 0);
	assert_int_equal(shortest_float(buf, NAN), 0);
	assert_int_equal(shortest_float(buf, -INFINITY), 0);
	assert_string_equal(buf, "x");
	assert_int_equal(shortest_decimal_double(0.0, &d, &e), -1);
	assert_int_equal(shortest_decimal_float(-0.0f, &d, &e), -1);
}

static void test_doubles(void **state)
{
	uint64_t s = 1, bits;

	(void)state;
	/* every binade's smallest, largest and a middle value, both signs */
	for (uint64_t be = 0; be < 0x7FF; be++)
		for (int sign = 0; sign < 2; sign++) {
			uint64_t top = (uint64_t)sign << 63 | be << 52;

			if (be > 0)
				check_double(from_bits(top));
			check_double(from_bits(top | 1));
			check_double(from_bits(top | ((UINT64_C(1) << 52) - 1)));
			check_double(from_bits(top | UINT64_C(0x8000000000000)));
		}
	for (uint64_t c = 0; c < 64; c++) /* the tiniest subnormals */
		check_double(from_bits(c));
	check_double(DBL_MAX);
	check_double(DBL_MIN);
	check_double(-DBL_TRUE_MIN);
	for (int i = 0; i < 100000; i++) { /* random bit patterns */
		bits = rng_next(&s);
		if ((bits >> 52 & 0x7FF) != 0x7FF)
			check_double(from_bits(bits));
	}
	for (int i = 0; i < 30000; i++) { /* short decimals, the common case */
		char text[40];

		snprintf(text, sizeof text, "%llue%d",
			 (unsigned long long)(rng_next(&s) % 100000000),
			 (int)(rng_next(&s) % 60) - 30);
		check_double(strtod(text, NULL));
	}
}

static void test_floats(void **state)
{
	uint64_t s = 7;

	(void)state;
	for (uint32_t be = 0; be < 0xFF; be++)
		for (uint32_t low = 0; low < 4; low++) {
			uint32_t top = be << 23;

			if (be > 0 || low > 0)
				check_float(from_bits32(top | low));
			check_float(from_bits32(top | (0x7FFFFFu - low)));
			check_float(-from_bits32(top | 0x400000u | low));
		}
	for (uint32_t c = 1; c < (1u << 23); c += 997) /* subnormals, a sample */
		check_float(from_bits32(c));
	for (int i = 0; i < 100000; i++) {
		uint32_t bits = (uint32_t)rng_next(&s);

		if ((bits >> 23 & 0xFF) != 0xFF)
			check_float(from_bits32(bits));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_approximations),
	    cmocka_unit_test(test_python_layout),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_doubles),
	    cmocka_unit_test(test_floats),
	};

	setlocale(LC_ALL, "C");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
