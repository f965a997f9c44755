/* tests/sde/test_model.c: model definition, built-ins, Jacobians, the implicit scheme and
 * bad input. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "suites_solve.h"

static latens_sde_options opts(latens_sde_scheme s, double dt) {
  latens_sde_options o;
  latens_sde_options_default(&o);
  o.scheme = s, o.dt = dt;
  return o;
}

START_TEST(test_builtins) {
  const char *const *names = latens_sde_model_builtin_names();
  int n = 0;
  for (; names[n]; n++) {
    latens_sde_model *md = latens_sde_model_builtin(names[n], NULL, 0);
    ck_assert_ptr_nonnull(md);
    ck_assert_int_eq(latens_sde_model_check(md), LATENS_OK);
    ck_assert_str_eq(md->name, names[n]);
    latens_sde_model_free(md);
  }
  ck_assert_int_eq(n, 7);
  latens_sde_model *md = latens_sde_model_builtin("ou", (double[]){1.5, 2, 0.3}, 3);
  ck_assert_int_eq(latens_sde_model_param_index(md, "sigma"), 2);
  ck_assert_double_eq(md->theta[0], 1.5);
  /* Oracle: the OU linear form A = -theta, b = theta mu, G = sigma (closed form) */
  double A, b, G;
  ck_assert_int_eq(md->linear(0, md->theta, md->user, &A, &b, &G), 0);
  ck_assert(A == -1.5 && b == 3 && G == 0.3);
  latens_sde_model_free(md);
  ck_assert_ptr_null(latens_sde_model_builtin("nope", NULL, 0));
  ck_assert_ptr_null(latens_sde_model_builtin("ou", (double[]){1, 2}, 2));
  ck_assert_ptr_null(latens_sde_model_builtin("ou", (double[]){1, 2, -1}, 3)); /* sigma < 0 */
  ck_assert_ptr_null(latens_sde_model_builtin("gbm", (double[]){NAN, 1}, 2));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_ENOTFINITE);
}
END_TEST

