/*
 * stats.h: the statistics of model monitoring (issue 12), as Azure ML's
 * monitoring computes them and as SciPy defines them. Pure: no I/O, no
 * allocation except the histogram arrays of stats_num (stats_num_init and
 * stats_num_cleanup), no shared state; any thread.
 *
 * Two samples: a (the reference) and b (the production window). Missing
 * values (null, NaN) are not part of either sample: callers count them as
 * data quality and leave them out (Azure drops them before drift).
 *
 * Numerical features are given as one merged stream of the distinct values of
 * both samples in increasing order, each with its count in a and in b
 * (stats_num_add). From that one pass:
 *  - Wasserstein-1 distance W = integral of |Fa - Fb| (scipy.stats.
 *    wasserstein_distance), exact; normalized as Azure does: W / max(sd, 0.001)
 *    with sd the sample standard deviation (n - 1) of the reference;
 *  - the two-sample Kolmogorov-Smirnov statistic D = max |Fa - Fb| at the
 *    sample points and its two-sided p-value as scipy.stats.ks_2samp
 *    (method "auto": exact when both samples have at most 10,000 values,
 *    else the asymptotic distribution kstwo(round(n1 n2 / (n1 + n2))));
 *  - Jensen-Shannon distance (base 2, scipy.spatial.distance.jensenshannon)
 *    and the population stability index over a histogram of `bins` equal
 *    bins spanning [lo, hi], the smallest and largest value of both samples.
 *    Azure's bin count: Sturges on the smaller sample, ceil(log2(n) + 1)
 *    (stats_sturges). A value v falls in bin floor((v - lo) / w), w = (hi -
 *    lo) / bins, the last bin closed; lo == hi is one bin.
 * PSI is Azure's: each bin's count plus one, over the sample size:
 * sum (pb - pa) ln(pb / pa), pa = (ca + 1) / na, pb = (cb + 1) / nb.
 *
 * Categorical features are given as the counts per category of the union of
 * both samples' categories (stats_cat): Jensen-Shannon distance and PSI as
 * above, and Pearson's chi-squared goodness of fit of b against the
 * reference's proportions, as Azure does (scipy.stats.chisquare(observed=cb,
 * expected=ca / na * nb)): a category the reference never saw has expected
 * 0, so chi2 = inf and p = 0. With one category SciPy answers p = nan; we
 * answer 1 (nothing can have drifted).
 *
 * Tests (KS, chi-squared) report p-values: a feature fails when p < threshold.
 * Distances and rates fail when value > threshold (stats_metric_passed).
 */
#ifndef RUNTIME_MONITOR_STATS_H
#define RUNTIME_MONITOR_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Azure's metric names (the 2024-04-01 enums). */
enum stats_metric {
	STATS_JENSEN_SHANNON,        /* JensenShannonDistance */
	STATS_PSI,                   /* PopulationStabilityIndex */
	STATS_WASSERSTEIN,           /* NormalizedWassersteinDistance */
	STATS_KS,                    /* TwoSampleKolmogorovSmirnovTest (p-value) */
	STATS_CHI2,                  /* PearsonsChiSquaredTest (p-value) */
	STATS_NULL_RATE,             /* NullValueRate */
	STATS_TYPE_ERROR_RATE,       /* DataTypeErrorRate */
	STATS_OUT_OF_BOUNDS_RATE,    /* OutOfBoundsRate */
	STATS_METRICS
};

const char *stats_metric_name(enum stats_metric m);
int stats_metric_parse(const char *s, enum stats_metric *out); /* case-insensitive; 0 or -1 */
/* snake_case as in the CLI's YAML (normalized_wasserstein_distance, ...). */
const char *stats_metric_snake(enum stats_metric m);
/* 1 for the tests whose value is a p-value (a feature fails below the threshold). */
int stats_metric_is_test(enum stats_metric m);
/* value against threshold as Azure evaluates it; a NaN value passes (no data). */
int stats_metric_passed(enum stats_metric m, double value, double threshold);
/* How far past its threshold a value is (1: at it, above 1: failed), for
 * ranking features; 0 for a NaN value. */
double stats_metric_severity(enum stats_metric m, double value, double threshold);

/* ceil(log2(n) + 1), at least 1 (n = 0 gives 1). */
int stats_sturges(uint64_t n);

struct stats_num {
	uint64_t na, nb;     /* sample sizes */
	double lo, hi;       /* histogram span */
	int bins;
	uint64_t *hist_a, *hist_b;
	/* running */
	uint64_t ca, cb;     /* cumulative counts */
	double prev;         /* last value added */
	int started;
	long double w1;      /* integral of |Fa - Fb| so far */
	double d_plus, d_minus; /* max(Fa - Fb), max(Fb - Fa) at the points */
};

/* For samples of na and nb values spanning [lo, hi]; bins >= 1. 0, or -1
 * when out of memory. */
