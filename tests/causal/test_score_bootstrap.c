/* tests/causal/test_score_bootstrap.c: bootstrap edge frequencies. */
#include <string.h>
#include "score_suites.h"

/* A method that fails on a quarter of the replicates (decided by its own stream), to check
 * failure counts do not depend on the thread count either. */
static int flaky(const latens_causal_data *d, void *user, latens_rng *rng, latens_causal_graph **out) {
  if (latens_rng_uniform(rng) < 0.25) return LATENS_EFAILED;
  return latens_causal_method_ica_lingam(d, user, rng, out);
}

/* Oracle: exact equality between thread counts (integer counts, per-replicate streams);
 * and on a 6-node DAG at n = 2000 every true edge is found in >= 90% of the replicates. */
START_TEST(bootstrap_thread_independent) {
  const size_t p = 6, n = 2000, B = test_under_valgrind() ? 4 : 24;
  uint64_t s = 808;
  size_t perm[6];
  double *Bt = sg_random_dag(p, 0.4, &s, perm);
  double *X = sg_sem_data(Bt, perm, p, n, &s);
  latens_causal_data *d = sg_data(X, n, p);
  latens_causal_method_fn *methods[] = {latens_causal_method_direct_lingam, flaky,
                                        latens_causal_method_pc, latens_causal_method_fci};
  latens_rng root;
  latens_rng_init(&root, 42, 0);
  for (int m = 0; m < 4; m++) {
    latens_causal_bootstrap_result *r1 = NULL, *r2 = NULL;
    ck_assert_int_eq(latens_causal_bootstrap(d, methods[m], NULL, B, &root, 1, NULL, &r1), LATENS_OK);
    ck_assert_int_eq(latens_causal_bootstrap(d, methods[m], NULL, B, &root, 2, NULL, &r2), LATENS_OK);
    ck_assert_uint_eq(r1->failed, r2->failed);
    ck_assert_int_eq(memcmp(r1->freq, r2->freq, LATENS_CAUSAL_BOOT_NTYPES * p * p * sizeof(double)), 0);
    if (m == 1) ck_assert_uint_gt(r1->failed, 0);
    if (m == 0 && !test_under_valgrind()) {
      size_t weak = 0;
      for (size_t i = 0; i < p; i++) /* Bt[i + j p]: j --> i, frequency from j to i */
        for (size_t j = 0; j < p; j++)
          if (Bt[i + j * p] != 0) weak += r1->freq[(LATENS_CAUSAL_BOOT_DIRECTED * p + i) * p + j] < 0.9;
      ck_assert_uint_eq(weak, 0);
    }
    latens_causal_bootstrap_result_free(r1), latens_causal_bootstrap_result_free(r2);
  }
  latens_causal_bootstrap_result *r = NULL;
  ck_assert_int_eq(latens_causal_bootstrap(d, methods[0], NULL, 0, &root, 1, NULL, &r), LATENS_EINVAL);
  ck_assert_ptr_null(r);
  latens_causal_data_free(d);
  free(X), free(Bt);
}
END_TEST

/* Latent nodes count as <-> between their children: a single-latent pair (x1 = s + e1,
 * x2 = 2 s + e2, the closed-form case) gives x1 <-> x2 in (nearly) every replicate. */
START_TEST(bootstrap_latent_bidirected) {
  const size_t n = 20000, B = test_under_valgrind() ? 2 : 10;
  double *X = malloc(2 * n * sizeof *X);
  uint64_t s = 99;
  for (size_t t = 0; t < n; t++) {
    const double L = -log(0.5 * (test_unif(&s) + 1.0) + 1e-300) - 1.0;
    X[t] = L + sqrt(3.0) * test_unif(&s);
    X[t + n] = 2.0 * L + sqrt(3.0) * test_unif(&s);
  }
  latens_causal_data *d = sg_data(X, n, 2);
  latens_causal_bootstrap_result *r = NULL;
  latens_rng root;
  latens_rng_init(&root, 7, 0);
  ck_assert_int_eq(latens_causal_bootstrap(d, latens_causal_method_cumulant, NULL, B, &root, 0, NULL, &r), LATENS_OK);
  ck_assert_uint_eq(r->failed, 0);
  if (!test_under_valgrind())
    ck_assert_double_ge(r->freq[(LATENS_CAUSAL_BOOT_BIDIRECTED * 2 + 1) * 2 + 0], 0.9);
  latens_causal_bootstrap_result_free(r);
  latens_causal_data_free(d);
  free(X);
}
END_TEST

