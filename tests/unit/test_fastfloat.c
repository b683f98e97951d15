/*
 * test_fastfloat.c: the data plane's number reader (input_number, with
 * fastfloat_decimal behind it) is bit-identical to strtod on millions of
 * deterministic pseudo-random inputs, the hard cases, and the grammar edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/engines/fastfloat.h"
#include "runtime/engines/input.h"

#define TEXT_MAX 512 /* room for any %g the compiler can imagine */

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

static uint64_t bits_of(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof b);
	return b;
}

static double from_bits(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof d);
	return d;
}

/* strtod in the "C" locale: the reference every result must match. */
static double reference(const char *s, size_t n)
{
	char buf[512];
	locale_t old;
	double v;

	assert_true(n < sizeof buf);
	memcpy(buf, s, n);
	buf[n] = '\0';
	old = uselocale(input_c_locale());
	v = strtod(buf, NULL);
	uselocale(old);
	return v;
}

/* What follows a number in a body: a delimiter, then more text (digits
 * included, which the fast path loads and must not take). */
static const char *const followers[] = {
    ",0.123456789012345678901234567890123456789",
    "]]}                                         ",
    " , 99999999999999999999999999999999999999999",
    "}..........................................",
    "\n-1.2345678901234567e+300,1,2,3,4,5,6,7,8,9",
};

/* input_number on s[0..len) followed by more text, so that at least 40
 * bytes can be read and the fast path is taken. */
static size_t number_in_body(const char *s, size_t len, int which, double *out)
{
	char buf[TEXT_MAX + 64];
	const char *f = followers[which % (int)(sizeof followers / sizeof followers[0])];
	size_t flen = strlen(f);

	assert_true(len + flen < sizeof buf);
	memcpy(buf, s, len);
	memcpy(buf + len, f, flen);
	return input_number(buf, len + flen, out);
}

static void check_read(const char *s, size_t len, size_t n, double got, double want)
{
	if (n != len)
		fail_msg("\"%s\": consumed %zu of %zu bytes", s, n, len);
	if (bits_of(got) != bits_of(want))
		fail_msg("\"%s\": read %.17g (%016" PRIx64 "), strtod %.17g (%016" PRIx64 ")", s,
			 got, bits_of(got), want, bits_of(want));
}

/* The whole of s must read as one number, bit-identical to strtod: alone
 * (the digit-at-a-time path), and followed by the rest of a body. */
static void check(const char *s)
{
	static int which;
	size_t len = strlen(s);
	double got = 12345.0, want = reference(s, len);
	size_t n = input_number(s, len, &got);

	check_read(s, len, n, got, want);
	got = 12345.0;
	n = number_in_body(s, len, which++, &got);
	check_read(s, len, n, got, want);
}

/* v as %.<prec>g, or %.<prec>e when sci. */
static void check_format(int sci, int prec, double v)
{
	char buf[TEXT_MAX];

	if (sci)
		snprintf(buf, sizeof buf, "%.*e", prec, v);
	else
		snprintf(buf, sizeof buf, "%.*g", prec, v);
	check(buf);
}

/* Python's repr: the shortest %.Ng that reads back as v. */
static void check_shortest(double v)
{
	char buf[TEXT_MAX];
	int prec = 15;

	snprintf(buf, sizeof buf, "%.*g", prec, v);
	if (reference(buf, strlen(buf)) == v) {
		while (prec > 1) {
			snprintf(buf, sizeof buf, "%.*g", prec - 1, v);
			if (reference(buf, strlen(buf)) != v)
				break;
			prec--;
		}
	} else {
		while (prec < 17) {
			snprintf(buf, sizeof buf, "%.*g", ++prec, v);
			if (reference(buf, strlen(buf)) == v)
				break;
		}
	}
	snprintf(buf, sizeof buf, "%.*g", prec, v);
	check(buf);
}

static void check_all_formats(double v)
{
	check_format(0, 17, v);
	check_format(0, 16, v);
	check_format(0, 15, v);
	check_format(1, 16, v);
	check_shortest(v);
}

