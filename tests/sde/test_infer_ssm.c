/* tests/sde/test_infer_ssm.c: latens_sde_ssm — any model behind a readout: the EKF / UKF of
 * a linear model against the exact Kalman filter and the dense closed form, the stationary
 * prior, fits against the OU fit and against each other, the particle fit's re-estimated
 * log-likelihood against the exact one, the model table, argument checks. */
#include "infer_suites.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Built-in OU with the ou4 case's numbers: theta 1.3, mu 0, sigma 0.9 (Sigma = 0.81). */
static latens_sde_model *ou_model(void) {
  const double th[3] = {1.3, 0.0, 0.9};
  return latens_sde_model_builtin("ou", th, 3);
}

/* Oracle: the dense closed form of the OU (ou_dense_reference) for the exact Kalman, EKF and
 * UKF smoothers through the one front end.  Tolerance: Kalman is exact to rounding (1e-10);
 * EKF / UKF solve the moment ODEs at rtol 1e-9 (1e-7 on values of order one). */
START_TEST(test_ssm_ou_all_methods) {
  ou4 o;
  ou4_init(&o);
  latens_sde_model *md = ou_model();
  ck_assert_ptr_nonnull(md);
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, md);
  double C = 1.0;
  s.C = &C, s.r = 0.05, s.t0 = 0.0, s.m0 = &o.m0, s.P0 = &o.P0;
  double ref, rm[4], rv[4];
  ou_dense_reference(1.3, 0.9, 0.0, 0.3, 0.4, 0.05, o.t, o.x, 4, &ref, rm, rv);
  static const double tol[3] = {1e-10, 1e-7, 1e-7};
  for (int m = 0; m < 3; m++) {
    double ll, mean[4], var[4], err = 0;
    ck_assert_int_eq(latens_sde_ssm_filter(&s, m, 1, &o.y, mean, var, &ll), LATENS_OK);
    for (int k = 0; k < 4; k++) err = fmax(err, fmax(fabs(mean[k] - rm[k]), fabs(var[k] - rv[k])));
    ck_assert_double_eq_tol(ll, ref, tol[m]);
    ck_assert_double_le(err, tol[m]);
  }
  latens_sde_model_free(md);
}
END_TEST

/* Oracle: the stationary prior of OU is N(mu, sigma^2 / (2 theta)) in closed form; the
 * filter's log-likelihood with stationary = 1 equals the dense reference with that prior. */
START_TEST(test_ssm_stationary_prior) {
  ou4 o;
  ou4_init(&o);
  const double th[3] = {0.7, 0.4, 1.1};
  latens_sde_model *md = latens_sde_model_builtin("ou", th, 3);
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, md);
  double C = 1.0, ll, ref;
  s.C = &C, s.r = 0.05, s.t0 = 0.0, s.stationary = 1;
  ou_dense_reference(0.7, 1.1, 0.4, 0.4, 1.21 / 1.4, 0.05, o.t, o.x, 4, &ref, NULL, NULL);
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_EKF, 0, &o.y, NULL, NULL, &ll),
                   LATENS_OK);
  ck_assert_double_eq_tol(ll, ref, 1e-7);
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_KALMAN, 0, &o.y, NULL, NULL, &ll),
                   LATENS_OK);
  ck_assert_double_eq_tol(ll, ref, 1e-10);
  latens_sde_model_free(md);
}
END_TEST

/* Oracle: latens_sde_lti_smooth (exact, Van Loan discretisation) for a 2-D linear SDE with
 * a 2 x 2 readout and a missing entry: the EKF and UKF through latens_sde_ssm equal it
 * (both are exact for linear drift with additive noise, up to the ODE tolerance). */
