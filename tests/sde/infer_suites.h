/* tests/sde/infer_suites.h: the suites of the sde inference runner, and a shared test model. */
#ifndef LATENS_TESTS_SDE_INFER_SUITES_H
#define LATENS_TESTS_SDE_INFER_SUITES_H
#include "../testutil.h"
#include <latens/latens.h>
#include <stddef.h>

Suite *sde_kalman_suite(void);
Suite *sde_moments_suite(void);
Suite *sde_pf_suite(void);
Suite *sde_match_suite(void);
Suite *sde_ou_fit_suite(void);
Suite *sde_match_mc_suite(void);
Suite *sde_ssm_suite(void);

/* The reference sheet's 1-D OU case: dz = -1.3 z dt + 0.9 dW, z(0) ~ N(0.3, 0.4), x = z + v,
 * R = 0.05, observations 0.8, -0.2, 0.5, 1.1 at t = 0.3, 0.55, 1.0, 1.4. */
typedef struct {
  double A, Sigma, m0, P0, C, R, t[4], x[4];
  latens_sde_lti M;
  latens_sde_readout ro;
  latens_sde_data y;
} ou4;
void ou4_init(ou4 *o);

/* log N(x; mu, K + R I) and the posterior means/variances of z at the observation times for
 * the 1-D OU of ou4 from its closed-form covariance (dense reference, GSL Cholesky).  xs may
 * contain NaN (dropped).  Any output may be NULL. */
void ou_dense_reference(double theta, double sigma, double mu, double m0, double P0, double R,
                        const double *t, const double *x, size_t T, double *loglik, double *post_m,
                        double *post_v);

/* Exact OU sample path at times t (z(t0 = t[0] - 0 ... ) stationary start), plus N(0, r)
 * noise: x[k]. */
void ou_simulate(double kappa, double mu, double sigma, double r, const double *t, size_t T,
                 uint64_t seed, double *x);
#endif