static void test_special_values(void **state)
{
	static const char *const cases[] = {
	    "0",
	    "-0",
	    "0.0",
	    "-0.0",
	    "0e0",
	    "0e-999",
	    "-0E+999",
	    "0.000000000000000000000000",
	    "1",
	    "-1",
	    "5e-324",
	    "4.9406564584124654e-324",
	    "2.4703282292062327e-324",
	    "2.4703282292062328e-324",
	    "2.2250738585072011e-308",
	    "2.2250738585072012e-308",
	    "2.2250738585072014e-308",
	    "2.225073858507201136057409796709131975934819546351645648e-308",
	    "1.7976931348623157e308",
	    "1.7976931348623158e308",
	    "1.7976931348623159e308",
	    "-1.7976931348623157E+308",
	    "1e308",
	    "1e309",
	    "1e400",
	    "-1e400",
	    "1e-400",
	    "1e-324",
	    "9007199254740992",
	    "9007199254740993",
	    "9007199254740994",
	    "9007199254740995",
	    "18014398509481989",
	    "18014398509481990",
	    "9223372036854775807",
	    "9223372036854775808",
	    "18446744073709551615",
	    "18446744073709551616",
	    "1e22",
	    "1e23",
	    "1e-22",
	    "1e-23",
	    "8.98846567431158e307",
	    "0.1",
	    "0.2",
	    "0.3",
	    "0.30000000000000004",
	    "123.456e-5",
	    "0.12345678901234567",
	    "-1.2345678901234567e-05",
	    "1.2345678901234567e+300",
	    "0.1234567890123456789",
	    "0.12345678901234567890",
	    "1234567890123456789012345",
	    "0.000001234567890123456789",
	    "1.00000000000000011102230246251565404236316680908203125",
	    "1.00000000000000011102230246251565404236316680908203124",
	    "1.00000000000000011102230246251565404236316680908203126",
	    "7.2057594037927933e16",
	    "1e0000000000000000000000000001",
	    "1E-0000000000000000000000000001",
	    "3.0E+00",
	    "4503599627370496.5",
	    "4503599627370497.5",
	    "2.2250738585072011e-308",
	    "6.9294956446009195e15",
	    "3.4657359e-308",
	    "1.8305e-309",
	    "4.35e-319",
	    "4135262340852591.0",
	    "211151590168128.75",
	    "4135262340852591.00000"};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check(cases[i]);
}

/* Random bit patterns: every binade, subnormals included. */
static void test_random_doubles(void **state)
{
	uint64_t s = UINT64_C(0x9E3779B97F4A7C15);
	double v;

	(void)state;
	for (int i = 0; i < 300000; i++) {
		do
			v = from_bits(rng_next(&s));
		while (!isfinite(v));
		check_all_formats(v);
	}
}

/* What models see: features of moderate size, as Python prints them. */
static void test_feature_like_doubles(void **state)
{
	uint64_t s = 42;
	double v;

	(void)state;
	for (int i = 0; i < 300000; i++) {
		v = (double)(rng_next(&s) >> 11) / 9007199254740992.0;
		v = ldexp(v, (int)rng_below(&s, 80) - 60);
		if (rng_next(&s) & 1)
			v = -v;
		check_all_formats(v);
	}
}

/* Digit strings of 1..25 digits with a point anywhere and exponents -330..310. */
static void random_digits(uint64_t *s, char *buf, size_t size)
{
	size_t n = 1 + (size_t)rng_below(s, 25), point = (size_t)rng_below(s, n + 2), k = 0;
	int exp10 = (int)rng_below(s, 641) - 330;

	if (rng_next(s) & 1)
		buf[k++] = '-';
	for (size_t i = 0; i < n; i++) {
		if (i == point && i > 0)
			buf[k++] = '.';
		/* Mostly non-zero leading digit (the JSON grammar), runs of 0s and 9s. */
		if (i == 0 && n > 1 && point != 1)
			buf[k++] = (char)('1' + rng_below(s, 9));
		else if (rng_below(s, 4) == 0)
			buf[k++] = (rng_next(s) & 1) ? '0' : '9';
		else
			buf[k++] = (char)('0' + rng_below(s, 10));
	}
	if (rng_below(s, 8) != 0)
		k += (size_t)snprintf(buf + k, size - k, "e%d", exp10);
	buf[k] = '\0';
}

static void test_random_digit_strings(void **state)
{
	uint64_t s = 7;
	char buf[TEXT_MAX];

	(void)state;
	for (int i = 0; i < 1000000; i++) {
		random_digits(&s, buf, sizeof buf);
		check(buf);
	}
}

/* Exact midpoints between adjacent doubles (and their neighbours), where
 * round-half-even decides; printed as integers or with a short fraction. */
