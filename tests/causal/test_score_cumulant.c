/* tests/causal/test_score_cumulant.c: the higher-order-cumulant latent-confounder method. */
#include <string.h>
#include "score_suites.h"

#include "cumulant_gen.h"

/* Issue target: >= 90% of 50 seeded runs at n = 20,000 (bench/causal/bench_score_cumulant
 * runs all 50: 49 of 50 when written).  The test runs the first 12 seeds and asks for the
 * same 90%: at least 11 of 12 (CUMULANT_RUNS=50 runs the full set here too). */
START_TEST(cumulant_two_latents) {
  const size_t n = 20000;
  const int runs = test_under_valgrind() ? 1 : getenv("CUMULANT_RUNS") ? atoi(getenv("CUMULANT_RUNS")) : 12;
  int ok = 0;
  for (int seed = 1; seed <= runs; seed++) {
    double *X = cumulant_data(n, (uint64_t)seed);
    latens_causal_data *d = sg_data(X, n, CP);
    latens_causal_cumulant_result *r = NULL;
    latens_causal_graph *g = NULL;
    ck_assert_int_eq(latens_causal_cumulant(d, NULL, NULL, &r, &g), LATENS_OK);
    ok += cumulant_ok(r);
    if (getenv("CUMULANT_VERBOSE")) {
      fprintf(stderr, "seed %d ok %d q %zu order", seed, cumulant_ok(r), r->q);
      for (size_t k = 0; k < CP + r->q; k++) fprintf(stderr, " %zu", r->order[k]);
      fprintf(stderr, "\n");
      for (size_t l = 0; l < r->q; l++) {
        fprintf(stderr, "  Lambda %zu:", l);
        for (size_t i = 0; i < CP; i++) fprintf(stderr, " %.2f", r->Lambda[i + l * CP]);
        fprintf(stderr, "\n");
      }
    }
    ck_assert_uint_eq(latens_causal_graph_nnodes(g), CP + r->q);
    latens_causal_cumulant_result_free(r);
    latens_causal_graph_free(g);
    latens_causal_data_free(d);
    free(X);
  }
  if (!test_under_valgrind()) ck_assert_msg(10 * ok >= 9 * runs, "%d of %d runs correct", ok, runs);
}
END_TEST

/* Population identities of the reference sheet (section 4) as an oracle for the closed form:
 * one latent s with x1 = s + e1, x2 = 2 s + e2 must give a2 / a1 = 2 (loadings 1, 2 up to
 * the sample error at n = 200,000: a few hundredths, as the sheet measured). */
START_TEST(cumulant_closed_form) {
  const size_t n = test_under_valgrind() ? 20000 : 200000;
  double *X = malloc(2 * n * sizeof *X);
  uint64_t s = 99;
  for (size_t t = 0; t < n; t++) {
    const double L = -log(0.5 * (test_unif(&s) + 1.0) + 1e-300) - 1.0;
    X[t] = L + sqrt(3.0) * test_unif(&s);
    X[t + n] = 2.0 * L + sqrt(3.0) * test_unif(&s);
  }
  latens_causal_data *d = sg_data(X, n, 2);
  latens_causal_cumulant_result *r = NULL;
  ck_assert_int_eq(latens_causal_cumulant(d, NULL, NULL, &r, NULL), LATENS_OK);
  ck_assert_uint_eq(r->q, 1);
  const double a1 = fabs(r->A[0]), a2 = fabs(r->A[1]);
  if (!test_under_valgrind()) {
    ck_assert_double_eq_tol(a2 / a1, 2.0, 0.05);
    ck_assert_double_eq_tol(a1, 1.0, 0.05);
    ck_assert_double_eq_tol(fabs(r->kappa3[0]), 2.0, 0.2); /* skewness of Exp(1) */
  }
  ck_assert_uint_eq(r->B[1] == 0 && r->B[2] == 0, 1); /* no observed edge */
  latens_causal_cumulant_result_free(r);
  latens_causal_data_free(d);
  free(X);
}
END_TEST

/* Oracle: a latent-free generating DAG (p = 8, n = 20,000, uniform noise): no latent node
 * may appear and the directed edges must match (F1 >= 0.9, as DirectLiNGAM's target). */
START_TEST(cumulant_no_latent) {
  const size_t p = 8, n = test_under_valgrind() ? 2000 : 20000;
  for (uint64_t seed = 1; seed <= (test_under_valgrind() ? 1u : 2u); seed++) {
    uint64_t s = 300 + seed;
    size_t perm[8];
    double *Bt = sg_random_dag(p, 0.3, &s, perm);
    double *X = sg_sem_data(Bt, perm, p, n, &s);
    latens_causal_data *d = sg_data(X, n, p);
    latens_causal_cumulant_result *r = NULL;
    ck_assert_int_eq(latens_causal_cumulant(d, NULL, NULL, &r, NULL), LATENS_OK);
    if (!test_under_valgrind()) {
      ck_assert_uint_eq(r->q, 0);
      ck_assert_double_ge(sg_f1(Bt, r->B, p), 0.9);
    }
    latens_causal_cumulant_result_free(r);
    latens_causal_data_free(d);
    free(X), free(Bt);
  }
}
END_TEST

Suite *score_cumulant_suite(void) {
  Suite *s = suite_create("score_cumulant");
  TCase *tc = tcase_create("cumulant");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, cumulant_two_latents);
  tcase_add_test(tc, cumulant_closed_form);
  tcase_add_test(tc, cumulant_no_latent);
  suite_add_tcase(s, tc);
  return s;
}
