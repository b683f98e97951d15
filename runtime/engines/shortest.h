/*
 * shortest.h: the shortest decimal text that reads back to the same double
 * (or float), as JSON numbers.
 *
 * Of all decimals that round to v (strtod's round-to-nearest-even, or
 * strtof's), the one with the fewest significant digits, and of those the
 * closest to v (ties to an even last digit): what Python's repr(float), Ryu
 * and Dragonbox print. The digits come from the Schubfach method (Raffaello
 * Giulietti, "The Schubfach way to render doubles", 2020): v's rounding
 * interval is scaled by a power of ten taken from the 128-bit table
 * (pow5_table.h), rounding to odd so that the few comparisons that pick the
 * digits are exact; no loop over precisions, no big numbers, no locale.
 *
 * Text: Python's repr layout, so that answers read the same as a Python
 * service's: fixed notation with at least one digit after the point for
 * 1e-4 <= |v| < 1e16 ("0.1", "100.0", "-0.0"), else scientific with a
 * two-digit exponent at least ("1e-05", "1.5e+300"). NaN and infinities are
 * refused (0): JSON has no text for them.
 *
 * Pure functions: thread-safe, no allocation.
 */
#ifndef RUNTIME_ENGINES_SHORTEST_H
#define RUNTIME_ENGINES_SHORTEST_H

#include <stddef.h>
#include <stdint.h>

#define SHORTEST_MAX 25 /* room for any answer ("-1.2345678901234567e-308") and its NUL */

/* Writes v at buf (NUL-terminated, at most SHORTEST_MAX bytes); returns the
 * length, or 0 (and writes nothing) when v is NaN or infinite. */
size_t shortest_double(char *buf, double v);
size_t shortest_float(char *buf, float v);

/* The digits alone, for finite nonzero |v|: |v| reads back from
 * *digits x 10^*exp10, *digits with no trailing zero. 0, or -1 when v is
 * zero, NaN or infinite. */
int shortest_decimal_double(double v, uint64_t *digits, int *exp10);
int shortest_decimal_float(float v, uint64_t *digits, int *exp10);

#endif