START_TEST(test_ssm_linear_2d) {
  double Ad[4] = {-1.0, 0.4, -0.3, -0.8}, Gd[4] = {0.6, 0.1, 0.0, 0.5};
  latens_mat A = latens_mat_view(Ad, 2, 2, 2), G = latens_mat_view(Gd, 2, 2, 2);
  latens_sde_model *md = latens_sde_model_linear_alloc(&A, NULL, &G);
  ck_assert_ptr_nonnull(md);
  double C[4] = {1.0, 0.3, 0.5, -1.0}, m0[2] = {0.2, -0.1}, P0[4] = {0.5, 0.1, 0.1, 0.3};
  double t[5] = {0.1, 0.4, 0.45, 1.2, 2.0};
  double x[10] = {0.3, 0.1, -0.2, NAN, 0.5, 0.2, 0.0, -0.4, 0.6, 0.3};
  latens_sde_data y = {5, 2, t, x, 2};
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, md);
  s.p = 2, s.C = C, s.r = 0.1, s.t0 = 0.0, s.m0 = m0, s.P0 = P0;
  double Sg[4] = {0.36, 0.06, 0.06, 0.26}, R[4] = {0.1, 0, 0, 0.1}, b[2] = {0, 0};
  latens_sde_lti M = {2, 0.0, Ad, b, Sg, m0, P0};
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 2, C, NULL, R};
  double ref, rm[10], rP[20];
  ck_assert_int_eq(latens_sde_lti_smooth(&M, &ro, &y, rm, rP, &ref), LATENS_OK);
  for (int m = 0; m < 3; m++) {
    double ll, mean[10], var[10], err = 0;
    ck_assert_int_eq(latens_sde_ssm_filter(&s, m, 1, &y, mean, var, &ll), LATENS_OK);
    for (int k = 0; k < 5; k++)
      for (int i = 0; i < 2; i++)
        err = fmax(err, fmax(fabs(mean[i + 2 * k] - rm[i + 2 * k]),
                             fabs(var[i + 2 * k] - rP[4 * k + 3 * i])));
    ck_assert_double_eq_tol(ll, ref, m ? 1e-7 : 1e-12);
    ck_assert_double_le(err, m ? 1e-7 : 1e-12);
  }
  latens_sde_model_free(md);
}
END_TEST

/* Oracle: latens_sde_ou_fit (the library's own OU Kalman MLE on standardised data, with the
 * same stationary prior at the first time): the maximum of the same likelihood reached
 * through the EKF of the built-in OU model — same estimate and standard errors within the
 * optimisers' and the ODE's tolerances (1e-3 relative). */
START_TEST(test_ssm_fit_matches_ou_fit) {
  enum { T = 60 };
  double t[T], x[T];
  for (int k = 0; k < T; k++) t[k] = 0.5 * k + 0.1 * (k % 3);
  ou_simulate(0.8, 1.5, 0.7, 0.05, t, T, 11, x);
  latens_sde_data y = {T, 1, t, x, 1};
  latens_sde_fit_options fo;
  latens_sde_fit_options_default(&fo);
  latens_sde_fit_result ref;
  ck_assert_int_eq(latens_sde_ou_fit(&y, &fo, &ref), LATENS_OK);
  const double th0[3] = {1.0, 1.0, 1.0};
  latens_sde_model *md = latens_sde_model_builtin("ou", th0, 3);
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, md);
  double C = 1.0, se[4];
  s.C = &C, s.r = 0.1, s.t0 = t[0], s.stationary = 1;
  latens_sde_ssm_fit_result r = {0};
  r.se = se;
  const int meth = test_under_valgrind() ? LATENS_SDE_FILTER_KALMAN : LATENS_SDE_FILTER_EKF;
  ck_assert_int_eq(latens_sde_ssm_fit(&s, meth, NULL, NULL, &y, &r), LATENS_OK);
  const double est[4] = {md->theta[0], md->theta[1], md->theta[2], s.r};
  ck_assert_double_eq_tol(r.loglik, ref.loglik, 1e-6 * fabs(ref.loglik));
  double err = 0, serr = 0;
  for (int i = 0; i < 4; i++) {
    err = fmax(err, fabs(est[i] - ref.theta[i]) / fmax(ref.se[i], 1e-3));
    serr = fmax(serr, fabs(se[i] - ref.se[i]) / ref.se[i]);
  }
  ck_assert_double_le(err, 1e-2); /* in units of the standard error */
  ck_assert_double_le(serr, 1e-2);
  latens_sde_model_free(md);
}
END_TEST

/* Oracle: the particle likelihood of a linear-Gaussian model is unbiased for the exact
 * Kalman likelihood: the mean of exp(loglik_pf - loglik_kalman) over 100 seeds is 1 within
 * 3 standard errors of that mean (ou4 case, 200 particles, exact transitions). */
