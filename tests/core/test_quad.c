/* tests/core/test_quad.c: quadrature nodes and log-weights.
 *
 * Oracles: closed-form integrals of monomials (exactness up to degree 2n - 1 for the Gauss
 * rules), the closed-form Gauss-Legendre remainder for x^(2n), Gaussian moments
 * E[(x - mu)^k] = sigma^k (k-1)!!, E[exp(x)] = exp(mu + sigma^2/2), the published
 * Gauss-Hermite table (Abramowitz & Stegun, Table 25.10), GSL's own Golub-Welsch weights as a
 * dense reference, measured convergence orders on the smooth integral of e^x over [0, 1], and
 * affine invariance (the rule on [a, b] is the rule on [-1, 1] mapped) next to +-DBL_MAX.
 *
 * Tolerances: a rule sums n terms w_i f(x_i), so its rounding error is bounded by
 * c n eps sum_i |w_i f(x_i)| (the condition of the sum); c = 8 covers the few ulp in each
 * node and weight. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_integration.h>
#include <latens/latens.h>
#include "suites.h"

/* sum_i w_i f(x_i) for f = (x - c)^k, and sum_i |w_i f(x_i)|. */
static double moment(const double *x, const double *logw, size_t n, double c, int k,
                     double *abs_sum) {
  long double s = 0, a = 0;
  for (size_t i = 0; i < n; i++) {
    long double t = expl(logw[i]) * powl(x[i] - c, k);
    s += t, a += fabsl(t);
  }
  *abs_sum = (double)a;
  return (double)s;
}

static double tol_for(size_t n, double abs_sum) { return 8.0 * (n + 1) * DBL_EPSILON * abs_sum; }

START_TEST(gauss_legendre_exactness) {
  /* 1..20 and 32, 64, 100 come from GSL's tables; 21, 33 and 150 are computed and polished. */
  size_t ns[] = {1, 2, 3, 4, 5, 8, 13, 20, 21, 32, 33, 64, 100, 150};
  double a = -0.5, b = 2.0, x[160], lw[160];
  for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
    size_t n = ns[t];
    ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_LEGENDRE, n, a, b, x, lw), LATENS_OK);
    for (size_t i = 1; i < n; i++) ck_assert(x[i] > x[i - 1]);
    ck_assert(x[0] > a && x[n - 1] < b);
    /* Closed form: the integral of x^k over [a, b] is (b^(k+1) - a^(k+1)) / (k+1). */
    for (int k = 0; k <= (int)(2 * n - 1) && k <= 60; k++) {
      double abs_sum, got = moment(x, lw, n, 0.0, k, &abs_sum);
      double ref = (pow(b, k + 1) - pow(a, k + 1)) / (k + 1);
      ck_assert_msg(fabs(got - ref) <= tol_for(n, abs_sum), "n %zu k %d: %.17g vs %.17g", n, k, got,
                    ref);
    }
  }
  /* Degree 2n is not exact, and the remainder is the closed form
   * (b-a)^(2n+1) (n!)^4 / ((2n+1) ((2n)!)^2) for f = x^(2n) (f^(2n) = (2n)!). */
  for (size_t n = 1; n <= 5; n++) {
    ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_LEGENDRE, n, a, b, x, lw), LATENS_OK);
    int k = (int)(2 * n);
    double abs_sum, got = moment(x, lw, n, 0.0, k, &abs_sum);
    double ref = (pow(b, k + 1) - pow(a, k + 1)) / (k + 1);
    double nf = tgamma(n + 1.0), n2f = tgamma(2.0 * n + 1.0);
    double rem = pow(b - a, 2.0 * n + 1) * pow(nf, 4) / ((2.0 * n + 1) * n2f * n2f);
    ck_assert_double_eq_tol(ref - got, rem, 1e-12 * ref + tol_for(n, abs_sum));
  }
}
END_TEST

START_TEST(gauss_hermite_moments) {
  size_t ns[] = {1, 2, 5, 10, 20, 50};
  double mu = 0.3, sigma = 1.7, x[50], lw[50];
  for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
    size_t n = ns[t];
    ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, n, mu, sigma, x, lw), LATENS_OK);
    for (size_t i = 1; i < n; i++) ck_assert(x[i] > x[i - 1]);
    /* Closed form: central moments of N(mu, sigma^2) are 0 (odd k) and sigma^k (k-1)!!. */
    double dfact = 1.0;
    for (int k = 0; k <= (int)(2 * n - 1); k++) {
      if (k >= 2 && k % 2 == 0) dfact *= k - 1;
      double abs_sum, got = moment(x, lw, n, mu, k, &abs_sum);
      double ref = k % 2 ? 0.0 : pow(sigma, k) * dfact;
      ck_assert_msg(fabs(got - ref) <= tol_for(n, abs_sum), "n %zu k %d: %.17g vs %.17g", n, k, got,
                    ref);
    }
  }
  /* Closed form: E[exp(x)] = exp(mu + sigma^2/2).  The rule's error for e^x is
   * sigma^(2n) / (2^n n!) e^(...) ~ 1e-30 at n = 30: only rounding remains. */
  double x30[30], lw30[30];
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 30, 0.3, 0.7, x30, lw30), LATENS_OK);
  double e = 0, abs_sum = 0;
  for (int i = 0; i < 30; i++) e += exp(lw30[i] + x30[i]);
  abs_sum = e;
  ck_assert_double_eq_tol(e, exp(0.3 + 0.245), tol_for(30, abs_sum));
}
END_TEST

