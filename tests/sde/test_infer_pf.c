/* tests/sde/test_infer_pf.c: bootstrap particle filter, its likelihood estimate, the
 * genealogy smoother and the samplers. */
#include "infer_suites.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Oracle: unbiasedness of the particle likelihood (Del Moral 2004): E[Z_hat] = Z, Z from the
 * exact Kalman filter.  200 independent runs (streams 0..199) with 50 particles on the
 * 4-point OU case; the mean of Z_hat / Z must lie within 3 standard errors of 1 (a fixed
 * seed makes the test deterministic; 3 SE is the criterion). */
START_TEST(test_pf_unbiased) {
  ou4 o;
  ou4_init(&o);
  double ll;
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_OK);
  latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&o.M);
  latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
  latens_sde_pf_options opt;
  latens_sde_pf_options_default(&opt);
  opt.particles = 50;
  enum { RUNS = 200 };
  double s1 = 0, s2 = 0, ess[4], essmin = INFINITY;
  int bad = 0;
  for (int r = 0; r < RUNS; r++) {
    latens_rng rng;
    latens_rng_init(&rng, 2024, (uint64_t)r);
    latens_sde_pf_result res = {.ess = ess};
    bad += latens_sde_pf_run(&pm, &o.ro, &o.y, &opt, &rng, &res) != LATENS_OK;
    double q = exp(res.loglik - ll);
    s1 += q, s2 += q * q;
    for (int k = 0; k < 4; k++) essmin = fmin(essmin, ess[k]);
  }
  ck_assert_int_eq(bad, 0);
  double mean = s1 / RUNS, se = sqrt((s2 / RUNS - mean * mean) / (RUNS - 1));
  ck_assert_double_le(fabs(mean - 1.0), 3 * se);
  ck_assert_double_gt(se, 0.0);
  ck_assert(essmin > 1.0 && essmin <= 50.0);
  latens_sde_lti_sampler_free(smp);
}
END_TEST

/* Oracle: the RTS smoother (exact).  20000 particles on 4 steps: the genealogy keeps
 * thousands of distinct paths, Monte Carlo error of the means ~ 0.2/sqrt(2000) = 0.0045, of
 * the variances ~ 0.04 sqrt(2/2000) = 0.0013; tolerances 0.02 and 0.006 are ~4.5 of them. */
START_TEST(test_pf_smoother) {
  ou4 o;
  ou4_init(&o);
  double ms[4], Ps[4];
  ck_assert_int_eq(latens_sde_lti_smooth(&o.M, &o.ro, &o.y, ms, Ps, NULL), LATENS_OK);
  latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&o.M);
  latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
  latens_sde_pf_options opt;
  latens_sde_pf_options_default(&opt);
  opt.particles = test_under_valgrind() ? 2000 : 20000, opt.smooth = 1;
  double pms[4], pvs[4], pmf[4], pvf[4], mf[4], Pf[4];
  latens_rng rng;
  latens_rng_init(&rng, 11, 0);
  latens_sde_pf_result res = {.ms = pms, .vs = pvs, .mf = pmf, .vf = pvf};
  ck_assert_int_eq(latens_sde_pf_run(&pm, &o.ro, &o.y, &opt, &rng, &res), LATENS_OK);
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, mf, Pf, NULL), LATENS_OK);
  double em = 0, ev = 0, scale = test_under_valgrind() ? 3.2 : 1.0;
  for (int k = 0; k < 4; k++) {
    em = fmax(em, fmax(fabs(pms[k] - ms[k]), fabs(pmf[k] - mf[k])));
    ev = fmax(ev, fmax(fabs(pvs[k] - Ps[k]), fabs(pvf[k] - Pf[k])));
  }
  ck_assert_double_le(em, 0.02 * scale);
  ck_assert_double_le(ev, 0.006 * scale);
  ck_assert_uint_eq(res.resamples, 3);
  /* Same stream, same result: the filter is a function of the stream alone. */
  latens_rng_init(&rng, 11, 0);
  double pms2[4], pvs2[4];
  latens_sde_pf_result r2 = {.ms = pms2, .vs = pvs2};
  ck_assert_int_eq(latens_sde_pf_run(&pm, &o.ro, &o.y, &opt, &rng, &r2), LATENS_OK);
  ck_assert(memcmp(pms, pms2, sizeof pms) == 0 && r2.loglik == res.loglik);
  latens_sde_lti_sampler_free(smp);
}
END_TEST

/* Oracle: with C = 0 the counts do not depend on the state, so every weight is equal and the
 * estimate is exactly sum_k log Poisson(x_k; exp(d)) (closed form), whatever the particles. */
START_TEST(test_pf_poisson) {
  ou4 o;
  ou4_init(&o);
  double C = 0.0, d = log(2.5), x[4] = {1, 4, NAN, 2}, ref = 0;
  for (int k = 0; k < 4; k++)
    if (!isnan(x[k])) ref += latens_rng_poisson_logpmf((uint64_t)x[k], 2.5);
  latens_sde_readout ro = {LATENS_SDE_READOUT_POISSON, 1, &C, &d, NULL};
  latens_sde_data y = {4, 1, o.t, x, 1};
  latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&o.M);
  latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
  latens_rng rng;
  latens_rng_init(&rng, 5, 0);
  latens_sde_pf_result res = {0};
  ck_assert_int_eq(latens_sde_pf_run(&pm, &ro, &y, NULL, &rng, &res), LATENS_OK);
  ck_assert_double_eq_tol(res.loglik, ref, 1e-10);
  x[1] = -1; /* not a count */
  ck_assert_int_eq(latens_sde_pf_run(&pm, &ro, &y, NULL, &rng, &res), LATENS_EDOM);
  latens_sde_pf_options opt;
  latens_sde_pf_options_default(&opt);
  opt.ess_threshold = 2;
  x[1] = 4;
  ck_assert_int_eq(latens_sde_pf_run(&pm, &ro, &y, &opt, &rng, &res), LATENS_EDOM);
  ck_assert_int_eq(latens_sde_pf_run(NULL, &ro, &y, NULL, &rng, &res), LATENS_EINVAL);
  /* A Gaussian observation so far out that every density underflows to zero: a status and
   * NaN likelihood, not a NaN-filled result that looks valid (and no leak: valgrind). */
  o.x[2] = 1e300;
  res.loglik = 0;
  ck_assert_int_eq(latens_sde_pf_run(&pm, &o.ro, &o.y, NULL, &rng, &res), LATENS_ERANGE);
  ck_assert(isnan(res.loglik));
  latens_sde_lti_sampler_free(smp);
}
END_TEST

