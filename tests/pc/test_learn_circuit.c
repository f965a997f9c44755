/* tests/pc/test_learn_circuit.c: learned structures as general circuits (latens/pc.h):
 * HCLT conversion, Chow-Liu determinism, RAT-SPN and factorised circuits. */
#include <math.h>
#include <stdlib.h>
#include "learn_suites.h"

static latens_mat *all_states(size_t n) {
  latens_mat *X = latens_mat_alloc((size_t)1 << n, n);
  for (size_t x = 0; x < X->nrow; x++)
    for (size_t j = 0; j < n; j++) LATENS_MAT(X, x, j) = (double)((x >> j) & 1);
  return X;
}

/* Oracle: brute-force enumeration (learn_brute_loglik) of the HCLT the circuit was built
 * from, on all 2^7 states with two NaN patterns marginalised by logaddexp of completions.
 * 1e-12: both sides sum ~3^7 positive terms. */
START_TEST(test_hclt_circuit_equals_enumeration) {
  uint64_t s = 21;
  const size_t n = 7, S = 128;
  latens_pc_hclt *h = learn_random_hclt(n, 3, 2, 1.0, &s);
  latens_pc *pc = NULL;
  ck_assert_int_eq(latens_pc_hclt_to_circuit(h, &pc), LATENS_OK);
  double *ref = malloc(S * sizeof *ref), worst = 0.0;
  learn_brute_loglik(h, ref);
  latens_mat *X = all_states(n);
  latens_vec *ll = latens_vec_alloc(S);
  ck_assert_int_eq(latens_pc_loglik(pc, X, ll, NULL), LATENS_OK);
  for (size_t x = 0; x < S; x++) worst = fmax(worst, fabs(LATENS_VEC(ll, x) - ref[x]));
  for (size_t x = 0; x < S; x++) LATENS_MAT(X, x, 5) = NAN;
  ck_assert_int_eq(latens_pc_loglik(pc, X, ll, NULL), LATENS_OK);
  for (size_t x = 0; x < S; x++)
    worst = fmax(worst, fabs(LATENS_VEC(ll, x) - latens_logaddexp(ref[x & ~(size_t)32], ref[x | 32])));
  ck_assert_double_le(worst, 1e-12);
  latens_pc_free(pc), latens_pc_hclt_free(h), latens_mat_free(X), latens_vec_free(ll), free(ref);
}
END_TEST

/* Oracle: structure.  A Chow-Liu tree's circuit has indicator leaves, so every sum's children
 * disagree on the variable below it: deterministic, and its MAP is exact. */
START_TEST(test_cltree_circuit_deterministic) {
  uint64_t s = 22;
  const size_t n = 6, N = 400;
  latens_pc_hclt *g = learn_random_hclt(n, 2, 1, 1.0, &s);
  latens_mat *X = latens_mat_alloc(N, n);
  learn_sample_hclt(g, N, &s, X, NULL);
  latens_pc_hclt *c = NULL;
  latens_pc *pc = NULL;
  ck_assert_int_eq(latens_pc_cltree_fit(X, 0.1, &c), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_to_circuit(c, &pc), LATENS_OK);
  ck_assert_int_eq(latens_pc_is_deterministic(pc), 1);
  double a, b;
  latens_vec *ll = latens_vec_alloc(N);
  ck_assert_int_eq(latens_pc_loglik(pc, X, ll, NULL), LATENS_OK);
  a = 0.0;
  for (size_t i = 0; i < N; i++) a += LATENS_VEC(ll, i) / (double)N;
  ck_assert_int_eq(latens_pc_hclt_mean_loglik(c, X, &b), LATENS_OK);
  ck_assert_double_le(fabs(a - b), 1e-12);
  latens_pc_free(pc), latens_pc_hclt_free(c), latens_pc_hclt_free(g), latens_mat_free(X);
  latens_vec_free(ll);
}
END_TEST

/* Oracle: brute-force enumeration, sum over all 2^n states of p(x) = 1 for a normalised
 * circuit (finalize also proved smoothness and decomposability). */
static double total_probability(const latens_pc *pc, size_t n) {
  latens_mat *X = all_states(n);
  latens_vec *ll = latens_vec_alloc(X->nrow);
  double tot = latens_pc_loglik(pc, X, ll, NULL) ? NAN : 0.0;
  for (size_t x = 0; x < X->nrow; x++) tot += exp(LATENS_VEC(ll, x));
  latens_mat_free(X), latens_vec_free(ll);
  return tot;
}