START_TEST(test_ssm_pf_unbiased) {
  if (test_under_valgrind()) return;
  ou4 o;
  ou4_init(&o);
  latens_sde_model *md = ou_model();
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, md);
  double C = 1.0, llk, sum = 0, sum2 = 0;
  s.C = &C, s.r = 0.05, s.t0 = 0.0, s.m0 = &o.m0, s.P0 = &o.P0, s.particles = 200;
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_KALMAN, 0, &o.y, NULL, NULL, &llk),
                   LATENS_OK);
  const int R = 100;
  int bad = 0;
  for (int i = 0; i < R; i++) {
    double ll;
    s.seed = 100 + (uint64_t)i;
    bad += latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_PF, 0, &o.y, NULL, NULL, &ll) != 0;
    double w = exp(ll - llk);
    sum += w, sum2 += w * w;
  }
  ck_assert_int_eq(bad, 0);
  double mean = sum / R, se = sqrt((sum2 / R - mean * mean) / (R - 1));
  ck_assert_double_le(fabs(mean - 1.0), 3 * se + 1e-12);
  latens_sde_model_free(md);
}
END_TEST

/* The particle-likelihood fit of the tests below: OU (kappa 0.8, mu 1.5, sigma 0.7) seen
 * with noise r = 0.1 at T = 40 times 0.5 apart (data stream 11), stationary prior, all four
 * parameters free from (1, 1, 1, r 0.2), 200 particles, fit stream `seed`.  *kalman: the
 * exact log-likelihood at the estimate; *fixed: the particle estimate there on the fit's own
 * stream (what the fit used to report).  ~0.1 s. */
enum { PFIT_T = 40 };
static int pf_fit_ou(uint64_t seed, int threads, latens_sde_ssm_fit_result *r, double *est,
                     double *kalman, double *fixed) {
  double t[PFIT_T], x[PFIT_T], C = 1.0, se[4];
  for (int k = 0; k < PFIT_T; k++) t[k] = 0.5 * k;
  ou_simulate(0.8, 1.5, 0.7, 0.1, t, PFIT_T, 11, x);
  latens_sde_data y = {PFIT_T, 1, t, x, 1};
  const double th0[3] = {1.0, 1.0, 1.0};
  latens_sde_model *md = latens_sde_model_builtin("ou", th0, 3);
  if (!md) return LATENS_ENOMEM;
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, md);
  s.C = &C, s.r = 0.2, s.t0 = t[0], s.stationary = 1, s.particles = 200, s.seed = seed;
  s.solver.threads = threads;
  *r = (latens_sde_ssm_fit_result){0};
  r->se = se;
  int st = latens_sde_ssm_fit(&s, LATENS_SDE_FILTER_PF, NULL, NULL, &y, r);
  r->se = NULL;
  for (int i = 0; i < 3; i++) est[i] = md->theta[i];
  est[3] = s.r;
  if (!st) st = latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_KALMAN, 0, &y, NULL, NULL, kalman);
  if (!st) st = latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_PF, 0, &y, NULL, NULL, fixed);
  latens_sde_model_free(md);
  return st;
}

/* Oracle: the exact Kalman log-likelihood at the fitted parameters (the model is linear-
 * Gaussian).  The reported loglik, re-estimated on 8 streams the fit never used, is within
 * 3 objective_se + 0.1 nats of it.  The 0.1 covers what 3 se does not: se comes from only 8
 * draws (P(|t_7| > 3) = 2%), and the log of a mean likelihood is low by Jensen's ~var/16
 * (0.01 nats here).  Measured with this fit over streams 1000..1399 (pf_fit_ou in a loop):
 * reported - exact had mean -0.005 and sd 0.147 against a mean se of 0.140, and left the
 * bound 0/400 times (2/400 without the 0.1).  The value the fit
 * reported before, the particle estimate on the fit's own stream at its optimum, sat above
 * the exact value in 81% of fits (mean +0.38, sd 0.45) and left the same bound 149/400
 * times: Nelder-Mead stops where that one stream's noise is favourable.  On this stream
 * it would fail too: 0.326 nats above the exact value, against a bound of 0.302. */
START_TEST(test_ssm_pf_fit_loglik_honest) {
  latens_sde_ssm_fit_result r;
  double est[4], llk, llfix;
  ck_assert_int_eq(pf_fit_ou(1000, 0, &r, est, &llk, &llfix), LATENS_OK);
  ck_assert(isfinite(r.objective_se) && r.objective_se > 0);
  ck_assert(r.loglik == r.objective);
  ck_assert_double_le(fabs(r.loglik - llk), 3 * r.objective_se + 0.1);
  ck_assert(est[0] != 1.0 && est[3] != 0.2); /* the fit moved off its start */
}
END_TEST

/* Oracle: the exact Kalman log-likelihood, over 30 fits on streams 1000..1029.  (a) The
 * reported loglik is unbiased for it to within Jensen's 0.01 nats: the mean of
 * (reported - exact) is within 3 of its standard errors + 0.02 of 0.  (b) Why the fit's own
 * value could not be reported: on average it exceeds the re-estimate, by more than 2
 * standard errors of the paired difference (measured on 13 blocks of 30 fits from streams
 * 1000..1389: that difference was 3.4 to 7.7 standard errors, mean 0.39 nats; (a)'s
 * statistic stayed within +-2). */
