/* tests/pc/test_learn_pic.c: integral circuits: materialisation, its gradient, training. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn_suites.h"

static const long chain5[5] = {-1, 0, 1, 1, 3};

static latens_pc_pic *make_pic_depth(latens_quad_kind rule, uint64_t seed, size_t depth) {
  latens_pc_pic_options o;
  latens_pc_pic_options_default(&o);
  o.rule = rule, o.fourier = 4, o.hidden = 8, o.sigma = 0.5, o.depth = depth;
  latens_rng r;
  latens_rng_init(&r, seed, 0);
  latens_pc_pic *p = latens_pc_pic_alloc(5, chain5, &o, &r);
  /* larger heads than the initialisation, so the kernels are far from constant */
  double *t = latens_pc_pic_params(p);
  for (size_t k = 0; k < latens_pc_pic_nparams(p); k++) t[k] *= 3.0;
  return p;
}

static latens_pc_pic *make_pic(latens_quad_kind rule, uint64_t seed) {
  return make_pic_depth(rule, seed, 1);
}

static latens_mat *data5(size_t N, uint64_t s) {
  latens_mat *X = latens_mat_alloc(N, 5);
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < 5; j++)
      LATENS_MAT(X, i, j) = j && u01(&s) < 0.8 ? LATENS_MAT(X, i, j - 1) : (u01(&s) < 0.4);
  LATENS_MAT(X, 3, 2) = NAN;
  return X;
}

/* Oracle: the definition of a normalised circuit.  Every materialised row (root, each row of
 * each edge table) sums to 1 and each leaf is a probability; brute-force enumeration of the
 * 2^5 states then sums to 1.  1e-13: K-term sums of O(1) numbers. */
START_TEST(test_pic_rows_normalised) {
  latens_quad_kind kinds[4] = {LATENS_QUAD_TRAPEZOID, LATENS_QUAD_GAUSS_LEGENDRE,
                               LATENS_QUAD_SIMPSON, LATENS_QUAD_GAUSS_HERMITE};
  for (int q = 0; q < 4; q++) {
    latens_pc_pic *p = make_pic(kinds[q], 1);
    const size_t K = 9;
    latens_pc_hclt *m = latens_pc_hclt_alloc(5, K, 1, chain5);
    ck_assert_int_eq(latens_pc_pic_materialize(p, K, m), LATENS_OK);
    double worst = 0.0, s = 0.0;
    for (size_t k = 0; k < K; k++) s += m->root[k];
    worst = fabs(s - 1.0);
    for (size_t j = 1; j < 5; j++)
      for (size_t i = 0; i < K; i++) {
        s = 0.0;
        for (size_t k = 0; k < K; k++) s += m->trans[j * K * K + i + k * K];
        worst = fmax(worst, fabs(s - 1.0));
      }
    size_t notprob = 0;
    for (size_t k = 0; k < 5 * K; k++) notprob += !(m->leaf[k] > 0.0 && m->leaf[k] < 1.0);
    ck_assert_uint_eq(notprob, 0);
    double ll[32], tot = 0.0;
    learn_brute_loglik(m, ll);
    for (int x = 0; x < 32; x++) tot += exp(ll[x]);
    ck_assert_double_le(worst, 1e-13);
    ck_assert_double_le(fabs(tot - 1.0), 1e-12);
    latens_pc_hclt_free(m), latens_pc_pic_free(p);
  }
}
END_TEST

/* Oracle: convergence of quadrature for smooth kernels.  The materialised log-likelihood
 * with K points approaches the integral circuit's as K grows; the reference is K = 257, and
 * the error must shrink at least 4-fold from K = 9 to 33 and again from 33 to 129 (trapezoid
 * error O(K^-2) predicts ~13-fold; Gauss-Legendre converges faster). */
