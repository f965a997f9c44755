/* tests/sde/test_orders.c: strong and weak convergence orders against exact solutions on
 * the same Brownian path (the protocol, after StochasticDiffEq.jl's tests):
 *   GBM du = 1.01 u dt + 0.87 u dW, u0 = 1/2: Ito u = u0 exp(0.63155 t + 0.87 W),
 *     Stratonovich u = u0 exp(1.01 t + 0.87 W)  (closed forms by Ito's formula);
 *   additive du = (b/sqrt(1+t) - u/(2(1+t))) dt + a b/sqrt(1+t) dW, a = 0.1, b = 0.05, u0 = 1:
 *     u = u0/sqrt(1+t) + b (t + a W)/sqrt(1+t).
 * The order is the least-squares slope of log(mean |error at t = 1|) against log dt over
 * dt = 2^-10 .. 2^-2; every level uses the same fine Brownian path, coarsened exactly. */
#include <math.h>
#include <stdlib.h>
#include <latens/latens.h>
#include "suites_solve.h"

enum { JMAX = 10, NFINE = 1 << JMAX };

typedef double exact_fn(double W1);
static double gbm_ito(double W) { return 0.5 * exp(0.63155 + 0.87 * W); }
static double gbm_strat(double W) { return 0.5 * exp(1.01 + 0.87 * W); }
static double additive(double W) { return 1 / sqrt(2.0) + 0.05 * (1 + 0.1 * W) / sqrt(2.0); }

static double slope(const double *x, const double *y, int n) {
  double mx = 0, my = 0, sxy = 0, sxx = 0;
  for (int i = 0; i < n; i++) mx += x[i] / n, my += y[i] / n;
  for (int i = 0; i < n; i++) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  return sxy / sxx;
}

/* Errors at t = 1 per level j (dt = 2^-j, j = jmin..JMAX) over npaths paths: strong (mean
 * |err|) or weak (|mean err|, common random numbers).  Returns the fitted order. */
/* Component `comp` of the state is compared with exact(W_comp(1)) (W_1 for scalar noise);
 * md->m <= 2 Brownian components. */
static double order_comp(latens_sde_model *md, latens_sde_scheme scheme, exact_fn *exact,
                         int npaths, int jmin, int jmax, int weak, uint64_t seed, size_t comp) {
  const size_t nfine = (size_t)1 << jmax, m = md->m, wc = m > 1 ? comp : 0;
  latens_sde_options o;
  latens_sde_options_default(&o);
  o.scheme = scheme;
  double *dW = malloc(4 * NFINE * sizeof *dW), *dZ = dW + 2 * NFINE;
  double *cW = malloc(4 * NFINE * sizeof *cW), *cZ = cW + 2 * NFINE;
  double acc[JMAX + 1] = {0};
  latens_rng r;
  latens_rng_init(&r, seed, 0);
  int bad = 0;
  for (int p = 0; p < npaths; p++) {
    bad += latens_sde_brownian_draw(&r, m, nfine, 1.0 / nfine, dW, dZ, m) != 0;
    double W1 = 0;
    for (size_t i = 0; i < nfine; i++) W1 += dW[wc + i * m];
    double u = exact(W1);
    for (int j = jmin; j <= jmax; j++) {
      size_t k = (size_t)1 << (jmax - j), n = (size_t)1 << j;
      bad += latens_sde_brownian_coarsen(m, nfine, 1.0 / nfine, dW, dZ, m, k, cW, cZ, m) != 0;
      double xe[4];
      bad += latens_sde_solve_increments(md, &o, 0.0, NULL, n, ldexp(1, -j), cW, cZ, m, NULL, xe,
                                         NULL) != 0;
      acc[j] += weak ? xe[comp] - u : fabs(xe[comp] - u);
    }
  }
  ck_assert_int_eq(bad, 0);
  double lx[JMAX + 1], ly[JMAX + 1];
  int n = 0;
  for (int j = jmin; j <= jmax; j++, n++)
    lx[n] = log(ldexp(1, -j)), ly[n] = log(fabs(acc[j] / npaths));
  free(dW), free(cW);
  return slope(lx, ly, n);
}

static double order(latens_sde_model *md, latens_sde_scheme scheme, exact_fn *exact, int npaths,
                    int jmin, int jmax, int weak, uint64_t seed) {
  return order_comp(md, scheme, exact, npaths, jmin, jmax, weak, seed, 0);
}

START_TEST(test_em_strong) {
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  double q = order(md, LATENS_SDE_EM, gbm_ito, 100, 2, JMAX, 0, 11);
  ck_assert_msg(fabs(q - 0.5) < 0.2, "EM strong order %g, expected 0.5 +- 0.2", q);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_milstein_strong) {
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  double q = order(md, LATENS_SDE_MILSTEIN, gbm_ito, 200, 2, JMAX, 0, 12);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "Milstein (analytic g') strong order %g, expected 1 +- 0.2", q);
  md->diffusion_deriv = NULL; /* the derivative-free form must keep the order */
  q = order(md, LATENS_SDE_MILSTEIN, gbm_ito, 200, 2, JMAX, 0, 12);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "Milstein (derivative-free) strong order %g", q);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_sri_strong) {
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  double q = order(md, LATENS_SDE_SRI, gbm_ito, 20, 2, JMAX, 0, 13);
  ck_assert_msg(fabs(q - 1.5) < 0.3, "SRIW1 strong order %g, expected 1.5 +- 0.3", q);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_sra_strong) {
  latens_sde_model *md = latens_sde_model_builtin("additive", NULL, 0);
  double q = order(md, LATENS_SDE_SRA, additive, 20, 2, JMAX, 0, 14);
  ck_assert_msg(q >= 1.5, "SRA1 strong order %g on the additive problem, expected >= 1.5", q);
  /* EM on additive noise is a Milstein scheme: order 1 */
  q = order(md, LATENS_SDE_EM, additive, 50, 2, JMAX, 0, 14);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "EM strong order %g on additive noise, expected 1 +- 0.2", q);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_heun_stratonovich) {
  /* Heun on GBM read in the Stratonovich sense (scalar noise is commutative: order 1) */
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  md->calculus = LATENS_SDE_STRATONOVICH;
  double q = order(md, LATENS_SDE_HEUN, gbm_strat, 100, 2, JMAX, 0, 15);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "Heun strong order %g (Stratonovich GBM), expected 1 +- 0.2", q);
  q = order(md, LATENS_SDE_MILSTEIN, gbm_strat, 100, 2, JMAX, 0, 15);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "Stratonovich Milstein strong order %g", q);
  md->diffusion_deriv = NULL;
  q = order(md, LATENS_SDE_MILSTEIN, gbm_strat, 100, 2, JMAX, 0, 15);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "Stratonovich Milstein (derivative-free) strong order %g", q);
  latens_sde_model_free(md);
}
END_TEST

