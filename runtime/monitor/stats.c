/*
 * stats.c: drift and data quality statistics (stats.h). The p-value code
 * follows the algorithms SciPy 1.10 uses (named at each function) so that the
 * answers agree with SciPy's to better than 1e-9; tests/e2e/test_monitor_stats.py
 * checks it.
 */
#include "runtime/monitor/stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names ------------------------------------------------------------ */

static const struct {
	const char *name, *snake;
	int test;
} metric_names[STATS_METRICS] = {
    [STATS_JENSEN_SHANNON] = {"JensenShannonDistance", "jensen_shannon_distance", 0},
    [STATS_PSI] = {"PopulationStabilityIndex", "population_stability_index", 0},
    [STATS_WASSERSTEIN] = {"NormalizedWassersteinDistance", "normalized_wasserstein_distance",
			   0},
    [STATS_KS] = {"TwoSampleKolmogorovSmirnovTest", "two_sample_kolmogorov_smirnov_test", 1},
    [STATS_CHI2] = {"PearsonsChiSquaredTest", "pearsons_chi_squared_test", 1},
    [STATS_NULL_RATE] = {"NullValueRate", "null_value_rate", 0},
    [STATS_TYPE_ERROR_RATE] = {"DataTypeErrorRate", "data_type_error_rate", 0},
    [STATS_OUT_OF_BOUNDS_RATE] = {"OutOfBoundsRate", "out_of_bounds_rate", 0},
};

const char *stats_metric_name(enum stats_metric m)
{
	return (unsigned)m < STATS_METRICS ? metric_names[m].name : "?";
}

const char *stats_metric_snake(enum stats_metric m)
{
	return (unsigned)m < STATS_METRICS ? metric_names[m].snake : "?";
}

int stats_metric_parse(const char *s, enum stats_metric *out)
{
	for (int i = 0; i < STATS_METRICS; i++)
		if (strcasecmp(s, metric_names[i].name) == 0 ||
		    strcasecmp(s, metric_names[i].snake) == 0) {
			*out = (enum stats_metric)i;
			return 0;
		}
	if (strcasecmp(s, "chi_squared_test") == 0) { /* the CLI YAML's name */
		*out = STATS_CHI2;
		return 0;
	}
	return -1;
}

int stats_metric_is_test(enum stats_metric m)
{
	return (unsigned)m < STATS_METRICS && metric_names[m].test;
}

int stats_metric_passed(enum stats_metric m, double value, double threshold)
{
	if (isnan(value))
		return 1;
	return stats_metric_is_test(m) ? !(value < threshold) : !(value > threshold);
}

double stats_metric_severity(enum stats_metric m, double value, double threshold)
{
	if (isnan(value))
		return 0;
	if (stats_metric_is_test(m))
		return threshold / (value > 1e-300 ? value : 1e-300);
	return threshold > 0 ? value / threshold : value * 1e6;
}

int stats_sturges(uint64_t n)
{
	if (n <= 1)
		return 1;
	return (int)ceil(log2((double)n) + 1.0);
}

double stats_rate(uint64_t count, uint64_t rows)
{
	return rows ? (double)count / (double)rows : NAN;
}

/* ---- numerical features: one pass over the merged distinct values ------- */

int stats_num_init(struct stats_num *s, uint64_t na, uint64_t nb, double lo, double hi, int bins)
{
	memset(s, 0, sizeof *s);
	s->na = na;
	s->nb = nb;
	s->lo = lo;
	s->hi = hi;
	s->bins = bins < 1 || !(hi > lo) ? 1 : bins;
	s->hist_a = calloc((size_t)s->bins, sizeof *s->hist_a);
	s->hist_b = calloc((size_t)s->bins, sizeof *s->hist_b);
	if (s->hist_a == NULL || s->hist_b == NULL) {
		stats_num_cleanup(s);
		return -1;
	}
	return 0;
}

void stats_num_cleanup(struct stats_num *s)
{
	free(s->hist_a);
	free(s->hist_b);
	s->hist_a = s->hist_b = NULL;
}

