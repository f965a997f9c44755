/* tests/sde/test_infer_kalman.c: exact Kalman filtering and smoothing of linear SDEs at
 * irregular times, moment ODEs and the EKF, argument checks. */
#include "infer_suites.h"
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double LOG_2PI = 1.8378770664093454836;

void ou4_init(ou4 *o) {
  static const double t[4] = {0.3, 0.55, 1.0, 1.4}, x[4] = {0.8, -0.2, 0.5, 1.1};
  o->A = -1.3, o->Sigma = 0.81, o->m0 = 0.3, o->P0 = 0.4, o->C = 1.0, o->R = 0.05;
  memcpy(o->t, t, sizeof t), memcpy(o->x, x, sizeof x);
  o->M = (latens_sde_lti){1, 0.0, &o->A, NULL, &o->Sigma, &o->m0, &o->P0};
  o->ro = (latens_sde_readout){LATENS_SDE_READOUT_GAUSSIAN, 1, &o->C, NULL, &o->R};
  o->y = (latens_sde_data){4, 1, o->t, o->x, 1};
}

void ou_dense_reference(double theta, double sigma, double mu, double m0, double P0, double R,
                        const double *t, const double *x, size_t T, double *loglik, double *post_m,
                        double *post_v) {
  double *mean = malloc(T * sizeof *mean), *K = malloc(T * T * sizeof *K);
  size_t *O = malloc(T * sizeof *O), q = 0;
  for (size_t i = 0; i < T; i++) {
    mean[i] = mu + (m0 - mu) * exp(-theta * t[i]);
    if (!isnan(x[i])) O[q++] = i;
  }
  for (size_t i = 0; i < T; i++)
    for (size_t j = 0; j < T; j++) {
      double s = fmin(t[i], t[j]), u = fmax(t[i], t[j]);
      double vs =
          P0 * exp(-2 * theta * s) + sigma * sigma / (2 * theta) * (1 - exp(-2 * theta * s));
      K[i + j * T] = vs * exp(-theta * (u - s));
    }
  gsl_matrix *S = gsl_matrix_alloc(q, q);
  gsl_vector *r = gsl_vector_alloc(q), *a = gsl_vector_alloc(q);
  for (size_t i = 0; i < q; i++) {
    gsl_vector_set(r, i, x[O[i]] - mean[O[i]]);
    for (size_t j = 0; j < q; j++) gsl_matrix_set(S, i, j, K[O[i] + O[j] * T] + (i == j ? R : 0));
  }
  gsl_linalg_cholesky_decomp1(S);
  double logdet = 0;
  for (size_t i = 0; i < q; i++) logdet += 2 * log(gsl_matrix_get(S, i, i));
  gsl_linalg_cholesky_solve(S, r, a); /* a = S^{-1} r */
  double quad = 0;
  for (size_t i = 0; i < q; i++) quad += gsl_vector_get(r, i) * gsl_vector_get(a, i);
  if (loglik) *loglik = -0.5 * ((double)q * LOG_2PI + logdet + quad);
  gsl_vector *k = gsl_vector_alloc(q), *sk = gsl_vector_alloc(q);
  for (size_t i = 0; i < T; i++) {
    double m = mean[i], v = K[i + i * T];
    for (size_t j = 0; j < q; j++)
      gsl_vector_set(k, j, K[i + O[j] * T]), m += K[i + O[j] * T] * gsl_vector_get(a, j);
    gsl_linalg_cholesky_solve(S, k, sk);
    for (size_t j = 0; j < q; j++) v -= gsl_vector_get(k, j) * gsl_vector_get(sk, j);
    if (post_m) post_m[i] = m;
    if (post_v) post_v[i] = v;
  }
  gsl_vector_free(k), gsl_vector_free(sk), gsl_vector_free(r), gsl_vector_free(a);
  gsl_matrix_free(S), free(mean), free(K), free(O);
}