START_TEST(gauss_hermite_tables_and_tails) {
  /* Published table (Abramowitz & Stegun 25.10, physicists' form): n = 5 and the largest
   * node of n = 10.  With sigma = 1/sqrt(2) our nodes are the physicists' t_i and sqrt(pi)
   * times our weights are theirs.  The table has 21 digits; 1e-14 relative allows the few ulp
   * lost in the recurrence for p_{n-1}. */
  double x[1000], lw[1000];
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 5, 0.0, M_SQRT1_2, x, lw),
                   LATENS_OK);
  const double t5[] = {0.0, 0.958572464613818507112, 2.020182870456085632929};
  const double w5[] = {0.945308720482941881226, 0.393619323152241159828, 0.019953242059045913208};
  for (int i = 0; i < 3; i++) {
    ck_assert_double_eq_tol(x[2 + i], t5[i], 1e-14);
    ck_assert_double_eq_tol(x[2 - i], -t5[i], 1e-14);
    ck_assert_double_eq_tol(exp(lw[2 + i]) * sqrt(M_PI), w5[i], 1e-14 * w5[i]);
  }
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 10, 0.0, M_SQRT1_2, x, lw),
                   LATENS_OK);
  ck_assert_double_eq_tol(x[9], 3.436159118837737603327, 1e-14);
  ck_assert_double_eq_tol(exp(lw[9]) * sqrt(M_PI), 7.640432855232620629e-6, 1e-14 * 7.64e-6);
  /* Dense reference: GSL's Golub-Welsch weights, which are accurate in absolute terms
   * (to ~eps times the largest weight), for n = 40. */
  gsl_integration_fixed_workspace *w =
      gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, 40, 0.0, 1.0, 0.0, 0.0);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 40, 0.0, M_SQRT1_2, x, lw),
                   LATENS_OK);
  for (int i = 0; i < 40; i++) {
    ck_assert_double_eq_tol(x[i], gsl_integration_fixed_nodes(w)[i], 64 * DBL_EPSILON * 9);
    ck_assert_double_eq_tol(exp(lw[i]) * sqrt(M_PI), gsl_integration_fixed_weights(w)[i],
                            64 * DBL_EPSILON);
  }
  gsl_integration_fixed_free(w);
  /* Tails: at n = 1000 the outer weights are near exp(-1956), far below DBL_MIN, yet the
   * log-weights stay finite and still sum to 1 (oracle: the weights of any Gauss rule for a
   * probability measure sum to 1; tolerance n eps). */
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 1000, 0.0, 1.0, x, lw), LATENS_OK);
  for (int i = 0; i < 1000; i++) ck_assert(isfinite(lw[i]));
  ck_assert(lw[0] < -1900.0 && lw[0] == lw[999]);
  ck_assert_double_eq_tol(latens_logsumexp(lw, 1000, 1), 0.0, 1000 * DBL_EPSILON);
  double abs_sum, m2 = moment(x, lw, 1000, 0.0, 2, &abs_sum);
  ck_assert_double_eq_tol(m2, 1.0, tol_for(1000, abs_sum));
}
END_TEST

