/* causal/lingam_kernels.h: the pairwise likelihood-ratio measure's inner loops. */
#ifndef LATENS_CAUSAL_LINGAM_KERNELS_H
#define LATENS_CAUSAL_LINGAM_KERNELS_H
#include <stddef.h>
#include "../core/internal.h"

/* Hyvarinen's maximum-entropy approximation of the differential entropy of a
 * standardised variable from its two moments: m1 = mean log cosh u, m2 = mean u exp(-u^2/2). */
LATENS_INTERNAL double lk_entropy(double m1, double m2);
/* Sums over t of log cosh(x_t) and x_t exp(-x_t^2/2) (x standardised). */
LATENS_INTERNAL void lk_moments1(const double *x, size_t n, double *s1, double *s2);
/* The same four sums for u = (x - r y)/s and v = (y - r x)/s in one pass:
 * out = {sum logcosh u, sum u e^{-u^2/2}, sum logcosh v, sum v e^{-v^2/2}}. */
LATENS_INTERNAL void lk_moments_pair(const double *x, const double *y, size_t n, double r,
                                     double s, double out[4]);
#endif