void ou_simulate(double kappa, double mu, double sigma, double r, const double *t, size_t T,
                 uint64_t seed, double *x) {
  latens_rng g;
  latens_rng_init(&g, seed, 7);
  double vinf = sigma * sigma / (2 * kappa), z = mu + sqrt(vinf) * latens_rng_normal(&g);
  for (size_t k = 0; k < T; k++) {
    if (k) {
      double e = exp(-kappa * (t[k] - t[k - 1]));
      z = mu + (z - mu) * e + sqrt(vinf * (1 - e * e)) * latens_rng_normal(&g);
    }
    x[k] = z + sqrt(r) * latens_rng_normal(&g);
  }
}

/* Oracle: closed-form OU covariance, dense Gaussian conditioning (ou_dense_reference); and
 * the reference sheet's value -4.66426499754 (computed independently).  Tolerance: both
 * sides are exact up to rounding of O(10) flops per step, 1e-12. */
START_TEST(test_ou_filter_dense) {
  ou4 o;
  ou4_init(&o);
  double ll, ms[4], Ps[4], ref, rm[4], rv[4];
  ck_assert_int_eq(latens_sde_lti_smooth(&o.M, &o.ro, &o.y, ms, Ps, &ll), LATENS_OK);
  ou_dense_reference(1.3, 0.9, 0.0, 0.3, 0.4, 0.05, o.t, o.x, 4, &ref, rm, rv);
  ck_assert_double_eq_tol(ll, ref, 1e-12);
  ck_assert_double_eq_tol(ll, -4.66426499754, 1e-10);
  double err = 0;
  for (int k = 0; k < 4; k++) err = fmax(err, fmax(fabs(ms[k] - rm[k]), fabs(Ps[k] - rv[k])));
  ck_assert_double_le(err, 1e-12);
  double ll2, mf[4];
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, mf, NULL, &ll2), LATENS_OK);
  ck_assert_double_eq_tol(ll2, ll, 1e-14);
  ck_assert_double_eq_tol(mf[3], ms[3], 1e-14); /* last filtered = last smoothed */
}
END_TEST

/* Oracle: dense reference as above, with a mean (b = theta mu), a missing value, a repeated
 * time and irregular spacing over 40 points. */
START_TEST(test_ou_filter_missing) {
  enum { T = 40 };
  double t[T], x[T], th = 0.7, sg = 1.1, mu = 2.0, m0 = -0.5, P0 = 0.3, R = 0.2;
  uint64_t s = 99;
  t[0] = 0.1;
  for (int k = 1; k < T; k++) t[k] = t[k - 1] + (k == 20 ? 0.0 : 0.05 + 0.5 * (test_unif(&s) + 1));
  ou_simulate(th, mu, sg, R, t, T, 5, x);
  x[7] = NAN, x[8] = NAN;
  double A = -th, b = th * mu, Sig = sg * sg, C = 1.0;
  latens_sde_lti M = {1, 0.0, &A, &b, &Sig, &m0, &P0};
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 1, &C, NULL, &R};
  latens_sde_data y = {T, 1, t, x, 1};
  double ll, ms[T], Ps[T], ref, rm[T], rv[T];
  ck_assert_int_eq(latens_sde_lti_smooth(&M, &ro, &y, ms, Ps, &ll), LATENS_OK);
  ou_dense_reference(th, sg, mu, m0, P0, R, t, x, T, &ref, rm, rv);
  ck_assert_double_eq_tol(ll, ref, 1e-10 * fabs(ref));
  double err = 0;
  for (int k = 0; k < T; k++) err = fmax(err, fmax(fabs(ms[k] - rm[k]), fabs(Ps[k] - rv[k])));
  ck_assert_double_le(err, 1e-10); /* dense solve of order 38, condition ~1e3 */
}
END_TEST