START_TEST(test_rat_and_factorized_normalised) {
  latens_rng r;
  latens_rng_init(&r, 4, 0);
  latens_pc *rat = NULL, *fac = NULL;
  ck_assert_int_eq(latens_pc_rat_alloc(9, 2, 3, 3, 2, &r, &rat), LATENS_OK);
  ck_assert_double_le(fabs(total_probability(rat, 9) - 1.0), 1e-12);
  uint64_t s = 23;
  latens_mat *X = latens_mat_alloc(50, 9);
  for (size_t k = 0; k < 450; k++) X->data[k] = u01(&s) < 0.3;
  X->data[7] = NAN;
  ck_assert_int_eq(latens_pc_factorized_fit(X, 1.0, &fac), LATENS_OK);
  ck_assert_double_le(fabs(total_probability(fac, 9) - 1.0), 1e-12);
  /* training through the circuit core's EM keeps it normalised and raises the train LL */
  latens_pc_em_options o;
  latens_pc_em_options_default(&o);
  o.epochs = 5, o.patience = 0;
  latens_pc_em_result res;
  latens_vec *ll = latens_vec_alloc(50);
  double before = 0.0, after = 0.0;
  ck_assert_int_eq(latens_pc_loglik(rat, X, ll, NULL), LATENS_OK);
  for (size_t i = 0; i < 50; i++) before += LATENS_VEC(ll, i) / 50.0;
  ck_assert_int_eq(latens_pc_em(rat, X, NULL, &o, &r, NULL, &res), LATENS_OK);
  ck_assert_int_eq(latens_pc_loglik(rat, X, ll, NULL), LATENS_OK);
  for (size_t i = 0; i < 50; i++) after += LATENS_VEC(ll, i) / 50.0;
  ck_assert_double_gt(after, before); /* EM's monotone ascent (Dempster et al. 1977) */
  ck_assert_double_le(fabs(total_probability(rat, 9) - 1.0), 1e-12);
  latens_pc_free(rat), latens_pc_free(fac), latens_mat_free(X), latens_vec_free(ll);
}
END_TEST

/* Oracle: brute-force enumeration (sum over all states = 1) for region graphs whose leaves
 * hand up I > S units: depth 0 (the root mixes reps * I factorised inputs), one variable,
 * and a depth beyond log2(n) (single-variable leaf regions under inner ones).  These shapes
 * once wrote past the root's children buffer, sized for reps * S.  Sizes whose products
 * overflow are refused, not allocated short. */
START_TEST(test_rat_leaf_shapes) {
  latens_rng r;
  latens_rng_init(&r, 5, 0);
  const size_t shapes[4][5] = {{4, 0, 5, 1, 3}, {1, 2, 3, 1, 4}, {5, 4, 2, 2, 3}, {3, 1, 6, 1, 2}};
  for (int t = 0; t < 4; t++) {
    latens_pc *rat = NULL;
    const size_t *a = shapes[t];
    ck_assert_int_eq(latens_pc_rat_alloc(a[0], a[1], a[2], a[3], a[4], &r, &rat), LATENS_OK);
    ck_assert_double_le(fabs(total_probability(rat, a[0]) - 1.0), 1e-12);
    latens_pc_free(rat);
  }
  latens_pc *big = NULL;
  latens_error_quiet_begin();
  int st = latens_pc_rat_alloc(4, 1, 2, (size_t)1 << 33, 2, &r, &big);
  latens_error_quiet_end();
  ck_assert_int_eq(st, LATENS_EINVAL);
  ck_assert_ptr_null(big);
}
END_TEST

/* Oracle: brute force.  The Chow-Liu circuit is deterministic, so its MAP completion is the
 * most probable completion: over all 2^3 completions of the hidden variables (evaluated by
 * loglik), the MAP one has the largest log p(x) and equals the max-product value logp. */