START_TEST(test_pic_converges_in_K) {
  latens_quad_kind kinds[2] = {LATENS_QUAD_TRAPEZOID, LATENS_QUAD_GAUSS_LEGENDRE};
  latens_mat *X = data5(200, 3);
  for (int q = 0; q < 2; q++) {
    latens_pc_pic *p = make_pic(kinds[q], 2);
    size_t Ks[4] = {9, 33, 129, 257};
    double ll[4];
    for (int t = 0; t < 4; t++) {
      latens_pc_hclt *m = latens_pc_hclt_alloc(5, Ks[t], 1, chain5);
      ck_assert_int_eq(latens_pc_pic_materialize(p, Ks[t], m), LATENS_OK);
      ck_assert_int_eq(latens_pc_hclt_mean_loglik(m, X, &ll[t]), LATENS_OK);
      latens_pc_hclt_free(m);
    }
    double e0 = fabs(ll[0] - ll[3]), e1 = fabs(ll[1] - ll[3]), e2 = fabs(ll[2] - ll[3]);
    ck_assert_double_le(e1, e0 / 4.0 + 1e-13);
    ck_assert_double_le(e2, e1 / 4.0 + 1e-13);
    latens_pc_pic_free(p);
  }
  latens_mat_free(X);
}
END_TEST

/* Oracle: central finite differences of the materialised log-likelihood L(theta) =
 * sum_i log p_K(x_i; theta) in a sample of parameters from every block (trunk weights and
 * biases, edge heads, leaf heads, root head).  This checks the whole backward chain: the
 * circuit's flows, row normalisation, softplus/sigmoid, heads and the hand-written MLP
 * backward.  Step 1e-5: truncation ~1e-10 relative, rounding ~1e-16 |L| / 1e-5; tolerance
 * 1e-6 relative to max(1, |dL|). */
START_TEST(test_pic_gradient_fd) {
  /* _i = 0: one-layer edge trunk; _i = 1: two layers (depth 2), whose backward chains
   * through the second layer's weights. */
  latens_pc_pic *p = make_pic_depth(LATENS_QUAD_GAUSS_LEGENDRE, 4, 1 + (size_t)_i);
  const size_t K = 7, N = 100, np = latens_pc_pic_nparams(p);
  latens_mat *X = data5(N, 5);
  latens_pc_hclt *m = latens_pc_hclt_alloc(5, K, 1, chain5);
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(m);
  double *g = malloc(np * sizeof *g), *t = latens_pc_pic_params(p), worst = 0.0;
  ck_assert_int_eq(latens_pc_pic_materialize(p, K, m), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_accumulate(m, X, 0, N, c), LATENS_OK);
  ck_assert_int_eq(latens_pc_pic_gradient(p, m, c, g), LATENS_OK);
  int fails = 0;
  for (size_t k = 0; k < np; k += 7) {
    double v = t[k], Lp, Lm, h = 1e-5;
    t[k] = v + h;
    fails += latens_pc_pic_materialize(p, K, m) || latens_pc_hclt_mean_loglik(m, X, &Lp);
    t[k] = v - h;
    fails += latens_pc_pic_materialize(p, K, m) || latens_pc_hclt_mean_loglik(m, X, &Lm);
    t[k] = v;
    double fd = (Lp - Lm) * (double)N / (2 * h);
    worst = fmax(worst, fabs(fd - g[k]) / fmax(1.0, fabs(fd)));
  }
  ck_assert_int_eq(fails, 0);
  ck_assert_double_le(worst, 1e-6);
  free(g), latens_pc_hclt_counts_free(c), latens_pc_hclt_free(m), latens_mat_free(X);
  latens_pc_pic_free(p);
}
END_TEST

/* Oracle: Adam's defining recursion (Kingma & Ba 2015) worked by hand for one coordinate:
 * after the first step from gradient g, mhat = g, vhat = g^2, so x moves by lr g/(|g| + eps). */