/* Oracle: the readout density in closed form (Gaussian with one missing entry; Poisson pmf). */
START_TEST(test_readout_logpdf) {
  double C[4] = {1, 0, 0.5, 2}, d[2] = {0.1, -0.2}, R[4] = {0.5, 0.1, 0.1, 0.4};
  latens_sde_readout g = {LATENS_SDE_READOUT_GAUSSIAN, 2, C, d, R};
  double z[2] = {0.3, -0.4}, x[2] = {NAN, 1.0}, lp;
  ck_assert_int_eq(latens_sde_readout_logpdf(&g, 2, z, x, &lp), LATENS_OK);
  double e = 0 * 0.3 + 2 * -0.4 - 0.2, r = 1.0 - e;
  ck_assert_double_eq_tol(lp, -0.5 * (LOG_2PI + log(0.4) + r * r / 0.4), 1e-14);
  latens_sde_readout p = {LATENS_SDE_READOUT_POISSON, 2, C, d, NULL};
  double xc[2] = {3, 0};
  ck_assert_int_eq(latens_sde_readout_logpdf(&p, 2, z, xc, &lp), LATENS_OK);
  double l1 = exp(1 * 0.3 + 0.5 * -0.4 + 0.1), l2 = exp(0 * 0.3 + 2 * -0.4 - 0.2);
  ck_assert_double_eq_tol(lp, 3 * log(l1) - l1 - log(6.0) - l2, 1e-13);
  xc[0] = 2.5;
  ck_assert_int_eq(latens_sde_readout_logpdf(&p, 2, z, xc, &lp), LATENS_EDOM);
}
END_TEST

/* Bad input: every check names its cause with a status; outputs are not half-written. */
START_TEST(test_bad_input) {
  ou4 o;
  ou4_init(&o);
  double ll = 0;
  ck_assert_int_eq(latens_sde_lti_filter(NULL, &o.ro, &o.y, NULL, NULL, &ll), LATENS_EINVAL);
  ck_assert(isnan(ll));
  o.t[2] = 0.2; /* not monotone */
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_EDOM);
  ou4_init(&o);
  o.x[1] = INFINITY;
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_ENOTFINITE);
  ou4_init(&o);
  o.t[0] = -1.0; /* before t0 */
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_EDOM);
  ou4_init(&o);
  o.A = NAN;
  ck_assert_int_eq(latens_sde_lti_smooth(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_ENOTFINITE);
  ou4_init(&o);
  o.ro.p = 2;
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_EBADLEN);
  ou4_init(&o);
  o.ro.kind = LATENS_SDE_READOUT_POISSON;
  o.x[0] = 1, o.x[1] = 0, o.x[2] = 2, o.x[3] = 4;
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_EUNIMPL);
  ou4_init(&o);
  o.R = -1; /* S = P + R not positive definite somewhere */
  ck_assert_int_ne(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_OK);
  ou4_init(&o);
  o.y.T = 0;
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_EINVAL);
  double th[4] = {1, 0, -1, 1};
  ck_assert_int_eq(latens_sde_ou_loglik(th, &o.y, &ll), LATENS_EDOM);
}
END_TEST

/* Oracle: OU closed form E z(t) = mu + (m0 - mu) e^{-theta t},
 * Var z(t) = P0 e^{-2 theta t} + sigma^2 (1 - e^{-2 theta t}) / (2 theta).  Tolerance: CVODE
 * at rtol 1e-9 (the default here) keeps the global error near 1e-8. */