START_TEST(test_cltree_map_is_exact) {
  uint64_t s = 24;
  const size_t n = 6, N = 300, R = 20;
  latens_pc_hclt *g = learn_random_hclt(n, 2, 1, 1.0, &s);
  latens_mat *X = latens_mat_alloc(N, n), *Q = latens_mat_alloc(R, n), *C = latens_mat_alloc(8, n);
  learn_sample_hclt(g, N, &s, X, NULL);
  latens_pc_hclt *c = NULL;
  latens_pc *pc = NULL;
  ck_assert_int_eq(latens_pc_cltree_fit(X, 0.1, &c), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_to_circuit(c, &pc), LATENS_OK);
  for (size_t i = 0; i < R; i++) /* hide variables 1, 3, 4 of the first R rows */
    for (size_t j = 0; j < n; j++)
      LATENS_MAT(Q, i, j) = j == 1 || j == 3 || j == 4 ? NAN : LATENS_MAT(X, i, j);
  latens_vec *lp = latens_vec_alloc(R), *lc = latens_vec_alloc(8), *lq = latens_vec_alloc(1);
  ck_assert_int_eq(latens_pc_map(pc, Q, lp, NULL), LATENS_OK);
  double worst = 0.0;
  size_t wrong = 0;
  for (size_t i = 0; i < R; i++) {
    for (size_t x = 0; x < 8; x++)
      for (size_t j = 0; j < n; j++) {
        size_t bit = j == 1 ? 0 : j == 3 ? 1 : j == 4 ? 2 : 3;
        LATENS_MAT(C, x, j) = bit < 3 ? (double)((x >> bit) & 1) : LATENS_MAT(X, i, j);
      }
    ck_assert_int_eq(latens_pc_loglik(pc, C, lc, NULL), LATENS_OK);
    double best = -INFINITY;
    for (size_t x = 0; x < 8; x++) best = fmax(best, LATENS_VEC(lc, x));
    latens_mat row = latens_mat_submatrix(Q, i, 0, 1, n);
    ck_assert_int_eq(latens_pc_loglik(pc, &row, lq, NULL), LATENS_OK);
    worst = fmax(worst, fmax(fabs(LATENS_VEC(lq, 0) - best), fabs(LATENS_VEC(lp, i) - best)));
    for (size_t j = 0; j < n; j++) wrong += !(j == 1 || j == 3 || j == 4) && LATENS_MAT(Q, i, j) != LATENS_MAT(X, i, j);
  }
  ck_assert_uint_eq(wrong, 0); /* evidence kept */
  ck_assert_double_le(worst, 1e-12);
  latens_vec_free(lp), latens_vec_free(lc), latens_vec_free(lq);
  latens_mat_free(X), latens_mat_free(Q), latens_mat_free(C);
  latens_pc_free(pc), latens_pc_hclt_free(c), latens_pc_hclt_free(g);
}
END_TEST

/* Oracle: the circuit builder's contract on tables a caller wrote (the struct's fields are
 * writable): a NaN leaf or transition weight is refused with LATENS_ENOTFINITE (the
 * finiteness contract of latens/pc_learn.h, checked before anything is built) and no circuit,
 * wherever it sits in the build order; valgrind sees no leak. */
START_TEST(test_to_circuit_bad_tables) {
  uint64_t s = 25;
  latens_pc_hclt *h = learn_random_hclt(5, 3, 2, 1.0, &s);
  double *cells[3] = {&h->leaf[0], &h->leaf[(h->M * h->n - 1) * h->K + 2], NULL};
  for (size_t j = 0; j < h->n && !cells[2]; j++) /* a transition row of a non-root node */
    if (h->parent[j] >= 0) cells[2] = &h->trans[j * h->K * h->K + 1];
  for (int c = 0; c < 3; c++) {
    double v = *cells[c];
    latens_pc *pc = NULL;
    *cells[c] = NAN;
    latens_error_quiet_begin();
    int st = latens_pc_hclt_to_circuit(h, &pc);
    latens_error_quiet_end();
    ck_assert_int_eq(st, LATENS_ENOTFINITE);
    ck_assert_ptr_null(pc);
    *cells[c] = v;
  }
  latens_pc_hclt_free(h);
}
END_TEST

/* Oracle: the documented contract (latens/pc_learn.h): the circuit builder and LVD now take
 * categorical HCLTs (their numerical oracles are in test_learn_cat_circuit.c); on an all-zero
 * X and Z they succeed and the circuit has the model's category counts. */
START_TEST(test_categorical_accepted) {
  const size_t ncat[3] = {3, 2, 4};
  latens_pc_hclt *h = latens_pc_hclt_alloc_cat(3, ncat, 2, 1, NULL);
  ck_assert_ptr_nonnull(h);
  latens_pc *pc = NULL;
  latens_mat *X = latens_mat_alloc(4, 3), *Z = latens_mat_alloc(4, 3);
  latens_rng r;
  latens_rng_init(&r, 6, 0);
  latens_mat_set_zero(X), latens_mat_set_zero(Z);
  ck_assert_int_eq(latens_pc_hclt_to_circuit(h, &pc), LATENS_OK);
  ck_assert_uint_eq(latens_pc_ncat(pc, 2), 4);
  ck_assert_int_eq(latens_pc_hclt_fit_latents(h, X, Z, 0.1), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_teacher_kmeans(h, X, 2, &r, Z), LATENS_OK);
  latens_pc_free(pc), latens_mat_free(X), latens_mat_free(Z), latens_pc_hclt_free(h);
}
END_TEST

Suite *learn_circuit_suite(void) {
  Suite *s = suite_create("learn_circuit");
  TCase *tc = tcase_create("circuit");
  tcase_add_test(tc, test_hclt_circuit_equals_enumeration);
  tcase_add_test(tc, test_cltree_circuit_deterministic);
  tcase_add_test(tc, test_rat_and_factorized_normalised);
  tcase_add_test(tc, test_rat_leaf_shapes);
  tcase_add_test(tc, test_cltree_map_is_exact);
  tcase_add_test(tc, test_categorical_accepted);
  tcase_add_test(tc, test_to_circuit_bad_tables);
  suite_add_tcase(s, tc);
  return s;
}