/* Scalar noise, d = 2: (u, v) both driven by the one W, u the GBM, v a second GBM
 * dv = 0.5 v dt + 0.3 v dW whose values feed back nowhere; u's exact solution tests that the
 * scalar-noise paths of the schemes read W correctly. */
static int pair_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)p, (void)u;
  f[0] = 1.01 * x[0], f[1] = 0.5 * x[1];
  return 0;
}
static int pair_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)p, (void)u;
  g[0] = 0.87 * x[0], g[1] = 0.3 * x[1];
  return 0;
}

START_TEST(test_scalar_noise) {
  latens_sde_model *md = latens_sde_model_alloc(2, 1, LATENS_SDE_NOISE_SCALAR, 0);
  md->drift = pair_f, md->diffusion = pair_g, md->x0[0] = 0.5, md->x0[1] = 1;
  double q = order(md, LATENS_SDE_SRI, gbm_ito, 20, 2, JMAX, 0, 17);
  ck_assert_msg(fabs(q - 1.5) < 0.3, "SRIW1 strong order %g with scalar noise, d = 2", q);
  q = order(md, LATENS_SDE_MILSTEIN, gbm_ito, 200, 2, JMAX, 0, 17);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "Milstein strong order %g with scalar noise, d = 2", q);
  latens_sde_model_free(md);
}
END_TEST

/* Diagonal noise, d = 2: x1 a GBM dx1 = 0.5 x1 dt + 0.3 x1 dW1, x2 the GBM driven by
 * W2.  Comparing x2 with u0 exp(0.63155 + 0.87 W2(1)) (Ito's formula) checks that each
 * component reads its own increment and its own dZ and derivative term. */
static int diag_fg(double t, const double *x, const double *p, void *u, double *f, double *g) {
  (void)t, (void)p, (void)u;
  if (f) f[0] = 0.5 * x[0], f[1] = 1.01 * x[1];
  if (g) g[0] = 0.3 * x[0], g[1] = 0.87 * x[1];
  return 0;
}
static int diag_dg(double t, const double *x, const double *p, void *u, double *dg) {
  (void)t, (void)x, (void)p, (void)u;
  dg[0] = 0.3, dg[1] = 0.87; /* d g_i / d x_i */
  return 0;
}

START_TEST(test_diagonal_noise) {
  latens_sde_model *md = latens_sde_model_alloc(2, 2, LATENS_SDE_NOISE_DIAGONAL, 0);
  md->both = diag_fg, md->diffusion_deriv = diag_dg, md->x0[0] = 1, md->x0[1] = 0.5;
  double q = order_comp(md, LATENS_SDE_SRI, gbm_ito, 20, 2, JMAX, 0, 18, 1);
  ck_assert_msg(fabs(q - 1.5) < 0.3, "SRIW1 strong order %g with diagonal noise, d = 2", q);
  q = order_comp(md, LATENS_SDE_MILSTEIN, gbm_ito, 200, 2, JMAX, 0, 18, 1);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "Milstein strong order %g with diagonal noise, d = 2", q);
  md->diffusion_deriv = NULL;
  q = order_comp(md, LATENS_SDE_MILSTEIN, gbm_ito, 200, 2, JMAX, 0, 18, 1);
  ck_assert_msg(fabs(q - 1.0) < 0.2, "derivative-free Milstein order %g, diagonal noise", q);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_em_weak) {
  /* Weak error |E u_h(1) - E u(1)| estimated as the mean of u_h - u over paths with the
   * exact u on the same path (common random numbers: its standard error is the strong error
   * over sqrt(npaths), ~5e-4 here, against weak errors of 5e-3..8e-2).  Levels 2^-7..2^-3
   * (StochasticDiffEq's weak protocol): finer levels drown in that standard error. */
  if (test_under_valgrind()) return;
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  double q = order(md, LATENS_SDE_EM, gbm_ito, 10000, 3, 7, 1, 16);
  ck_assert_msg(fabs(q - 1.0) < 0.3, "EM weak order %g, expected 1 +- 0.3", q);
  latens_sde_model_free(md);
}
END_TEST

Suite *sde_order_suite(void) {
  Suite *s = suite_create("sde_order");
  TCase *tc = tcase_create("order");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_em_strong);
  tcase_add_test(tc, test_milstein_strong);
  tcase_add_test(tc, test_sri_strong);
  tcase_add_test(tc, test_sra_strong);
  tcase_add_test(tc, test_heun_stratonovich);
  tcase_add_test(tc, test_scalar_noise);
  tcase_add_test(tc, test_diagonal_noise);
  tcase_add_test(tc, test_em_weak);
  suite_add_tcase(s, tc);
  return s;
}