START_TEST(test_ssm_pf_fit_winners_curse) {
  if (test_under_valgrind()) return;
  enum { NFIT = 30 };
  double sb = 0, sb2 = 0, sd = 0, sd2 = 0;
  int bad = 0;
  for (int i = 0; i < NFIT; i++) {
    latens_sde_ssm_fit_result r;
    double est[4], llk, llfix;
    bad += pf_fit_ou(1000 + (uint64_t)i, 0, &r, est, &llk, &llfix) != LATENS_OK;
    const double b = r.loglik - llk, d = llfix - r.loglik;
    sb += b, sb2 += b * b, sd += d, sd2 += d * d;
  }
  ck_assert_int_eq(bad, 0);
  const double mb = sb / NFIT, seb = sqrt((sb2 - NFIT * mb * mb) / (NFIT - 1) / NFIT);
  const double md = sd / NFIT, sed = sqrt((sd2 - NFIT * md * md) / (NFIT - 1) / NFIT);
  ck_assert_double_le(fabs(mb), 3 * seb + 0.02);
  ck_assert_double_gt(md, 2 * sed);
}
END_TEST

/* Oracle: the same fit with the re-estimating filters on 1, 3 and 8 threads (8 streams keyed
 * by their index, not by the thread): bitwise the same estimate, loglik and objective_se. */
START_TEST(test_ssm_pf_fit_threads) {
  latens_sde_ssm_fit_result r[3];
  double est[3][4], llk[3], llfix[3];
  static const int nth[3] = {1, 3, 8};
  for (int q = 0; q < 3; q++)
    ck_assert_int_eq(pf_fit_ou(1001, nth[q], &r[q], est[q], &llk[q], &llfix[q]), LATENS_OK);
  int diff = 0;
  for (int q = 1; q < 3; q++) {
    diff += r[q].loglik != r[0].loglik || r[q].objective_se != r[0].objective_se;
    diff += r[q].iterations != r[0].iterations || memcmp(est[q], est[0], sizeof est[0]) != 0;
  }
  ck_assert_int_eq(diff, 0);
  ck_assert(isfinite(r[0].loglik) && r[0].objective_se > 0);
}
END_TEST

/* Oracle: the parameter table of latens/sde.h's comment (names, defaults, domains). */
START_TEST(test_model_info) {
  latens_sde_model_info in;
  ck_assert_int_eq(latens_sde_model_info_get("cir", &in), LATENS_OK);
  ck_assert_uint_eq(in.d, 1);
  ck_assert_uint_eq(in.ntheta, 3);
  ck_assert_str_eq(in.theta_name[0], "kappa");
  ck_assert_str_eq(in.theta_name[2], "sigma");
  ck_assert_double_eq(in.theta_default[2], 0.5);
  ck_assert_double_eq(in.theta_lo[2], 0.0);
  ck_assert_int_eq(in.linear, 0);
  ck_assert_int_eq(latens_sde_model_info_get("lotka-volterra", &in), LATENS_OK);
  ck_assert_uint_eq(in.d, 2);
  ck_assert_str_eq(in.theta_name[5], "s2");
  ck_assert_int_eq(latens_sde_model_info_get("ou", &in), LATENS_OK);
  ck_assert_int_eq(in.linear, 1);
  ck_assert_int_eq(latens_sde_model_info_get("nosuch", &in), LATENS_EINVAL);
  ck_assert_int_eq(latens_sde_filter_method_from_name("ukf"), LATENS_SDE_FILTER_UKF);
  ck_assert_str_eq(latens_sde_filter_method_name(LATENS_SDE_FILTER_PF), "pf");
  ck_assert_ptr_null(latens_sde_filter_method_name(9));
}
END_TEST

