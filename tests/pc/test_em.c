/* tests/pc/test_em.c: EM recovers known generating parameters; EM never lowers the training
 * log-likelihood; mini-batch EM, early stopping and the progress callback. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"

/* Mixture of two products of 4 Bernoullis: weights (0.3, 0.7), well separated components. */
static const double W0[2] = {0.3, 0.7};
static const double P0[2][4] = {{0.9, 0.8, 0.2, 0.1}, {0.2, 0.3, 0.85, 0.7}};

static latens_pc *mixture(const double w[2], const double p[2][4]) {
  latens_pc *pc = latens_pc_alloc(4, NULL);
  size_t prod[2];
  for (int c = 0; c < 2; c++) {
    size_t leaves[4];
    for (size_t j = 0; j < 4; j++) latens_pc_add_bernoulli(pc, j, p[c][j], &leaves[j]);
    latens_pc_add_product(pc, leaves, 4, &prod[c]);
  }
  latens_pc_add_sum(pc, prod, w, 2, NULL);
  latens_pc_finalize(pc);
  return pc;
}

/* P(x_j = 1) of component c from the parameter vector (sum weights 0, 1; then leaves). */
static double leaf_p1(const latens_pc *pc, int c, size_t j) {
  return latens_pc_params(pc)[2 + 2 * (4 * (size_t)c + j) + 1];
}

/* Oracle: the generating parameters.  With n = 20000 samples the MLE's sd is at most
 * sqrt(0.25 / (0.3 n)) = 0.0065 per leaf; tolerance 0.04 (6 sd) covers the MLE and EM's
 * stopping error at 1e-4 per-epoch improvement. */
START_TEST(test_em_recovers) {
  latens_pc *gen = mixture(W0, P0);
  size_t n = test_under_valgrind() ? 2000 : 20000;
  latens_mat *X = latens_mat_alloc(n, 4);
  for (size_t k = 0; k < n * 4; k++) X->data[k] = NAN;
  latens_rng rng;
  latens_rng_init(&rng, 7, 0);
  ck_assert_int_eq(latens_pc_sample(gen, X, &rng, NULL), LATENS_OK);
  const double wi[2] = {0.5, 0.5}, pi[2][4] = {{0.6, 0.6, 0.4, 0.4}, {0.4, 0.45, 0.6, 0.55}};
  latens_pc *pc = mixture(wi, pi);
  latens_pc_em_options o;
  latens_pc_em_options_default(&o);
  o.epochs = 200;
  o.pseudocount = 0;
  double hist[200];
  o.train_history = hist;
  latens_pc_em_result res;
  ck_assert_int_eq(latens_pc_em(pc, X, NULL, &o, NULL, NULL, &res), LATENS_OK);
  ck_assert_uint_eq(res.epochs, 200);
  size_t worse = 0; /* EM's monotonicity (full batch, no pseudocount) */
  for (size_t e = 1; e < res.epochs; e++) worse += hist[e] < hist[e - 1] - 1e-12;
  ck_assert_uint_eq(worse, 0);
  if (test_under_valgrind()) goto out;
  double tol = 0.04, err = fabs(latens_pc_params(pc)[0] - W0[0]);
  for (int c = 0; c < 2; c++)
    for (size_t j = 0; j < 4; j++) err = fmax(err, fabs(leaf_p1(pc, c, j) - P0[c][j]));
  ck_assert_msg(err < tol, "max error %g", err);
out:
  latens_mat_free(X), latens_pc_free(gen), latens_pc_free(pc);
}
END_TEST

static int stop_at_3(void *user, const char *what, double done, double total) {
  (void)what, (void)total;
  ++*(int *)user;
  return done >= 3;
}

/* Mini-batch EM with annealing improves validation LL over the initial circuit, keeps the
 * circuit normalised (enumeration oracle), and the progress callback interrupts it. */
START_TEST(test_minibatch) {
  uint64_t seed = 12;
  latens_pc *gen = pcu_hclt_chain(6, 8, &seed);
  size_t n = test_under_valgrind() ? 500 : 4000;
  latens_mat *X = latens_mat_alloc(n, 6), *V = latens_mat_alloc(n / 4, 6);
  for (size_t k = 0; k < n * 6; k++) X->data[k] = NAN;
  for (size_t k = 0; k < n / 4 * 6; k++) V->data[k] = NAN;
  latens_rng rng;
  latens_rng_init(&rng, 3, 0);
  latens_pc_sample(gen, X, &rng, NULL);
  latens_pc_sample(gen, V, &rng, NULL);
  latens_pc *pc = pcu_hclt_chain(6, 8, &seed); /* other random parameters */
  latens_pc_em_options o;
  latens_pc_em_options_default(&o);
  o.epochs = 10;
  o.batch_size = 256;
  latens_pc_em_result res;
  ck_assert_int_eq(latens_pc_em(pc, X, V, &o, &rng, NULL, &res), LATENS_OK);
  ck_assert(res.best_epoch > 0);
  ck_assert_double_eq(res.valid_ll, res.best_valid_ll);
  double *ll = pcu_enumerate(pc), s = 0;
  for (size_t k = 0; k < 64; k++) s += exp(ll[k]);
  ck_assert_double_eq_tol(s, 1.0, 1e-12);
  free(ll);
  int calls = 0;
  latens_progress pr = {stop_at_3, &calls};
  o.batch_size = 0;
  ck_assert_int_eq(latens_pc_em(pc, X, V, &o, NULL, &pr, &res), LATENS_EINTERRUPTED);
  ck_assert_int_eq(calls, 3);
  latens_mat_free(X), latens_mat_free(V), latens_pc_free(gen), latens_pc_free(pc);
}
END_TEST