static void test_halfway(void **state)
{
	uint64_t s = 99;
	char buf[TEXT_MAX];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		/* An odd 54-bit number is halfway between two 53-bit ones. */
		uint64_t h = (rng_next(&s) >> 10) | (UINT64_C(1) << 53) | 1;
		int shift = (int)rng_below(&s, 15) - 4;
		int64_t d = (int64_t)rng_below(&s, 3) - 1;

		if (shift >= 0) {
			if (shift > 10)
				shift = 10;
			snprintf(buf, sizeof buf, "%" PRIu64, (h << shift) + (uint64_t)d);
		} else {
			/* h / 2^k = h * 5^k / 10^k: the fraction is exact. */
			uint64_t m = h;
			for (int k = 0; k < -shift; k++)
				m *= 5;
			snprintf(buf, sizeof buf, "%" PRIu64 "e%d", m + (uint64_t)d, shift);
		}
		check(buf);
	}
}

/* fastfloat_decimal itself: any significand up to 19 digits, the whole table. */
static void test_decimal_direct(void **state)
{
	uint64_t s = 2024, mant;
	int64_t exp10;
	char buf[TEXT_MAX];
	double got, want;
	long decided = 0, total = 0;

	(void)state;
	for (int i = 0; i < 1000000; i++) {
		mant = rng_next(&s) % UINT64_C(10000000000000000000);
		mant >>= rng_below(&s, 64);
		exp10 = (int64_t)rng_below(&s, 651) - 342;
		snprintf(buf, sizeof buf, "%" PRIu64 "e%" PRId64, mant, exp10);
		want = reference(buf, strlen(buf));
		total++;
		if (fastfloat_decimal(mant, exp10, 0, &got)) {
			decided++;
			if (bits_of(got) != bits_of(want))
				fail_msg("%s: %.17g, strtod %.17g", buf, got, want);
		}
	}
	/* Undecided cases are only the subnormal/overflow ends and rare ties. */
	assert_true(decided > total * 85 / 100);
}

/* The point of the exercise: feature values as Python prints them with 17
 * digits almost never need strtod. */
static void test_fast_path_taken(void **state)
{
	uint64_t s = 5;
	long slow = 0;
	const int count = 200000;

	(void)state;
	for (int i = 0; i < count; i++) {
		double v = ldexp((double)(rng_next(&s) >> 11), (int)rng_below(&s, 80) - 113), got;
		char buf[TEXT_MAX];
		uint64_t mant = 0;
		int64_t exp10;
		size_t k;

		/* %.16e: d.dddddddddddddddde[+-]x, 17 significant digits. */
		snprintf(buf, sizeof buf, "%.16e", v);
		for (k = 0; buf[k] != 'e'; k++)
			if (buf[k] != '.')
				mant = mant * 10 + (uint64_t)(buf[k] - '0');
		exp10 = strtoll(buf + k + 1, NULL, 10) - 16;
		if (!fastfloat_decimal(mant, exp10, 0, &got))
			slow++;
		else if (got != v)
			fail_msg("%s read as %.17g", buf, got);
	}
	if (slow >= count / 1000)
		fail_msg("%ld of %d numbers needed strtod", slow, count);
}

/* The JSON grammar before the old two-pass reader's rules, as an oracle. */
static size_t grammar_span(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < len && s[i] == '.') {
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i;
}

/* Short strings over the number alphabet: same length accepted as the grammar
 * says, and the accepted prefix reads as strtod reads it. */
