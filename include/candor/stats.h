/*
 * stats.h - the figures an A/B report stands on: Wilson intervals for a
 * rate, a two-sided p-value for two rates (two-proportion z-test, or
 * Fisher's exact test when a cell is small), the sample needed to see a
 * lift, and the inverse of the normal distribution they need.
 */
#ifndef CANDOR_STATS_H
#define CANDOR_STATS_H

#include <stdint.h>

#define CD_Z95 1.959963984540054 /* two-sided 95% */

struct cd_interval {
	double lo, hi;
};

/* Wilson score interval of K successes in N trials at normal quantile Z;
 * {0, 1} when N is 0. */
struct cd_interval cd_stats_wilson(int64_t k, int64_t n, double z);

/* Two-sided p-values that rates K1/N1 and K2/N2 differ. */
double cd_stats_z_test(int64_t k1, int64_t n1, int64_t k2, int64_t n2);
double cd_stats_fisher(int64_t k1, int64_t n1, int64_t k2, int64_t n2);

/* Fisher when an expected cell count is under 5, else the z-test; *METHOD
 * (may be NULL) gets "fisher" or "z-test". 1 when either N is 0. */
double cd_stats_p_value(int64_t k1, int64_t n1, int64_t k2, int64_t n2, const char **method);

/* The standard normal quantile of P (0 < P < 1). */
double cd_stats_norm_quantile(double p);

/* Trials per arm for a two-sided test at ALPHA with POWER to see rate
 * BASE become BASE * (1 + LIFT). */
double cd_stats_needed_per_arm(double base, double lift, double alpha, double power);

#endif