START_TEST(test_adam_first_step) {
  latens_pc_adam *a = latens_pc_adam_alloc(2);
  double x[2] = {1.0, -2.0}, g[2] = {0.5, -3.0};
  ck_assert_int_eq(latens_pc_adam_step(a, x, g, 0.1), LATENS_OK);
  ck_assert_double_le(fabs(x[0] - (1.0 + 0.1 * 0.5 / (0.5 + 1e-8))), 1e-15);
  ck_assert_double_le(fabs(x[1] - (-2.0 - 0.1 * 3.0 / (3.0 + 1e-8))), 1e-15);
  g[0] = NAN;
  ck_assert_int_eq(latens_pc_adam_step(a, x, g, 0.1), LATENS_ENOTFINITE);
  latens_pc_adam_free(a);
}
END_TEST

/* Oracle: training is ascent.  A short Adam run on data from a chain raises the validation
 * (here: training) log-likelihood above the initial circuit's. */
START_TEST(test_pic_train_improves) {
  latens_pc_pic *p = make_pic(LATENS_QUAD_TRAPEZOID, 6);
  latens_mat *X = data5(400, 7);
  latens_pc_pic_train_options o;
  latens_pc_pic_train_options_default(&o);
  o.K = 16, o.batch = 100, o.steps = 60, o.validate = 20, o.lr = 0.02;
  latens_pc_hclt *m = latens_pc_hclt_alloc(5, o.K, 1, chain5);
  double ll0, ll1, bv;
  latens_pc_pic_materialize(p, o.K, m), latens_pc_hclt_mean_loglik(m, X, &ll0);
  latens_rng r;
  latens_rng_init(&r, 8, 0);
  ck_assert_int_eq(latens_pc_pic_train(p, X, NULL, &o, &r, NULL, &bv), LATENS_OK);
  latens_pc_pic_materialize(p, o.K, m), latens_pc_hclt_mean_loglik(m, X, &ll1);
  ck_assert_double_gt(ll1, ll0 + 0.05);
  ck_assert_double_eq_tol(ll1, bv, 1e-12);
  latens_pc_hclt_free(m), latens_mat_free(X), latens_pc_pic_free(p);
}
END_TEST

static int stop_now(void *user, const char *what, double done, double total) {
  (void)user, (void)what, (void)done, (void)total;
  return 1;
}

/* Oracle: a run of 20 steps.  The learning rate depends on the step number only, so a
 * 60-step run interrupted at its first validation (step 20) has made exactly the same
 * steps; it returns LATENS_EINTERRUPTED and keeps the best parameters, bit for bit those
 * the 20-step run keeps.  The validation rows alternate (0101.., 1010..) where the training
 * rows mostly repeat their neighbour, so training makes them less likely and the best
 * parameters are the initial ones, not the last: a run keeping the last ones would differ. */
START_TEST(test_pic_train_interrupted_keeps_best) {
  latens_pc_pic *a = make_pic(LATENS_QUAD_TRAPEZOID, 12), *b = make_pic(LATENS_QUAD_TRAPEZOID, 12);
  latens_mat *X = data5(200, 13), *V = latens_mat_alloc(200, 5);
  for (size_t i = 0; i < 200; i++)
    for (size_t j = 0; j < 5; j++) LATENS_MAT(V, i, j) = (double)((i + j) % 2);
  latens_pc_pic_train_options o;
  latens_pc_pic_train_options_default(&o);
  o.K = 8, o.batch = 50, o.steps = 20, o.validate = 20, o.lr = 0.02;
  latens_rng ra, rb;
  latens_rng_init(&ra, 14, 0), latens_rng_init(&rb, 14, 0);
  ck_assert_int_eq(latens_pc_pic_train(a, X, V, &o, &ra, NULL, NULL), LATENS_OK);
  latens_progress stop = {stop_now, NULL};
  o.steps = 60;
  latens_error_quiet_begin();
  int st = latens_pc_pic_train(b, X, V, &o, &rb, &stop, NULL);
  latens_error_quiet_end();
  ck_assert_int_eq(st, LATENS_EINTERRUPTED);
  const size_t np = latens_pc_pic_nparams(a);
  ck_assert_int_eq(memcmp(latens_pc_pic_params(a), latens_pc_pic_params(b), np * sizeof(double)), 0);
  latens_pc_pic *c = make_pic(LATENS_QUAD_TRAPEZOID, 12); /* the initial parameters */
  ck_assert_int_eq(memcmp(latens_pc_pic_params(a), latens_pc_pic_params(c), np * sizeof(double)), 0);
  latens_mat_free(X), latens_mat_free(V);
  latens_pc_pic_free(a), latens_pc_pic_free(b), latens_pc_pic_free(c);
}
END_TEST