int stats_num_init(struct stats_num *s, uint64_t na, uint64_t nb, double lo, double hi,
		   int bins);
/* The next distinct value (strictly greater than the previous one) with its
 * count in each sample (one may be 0). */
void stats_num_add(struct stats_num *s, double v, uint64_t ca, uint64_t cb);
void stats_num_cleanup(struct stats_num *s);

struct stats_num_result {
	double wasserstein;      /* W1, NaN when a sample is empty */
	double ks_statistic;     /* D (SciPy's: h / lcm(n1, n2) in the exact method) */
	double ks_pvalue;
	double jensen_shannon;
	double psi;
};
/* After the last stats_num_add; sd_a is the reference's sample standard
 * deviation. Every value is NaN when either sample is empty. The normalized
 * Wasserstein distance is wasserstein / stats_wasserstein_norm(sd_a). */
void stats_num_finish(const struct stats_num *s, struct stats_num_result *out);
double stats_wasserstein_norm(double sd_a);

struct stats_cat_result {
	double jensen_shannon;
	double psi;
	double chi2_statistic;
	double chi2_pvalue;
};
/* Counts of k categories (the union of both samples'); na and nb are their
 * sums. Every value is NaN when either sample is empty. */
void stats_cat(const uint64_t *ca, const uint64_t *cb, size_t k, uint64_t na, uint64_t nb,
	       struct stats_cat_result *out);

/* Jensen-Shannon distance, base 2, between two count vectors (normalized
 * each to sum 1), as scipy.spatial.distance.jensenshannon. */
double stats_jensen_shannon(const uint64_t *ca, const uint64_t *cb, size_t k);
/* Azure's PSI over k bins or categories (see above). */
double stats_psi(const uint64_t *ca, const uint64_t *cb, size_t k, uint64_t na, uint64_t nb);

/* The two-sided p-value of the two-sample KS statistic d, as
 * scipy.stats.ks_2samp(method="auto"); *d_out gets the statistic SciPy
 * reports (rounded to the lattice in the exact method). NaN when n1 or n2 is 0. */
double stats_ks_pvalue(double d, uint64_t n1, uint64_t n2, double *d_out);
/* Pr(D_n >= x) of the one-sample two-sided KS statistic (scipy.stats.kstwo.sf). */
double stats_kstwo_sf(int64_t n, double x);
/* Pr(D+_n >= x), the one-sided statistic (scipy.special.smirnov). */
double stats_smirnov(int64_t n, double x);
/* Upper tail of the chi-squared distribution (scipy.stats.chi2.sf). */
double stats_chi2_sf(double x, double df);

/* ---- data types and data quality ---------------------------------------- */

/* The type of a reference column, inferred as Spark reads JSON: */
enum stats_type {
	STATS_TYPE_NONE,    /* no value seen (every value null) */
	STATS_TYPE_LONG,    /* integers only */
	STATS_TYPE_DOUBLE,  /* numbers, one with a fraction or exponent */
	STATS_TYPE_BOOLEAN, /* true/false only */
	STATS_TYPE_STRING,  /* strings, or a mix of kinds */
};
const char *stats_type_name(enum stats_type t); /* "long", "double", ... */

/* The kind of one JSON value (null and NaN are missing, not a kind). */
enum stats_kind {
	STATS_KIND_INT,    /* a number without fraction or exponent */
	STATS_KIND_DOUBLE, /* any other number */
	STATS_KIND_BOOL,
	STATS_KIND_STRING,
	STATS_KIND_OTHER,  /* an object or an array */
	STATS_KINDS
};

/* What a column holds: counts by kind. */
struct stats_kinds {
	uint64_t n[STATS_KINDS];
};
enum stats_type stats_type_infer(const struct stats_kinds *k);
/* Whether a value of kind k casts to t as Spark casts it (the data type
 * error rate counts those that do not): numbers and booleans cast to
 * numbers, strings only when they read as a number (`text_number`); to
 * boolean: booleans, numbers, and the strings true/false/yes/no/t/f/y/n/1/0;
 * to string: everything but objects and arrays. */
int stats_type_accepts(enum stats_type t, enum stats_kind k, int text_number,
		       const char *text);
/* Azure's feature type: string and boolean columns are categorical, double
 * numerical, and an integer column categorical when its distinct values are
 * fewer than 5 % of its values. */
int stats_type_categorical(enum stats_type t, uint64_t distinct, uint64_t values);

/* Data quality counts of one feature over the production rows. */
struct stats_quality {
	uint64_t rows;          /* rows in the window */
	uint64_t nulls;         /* missing, null or NaN */
	uint64_t type_errors;   /* values that do not cast to the reference's type */
	uint64_t out_of_bounds; /* numbers outside the reference's [min, max]; strings
				   the reference never saw */
};
/* count / rows for each; NaN when rows is 0. */
double stats_rate(uint64_t count, uint64_t rows);

#endif