static int bin_of(const struct stats_num *s, double v)
{
	double w = (s->hi - s->lo) / s->bins;
	double f;

	if (s->bins == 1)
		return 0;
	f = floor((v - s->lo) / w);
	if (!(f >= 0))
		return 0;
	return f >= s->bins ? s->bins - 1 : (int)f;
}

void stats_num_add(struct stats_num *s, double v, uint64_t ca, uint64_t cb)
{
	double fa, fb;
	int b;

	if (s->started && s->na && s->nb) {
		fa = (double)s->ca / (double)s->na;
		fb = (double)s->cb / (double)s->nb;
		s->w1 += (long double)fabs(fa - fb) * (long double)(v - s->prev);
	}
	s->ca += ca;
	s->cb += cb;
	s->prev = v;
	s->started = 1;
	if (s->na && s->nb) {
		fa = (double)s->ca / (double)s->na;
		fb = (double)s->cb / (double)s->nb;
		if (fa - fb > s->d_plus)
			s->d_plus = fa - fb;
		if (fb - fa > s->d_minus)
			s->d_minus = fb - fa;
	}
	b = bin_of(s, v);
	s->hist_a[b] += ca;
	s->hist_b[b] += cb;
}

double stats_wasserstein_norm(double sd_a)
{
	return isnan(sd_a) || sd_a < 0.001 ? 0.001 : sd_a;
}

void stats_num_finish(const struct stats_num *s, struct stats_num_result *out)
{
	double d;

	if (s->na == 0 || s->nb == 0) {
		out->wasserstein = out->ks_statistic = out->ks_pvalue = NAN;
		out->jensen_shannon = out->psi = NAN;
		return;
	}
	out->wasserstein = (double)s->w1;
	/* ks_2samp: the larger of the two one-sided maxima (minS clipped at 0) */
	d = s->d_minus > s->d_plus ? s->d_minus : s->d_plus;
	out->ks_pvalue = stats_ks_pvalue(d, s->na, s->nb, &out->ks_statistic);
	out->jensen_shannon = stats_jensen_shannon(s->hist_a, s->hist_b, (size_t)s->bins);
	out->psi = stats_psi(s->hist_a, s->hist_b, (size_t)s->bins, s->na, s->nb);
}

/* ---- categorical features and histograms ------------------------------- */

/* scipy.special.rel_entr(x, y) for x, y >= 0 (the log in double: one ulp,
 * and ten times faster than logl on the many bins of a numeric feature) */
static long double rel_entr(long double x, long double y)
{
	if (x == 0)
		return 0;
	if (y == 0)
		return INFINITY;
	return x * (long double)log((double)(x / y));
}

double stats_jensen_shannon(const uint64_t *ca, const uint64_t *cb, size_t k)
{
	long double sa = 0, sb = 0, js = 0;
	size_t i;

	for (i = 0; i < k; i++) {
		sa += ca[i];
		sb += cb[i];
	}
	if (sa == 0 || sb == 0)
		return NAN;
	for (i = 0; i < k; i++) {
		long double p = ca[i] / sa, q = cb[i] / sb, m = (p + q) / 2;
		js += rel_entr(p, m) + rel_entr(q, m);
	}
	js /= logl(2.0L);
	/* rounding can leave a tiny negative for equal distributions */
	return js <= 0 ? 0.0 : (double)sqrtl(js / 2);
}

double stats_psi(const uint64_t *ca, const uint64_t *cb, size_t k, uint64_t na, uint64_t nb)
{
	long double psi = 0;

	if (na == 0 || nb == 0)
		return NAN;
	for (size_t i = 0; i < k; i++) {
		long double pa = (ca[i] + 1.0L) / na, pb = (cb[i] + 1.0L) / nb;
		psi += (pb - pa) * (long double)log((double)(pb / pa));
	}
	return (double)psi;
}

void stats_cat(const uint64_t *ca, const uint64_t *cb, size_t k, uint64_t na, uint64_t nb,
	       struct stats_cat_result *out)
{
	long double chi2 = 0;
	size_t i;