START_TEST(test_ssm_errors) {
  ou4 o;
  ou4_init(&o);
  latens_sde_model *dw = latens_sde_model_builtin("double-well", NULL, 0);
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, dw);
  double C = 1.0, ll;
  s.C = &C, s.r = 0.05, s.t0 = 0.0, s.m0 = &o.m0, s.P0 = &o.P0;
  /* Kalman needs a linear model; a stationary prior too. */
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_KALMAN, 0, &o.y, NULL, NULL, &ll),
                   LATENS_EUNIMPL);
  ck_assert(isnan(ll));
  s.stationary = 1;
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_EKF, 0, &o.y, NULL, NULL, &ll),
                   LATENS_EUNIMPL);
  s.stationary = 0, s.r = -1;
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_EKF, 0, &o.y, NULL, NULL, &ll),
                   LATENS_EDOM);
  s.r = 0.05, s.p = 2;
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_EKF, 0, &o.y, NULL, NULL, &ll),
                   LATENS_EBADLEN);
  s.p = 1, s.kind = LATENS_SDE_READOUT_POISSON;
  double cnt[4] = {1, 0, 2, 3};
  latens_sde_data yc = {4, 1, o.t, cnt, 1};
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_EKF, 0, &yc, NULL, NULL, &ll),
                   LATENS_EUNIMPL);
  s.particles = 50;
  ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_PF, 0, &yc, NULL, NULL, &ll),
                   LATENS_OK);
  ck_assert(isfinite(ll));
  /* A fit of r under a Poisson readout, and a start outside the domain. */
  latens_sde_ssm_fit_result r = {0};
  int fit[2] = {0, 1};
  ck_assert_int_eq(latens_sde_ssm_fit(&s, LATENS_SDE_FILTER_PF, fit, NULL, &yc, &r), LATENS_EINVAL);
  s.kind = LATENS_SDE_READOUT_GAUSSIAN;
  fit[0] = 0, fit[1] = 0;
  ck_assert_int_eq(latens_sde_ssm_fit(&s, LATENS_SDE_FILTER_EKF, fit, NULL, &o.y, &r),
                   LATENS_EINVAL);
  latens_sde_model_free(dw);
}
END_TEST

/* Oracle: latens_sde_ou_loglik (the exact Kalman filter through Van Loan) for the value, and
 * its central differences (h = 1e-5 relative, truncation ~1e-10) for the analytic gradient;
 * irregular times, a repeated time and missing values. */
START_TEST(test_ou_loglik_grad) {
  enum { T = 40 };
  double t[T], x[T];
  for (int k = 0; k < T; k++) t[k] = 0.3 * k + 0.05 * (k % 3);
  t[9] = t[8]; /* a repeated time */
  ou_simulate(0.6, -0.4, 0.8, 0.1, t, T, 3, x);
  x[5] = x[6] = NAN;
  latens_sde_data y = {T, 1, t, x, 1};
  const double th[4] = {0.7, -0.2, 0.9, 0.15};
  double ll, g[4], ref;
  ck_assert_int_eq(latens_sde_ou_loglik_grad(th, &y, &ll, g), LATENS_OK);
  ck_assert_int_eq(latens_sde_ou_loglik(th, &y, &ref), LATENS_OK);
  ck_assert_double_eq_tol(ll, ref, 1e-10 * fabs(ref));
  double err = 0;
  for (int i = 0; i < 4; i++) {
    double tp[4], tm[4], fp, fm, h = 1e-5 * fabs(th[i]);
    memcpy(tp, th, sizeof tp), memcpy(tm, th, sizeof tm);
    tp[i] += h, tm[i] -= h;
    ck_assert_int_eq(latens_sde_ou_loglik(tp, &y, &fp), LATENS_OK);
    ck_assert_int_eq(latens_sde_ou_loglik(tm, &y, &fm), LATENS_OK);
    err = fmax(err, fabs(g[i] - (fp - fm) / (2 * h)) / fmax(1.0, fabs(g[i])));
  }
  ck_assert_double_le(err, 1e-6);
  double bad[4] = {0.7, 0.0, -1.0, 0.1};
  ck_assert_int_eq(latens_sde_ou_loglik_grad(bad, &y, &ll, g), LATENS_EDOM);
}
END_TEST

Suite *sde_ssm_suite(void) {
  Suite *s = suite_create("sde_ssm");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_ssm_ou_all_methods);
  tcase_add_test(tc, test_ssm_stationary_prior);
  tcase_add_test(tc, test_ssm_linear_2d);
  tcase_add_test(tc, test_ssm_fit_matches_ou_fit);
  tcase_add_test(tc, test_ssm_pf_unbiased);
  tcase_add_test(tc, test_ssm_pf_fit_loglik_honest);
  tcase_add_test(tc, test_ssm_pf_fit_winners_curse);
  tcase_add_test(tc, test_ssm_pf_fit_threads);
  tcase_add_test(tc, test_model_info);
  tcase_add_test(tc, test_ssm_errors);
  tcase_add_test(tc, test_ou_loglik_grad);
  suite_add_tcase(s, tc);
  return s;
}
