/*
 * benchlib.h: what the micro-benchmarks (xgbbench.c, numbench.c) share:
 * clocks, medians and a deterministic random source. Not part of mldeck.
 */
#ifndef BENCH_BENCHLIB_H
#define BENCH_BENCHLIB_H

#include <stdint.h>
#include <time.h>

/* Seconds on clock c (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID). */
double bench_now(clockid_t c);
/* The median of v[0..n) (sorts v). */
double bench_median(double *v, int n);
/* xorshift64*: the same sequence for the same seed, so runs compare. */
uint64_t bench_rng(uint64_t *s);
double bench_unit(uint64_t *s);	  /* uniform in [0, 1) */
double bench_normal(uint64_t *s); /* standard normal */

#endif
