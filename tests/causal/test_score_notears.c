/* tests/causal/test_score_notears.c: NOTEARS's acyclicity function and solver. */
#include <string.h>
#include "score_suites.h"

/* Closed form on a 2-cycle: W = [[0, a], [b, 0]] gives W o W = [[0, x], [y, 0]] with
 * exp = [[cosh s, x sinh(s)/s], [y sinh(s)/s, cosh s]], s = sqrt(x y) = |a b|, so
 * h = 2 cosh|ab| - 2 and grad_01 = (y sinh(s)/s) 2a, grad_10 = (x sinh(s)/s) 2b.
 * A DAG (b = 0) gives h = 0 exactly (nilpotent W o W: the series ends). */
START_TEST(notears_h_two_cycle) {
  const double a = 0.7, b = -1.3, s = fabs(a * b);
  double W[4] = {0, b, a, 0}, g[4], h;
  ck_assert_int_eq(latens_causal_notears_h(W, 2, &h, g), LATENS_OK);
  ck_assert_double_eq_tol(h, 2 * cosh(s) - 2, 1e-13);
  ck_assert_double_eq_tol(g[2], b * b * sinh(s) / s * 2 * a, 1e-13);
  ck_assert_double_eq_tol(g[1], a * a * sinh(s) / s * 2 * b, 1e-13);
  ck_assert_double_eq(g[0], 0.0);
  W[1] = 0.0;
  ck_assert_int_eq(latens_causal_notears_h(W, 2, &h, g), LATENS_OK);
  ck_assert_double_eq_tol(h, 0.0, 1e-15);
  W[1] = NAN;
  ck_assert_int_eq(latens_causal_notears_h(W, 2, &h, g), LATENS_ENOTFINITE);
}
END_TEST

static int h_fdf(const double *x, size_t n, void *user, double *f, double *grad) {
  (void)user;
  return latens_causal_notears_h(x, (size_t)(sqrt((double)n) + 0.5), f, grad);
}

/* Oracle: central differences (core latens_optim_check_gradient) on a dense random 5 x 5. */
START_TEST(notears_h_gradient_fd) {
  double W[25];
  uint64_t s = 31;
  for (int k = 0; k < 25; k++) W[k] = 0.6 * test_unif(&s);
  double err;
  ck_assert_int_eq(latens_optim_check_gradient(h_fdf, W, 25, NULL, 0, &err), LATENS_OK);
  ck_assert_double_le(err, 1e-7); /* ~1e-8 expected for a correct gradient (optim.h) */
}
END_TEST

/* Oracle: the generating SEM.  A 5-node chain-with-fork (0->1->2, 0->3, 3->4), weights
 * +-(1..1.5), Gaussian equal-variance noise (identifiable for NOTEARS's loss), n = 2000:
 * the thresholded W must have exactly the true support. */
START_TEST(notears_recovers_sem) {
  const size_t p = 5, n = 2000;
  const size_t E[][2] = {{0, 1}, {1, 2}, {0, 3}, {3, 4}};
  const double w[] = {1.2, -1.0, 1.5, 1.1};
  double *X = malloc(n * p * sizeof *X);
  uint64_t s = 4242;
  for (size_t t = 0; t < n; t++) {
    double x[5];
    for (size_t i = 0; i < p; i++) { /* Box-Muller from splitmix */
      double u1 = 0.5 * (test_unif(&s) + 1.0) + 1e-300, u2 = test_unif(&s);
      x[i] = sqrt(-2 * log(u1)) * cos(M_PI * u2);
    }
    for (int e = 0; e < 4; e++) x[E[e][1]] += w[e] * x[E[e][0]];
    for (size_t i = 0; i < p; i++) X[t + i * n] = x[i];
  }
  latens_causal_data *d = sg_data(X, n, p);
  double Wt[25] = {0}, We[25];
  for (int e = 0; e < 4; e++) Wt[E[e][0] + E[e][1] * p] = w[e];
  latens_causal_graph *g = NULL;
  ck_assert_int_eq(latens_causal_notears(d, NULL, NULL, We, &g), LATENS_OK);
  size_t wrong = 0;
  for (int k = 0; k < 25; k++) wrong += (Wt[k] != 0) != (We[k] != 0);
  ck_assert_uint_eq(wrong, 0);
  ck_assert_int_eq(latens_causal_graph_is_dag(g), 1);
  ck_assert_uint_eq(latens_causal_graph_nedges(g), 4);
  latens_causal_graph_free(g);
  /* Without the L1 shrinkage the weights are least squares on the true parents: sampling
   * sd ~ 1/sqrt(n var(parent)) < 0.03 here, so 0.1 is > 3 sd. */
  latens_causal_notears_options o;
  latens_causal_notears_options_default(&o);
  o.lambda1 = 0.0;
  ck_assert_int_eq(latens_causal_notears(d, &o, NULL, We, NULL), LATENS_OK);
  for (int e = 0; e < 4; e++) ck_assert_double_eq_tol(We[E[e][0] + E[e][1] * p], w[e], 0.1);
  latens_causal_data_free(d);
  free(X);
}
END_TEST

Suite *score_notears_suite(void) {
  Suite *s = suite_create("score_notears");
  TCase *tc = tcase_create("notears");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, notears_h_two_cycle);
  tcase_add_test(tc, notears_h_gradient_fd);
  tcase_add_test(tc, notears_recovers_sem);
  suite_add_tcase(s, tc);
  return s;
}