START_TEST(test_moments_ou) {
  double th[3] = {1.7, 0.4, 0.6}; /* theta, mu, sigma */
  latens_sde_model *model = latens_sde_model_builtin("ou", th, 3);
  ck_assert_ptr_nonnull(model);
  latens_sde_moments *w = latens_sde_moments_alloc(model, LATENS_SDE_MOMENTS_LINEARISED, NULL);
  ck_assert_ptr_nonnull(w);
  double m = -1.0, P = 0.25, t1 = 1.3;
  ck_assert_int_eq(latens_sde_moments_propagate(w, 0.2, t1, &m, &P), LATENS_OK);
  double dt = t1 - 0.2, e = exp(-1.7 * dt);
  ck_assert_double_eq_tol(m, 0.4 + (-1.0 - 0.4) * e, 1e-7);
  ck_assert_double_eq_tol(P, 0.25 * e * e + 0.36 * (1 - e * e) / (2 * 1.7), 1e-7);
  ck_assert_int_eq(latens_sde_moments_propagate(w, 1.0, 0.5, &m, &P), LATENS_EDOM);
  /* Sensitivities, oracle the derivatives of the closed forms in (theta, mu, sigma):
   * dm/dtheta = -dt (m0 - mu) e, dm/dmu = 1 - e, dP/dtheta = -2 dt P0 e^2 + sigma^2
   * (2 dt e^2 theta - (1 - e^2)) / (2 theta^2), dP/dsigma = sigma (1 - e^2) / theta.
   * CVODES' difference quotients at rtol 1e-9: 1e-6 is ample. */
  double S[6] = {0}, ms = -1.0, Pv = 0.25;
  ck_assert_int_eq(latens_sde_moments_propagate_sens(w, 0.2, t1, &ms, &Pv, S, 2), LATENS_OK);
  ck_assert_double_eq_tol(ms, 0.4 + (-1.0 - 0.4) * e, 1e-7);
  ck_assert_double_eq_tol(S[0], -dt * (-1.4) * e, 1e-6);
  ck_assert_double_eq_tol(S[2], 1 - e, 1e-6);
  ck_assert_double_eq_tol(S[4], 0.0, 1e-6);
  ck_assert_double_eq_tol(
      S[1], -2 * dt * 0.25 * e * e + 0.36 * (2 * dt * e * e * 1.7 - (1 - e * e)) / (2 * 1.7 * 1.7),
      1e-6);
  ck_assert_double_eq_tol(S[3], 0.0, 1e-6);
  ck_assert_double_eq_tol(S[5], 0.6 * (1 - e * e) / 1.7, 1e-6);
  ck_assert_double_eq(model->theta[0], 1.7);
  latens_sde_moments_free(w);
  latens_sde_model_free(model);
}
END_TEST

/* Oracle: the exact (Van Loan) Kalman filter on a 2-D linear SDE with additive noise, a 2-D
 * readout with an offset, irregular times and a missing entry: the EKF's moment ODEs are
 * exact for it, so the two agree to the ODE tolerance (rtol 1e-9: 1e-6 relative on the
 * log-likelihood leaves a factor 100 of margin over the measured gap). */
START_TEST(test_ekf_equals_kalman) {
  double Ad[4] = {-0.8, 0.5, -0.3, -0.4}, bd[2] = {0.2, -0.1}, Gd[4] = {0.5, 0.1, 0, 0.4};
  latens_mat Am = latens_mat_view(Ad, 2, 2, 2), Gm = latens_mat_view(Gd, 2, 2, 2);
  latens_vec bv = latens_vec_view(bd, 2, 1);
  latens_sde_model *model = latens_sde_model_linear_alloc(&Am, &bv, &Gm);
  ck_assert_ptr_nonnull(model);
  double A[4], b[2], Sig[4], m0[2] = {0.5, -0.2}, P0[4] = {0.3, 0.05, 0.05, 0.2};
  ck_assert_int_eq(latens_sde_lti_from_model(model, 0.0, A, b, Sig), LATENS_OK);
  ck_assert_double_eq_tol(Sig[0], 0.25, 1e-15);
  latens_sde_lti M = {2, 0.0, A, b, Sig, m0, P0};
  double C[4] = {1, 0.3, 0, 1}, d[2] = {0.1, 0}, R[4] = {0.1, 0.02, 0.02, 0.15};
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 2, C, d, R};
  enum { T = 12 };
  double t[T], x[2 * T];
  uint64_t s = 3;
  for (int k = 0; k < T; k++) {
    t[k] = 0.25 * k + 0.1 * (test_unif(&s) + 1);
    x[2 * k] = test_unif(&s), x[2 * k + 1] = test_unif(&s);
  }
  x[5] = NAN;
  latens_sde_data y = {T, 2, t, x, 2};
  double ll_k, ll_e, mk[2 * T], me[2 * T], Pk[4 * T], Pe[4 * T];
  ck_assert_int_eq(latens_sde_lti_filter(&M, &ro, &y, mk, Pk, &ll_k), LATENS_OK);
  for (int kind = 0; kind < 2; kind++) { /* EKF, then UKF: both closures are exact here */
    latens_sde_moments *w = latens_sde_moments_alloc(model, (latens_sde_moments_kind)kind, NULL);
    ck_assert_int_eq(latens_sde_moments_filter(w, 0.0, m0, P0, &ro, &y, me, Pe, &ll_e), LATENS_OK);
    ck_assert_double_eq_tol(ll_e, ll_k, 1e-6 * fabs(ll_k));
    double err = 0;
    for (int i = 0; i < 2 * T; i++) err = fmax(err, fabs(me[i] - mk[i]));
    for (int i = 0; i < 4 * T; i++) err = fmax(err, fabs(Pe[i] - Pk[i]));
    ck_assert_double_le(err, 1e-6);
    /* and the Gaussian RTS smoother equals the exact one (same tolerances) */
    double ms_k[2 * T], Ps_k[4 * T], ll_s;
    ck_assert_int_eq(latens_sde_lti_smooth(&M, &ro, &y, ms_k, Ps_k, NULL), LATENS_OK);
    ck_assert_int_eq(latens_sde_moments_smooth(w, 0.0, m0, P0, &ro, &y, me, Pe, &ll_s), LATENS_OK);
    ck_assert_double_eq_tol(ll_s, ll_k, 1e-6 * fabs(ll_k));
    err = 0;
    for (int i = 0; i < 2 * T; i++) err = fmax(err, fabs(me[i] - ms_k[i]));
    for (int i = 0; i < 4 * T; i++) err = fmax(err, fabs(Pe[i] - Ps_k[i]));
    ck_assert_double_le(err, 1e-6);
    latens_sde_moments_free(w);
  }
  latens_sde_model_free(model);
}
END_TEST