START_TEST(newton_cotes_rules) {
  double x[200], lw[200], abs_sum;
  /* Exactness: trapezoid and midpoint integrate linear functions, Simpson cubics. */
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_TRAPEZOID, 7, -1.0, 2.0, x, lw), LATENS_OK);
  ck_assert_double_eq(x[0], -1.0);
  ck_assert_double_eq(x[6], 2.0);
  ck_assert_double_eq_tol(moment(x, lw, 7, 0.0, 1, &abs_sum), 1.5, tol_for(7, abs_sum));
  ck_assert_double_eq_tol(moment(x, lw, 7, 0.0, 0, &abs_sum), 3.0, tol_for(7, abs_sum));
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_MIDPOINT, 6, -1.0, 2.0, x, lw), LATENS_OK);
  ck_assert_double_eq_tol(x[0], -0.75, 4 * DBL_EPSILON);
  ck_assert_double_eq_tol(moment(x, lw, 6, 0.0, 1, &abs_sum), 1.5, tol_for(6, abs_sum));
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_SIMPSON, 5, -1.0, 2.0, x, lw), LATENS_OK);
  ck_assert_double_eq_tol(moment(x, lw, 5, 0.0, 3, &abs_sum), (16.0 - 1.0) / 4,
                          tol_for(5, abs_sum));
  ck_assert_double_eq_tol(moment(x, lw, 5, 0.0, 0, &abs_sum), 3.0, tol_for(5, abs_sum));
  /* Convergence order on the integral of e^x over [0, 1] = e - 1: halving h must divide the
   * error by 2^p with p = 2 (trapezoid, midpoint) or 4 (Simpson).  The sizes keep the errors
   * (>= 1e-9) far above rounding; the measured p is within 0.05 of theory because the
   * next error term is O(h^2) relative to the leading one. */
  struct {
    latens_quad_kind kind;
    size_t n0;
    double p;
  } cases[] = {{LATENS_QUAD_TRAPEZOID, 11, 2.0},
               {LATENS_QUAD_MIDPOINT, 10, 2.0},
               {LATENS_QUAD_SIMPSON, 9, 4.0}};
  for (int c = 0; c < 3; c++) {
    double err[2];
    for (int h = 0; h < 2; h++) {
      /* Halving h: n - 1 intervals double for the closed rules, n cells double for midpoint. */
      size_t n =
          cases[c].kind == LATENS_QUAD_MIDPOINT ? cases[c].n0 << h : ((cases[c].n0 - 1) << h) + 1;
      ck_assert_int_eq(latens_quad_rule(cases[c].kind, n, 0.0, 1.0, x, lw), LATENS_OK);
      double s = 0;
      for (size_t i = 0; i < n; i++) s += exp(lw[i] + x[i]);
      err[h] = fabs(s - (M_E - 1.0));
      ck_assert(err[h] > 1e-11);
    }
    double p = log2(err[0] / err[1]);
    ck_assert_msg(fabs(p - cases[c].p) < 0.05, "%s: order %g", latens_quad_kind_name(cases[c].kind),
                  p);
  }
  /* Weights sum to b - a for every rule (closed form). */
  latens_quad_kind kinds[] = {LATENS_QUAD_GAUSS_LEGENDRE, LATENS_QUAD_TRAPEZOID,
                              LATENS_QUAD_SIMPSON, LATENS_QUAD_MIDPOINT};
  for (int k = 0; k < 4; k++) {
    ck_assert_int_eq(latens_quad_rule(kinds[k], 101, 3.0, 10.0, x, lw), LATENS_OK);
    ck_assert_double_eq_tol(exp(latens_logsumexp(lw, 101, 1)), 7.0, 101 * 8 * DBL_EPSILON * 7.0);
  }
}
END_TEST

/* Oracle: affine invariance.  The rule on [a, b] is the rule on [-1, 1] mapped by
 * x = c + r u, w = r w0, with c = (a + b)/2 and r = (b - a)/2 evaluated here in long double
 * (no overflow there); and the weights sum to b - a (the integral of 1).  Intervals next to
 * +-DBL_MAX, where (a + b)/2 overflows in double, must give finite nodes inside [a, b].
 * Tolerances: a node is c + r u (or a + i h) with a few roundings of size u |c| and u r, so
 * (x - c)/r is off by at most ~(3 |c|/r + 4) u; 4 (|c|/r + 1) eps covers it.  A log-weight is
 * log w0 + log r, a few ulp of its size; the log of the weight sum adds 8 (n + 1) eps (see
 * tol_for). */