/* Oracle: the contracts of latens_pc_pic_alloc and _materialize on malformed input.  Each
 * call is refused with its status and nothing is written: a non-finite Fourier scale, an
 * empty interval, networks whose sizes overflow, and non-finite parameters (writable
 * through latens_pc_pic_params) or finite ones whose sums overflow, which used to give NaN
 * tables and LATENS_OK. */
START_TEST(test_pic_bad_input) {
  latens_pc_pic_options o;
  latens_rng r;
  latens_rng_init(&r, 9, 0);
  latens_error_quiet_begin();
  latens_pc_pic_options_default(&o), o.sigma = INFINITY;
  ck_assert_ptr_null(latens_pc_pic_alloc(5, chain5, &o, &r));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EDOM);
  latens_pc_pic_options_default(&o), o.sigma = NAN;
  ck_assert_ptr_null(latens_pc_pic_alloc(5, chain5, &o, &r));
  latens_pc_pic_options_default(&o), o.a = 1.0, o.b = -1.0;
  ck_assert_ptr_null(latens_pc_pic_alloc(5, chain5, &o, &r));
  latens_pc_pic_options_default(&o), o.hidden = (size_t)1 << 40;
  ck_assert_ptr_null(latens_pc_pic_alloc(5, chain5, &o, &r));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL);
  latens_pc_pic_options_default(&o), o.fourier = SIZE_MAX / 2 + 1;
  ck_assert_ptr_null(latens_pc_pic_alloc(5, chain5, &o, &r));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL);
  latens_pc_pic_options_default(&o), o.depth = 3;
  ck_assert_ptr_null(latens_pc_pic_alloc(5, chain5, &o, &r));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EDOM);

  latens_pc_pic *p = make_pic(LATENS_QUAD_TRAPEZOID, 10);
  latens_pc_hclt *m = latens_pc_hclt_alloc(5, 4, 1, chain5);
  ck_assert_int_eq(latens_pc_pic_materialize(p, 4, m), LATENS_OK);
  double root0 = m->root[0], *t = latens_pc_pic_params(p);
  const size_t np = latens_pc_pic_nparams(p);
  for (size_t k = 0; k < np; k += np / 5) { /* a NaN or Inf in any block */
    double v = t[k];
    t[k] = k % 2 ? INFINITY : NAN;
    ck_assert_int_eq(latens_pc_pic_materialize(p, 4, m), LATENS_ENOTFINITE);
    t[k] = v;
  }
  ck_assert_double_eq(m->root[0], root0); /* refused before writing */
  double *keep = malloc(np * sizeof *keep);
  memcpy(keep, t, np * sizeof *t);
  for (size_t k = 0; k < np; k++) t[k] = 1e308; /* finite, but the heads' sums overflow */
  ck_assert_int_eq(latens_pc_pic_materialize(p, 4, m), LATENS_ENOTFINITE);
  memcpy(t, keep, np * sizeof *t);
  free(keep);
  latens_error_quiet_end();
  latens_pc_hclt_free(m), latens_pc_pic_free(p);
}
END_TEST

Suite *learn_pic_suite(void) {
  Suite *s = suite_create("learn_pic");
  TCase *tc = tcase_create("pic");
  tcase_add_test(tc, test_pic_rows_normalised);
  tcase_add_test(tc, test_pic_converges_in_K);
  tcase_add_loop_test(tc, test_pic_gradient_fd, 0, 2);
  tcase_add_test(tc, test_adam_first_step);
  tcase_add_test(tc, test_pic_train_improves);
  tcase_add_test(tc, test_pic_bad_input);
  tcase_add_test(tc, test_pic_train_interrupted_keeps_best);
  suite_add_tcase(s, tc);
  return s;
}