START_TEST(test_jacobian_and_matrix) {
  /* Oracle: the Lorenz drift's Jacobian by hand, against the central differences used when a
   * model has no drift_jac (error ~ 1e-12 * |f''| / 1e-6 ... below 1e-6 here). */
  latens_sde_model *md = latens_sde_model_builtin("lorenz", NULL, 0);
  double x[3] = {1.5, -2.0, 20.0}, J[9], s = 10, r = 28, be = 8.0 / 3;
  double Je[9] = {-s, r - x[2], x[1], s, -1, x[0], 0, -x[0], -be};
  ck_assert_int_eq(latens_sde_model_drift_jacobian(md, 0, x, J), LATENS_OK);
  int bad = 0;
  for (int k = 0; k < 9; k++) bad += fabs(J[k] - Je[k]) > 1e-6;
  ck_assert_int_eq(bad, 0);
  /* diagonal noise expanded to d x m: g_i = 0.15 x_i on the diagonal, 0 elsewhere */
  double G[9];
  ck_assert_int_eq(latens_sde_model_diffusion_matrix(md, 0, x, G), LATENS_OK);
  for (int j = 0; j < 3; j++)
    for (int i = 0; i < 3; i++) bad += G[i + 3 * j] != (i == j ? 0.15 * x[i] : 0.0);
  ck_assert_int_eq(bad, 0);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_linear_em) {
  /* Oracle: Euler-Maruyama on dX = (A X + b) dt + G dW written out densely, d = 2, m = 3. */
  double Ad[4] = {-1, 0.5, 0.2, -2}, bd[2] = {0.1, -0.3}, Gd[6] = {0.5, 0, 0.1, 0.4, 0.2, 0.3};
  latens_mat A = latens_mat_view(Ad, 2, 2, 2), G = latens_mat_view(Gd, 2, 3, 2);
  latens_vec b = latens_vec_view(bd, 2, 1);
  latens_sde_model *md = latens_sde_model_linear_alloc(&A, &b, &G);
  ck_assert_ptr_nonnull(md);
  ck_assert_int_eq(md->ntheta, 4 + 2 + 6);
  ck_assert_str_eq(md->theta_name[1], "A21");
  double x0[2] = {1, -1}, dW[3 * 5], x[2] = {1, -1}, h = 0.1;
  latens_rng r;
  latens_rng_init(&r, 3, 0);
  ck_assert_int_eq(latens_sde_brownian_draw(&r, 3, 5, h, dW, NULL, 3), LATENS_OK);
  latens_sde_options o = opts(LATENS_SDE_EM, h);
  latens_mat *X = latens_mat_alloc(2, 6);
  ck_assert_int_eq(latens_sde_solve_increments(md, &o, 0, x0, 5, h, dW, NULL, 3, X, NULL, NULL),
                   LATENS_OK);
  double err = 0;
  for (int n = 0; n < 5; n++) {
    double y[2];
    for (int i = 0; i < 2; i++) {
      y[i] = x[i] + h * (Ad[i] * x[0] + Ad[i + 2] * x[1] + bd[i]);
      for (int k = 0; k < 3; k++) y[i] += Gd[i + 2 * k] * dW[k + 3 * n];
    }
    x[0] = y[0], x[1] = y[1];
    err = fmax(err, fmax(fabs(x[0] - LATENS_MAT(X, 0, n + 1)), fabs(x[1] - LATENS_MAT(X, 1, n + 1))));
  }
  ck_assert(err < 1e-14);
  latens_mat_free(X);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_implicit_stiff) {
  /* Oracle: on dX = -lambda X dt + sigma dW the drift-implicit step is the closed recursion
   * x' = (x + sigma dW) / (1 + lambda h).  lambda h = 50: explicit Euler's factor
   * |1 - lambda h| = 49 overflows in 200 steps (reported as NaN/Inf), the implicit scheme
   * stays bounded. */
  latens_sde_model *md = latens_sde_model_builtin("ou", (double[]){1000, 0, 0.5}, 3);
  double h = 0.05, dW[200], x = 1, xe;
  latens_rng r;
  latens_rng_init(&r, 4, 0);
  ck_assert_int_eq(latens_sde_brownian_draw(&r, 1, 200, h, dW, NULL, 1), LATENS_OK);
  latens_sde_options o = opts(LATENS_SDE_IMPLICIT_EM, h);
  ck_assert_int_eq(latens_sde_solve_increments(md, &o, 0, NULL, 200, h, dW, NULL, 1, NULL, &xe, NULL),
                   LATENS_OK);
  for (int n = 0; n < 200; n++) x = (x + 0.5 * dW[n]) / (1 + 1000 * h);
  ck_assert_double_eq_tol(xe, x, 1e-12);
  md->drift_jac = NULL; /* finite-difference Newton: same answer to Newton's tolerance */
  ck_assert_int_eq(latens_sde_solve_increments(md, &o, 0, NULL, 200, h, dW, NULL, 1, NULL, &xe, NULL),
                   LATENS_OK);
  ck_assert_double_eq_tol(xe, x, 1e-9);
  o.scheme = LATENS_SDE_EM;
  ck_assert_int_eq(latens_sde_solve_increments(md, &o, 0, NULL, 200, h, dW, NULL, 1, NULL, &xe, NULL),
                   LATENS_ENOTFINITE);
  latens_sde_model_free(md);
}
END_TEST

static int failing_drift(double t, const double *x, const double *p, void *u, double *f) {
  (void)x, (void)p, (void)u;
  f[0] = 0;
  return t > 0.5 ? LATENS_EDOM : 0;
}
static int unit_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)x, (void)p, (void)u;
  g[0] = 1;
  return 0;
}