	if (na == 0 || nb == 0 || k == 0) {
		out->jensen_shannon = out->psi = out->chi2_statistic = out->chi2_pvalue = NAN;
		return;
	}
	out->jensen_shannon = stats_jensen_shannon(ca, cb, k);
	out->psi = stats_psi(ca, cb, k, na, nb);
	for (i = 0; i < k; i++) {
		long double e = (long double)ca[i] / na * nb, d = cb[i] - e;
		if (e == 0) {
			chi2 = INFINITY;
			break;
		}
		chi2 += d * d / e;
	}
	out->chi2_statistic = (double)chi2;
	if (k == 1)
		out->chi2_pvalue = 1.0;
	else
		out->chi2_pvalue = isinf(out->chi2_statistic)
				       ? 0.0
				       : stats_chi2_sf(out->chi2_statistic, (double)(k - 1));
}

/* ---- chi-squared: the regularized upper incomplete gamma function ------- */

/* Q(a, x) = Gamma(a, x) / Gamma(a): the series for P when x < a + 1,
 * Lentz's continued fraction for Q otherwise (Numerical Recipes 6.2),
 * in long double. */
static long double gamma_q(long double a, long double x)
{
	long double lfac, sum, del, ap, b, c, d, h, an;
	int i;

	if (x <= 0)
		return 1;
	lfac = a * logl(x) - x - lgammal(a);
	if (x < a + 1) {
		ap = a;
		sum = del = 1 / a;
		for (i = 0; i < 100000; i++) {
			ap += 1;
			del *= x / ap;
			sum += del;
			if (fabsl(del) < fabsl(sum) * LDBL_EPSILON)
				break;
		}
		return 1 - sum * expl(lfac);
	}
	b = x + 1 - a;
	c = 1 / LDBL_MIN;
	d = 1 / b;
	h = d;
	for (i = 1; i < 100000; i++) {
		an = -i * (i - a);
		b += 2;
		d = an * d + b;
		if (fabsl(d) < LDBL_MIN)
			d = LDBL_MIN;
		c = b + an / c;
		if (fabsl(c) < LDBL_MIN)
			c = LDBL_MIN;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabsl(del - 1) < LDBL_EPSILON)
			break;
	}
	return expl(lfac) * h;
}

