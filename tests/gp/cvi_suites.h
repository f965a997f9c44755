/* tests/gp/cvi_suites.h: the suites of the gp cvi part and the dense references they share. */
#ifndef LATENS_TESTS_GP_CVI_SUITES_H
#define LATENS_TESTS_GP_CVI_SUITES_H
#include <check.h>
#include <stddef.h>
#include <latens/latens.h>
#include "../testutil.h"

Suite *cvi_suite(void);
Suite *gpfa_suite(void);

/* Dense prior covariance K_ij = k(t_i - t_j) of kernel kern (n x n, ld n), malloc'd. */
double *cvi_dense_cov(const latens_gp_kernel *kern, const double *t, size_t n);
/* A one-latent prior of kern on the n times (irregular storage). */
latens_gp_ssm *cvi_prior(const latens_gp_kernel *kern, const double *t, size_t n);
/* Draw of N(0, K) (n x n, full) with the stream r, into f. */
void cvi_draw(const double *K, size_t n, latens_rng *r, double *f);
#endif