/* Oracle: geometric Brownian motion dz = mu z dt + s z dW has E z(t) = m0 e^{mu t} and
 * E z(t)^2 = (P0 + m0^2) e^{(2 mu + s^2) t} (Ito).  Its drift is linear and G G^T = s^2 z^2
 * quadratic, so the unscented closure (sigma points integrate cubics exactly) reproduces
 * these moments to the ODE tolerance, while the linearised one drops s^2 P from dP/dt and
 * must miss the variance (by a quarter here). */
START_TEST(test_moments_gbm_unscented) {
  double th[2] = {0.4, 0.6}, t1 = 1.5;
  latens_sde_model *model = latens_sde_model_builtin("gbm", th, 2);
  double m0 = 1.2, P0 = 0.1, e1 = exp(0.4 * t1), e2 = exp((0.8 + 0.36) * t1);
  double mref = m0 * e1, vref = (P0 + m0 * m0) * e2 - mref * mref;
  double m[2] = {m0, m0}, P[2] = {P0, P0};
  for (int kind = 0; kind < 2; kind++) {
    latens_sde_moments *w = latens_sde_moments_alloc(model, (latens_sde_moments_kind)kind, NULL);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(latens_sde_moments_propagate(w, 0.0, t1, &m[kind], &P[kind]), LATENS_OK);
    latens_sde_moments_free(w);
  }
  ck_assert_double_eq_tol(m[1], mref, 1e-7 * mref);
  ck_assert_double_eq_tol(P[1], vref, 1e-7 * vref);
  ck_assert_double_eq_tol(m[0], mref, 1e-7 * mref);
  ck_assert_double_gt(fabs(P[0] - vref), 0.02 * vref);
  ck_assert_ptr_null(latens_sde_moments_alloc(model, (latens_sde_moments_kind)7, NULL));
  latens_sde_model_free(model);
}
END_TEST

Suite *sde_kalman_suite(void) {
  Suite *s = suite_create("sde_kalman");
  TCase *tc = tcase_create("kalman");
  tcase_add_test(tc, test_ou_filter_dense);
  tcase_add_test(tc, test_ou_filter_missing);
  tcase_add_test(tc, test_readout_logpdf);
  tcase_add_test(tc, test_bad_input);
  suite_add_tcase(s, tc);
  return s;
}

Suite *sde_moments_suite(void) {
  Suite *s = suite_create("sde_moments");
  TCase *tc = tcase_create("moments");
  tcase_add_test(tc, test_moments_ou);
  tcase_add_test(tc, test_ekf_equals_kalman);
  tcase_add_test(tc, test_moments_gbm_unscented);
  suite_add_tcase(s, tc);
  return s;
}