/* Oracle: the exact Kalman likelihood of the OU model, approached by the particle filter
 * over the sde solvers' Euler-Maruyama paths (the built-in "ou" model, dt = 0.005).  Averaged
 * over 8 runs of 1000 particles: Monte Carlo sd of the mean of log Z_hat ~ 0.01, EM's bias on
 * the OU transition variance O(theta dt) = 0.7% moves log Z by < 0.01; tolerance 0.06. */
START_TEST(test_pf_model_sampler) {
  ou4 o;
  ou4_init(&o);
  double ll;
  ck_assert_int_eq(latens_sde_lti_filter(&o.M, &o.ro, &o.y, NULL, NULL, &ll), LATENS_OK);
  double th[3] = {1.3, 0.0, 0.9};
  latens_sde_model *model = latens_sde_model_builtin("ou", th, 3);
  latens_sde_options so;
  latens_sde_options_default(&so);
  so.dt = 0.005;
  latens_sde_path_sampler *smp = latens_sde_path_sampler_alloc(model, &so, 0.0, &o.m0, &o.P0);
  ck_assert_ptr_nonnull(smp);
  latens_sde_pf_model pm = latens_sde_path_sampler_model(smp);
  latens_sde_pf_options opt;
  latens_sde_pf_options_default(&opt);
  opt.particles = test_under_valgrind() ? 100 : 1000;
  const int runs = test_under_valgrind() ? 1 : 8;
  double mean = 0;
  for (int r = 0; r < runs; r++) {
    latens_rng rng;
    latens_rng_init(&rng, 77, (uint64_t)r);
    latens_sde_pf_result res = {0};
    ck_assert_int_eq(latens_sde_pf_run(&pm, &o.ro, &o.y, &opt, &rng, &res), LATENS_OK);
    mean += res.loglik / runs;
  }
  if (!test_under_valgrind()) ck_assert_double_eq_tol(mean, ll, 0.06);
  latens_sde_path_sampler_free(smp);
  latens_sde_model_free(model);
}
END_TEST

/* Oracle: the RTS smoother again, now by forward filtering backward simulation with the
 * exact transition density: 2000 particles, 1000 trajectories; Monte Carlo error of the
 * means ~ 0.2/sqrt(1000) = 0.006 and of the variances ~ 0.04 sqrt(2/1000) = 0.002 (the
 * trajectories share the filter's particles, so allow 5x): tolerances 0.03 and 0.01.  A
 * repeated observation time exercises the no-transition step. */
START_TEST(test_pf_ffbsi) {
  ou4 o;
  ou4_init(&o);
  double t[5] = {0.3, 0.55, 0.55, 1.0, 1.4}, x[5] = {0.8, -0.2, -0.1, 0.5, 1.1};
  latens_sde_data y = {5, 1, t, x, 1};
  double ms[5], Ps[5];
  ck_assert_int_eq(latens_sde_lti_smooth(&o.M, &o.ro, &y, ms, Ps, NULL), LATENS_OK);
  latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&o.M);
  latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
  latens_sde_pf_options opt;
  latens_sde_pf_options_default(&opt);
  const int vg = test_under_valgrind();
  opt.particles = vg ? 200 : 2000, opt.smooth = 2, opt.backward = vg ? 50 : 1000;
  double pms[5], pvs[5];
  latens_rng rng;
  latens_rng_init(&rng, 12, 0);
  latens_sde_pf_result res = {.ms = pms, .vs = pvs};
  ck_assert_int_eq(latens_sde_pf_run(&pm, &o.ro, &y, &opt, &rng, &res), LATENS_OK);
  double em = 0, ev = 0;
  for (int k = 0; k < 5; k++)
    em = fmax(em, fabs(pms[k] - ms[k])), ev = fmax(ev, fabs(pvs[k] - Ps[k]));
  if (!vg) {
    ck_assert_double_le(em, 0.03);
    ck_assert_double_le(ev, 0.01);
  }
  ck_assert_double_eq(pms[1], pms[2]); /* one instant, one state */
  pm.logtrans = NULL;                  /* FFBSi needs the transition density */
  ck_assert_int_eq(latens_sde_pf_run(&pm, &o.ro, &y, &opt, &rng, &res), LATENS_EINVAL);
  latens_sde_lti_sampler_free(smp);
}
END_TEST

Suite *sde_pf_suite(void) {
  Suite *s = suite_create("sde_pf");
  TCase *tc = tcase_create("pf");
  tcase_add_test(tc, test_pf_unbiased);
  tcase_add_test(tc, test_pf_smoother);
  tcase_add_test(tc, test_pf_ffbsi);
  tcase_add_test(tc, test_pf_poisson);
  tcase_add_test(tc, test_pf_model_sampler);
  suite_add_tcase(s, tc);
  return s;
}
