/*
 * fuzz_numbers: the number printer (shortest.c) and reader (input.c,
 * fastfloat.c) against each other and against strtod/strtof. For any input:
 * its first 8 bytes as a double and first 4 as a float print as a JSON
 * number that reads back to the same bits (NaN and infinities refused); and
 * any number the reader accepts at the start of the bytes reads as strtod
 * and strtof read it, prints, and reads back unchanged. The reader's fast
 * path (taken with 40 bytes or more to read) gives the same length and bits
 * as its digit-at-a-time reference on any bytes.
 */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/input.h"
#include "runtime/engines/shortest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip_double(double v)
{
	char buf[SHORTEST_MAX];
	size_t n = shortest_double(buf, v);
	double back;

	if (!isfinite(v)) {
		if (n != 0)
			abort();
		return;
	}
	if (n == 0 || n >= SHORTEST_MAX || strlen(buf) != n)
		abort();
	if (input_number(buf, n, &back) != n || memcmp(&back, &v, sizeof v) != 0)
		abort();
}

static void round_trip_float(float v)
{
	char buf[SHORTEST_MAX];
	size_t n = shortest_float(buf, v);
	float back;

	if (!isfinite(v)) {
		if (n != 0)
			abort();
		return;
	}
	if (n == 0 || n >= SHORTEST_MAX || input_number_float(buf, n, &back) != n ||
	    memcmp(&back, &v, sizeof v) != 0)
		abort();
}

/* The number at the start of the text: as strtod and strtof read it. */
static void read_text(const uint8_t *data, size_t size)
{
	char text[512];
	double d, want;
	float f, wantf;
	size_t n = input_number((const char *)data, size, &d);
	locale_t old;

	if (n == 0)
		return;
	if (n >= sizeof text || input_number_float((const char *)data, size, &f) != n)
		abort();
	memcpy(text, data, n);
	text[n] = '\0';
	old = uselocale(input_c_locale());
	want = strtod(text, NULL);
	wantf = strtof(text, NULL);
	uselocale(old);
	if (memcmp(&d, &want, sizeof d) != 0 || memcmp(&f, &wantf, sizeof f) != 0)
		abort();
	round_trip_double(d);
	round_trip_float(f);
}

/* input_number (the fast path when it may read 40 bytes) against
 * input_number_exact, at every offset of the first bytes. */
static void fast_against_exact(const uint8_t *data, size_t size)
{
	for (size_t off = 0; off < 8 && off < size; off++) {
		const char *s = (const char *)data + off;
		double fast = 1.0, exact = 2.0;
		size_t n = input_number(s, size - off, &fast);

		if (n != input_number_exact(s, size - off, &exact) ||
		    (n > 0 && memcmp(&fast, &exact, sizeof fast) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double d;
	float f;

	fast_against_exact(data, size);

	if (size >= sizeof d) {
		memcpy(&d, data, sizeof d);
		round_trip_double(d);
	}
	if (size >= sizeof f) {
		memcpy(&f, data, sizeof f);
		round_trip_float(f);
	}
	read_text(data, size);
	return 0;
}