/* Mixture of two products Gaussian(x0) x categorical(x1, 3 categories). */
static latens_pc *gauss_mix(const double w[2], const double mu[2], const double sd[2],
                            const double cat[2][3]) {
  latens_pc *pc = latens_pc_alloc(2, (size_t[]){0, 3});
  size_t prod[2];
  for (int c = 0; c < 2; c++) {
    size_t l[2];
    latens_pc_add_gaussian(pc, 0, mu[c], sd[c], &l[0]);
    latens_pc_add_categorical(pc, 1, cat[c], &l[1]);
    latens_pc_add_product(pc, l, 2, &prod[c]);
  }
  latens_pc_add_sum(pc, prod, w, 2, NULL);
  latens_pc_finalize(pc);
  return pc;
}

/* Oracles: the closed-form mixture density for the log-likelihood (and the Gaussian mean as
 * the MAP of a missing continuous variable under a one-component circuit); the generating
 * parameters for EM, tolerance 0.05 = ~7 sd of the MLE with n = 20000 (sd of a mean
 * 1/sqrt(0.4 n) = 0.011; of a probability <= 0.006). */
START_TEST(test_gaussian_categorical) {
  const double w[2] = {0.4, 0.6}, mu[2] = {-2.0, 1.5}, sd[2] = {0.7, 1.2};
  const double cat[2][3] = {{0.7, 0.2, 0.1}, {0.1, 0.3, 0.6}};
  latens_pc *gen = gauss_mix(w, mu, sd, cat);
  latens_mat *X = latens_mat_alloc(3, 2);
  latens_vec *ll = latens_vec_alloc(3);
  double xs[3][2] = {{-1.0, 0}, {0.3, 2}, {2.5, NAN}};
  for (int i = 0; i < 3; i++) LATENS_MAT(X, i, 0) = xs[i][0], LATENS_MAT(X, i, 1) = xs[i][1];
  ck_assert_int_eq(latens_pc_loglik(gen, X, ll, NULL), LATENS_OK);
  for (int i = 0; i < 3; i++) {
    double p = 0;
    for (int c = 0; c < 2; c++) {
      double z = (xs[i][0] - mu[c]) / sd[c];
      double pc_ = isnan(xs[i][1]) ? 1.0 : cat[c][(int)xs[i][1]];
      p += w[c] * exp(-0.5 * z * z) / (sd[c] * sqrt(2 * M_PI)) * pc_;
    }
    ck_assert_double_eq_tol(ll->data[i], log(p), 1e-13);
  }
  size_t n = test_under_valgrind() ? 1000 : 20000;
  latens_mat *S = latens_mat_alloc(n, 2);
  for (size_t k = 0; k < 2 * n; k++) S->data[k] = NAN;
  latens_rng rng;
  latens_rng_init(&rng, 11, 0);
  ck_assert_int_eq(latens_pc_sample(gen, S, &rng, NULL), LATENS_OK);
  const double w0[2] = {0.5, 0.5}, mu0[2] = {-1.0, 1.0}, sd0[2] = {1.0, 1.0};
  const double cat0[2][3] = {{0.4, 0.3, 0.3}, {0.3, 0.3, 0.4}};
  latens_pc *pc = gauss_mix(w0, mu0, sd0, cat0);
  latens_pc_em_options o;
  latens_pc_em_options_default(&o);
  o.epochs = 100;
  o.pseudocount = 0;
  ck_assert_int_eq(latens_pc_em(pc, S, NULL, &o, NULL, NULL, NULL), LATENS_OK);
  const double *th = latens_pc_params(pc);
  /* layout: w0 w1 | G(mu, sd) C(3) | G(mu, sd) C(3) */
  double err = fabs(th[0] - w[0]);
  for (int c = 0; c < 2; c++) {
    const double *g = th + 2 + 5 * c;
    err = fmax(err, fmax(fabs(g[0] - mu[c]), fabs(g[1] - sd[c])));
    for (int k = 0; k < 3; k++) err = fmax(err, fabs(g[2 + k] - cat[c][k]));
  }
  if (!test_under_valgrind()) ck_assert_msg(err < 0.05, "max parameter error %g", err);
  latens_mat_free(X), latens_mat_free(S), latens_vec_free(ll);
  latens_pc_free(gen), latens_pc_free(pc);
}
END_TEST

Suite *pc_em_suite(void) {
  Suite *s = suite_create("pc_em");
  TCase *tc = tcase_create("em");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_em_recovers);
  tcase_add_test(tc, test_minibatch);
  tcase_add_test(tc, test_gaussian_categorical);
  suite_add_tcase(s, tc);
  return s;
}
