/*
 * stats.c - see stats.h. Closed forms and libm (erfc, lgamma); no
 * library of ours to trust blindly, so tests/unit/test_stats.c checks
 * each figure against values computed independently.
 */
#include "config.h"

#include <math.h>

#include "candor/stats.h"

struct cd_interval cd_stats_wilson(int64_t k, int64_t n, double z)
{
	struct cd_interval r = { 0, 1 };
	double p, d, c, h;

	if (n <= 0)
		return r;
	p = (double)k / (double)n;
	d = 1 + z * z / (double)n;
	c = (p + z * z / (2.0 * (double)n)) / d;
	h = z * sqrt(p * (1 - p) / (double)n + z * z / (4.0 * (double)n * (double)n)) / d;
	r.lo = c - h < 0 ? 0 : c - h;
	r.hi = c + h > 1 ? 1 : c + h;
	return r;
}

double cd_stats_z_test(int64_t k1, int64_t n1, int64_t k2, int64_t n2)
{
	double p, se, z;

	if (n1 <= 0 || n2 <= 0)
		return 1;
	p = (double)(k1 + k2) / (double)(n1 + n2);
	se = sqrt(p * (1 - p) * (1.0 / (double)n1 + 1.0 / (double)n2));
	if (se == 0)
		return 1;
	z = ((double)k2 / (double)n2 - (double)k1 / (double)n1) / se;
	return erfc(fabs(z) / sqrt(2.0));
}

/* log of the hypergeometric probability of X successes in the first row
 * of a 2x2 table with row sums R1, R2 and first-column sum C. */
static double log_hyper(int64_t x, int64_t r1, int64_t r2, int64_t c)
{
	double n = (double)(r1 + r2);

	return lgamma((double)r1 + 1) - lgamma((double)x + 1) - lgamma((double)(r1 - x) + 1) +
	       lgamma((double)r2 + 1) - lgamma((double)(c - x) + 1) - lgamma((double)(r2 - c + x) + 1) -
	       (lgamma(n + 1) - lgamma((double)c + 1) - lgamma(n - (double)c + 1));
}

double cd_stats_fisher(int64_t k1, int64_t n1, int64_t k2, int64_t n2)
{
	int64_t c = k1 + k2, lo, hi;
	double obs, sum = 0;

	if (n1 <= 0 || n2 <= 0)
		return 1;
	lo = c - n2 > 0 ? c - n2 : 0;
	hi = c < n1 ? c : n1;
	obs = log_hyper(k1, n1, n2, c);
	/* every table at least as unlikely as the one observed */
	for (int64_t x = lo; x <= hi; x++) {
		double l = log_hyper(x, n1, n2, c);

		if (l <= obs + 1e-7)
			sum += exp(l);
	}
	return sum > 1 ? 1 : sum;
}

double cd_stats_p_value(int64_t k1, int64_t n1, int64_t k2, int64_t n2, const char **method)
{
	double n = (double)(n1 + n2), c = (double)(k1 + k2);
	double small = 5;
	int fisher;

	if (n1 <= 0 || n2 <= 0) {
		if (method)
			*method = "none";
		return 1;
	}
	/* the smallest expected cell decides */
	fisher = c * (double)n1 / n < small || c * (double)n2 / n < small ||
		 (n - c) * (double)n1 / n < small || (n - c) * (double)n2 / n < small;
	if (method)
		*method = fisher ? "fisher" : "z-test";
	return fisher ? cd_stats_fisher(k1, n1, k2, n2) : cd_stats_z_test(k1, n1, k2, n2);
}

double cd_stats_norm_quantile(double p)
{
	double lo = -40, hi = 40;

	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	/* bisection on the CDF, 0.5 * erfc(-x / sqrt 2): 100 halvings reach
	 * double precision, and nothing calls this in a loop */
	for (int i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(-mid / sqrt(2.0)) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double cd_stats_needed_per_arm(double base, double lift, double alpha, double power)
{
	double p2 = base * (1 + lift), pb = (base + p2) / 2;
	double za = cd_stats_norm_quantile(1 - alpha / 2), zb = cd_stats_norm_quantile(power);
	double num = za * sqrt(2 * pb * (1 - pb)) + zb * sqrt(base * (1 - base) + p2 * (1 - p2));

	if (base <= 0 || p2 >= 1 || p2 == base)
		return INFINITY;
	return num * num / ((p2 - base) * (p2 - base));
}