START_TEST(test_bad_input) {
  double t[3] = {0, 0.5, 1}, xN[1] = {NAN};
  ck_assert_ptr_null(latens_sde_model_alloc(0, 1, LATENS_SDE_NOISE_GENERAL, 0));
  ck_assert_ptr_null(latens_sde_model_alloc(2, 2, LATENS_SDE_NOISE_SCALAR, 0));
  ck_assert_ptr_null(latens_sde_model_alloc(2, 0, LATENS_SDE_NOISE_GENERAL, 0));
  latens_sde_model *md = latens_sde_model_alloc(1, 1, LATENS_SDE_NOISE_DIAGONAL, 1);
  latens_mat *X = latens_mat_alloc(1, 3);
  latens_rng r;
  latens_rng_init(&r, 1, 0);
  latens_sde_options o = opts(LATENS_SDE_EM, 0.01);
  /* NULL callbacks */
  ck_assert_int_eq(latens_sde_model_check(md), LATENS_EINVAL);
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EINVAL);
  md->drift = failing_drift, md->diffusion = unit_g;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EDOM);
  /* NaN parameter, NaN x0, domain */
  ck_assert_int_eq(latens_sde_model_set_params(md, xN, 1), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_sde_model_set_param(md, 0, "k", 2, 0, 1), LATENS_OK);
  ck_assert_int_eq(latens_sde_model_check(md), LATENS_EDOM);
  md->theta[0] = NAN;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_ENOTFINITE);
  md->theta[0] = 0.5;
  ck_assert_int_eq(latens_sde_solve(md, &o, xN, t, 3, &r, X, NULL, NULL), LATENS_ENOTFINITE);
  /* dt <= 0, NaN dt, bad grids, NULL rng, wrong X shape */
  o.dt = 0;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EDOM);
  o.dt = -1;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EDOM);
  o.dt = NAN;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EDOM);
  o.dt = 0.01;
  double tb[3] = {0, 0.5, 0.5};
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, tb, 3, &r, X, NULL, NULL), LATENS_EDOM);
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 0, &r, X, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, NULL, X, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 2, &r, X, NULL, NULL), LATENS_EBADLEN);
  ck_assert_int_eq(latens_sde_solve(NULL, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_sde_solve(md, NULL, NULL, t, 3, &r, X, NULL, NULL), LATENS_EINVAL);
  /* scheme / noise mismatches */
  o.scheme = LATENS_SDE_SRA;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EINVAL);
  o.scheme = LATENS_SDE_EM;
  md->calculus = LATENS_SDE_STRATONOVICH; /* EM would solve the Ito reading */
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EINVAL);
  md->calculus = LATENS_SDE_ITO;
  o.scheme = LATENS_SDE_HEUN; /* Heun would solve the Stratonovich reading */
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EINVAL);
  o.scheme = LATENS_SDE_EM, o.adaptive = 1;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EUNIMPL);
  o.scheme = LATENS_SDE_SRI, o.adaptive = 0;
  double dW[4] = {0};
  ck_assert_int_eq(latens_sde_solve_increments(md, &o, 0, NULL, 4, 0.1, dW, NULL, 1, NULL, NULL, NULL),
                   LATENS_EINVAL);
  ck_assert_int_eq(latens_sde_ensemble_summary(md, &o, NULL, t, 3, 0, 1, NULL, 0, NULL, NULL, NULL,
                                               NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_sde_ensemble_summary(md, &o, NULL, t, 3, 4, 1, (double[]){1.5}, 1, NULL,
                                               NULL, X, NULL, NULL), LATENS_EDOM);
  ck_assert_int_eq(latens_sde_brownian_coarsen(1, 5, 0.1, dW, NULL, 1, 2, dW, NULL, 1), LATENS_EBADLEN);
  ck_assert_int_eq(latens_sde_scheme_from_name("sri"), LATENS_SDE_SRI);
  ck_assert_int_eq(latens_sde_scheme_from_name("rk4"), -1);
  /* more fixed steps than a double counts exactly */
  o.scheme = LATENS_SDE_EM, o.dt = 1e-17;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EDOM);
  o.dt = 0.01;
  /* (d nt) rows overflowing size_t must not wrap into a small matrix that passes the check */
  latens_sde_model *big = latens_sde_model_builtin("lorenz", NULL, 0);
  ck_assert_int_eq(latens_sde_ensemble(big, &o, NULL, t, SIZE_MAX / 2, 1, 1, X, NULL, NULL, NULL),
                   LATENS_EINVAL);
  latens_sde_model_free(big);
  /* adaptive: tree positions 2 (id m + q) must fit 64 bits (m <= 2^(63 - max_depth)) */
  latens_sde_model *wide = latens_sde_model_alloc(1, 40000, LATENS_SDE_NOISE_ADDITIVE, 0);
  wide->drift = failing_drift, wide->diffusion = unit_g;
  o.scheme = LATENS_SDE_SRA, o.adaptive = 1, o.max_depth = 48;
  ck_assert_int_eq(latens_sde_solve(wide, &o, NULL, t, 3, &r, X, NULL, NULL), LATENS_EDOM);
  latens_sde_model_free(wide);
  ck_assert_ptr_null(latens_sde_model_plugin(""));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL);
  ck_assert_ptr_null(latens_sde_model_plugin("/nonexistent/model.so"));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EIO);
  latens_mat_free(X);
  latens_sde_model_free(md);
  latens_sde_model_free(NULL);
}
END_TEST

Suite *sde_model_suite(void) {
  Suite *s = suite_create("sde_model");
  TCase *tc = tcase_create("model");
  tcase_add_test(tc, test_builtins);
  tcase_add_test(tc, test_jacobian_and_matrix);
  tcase_add_test(tc, test_linear_em);
  tcase_add_test(tc, test_implicit_stiff);
  tcase_add_test(tc, test_bad_input);
  suite_add_tcase(s, tc);
  return s;
}