static void test_grammar(void **state)
{
	static const char alphabet[] = "0123456789.eE+-0019x ";
	uint64_t s = 3;
	char buf[TEXT_MAX];
	double got;

	(void)state;
	for (int i = 0; i < 300000; i++) {
		size_t len = (size_t)rng_below(&s, 14), n, want;

		for (size_t k = 0; k < len; k++)
			buf[k] = alphabet[rng_below(&s, sizeof alphabet - 1)];
		buf[len] = '\0';
		want = grammar_span(buf, len);
		n = input_number(buf, len, &got);
		if (n != want)
			fail_msg("\"%s\": consumed %zu, grammar says %zu", buf, n, want);
		if (n > 0 && bits_of(got) != bits_of(reference(buf, n)))
			fail_msg("\"%.*s\": read %.17g", (int)n, buf, got);
	}
	assert_int_equal(input_number("-", 1, &got), 0);
	assert_int_equal(number_in_body("-", 1, 0, &got), 0);
	assert_int_equal(number_in_body("1.", 2, 0, &got), 0);
	assert_int_equal(number_in_body("00.5", 4, 0, &got), 1);
	assert_int_equal(number_in_body("1.5e", 4, 0, &got), 0);
	assert_int_equal(input_number("1.", 2, &got), 0);
	assert_int_equal(input_number(".5", 2, &got), 0);
	assert_int_equal(input_number("+1", 2, &got), 0);
	assert_int_equal(input_number("1e", 2, &got), 0);
	assert_int_equal(input_number("1e+", 3, &got), 0);
	assert_int_equal(input_number("01", 2, &got), 1);
	assert_int_equal(input_number("-01", 3, &got), 2);
	assert_int_equal(input_number("12", 1, &got), 1);
	assert_int_equal(input_number("1.5e3", 4, &got), 0);
	assert_int_equal(input_number("1.5e3", 3, &got), 3);
	assert_true(got == 1.5);
}

/* The fast path against the digit-at-a-time one on strings of the
 * number alphabet up to 48 bytes, with 40 bytes or more to read: the same
 * length and the same bits, whatever the shape (long integer parts, 19 and
 * 20 digits, leading zeros, exponents, truncated fractions). */
static void test_fast_path_against_exact(void **state)
{
	static const char alphabet[] = "01234567890123456789.eE+-.0 ,]";
	uint64_t s = 11;
	char buf[64];
	double fast, exact;

	(void)state;
	for (int i = 0; i < 500000; i++) {
		size_t len = (size_t)rng_below(&s, 49), n, want;
		size_t sig = (size_t)rng_below(&s, 24); /* a leading run of digits, often */

		for (size_t k = 0; k < sizeof buf; k++)
			buf[k] = alphabet[rng_below(&s, sizeof alphabet - 1)];
		if (rng_below(&s, 2))
			buf[0] = '-';
		for (size_t k = 1; k < sig && k < sizeof buf; k++)
			buf[k] = (char)('0' + rng_below(&s, 10));
		if (sig > 2 && rng_below(&s, 2))
			buf[1 + rng_below(&s, sig - 1)] = '.';
		len = len < 40 ? 40 : len;
		fast = exact = 12345.0;
		n = input_number(buf, len, &fast);
		want = input_number_exact(buf, len, &exact);
		if (n != want || (n > 0 && bits_of(fast) != bits_of(exact)))
			fail_msg("\"%.*s\": %zu bytes as %.17g, digit at a time %zu as %.17g",
				 (int)len, buf, n, fast, want, exact);
	}
}

/* Limits and errors are those of the reader before it: numbers longer than
 * 400 bytes are not numbers; overflow is read as inf and refused as data. */
static void test_limits(void **state)
{
	char buf[512];
	struct input_matrix m;
	struct error err;
	const char *body;
	double v;

	(void)state;
	buf[0] = '1';
	memset(buf + 1, '0', 399);
	assert_int_equal(input_number(buf, 400, &v), 400);
	assert_true(isinf(v) && v > 0);
	memset(buf + 400, '0', 1);
	assert_int_equal(input_number(buf, 401, &v), 0);
	assert_int_equal(input_number("1e400", 5, &v), 5);
	assert_true(isinf(v) && v > 0);
	input_init(&m);
	body = "{\"data\": [[1, 1e400]]}";
	assert_int_equal(input_parse(body, strlen(body), 0, 0, &m, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "row 0 column 1 is not a finite number"));
	body = "{\"data\": [[0.12345678901234567, -1.2345678901234567e-05]]}";
	assert_int_equal(input_parse(body, strlen(body), 2, 0, &m, &err), 0);
	assert_true(m.values[0] == 0.12345678901234567 && m.values[1] == -1.2345678901234567e-05);
	input_cleanup(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_special_values),
	    cmocka_unit_test(test_random_doubles),
	    cmocka_unit_test(test_feature_like_doubles),
	    cmocka_unit_test(test_random_digit_strings),
	    cmocka_unit_test(test_halfway),
	    cmocka_unit_test(test_decimal_direct),
	    cmocka_unit_test(test_fast_path_taken),
	    cmocka_unit_test(test_grammar),
	    cmocka_unit_test(test_fast_path_against_exact),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