START_TEST(intervals_next_to_dbl_max) {
  const latens_quad_kind kinds[] = {LATENS_QUAD_GAUSS_LEGENDRE, LATENS_QUAD_TRAPEZOID,
                                    LATENS_QUAD_SIMPSON, LATENS_QUAD_MIDPOINT};
  const size_t ns[] = {1, 2, 3, 7, 20, 33};
  const double ends[][2] = {{1e308, 1.7e308}, {-1.7e308, -1e308}, {-8e307, 9e307}};
  double x[40], lw[40], u[40], lw0[40];
  for (size_t e = 0; e < 3; e++)
    for (size_t kk = 0; kk < 4; kk++)
      for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
        const latens_quad_kind kind = kinds[kk];
        const double a = ends[e][0], b = ends[e][1];
        size_t n = ns[t];
        if (kind == LATENS_QUAD_TRAPEZOID && n < 2) continue;
        if (kind == LATENS_QUAD_SIMPSON && (n < 3 || n % 2 == 0)) continue;
        ck_assert_int_eq(latens_quad_rule(kind, n, -1.0, 1.0, u, lw0), LATENS_OK);
        ck_assert_int_eq(latens_quad_rule(kind, n, a, b, x, lw), LATENS_OK);
        const long double c = ((long double)a + b) / 2, r = ((long double)b - a) / 2;
        const double tol = 4.0 * (double)(fabsl(c) / r + 1) * DBL_EPSILON;
        for (size_t i = 0; i < n; i++) {
          ck_assert_msg(isfinite(x[i]) && x[i] >= a && x[i] <= b, "%s n %zu: x[%zu] = %g",
                        latens_quad_kind_name(kind), n, i, x[i]);
          if (i) ck_assert(x[i] > x[i - 1]);
          double du = (double)(((long double)x[i] - c) / r) - u[i];
          ck_assert_msg(fabs(du) <= tol, "%s n %zu node %zu: off by %g",
                        latens_quad_kind_name(kind), n, i, du);
          double dl = (double)((long double)lw[i] - logl(r)) - lw0[i];
          ck_assert_msg(fabs(dl) <= 4 * DBL_EPSILON * (fabs(lw[i]) + 1), "%s n %zu logw %zu: %g",
                        latens_quad_kind_name(kind), n, i, dl);
        }
        double lsum = latens_logsumexp(lw, n, 1), lref = (double)logl(2 * r);
        ck_assert_double_eq_tol(lsum, lref,
                                8.0 * (n + 1) * DBL_EPSILON + 4 * DBL_EPSILON * fabs(lref));
      }
}
END_TEST

START_TEST(quad_bad_input) {
  double x[8], lw[8];
  /* Fewer points than the rule needs: LATENS_EINVAL (common.h: sizes). */
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_LEGENDRE, 0, 0, 1, x, lw), LATENS_EINVAL);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 0, 0, 1, x, lw), LATENS_EINVAL);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_MIDPOINT, 0, 0, 1, x, lw), LATENS_EINVAL);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_TRAPEZOID, 1, 0, 1, x, lw), LATENS_EINVAL);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_SIMPSON, 0, 0, 1, x, lw), LATENS_EINVAL);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_SIMPSON, 1, 0, 1, x, lw), LATENS_EINVAL);
  /* Sizes the rule cannot take: LATENS_EDOM. */
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_SIMPSON, 4, 0, 1, x, lw), LATENS_EDOM);
  ck_assert_int_eq(
      latens_quad_rule(LATENS_QUAD_GAUSS_LEGENDRE, LATENS_QUAD_GAUSS_NMAX + 1, 0, 1, x, lw),
      LATENS_EDOM);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_LEGENDRE, 3, 1, 1, x, lw), LATENS_EDOM);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_TRAPEZOID, 3, 2, 1, x, lw), LATENS_EDOM);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_MIDPOINT, 3, NAN, 1, x, lw), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_MIDPOINT, 3, 0, INFINITY, x, lw),
                   LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_LEGENDRE, 3, -INFINITY, 0, x, lw),
                   LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_MIDPOINT, 3, -DBL_MAX, DBL_MAX, x, lw),
                   LATENS_ERANGE);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 3, 0, 0, x, lw), LATENS_EDOM);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 3, 0, -1, x, lw), LATENS_EDOM);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 3, NAN, 1, x, lw),
                   LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 3, 0, INFINITY, x, lw),
                   LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 3, 0, 1.5e308, x, lw),
                   LATENS_ERANGE);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_LEGENDRE, 3, 0, 1, NULL, lw), LATENS_EINVAL);
  ck_assert_int_eq(latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, 3, 0, 1, x, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_quad_rule((latens_quad_kind)42, 3, 0, 1, x, lw), LATENS_EINVAL);
  ck_assert_str_eq(latens_quad_kind_name(42), "unknown");
  ck_assert_str_eq(latens_quad_kind_name(-1), "unknown");
  ck_assert_str_eq(latens_quad_kind_name(LATENS_QUAD_SIMPSON), "simpson");
}
END_TEST

Suite *quad_suite(void) {
  Suite *s = suite_create("quad");
  TCase *tc = tcase_create("quad");
  tcase_add_test(tc, gauss_legendre_exactness);
  tcase_add_test(tc, gauss_hermite_moments);
  tcase_add_test(tc, gauss_hermite_tables_and_tails);
  tcase_add_test(tc, newton_cotes_rules);
  tcase_add_test(tc, intervals_next_to_dbl_max);
  tcase_add_test(tc, quad_bad_input);
  suite_add_tcase(s, tc);
  return s;
}