static int stop_now(void *user, const char *what, double done, double total) {
  (void)user, (void)what, (void)done, (void)total;
  return 1;
}

/* Bad data through every continuous method: perfectly collinear columns -> ESING naming the
 * column, n < p -> EDOM, discrete data -> EINVAL; and a progress callback that asks to stop
 * -> EINTERRUPTED.  (NaN, Inf and constant columns never reach the methods: the data set
 * refuses them, naming row and column.) */
START_TEST(bad_data_all_methods) {
  const size_t n = 300, p = 4;
  double X[1200];
  uint64_t s = 21;
  for (size_t k = 0; k < n * p; k++) X[k] = test_unif(&s) * test_unif(&s);
  for (size_t t = 0; t < n; t++) X[t + 2 * n] = X[t] + 0.5 * X[t + n];
  latens_causal_data *col = sg_data(X, n, p), *few = sg_data(X, 4, p), *dis = NULL;
  ck_assert_ptr_nonnull(col);
  double Y[40];
  for (int k = 0; k < 40; k++) Y[k] = k % 3;
  latens_mat m = latens_mat_view(Y, 20, 2, 20);
  ck_assert_int_eq(latens_causal_data_alloc(&m, NULL, 1, &dis), LATENS_OK);
  latens_causal_method_fn *methods[] = {latens_causal_method_direct_lingam, latens_causal_method_ica_lingam,
                                        latens_causal_method_cumulant, latens_causal_method_notears,
                                        latens_causal_method_ges};
  latens_rng r;
  latens_rng_init(&r, 1, 0);
  for (int k = 0; k < 5; k++) {
    latens_causal_graph *g = NULL;
    const char *msg;
    ck_assert_int_eq(methods[k](col, NULL, &r, &g), LATENS_ESING);
    latens_last_error(&msg);
    ck_assert_msg(strstr(msg, "column 3") != NULL, "method %d: %s", k, msg);
    ck_assert_ptr_null(g);
    if (few) ck_assert_int_eq(methods[k](few, NULL, &r, &g), LATENS_EDOM);
    if (k < 4) ck_assert_int_eq(methods[k](dis, NULL, &r, &g), LATENS_EINVAL);
  }
  /* GES on discrete data is BDeu: fine */
  latens_causal_graph *g = NULL;
  ck_assert_int_eq(latens_causal_method_ges(dis, NULL, &r, &g), LATENS_OK);
  latens_causal_graph_free(g);
  /* interruption */
  for (size_t t = 0; t < n; t++) X[t + 2 * n] = test_unif(&s);
  latens_causal_data *ok = sg_data(X, n, p);
  latens_progress stop = {stop_now, NULL};
  ck_assert_int_eq(latens_causal_direct_lingam(ok, NULL, &stop, NULL, NULL, NULL), LATENS_EINTERRUPTED);
  ck_assert_int_eq(latens_causal_cumulant(ok, NULL, &stop, NULL, NULL), LATENS_EINTERRUPTED);
  ck_assert_int_eq(latens_causal_notears(ok, NULL, &stop, NULL, NULL), LATENS_EINTERRUPTED);
  ck_assert_int_eq(latens_causal_ges(ok, NULL, &stop, &g, NULL), LATENS_EINTERRUPTED);
  latens_causal_bootstrap_result *br = NULL;
  ck_assert_int_eq(latens_causal_bootstrap(ok, latens_causal_method_ges, NULL, 3, &r, 1, &stop, &br),
                   LATENS_EINTERRUPTED);
  ck_assert_ptr_null(br);
  latens_causal_data_free(ok), latens_causal_data_free(col), latens_causal_data_free(few);
  latens_causal_data_free(dis);
}
END_TEST

Suite *score_bootstrap_suite(void) {
  Suite *s = suite_create("score_bootstrap");
  TCase *tc = tcase_create("bootstrap");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, bootstrap_thread_independent);
  tcase_add_test(tc, bootstrap_latent_bidirected);
  tcase_add_test(tc, bad_data_all_methods);
  suite_add_tcase(s, tc);
  return s;
}
