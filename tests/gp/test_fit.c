/* tests/gp/test_fit.c: the Whittle likelihood against its definition with an alias sum, and
 * hyperparameter recovery from exact simulations (Whittle and marginal likelihood). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "suites.h"

#define unif test_unif

/* Oracle: the definition −½ Σ_j [log s_j + I_j/s_j] − (n/2) log 2π with the periodogram by a
 * direct O(n²) DFT and s(θ) = Σ_k S((θ + 2πk)/dt)/dt + noise, the alias sum truncated at
 * |k| <= 20000 (Matérn-5/2 and Hida-5/2 tails decay like k^-6: < 1e-20 relative). */
START_TEST(test_whittle_definition) {
  const char *specs[2] = {"matern52", "hida-matern52"};
  uint64_t s = 8;
  enum { N = 64 };
  double y[N];
  for (int i = 0; i < N; i++) y[i] = unif(&s) + sin(0.3 * i);
  for (int w = 0; w < 2; w++) {
    latens_gp_kernel *k = latens_gp_kernel_parse(specs[w]);
    double th[3] = {1.3, 2.5, 0.8};
    latens_gp_kernel_set_params(k, th);
    double dt = 0.7, noise = 0.2, ref = 0;
    for (int j = 0; j < N; j++) {
      double th_j = 2 * M_PI * j / N, re = 0, im = 0, sd = 0;
      for (int t = 0; t < N; t++) re += y[t] * cos(th_j * t), im -= y[t] * sin(th_j * t);
      for (int a = -20000; a <= 20000; a++) {
        double S;
        latens_gp_kernel_spectral_density(k, (th_j + 2 * M_PI * a) / dt, &S);
        sd += S / dt;
      }
      sd += noise;
      ref += log(sd) + (re * re + im * im) / N / sd;
    }
    ref = -0.5 * ref - 0.5 * N * log(2 * M_PI);
    double v;
    ck_assert_int_eq(latens_gp_whittle(k, noise, dt, y, N, &v), LATENS_OK);
    /* the alias sum adds 4e4 terms in double: ~1e-12 relative rounding */
    ck_assert_msg(fabs(v - ref) < 1e-10 * fabs(ref), "%s: whittle %.15g, definition %.15g",
                  specs[w], v, ref);
    latens_gp_kernel_free(k);
  }
  latens_gp_kernel *k = latens_gp_kernel_parse("matern32");
  double v, yb[3] = {1, NAN, 2};
  ck_assert_int_eq(latens_gp_whittle(k, 0.1, 1.0, yb, 3, &v), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_gp_whittle(k, 0.1, 1.0, yb, 1, &v), LATENS_EINVAL);
  ck_assert_int_eq(latens_gp_whittle(k, 0.1, 0.0, yb, 3, &v), LATENS_EDOM);
  latens_gp_kernel_free(k);
}
END_TEST

/* Simulate n points at step dt from kernel (th) with noise, exactly (state-space sampler). */
static void simulate(latens_gp_kernel *k, double noise, size_t n, double dt, uint64_t seed,
                     double *t, double *y) {
  latens_rng r;
  latens_rng_init(&r, seed, 0);
  for (size_t i = 0; i < n; i++) t[i] = dt * (double)i;
  ck_assert_int_eq(latens_gp_sample(k, &r, t, n, y), LATENS_OK);
  for (size_t i = 0; i < n; i++) y[i] += sqrt(noise) * latens_rng_normal(&r);
}

/* Oracle: the known generating parameters.  T = 10^4 points span 2000 lengthscales, so the
 * MLE's relative standard error is a few per cent; 10% is the criterion. */
static void recover(const char *spec, const double *truth, int whittle, size_t lidx,
                    size_t widx) {
  size_t n = test_under_valgrind() ? 400 : 10000;
  double *t = malloc(n * sizeof *t), *y = malloc(n * sizeof *y);
  latens_gp_kernel *k = latens_gp_kernel_parse(spec);
  ck_assert_int_eq(latens_gp_kernel_set_params(k, truth), LATENS_OK);
  simulate(k, 0.1, n, 1.0, 1234 + (uint64_t)whittle, t, y);
  latens_gp_kernel_free(k);
  k = latens_gp_kernel_parse(spec);
  latens_gp_series s = {n, t, y, NULL};
  latens_gp_fit_options o;
  latens_gp_fit_options_default(&o);
  o.whittle = whittle;
  latens_gp_fit_result r;
  ck_assert_int_eq(latens_gp_fit(k, &s, 1, &o, &r), LATENS_OK);
  double th[3];
  latens_gp_kernel_get_params(k, th);
  if (getenv("GP_TEST_VERBOSE"))
    fprintf(stderr, "%s whittle=%d: var %g len %g freq %g noise %g (iter %zu, ll %g)\n", spec,
            whittle, th[0], th[1], widx ? th[2] : 0.0, r.noise, r.iterations, r.loglik);
  if (!test_under_valgrind()) {
    ck_assert_msg(fabs(th[lidx] / truth[lidx] - 1) < 0.1, "%s: lengthscale %g, truth %g", spec,
                  th[lidx], truth[lidx]);
    if (widx)
      ck_assert_msg(fabs(th[widx] / truth[widx] - 1) < 0.1, "%s: frequency %g, truth %g", spec,
                    th[widx], truth[widx]);
  }
  ck_assert(isfinite(r.loglik));
  latens_gp_kernel_free(k);
  free(t), free(y);
}

START_TEST(test_recover_matern_ml) {
  double th[2] = {1.0, 5.0};
  recover("matern32", th, 0, 1, 0);
}
END_TEST

START_TEST(test_recover_matern_whittle) {
  double th[2] = {1.0, 5.0};
  recover("matern32", th, 1, 1, 0);
}
END_TEST

START_TEST(test_recover_hida_ml) {
  double th[3] = {1.0, 20.0, 0.5};
  recover("hida-matern", th, 0, 1, 2);
}
END_TEST

START_TEST(test_recover_hida_whittle) {
  double th[3] = {1.0, 20.0, 0.5};
  recover("hida-matern", th, 1, 1, 2);
}
END_TEST

START_TEST(test_fit_errors) {
  latens_gp_kernel *k = latens_gp_kernel_parse("matern12");
  double t[3] = {0, 1, 3}, y[3] = {1, 2, 3};
  latens_gp_series s = {3, t, y, NULL};
  latens_gp_fit_options o;
  latens_gp_fit_options_default(&o);
  o.whittle = 1;
  latens_gp_fit_result r;
  ck_assert_int_eq(latens_gp_fit(k, &s, 1, &o, &r), LATENS_EDOM); /* irregular grid */
  s.n = 1;
  o.whittle = 0;
  ck_assert_int_eq(latens_gp_fit(k, &s, 1, &o, &r), LATENS_EINVAL); /* too few values */
  latens_gp_kernel_free(k);
}
END_TEST

Suite *gp_fit_suite(void) {
  Suite *s = suite_create("gp_fit");
  TCase *tc = tcase_create("fit");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_whittle_definition);
  tcase_add_test(tc, test_recover_matern_ml);
  tcase_add_test(tc, test_recover_matern_whittle);
  tcase_add_test(tc, test_recover_hida_ml);
  tcase_add_test(tc, test_recover_hida_whittle);
  tcase_add_test(tc, test_fit_errors);
  suite_add_tcase(s, tc);
  return s;
}