double stats_chi2_sf(double x, double df)
{
	long double q;

	if (isnan(x) || !(df > 0))
		return NAN;
	if (x <= 0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	q = gamma_q(df / 2.0L, x / 2.0L);
	return q < 0 ? 0.0 : q > 1 ? 1.0 : (double)q;
}

/* ---- the two-sample KS test, exact (SciPy's _attempt_exact_2kssamp) ----- */

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* n1 == n2: the proportion of paths that leave the band |x - y| < h
 * (SciPy's _compute_prob_outside_square). */
static double prob_outside_square(int64_t n, int64_t h)
{
	double p = 0.0;
	int64_t k = n / h;

	for (; k >= 0; k--) {
		double p1 = 1.0;
		for (int64_t j = 0; j < h; j++)
			p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
		p = p1 * (1.0 - p);
	}
	return 2 * p;
}

/* n1 != n2: 1 - the proportion of lattice paths that stay strictly inside
 * |x/m - y/n| < h / lcm, computed directly as Viehmann's recursion (SciPy's
 * _compute_outer_prob_inside_method). */
static double prob_outer_inside(int64_t m, int64_t n, int64_t g, int64_t h)
{
	int64_t mg, ng, minj, maxj, curlen, lastminj, lastlen, i, jj;
	double *a, val, ans;

	if (m < n) {
		int64_t t = m;
		m = n;
		n = t;
	}
	mg = m / g;
	ng = n / g;
	minj = 0;
	maxj = (int64_t)ceil((double)h / (double)mg);
	if (maxj > n + 1)
		maxj = n + 1;
	curlen = maxj - minj;
	a = malloc((size_t)(n + 2) * sizeof *a);
	if (a == NULL)
		return NAN;
	for (i = 0; i < n + 2; i++)
		a[i] = 1.0;
	for (i = minj; i < maxj; i++)
		a[i] = 0.0;
	for (i = 1; i <= m; i++) {
		lastminj = minj;
		lastlen = curlen;
		minj = (int64_t)floor((double)(ng * i - h) / (double)mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > n)
			minj = n;
		maxj = (int64_t)ceil((double)(ng * i + h) / (double)mg);
		if (maxj > n + 1)
			maxj = n + 1;
		if (maxj <= minj) {
			free(a);
			return 1.0;
		}
		val = minj == 0 ? 0.0 : 1.0;
		for (jj = 0; jj < maxj - minj; jj++) {
			int64_t j = jj + minj;
			val = (a[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
			a[jj] = val;
		}
		curlen = maxj - minj;
		for (jj = maxj - minj; jj < maxj - minj + (lastlen - curlen) && jj < n + 2; jj++)
			a[jj] = 1.0;
	}
	ans = a[maxj - minj - 1];
	free(a);
	return ans;
}

double stats_ks_pvalue(double d, uint64_t n1, uint64_t n2, double *d_out)
{
	double p = NAN, m, n, en;

	if (d_out)
		*d_out = d;
	if (n1 == 0 || n2 == 0)
		return NAN;
	if ((n1 > n2 ? n1 : n2) <= 10000) {
		uint64_t g = gcd64(n1, n2), lcm = (n1 / g) * n2;
		int64_t h = (int64_t)nearbyint(d * (double)lcm);

		d = (double)h / (double)lcm;
		if (d_out)
			*d_out = d;
		if (h == 0)
			return 1.0;
		/* the tail is below 2 exp(-2 en d^2): past e^-760 no double but 0
		 * holds it, and the exact sum would take seconds to say so */
		if (2.0 * ((double)n1 * (double)n2 / (double)(n1 + n2)) * d * d > 760.0)
			return 0.0;
		p = n1 == n2 ? prob_outside_square((int64_t)n1, h)
			     : prob_outer_inside((int64_t)n1, (int64_t)n2, (int64_t)g, h);
		if (p >= 0 && p <= 1)
			return p;
	}
	m = (double)(n1 > n2 ? n1 : n2);
	n = (double)(n1 > n2 ? n2 : n1);
	en = m * n / (m + n);
	p = stats_kstwo_sf((int64_t)nearbyint(en), d);
	return p < 0 ? 0.0 : p > 1 ? 1.0 : p;
}

/* ---- kstwo: the one-sample two-sided distribution (SciPy's _kolmogn) ---- */

static double clip01(double p)
{
	return p < 0 ? 0.0 : p > 1 ? 1.0 : p;
}

/* log(n! / n^n) by Stirling's series (SciPy's _log_nfactorial_div_n_pow_n) */
static double log_nfact_div_npown(double n)
{
	static const double c[] = {-2.955065359477124183e-2, 6.4102564102564102564e-3,
				   -1.9175269175269175269e-3, 8.4175084175084175084e-4,
				   -5.952380952380952381e-4,  7.9365079365079365079e-4,
				   -2.7777777777777777778e-3, 8.3333333333333333333e-2};
	double rn = 1.0 / n, x = rn / n, poly = 0;

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		poly = poly * x + c[i];
	return log(n) / 2 - n + log(2 * M_PI) / 2 + rn * poly;
}

/* C = A B for m x m matrices. */
static void matmul(const double *a, const double *b, double *c, int m)
{
	for (int i = 0; i < m; i++)
		for (int j = 0; j < m; j++) {
			double s = 0;
			for (int k = 0; k < m; k++)
				s += a[i * m + k] * b[k * m + j];
			c[i * m + j] = s;
		}
}

/* Pr(D_n <= d): Durbin's matrix, Marsaglia-Tsang-Wang (SciPy's _kolmogn_DMTW). */
static double kolmogn_dmtw(int64_t n, double d)
{
	const double ep128 = ldexp(1.0, 128), em128 = ldexp(1.0, -128);
	double nd = (double)n * d, h, *H, *P, *T, *v, *w, fac, tt, p;
	int k, m, i, j, expnt = 0, hexpnt = 0;
	int64_t nn;

	if (d >= 1.0)
		return 1.0;
	if (nd <= 0.5)
		return 0.0;
	k = (int)ceil(nd);
	h = k - nd;
	m = 2 * k - 1;
	H = calloc((size_t)m * m, sizeof *H);
	P = calloc((size_t)m * m, sizeof *P);
	T = calloc((size_t)m * m, sizeof *T);
	v = calloc((size_t)m, sizeof *v);
	w = calloc((size_t)m, sizeof *w);
	if (!H || !P || !T || !v || !w) {
		p = NAN;
		goto out;
	}
	fac = 1.0;
	for (j = 1; j <= m; j++) {
		v[j - 1] = 1.0 - pow(h, j);
		w[j - 1] = fac;
		fac /= j;
		v[j - 1] *= fac;
	}
	tt = pow(fmax(2 * h - 1.0, 0), m) - 2 * pow(h, m);
	v[m - 1] = (1.0 + tt) * fac;
	for (i = 1; i < m; i++)
		for (j = i - 1; j < m; j++)
			H[j * m + i] = w[j - (i - 1)];
	for (i = 0; i < m; i++)
		H[i * m] = v[i];
	for (j = 0; j < m; j++)
		H[(m - 1) * m + j] = v[m - 1 - j];
	for (i = 0; i < m; i++)
		P[i * m + i] = 1.0;
	for (nn = n; nn > 0; nn /= 2) {
		if (nn % 2) {
			matmul(P, H, T, m);
			memcpy(P, T, (size_t)m * m * sizeof *P);
			expnt += hexpnt;
		}
		matmul(H, H, T, m);
		memcpy(H, T, (size_t)m * m * sizeof *H);
		hexpnt *= 2;
		if (fabs(H[(k - 1) * m + (k - 1)]) > ep128) {
			for (i = 0; i < m * m; i++)
				H[i] /= ep128;
			hexpnt += 128;
		}
	}
	p = P[(k - 1) * m + (k - 1)];
	for (int64_t q = 1; q <= n; q++) {
		p = (double)q * p / (double)n;
		if (fabs(p) < em128) {
			p *= ep128;
			expnt -= 128;
		}
	}
	if (expnt != 0)
		p = ldexp(p, expnt);
out:
	free(H);
	free(P);
	free(T);
	free(v);
	free(w);
	return p;
}

/* The interval of row i (SciPy's _pomeranz_compute_j1j2). */
static void pomeranz_j1j2(int64_t i, int64_t n, int64_t ll, int ceilf, int roundf, int64_t *j1,
			  int64_t *j2)
{
	int64_t a, b;

	if (i == 0) {
		a = -ll - ceilf - 1;
		b = ll + ceilf - 1;
	} else {
		int64_t div = (i + 1) / 2, mod = (i + 1) % 2;
		if (mod == 0) {
			if (div == n + 1) {
				a = n - ll - ceilf - 1;
				b = n + ll + ceilf - 1;
			} else {
				a = div - 1 - ll - roundf - 1;
				b = div + ll - 1 + ceilf - 1;
			}
		} else {
			a = div - 1 - ll - 1;
			b = div + ll + roundf - 1;
		}
	}
	*j1 = a + 2 > 0 ? a + 2 : 0;
	*j2 = b < n ? b : n;
}

/* Pr(D_n <= x), Pomeranz's recursion (SciPy's _kolmogn_Pomeranz). */
static double kolmogn_pomeranz(int64_t n, double x)
{
	const double ep128 = ldexp(1.0, 128), em128 = ldexp(1.0, -128);
	double t = (double)n * x, f, g, *gp, *tgp, *omp, *v0, *v1, *tmp, ans;
	int64_t ll = (int64_t)floor(t), npw, i, j1, j2, k1, v0s = 0, v1s = 0, s, jj;
	int ceilf, roundf, expnt = 0;

	f = t - (double)ll;
	g = fmin(f, 1.0 - f);
	ceilf = f > 0;
	roundf = f > 0.5;
	npw = 2 * (ll + 1);
	gp = malloc((size_t)npw * sizeof *gp);
	tgp = malloc((size_t)npw * sizeof *tgp);
	omp = malloc((size_t)npw * sizeof *omp);
	v0 = calloc((size_t)npw, sizeof *v0);
	v1 = calloc((size_t)npw, sizeof *v1);
	if (!gp || !tgp || !omp || !v0 || !v1) {
		ans = NAN;
		goto out;
	}
	gp[0] = tgp[0] = omp[0] = 1.0;
	for (i = 1; i < npw; i++) {
		gp[i] = gp[i - 1] * (g / (double)n) / (double)i;
		tgp[i] = tgp[i - 1] * (2 * g / (double)n) / (double)i;
		omp[i] = omp[i - 1] * ((1 - 2 * g) / (double)n) / (double)i;
	}
	v1[0] = 1;
	pomeranz_j1j2(0, n, ll, ceilf, roundf, &j1, &j2);
	for (i = 1; i < 2 * n + 2; i++) {
		const double *pw;
		int64_t ln2, cstart, clen;
		k1 = j1;
		tmp = v0;
		v0 = v1;
		v1 = tmp;
		s = v0s;
		v0s = v1s;
		v1s = s;
		memset(v1, 0, (size_t)npw * sizeof *v1);
		pomeranz_j1j2(i, n, ll, ceilf, roundf, &j1, &j2);
		pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? tgp : omp);
		ln2 = j2 - k1 + 1;
		if (ln2 <= 0)
			continue;
		/* conv = convolve(V0[k1 - v0s : +ln2], pw[:ln2]); V1[:clen] = conv[cstart:] */
		cstart = j1 - k1;
		clen = j2 - j1 + 1;
		/* numpy's slices stop at the end of the arrays */
		int64_t off = k1 - v0s, la = ln2, lb = ln2 < npw ? ln2 : npw;
		double mx = 0;
		if (off < 0 || off >= npw) {
			ans = NAN;
			goto out;
		}
		if (la > npw - off)
			la = npw - off;
		for (jj = 0; jj < clen && jj < npw; jj++) {
			int64_t idx = cstart + jj, q;
			double sum = 0;
			for (q = 0; q < la; q++) {
				int64_t r = idx - q;
				if (r < 0 || r >= lb)
					continue;
				sum += v0[off + q] * pw[r];
			}
			v1[jj] = sum;
			if (sum > mx)
				mx = sum;
		}
		if (0 < mx && mx < em128) {
			for (jj = 0; jj < npw; jj++)
				v1[jj] *= ep128;
			expnt -= 128;
		}
		v1s = v0s + j1 - k1;
	}
	ans = v1[n - v1s];
	for (i = 1; i <= n; i++) {
		if (fabs(ans) > ep128) {
			ans *= em128;
			expnt += 128;
		}
		ans *= (double)i;
	}
	if (expnt != 0)
		ans = ldexp(ans, expnt);
out:
	free(gp);
	free(tgp);
	free(omp);
	free(v0);
	free(v1);
	return ans;
}

/* Pr(D_n <= x), Pelz and Good's approximation (SciPy's _kolmogn_PelzGood). */
static double kolmogn_pelzgood(int64_t n, double x)
{
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
	const double sqrt2pi = sqrt(2 * M_PI);
	double z, z2, z3, z4, z6, qlog, q, k1a, k1b, k2a, k2b, k2c, k3a, k3b, k3c, k3d, k2x, k3x;
	double K[4] = {0, 0, 0, 0}, sum = 0;
	int maxk, k;

	if (x <= 0)
		return 0.0;
	if (x >= 1)
		return 1.0;
	z = sqrt((double)n) * x;
	z2 = z * z;
	z3 = z2 * z;
	z4 = z2 * z2;
	z6 = z4 * z2;
	qlog = -pi2 / 8 / z2;
	if (qlog < -708)
		return 0.0;
	q = exp(qlog);
	k1a = -z2;
	k1b = pi2 / 4;
	k2a = 6 * z6 + 2 * z4;
	k2b = (2 * z4 - 5 * z2) * pi2 / 4;
	k2c = pi4 * (1 - 2 * z2) / 16;
	k3d = pi6 * (5 - 30 * z2) / 64;
	k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	k3b = pi2 * (135 * z4 - 96 * z6) / 4;
	k3a = -30 * z6 - 90 * pow(z, 8);
	maxk = (int)ceil(16 * z / M_PI);
	for (k = maxk; k > 0; k--) {
		double mm = 2 * k - 1, m2 = mm * mm, m4 = m2 * m2, m6 = m4 * m2;
		double qp = pow(q, 8 * k);
		double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
			       k3a + k3b * m2 + k3c * m4 + k3d * m6};
		for (int i = 0; i < 4; i++)
			K[i] = K[i] * qp + c[i];
	}
	for (int i = 0; i < 4; i++)
		K[i] *= q * sqrt2pi;
	K[0] /= z;
	K[1] /= 6 * z4;
	K[2] /= 72 * pow(z, 7);
	K[3] /= 6480 * pow(z, 10);
	q = exp(-pi2 / 2 / z2);
	k2x = 0;
	k3x = 0;
	for (k = maxk; k > 0; k--) {
		double ks2 = (double)k * k, qp = pow(q, ks2), kspi = M_PI * k;
		k2x += ks2 * qp;
		k3x += (sqrt(3) * z + kspi) * (sqrt(3) * z - kspi) * ks2 * qp;
	}
	K[2] += k2x * pi2 * sqrt2pi / (-36 * z3);
	K[3] += k3x * pi2 * sqrt2pi / (216 * z6);
	for (int i = 0; i < 4; i++)
		sum += K[i] / pow((double)n, i / 2.0);
	return sum;
}

double stats_kstwo_sf(int64_t n, double x)
{
	double t, nxsq, prob;

	if (n <= 0 || isnan(x))
		return NAN;
	if (x >= 1.0)
		return 0.0;
	if (x <= 0.0)
		return 1.0;
	t = (double)n * x;
	if (t <= 1.0) {
		if (t <= 0.5)
			return 1.0;
		if (n <= 140) {
			prob = 1.0;
			for (int64_t i = 1; i <= n; i++)
				prob *= (double)i * (1.0 / (double)n) * (2 * t - 1);
		} else {
			prob = exp(log_nfact_div_npown((double)n) + (double)n * log(2 * t - 1));
		}
		return clip01(1.0 - prob);
	}
	if (t >= (double)(n - 1))
		return clip01(2 * pow(1.0 - x, (double)n));
	if (x >= 0.5)
		return clip01(2 * stats_smirnov(n, x));
	nxsq = t * x;
	if (n <= 140) {
		if (nxsq <= 0.754693)
			return clip01(1.0 - kolmogn_dmtw(n, x));
		if (nxsq <= 4)
			return clip01(1.0 - kolmogn_pomeranz(n, x));
		return clip01(2 * stats_smirnov(n, x));
	}
	if (nxsq >= 370.0)
		return 0.0;
	if (nxsq >= 2.2)
		return clip01(2 * stats_smirnov(n, x));
	if (n <= 100000 && (double)n * pow(x, 1.5) <= 1.4)
		prob = kolmogn_dmtw(n, x);
	else
		prob = kolmogn_pelzgood(n, x);
	return clip01(1.0 - prob);
}

/* ---- smirnov: the one-sided statistic (SciPy's cephes _smirnov, sf) ----- */

/* Birnbaum and Tingey's sum, in long double:
 * Pr(D+ >= x) = x sum_{v=0}^{floor(n(1-x))} C(n,v) (1-x-v/n)^(n-v) (x+v/n)^(v-1). */
double stats_smirnov(int64_t n, double x)
{
	long double lx = x, ln = (long double)n, sum, lc, alpha, nxl;
	int64_t nxfl, nterms, v;

	if (!(n > 0 && x >= 0.0 && x <= 1.0))
		return NAN;
	if (n == 1)
		return 1 - x;
	if (x == 0.0)
		return 1.0;
	if (x == 1.0)
		return 0.0;
	nxl = ln * lx;
	nxfl = (int64_t)floorl(nxl);
	alpha = nxl - (long double)nxfl;
	if (nxfl == 0 || (nxfl == 1 && alpha == 0))
		return clip01(1.0 - x * pow(1 + x, (double)(n - 1)));
	if (-2 * (double)n * x * x < -7.451332191019412076235e2)
		return 0.0;
	if (nxfl >= n - 1)
		return clip01(pow(1 - x, (double)n));
	if (n > 1000000) {
		double logp = -pow(6.0 * (double)n * x + 1, 2) / 18.0 / (double)n;
		return logp < -M_LN2 ? exp(logp) : 1 - (-expm1(logp));
	}
	/* the lower sum: v = 0 .. n - nxfl - 1 (when n x is an integer, the term
	 * v = n - nxfl is 0) */
	nterms = n - nxfl;
	sum = 0;
	lc = 0; /* log C(n, v) */
	for (v = 0; v < nterms; v++) {
		long double b1 = (ln - v) / ln - lx, b2 = lx + v / ln, term;
		if (v > 0)
			lc += logl((ln - (v - 1)) / v);
		if (b1 <= 0)
			break;
		term = expl(lc + (ln - v) * logl(b1) + (v - 1) * logl(b2));
		sum += term;
		if (v == 0)
			continue;
		if (term != 0) {
			if (4.0L * (nterms - v) * term < DBL_EPSILON * sum && v != nterms - 1)
				break;
		} else if (v > n / 2) {
			break;
		}
	}
	return clip01((double)(lx * sum));
}

/* ---- types ------------------------------------------------------------- */

const char *stats_type_name(enum stats_type t)
{
	static const char *const names[] = {"none", "long", "double", "boolean", "string"};
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

enum stats_type stats_type_infer(const struct stats_kinds *k)
{
	uint64_t num = k->n[STATS_KIND_INT] + k->n[STATS_KIND_DOUBLE];
	uint64_t all = num + k->n[STATS_KIND_BOOL] + k->n[STATS_KIND_STRING] +
		       k->n[STATS_KIND_OTHER];

	if (all == 0)
		return STATS_TYPE_NONE;
	if (num == all)
		return k->n[STATS_KIND_DOUBLE] ? STATS_TYPE_DOUBLE : STATS_TYPE_LONG;
	if (k->n[STATS_KIND_BOOL] == all)
		return STATS_TYPE_BOOLEAN;
	return STATS_TYPE_STRING;
}

int stats_type_categorical(enum stats_type t, uint64_t distinct, uint64_t values)
{
	switch (t) {
	case STATS_TYPE_DOUBLE:
		return 0;
	case STATS_TYPE_LONG:
		return values > 0 && (double)distinct / (double)values < 0.05;
	default:
		return 1;
	}
}

static int bool_text(const char *s)
{
	static const char *const words[] = {"true", "false", "t", "f", "yes", "no",
					    "y",    "n",     "1", "0"};
	for (size_t i = 0; s && i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}

int stats_type_accepts(enum stats_type t, enum stats_kind k, int text_number, const char *text)
{
	if (k == STATS_KIND_OTHER)
		return t == STATS_TYPE_NONE;
	switch (t) {
	case STATS_TYPE_LONG:
	case STATS_TYPE_DOUBLE:
		return k != STATS_KIND_STRING || text_number;
	case STATS_TYPE_BOOLEAN:
		return k != STATS_KIND_STRING || bool_text(text);
	default:
		return 1;
	}
}
