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
  ck_assert_int_eq(latens_pc_em(rat, X, NULL, &o, &r, NULL, &res), LATENS_OK);
  ck_assert_double_le(fabs(total_probability(rat, 9) - 1.0), 1e-12);
  latens_pc_free(rat), latens_pc_free(fac), latens_mat_free(X);
}
END_TEST

Suite *learn_circuit_suite(void) {
  Suite *s = suite_create("learn_circuit");
  TCase *tc = tcase_create("circuit");
  tcase_add_test(tc, test_hclt_circuit_equals_enumeration);
  tcase_add_test(tc, test_cltree_circuit_deterministic);
  tcase_add_test(tc, test_rat_and_factorized_normalised);
  suite_add_tcase(s, tc);
  return s;
}
