/* tests/causal/test_score_lingam.c: DirectLiNGAM, FastICA, ICA-LiNGAM and their bad data. */
#include <string.h>
#include "score_suites.h"

/* Oracle: the generating DAG.  p = 20, n = 5000, uniform noise, expected degree ~2 (the
 * issue's accuracy target F1 >= 0.9); three seeds, every one must pass. */
START_TEST(direct_lingam_random_dag) {
  const size_t p = 20, n = test_under_valgrind() ? 500 : 5000;
  for (uint64_t seed = 1; seed <= (test_under_valgrind() ? 1u : 3u); seed++) {
    uint64_t s = 1000 + seed;
    size_t perm[20], order[20];
    double *Bt = sg_random_dag(p, 2.0 / (p - 1), &s, perm);
    double *X = sg_sem_data(Bt, perm, p, n, &s);
    latens_causal_data *d = sg_data(X, n, p);
    ck_assert_ptr_nonnull(d);
    double *B = malloc(p * p * sizeof *B);
    latens_causal_graph *g = NULL;
    ck_assert_int_eq(latens_causal_direct_lingam(d, NULL, NULL, order, B, &g), LATENS_OK);
    /* the order must be consistent with every true edge */
    size_t pos[20], bad = 0;
    for (size_t k = 0; k < p; k++) pos[order[k]] = k;
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++) bad += Bt[i + j * p] != 0 && pos[j] > pos[i];
    const double f1 = sg_f1(Bt, B, p);
    if (!test_under_valgrind()) {
      ck_assert_msg(f1 >= 0.9, "seed %d: F1 %.3f < 0.9", (int)seed, f1);
      ck_assert_msg(bad == 0, "seed %d: %zu true edges against the order", (int)seed, bad);
    }
    ck_assert_int_eq(latens_causal_graph_is_dag(g), 1);
    latens_causal_graph_free(g);
    latens_causal_data_free(d);
    free(B), free(X), free(Bt);
  }
}
END_TEST

/* Thread count must not change anything: same order and B with 1 and 2 threads. */
START_TEST(direct_lingam_threads) {
  const size_t p = 12, n = 2000;
  uint64_t s = 77;
  size_t perm[12], o1[12], o2[12];
  double *Bt = sg_random_dag(p, 0.25, &s, perm);
  double *X = sg_sem_data(Bt, perm, p, n, &s);
  latens_causal_data *d = sg_data(X, n, p);
  double B1[144], B2[144];
  latens_causal_lingam_options o;
  latens_causal_lingam_options_default(&o);
  o.threads = 1;
  ck_assert_int_eq(latens_causal_direct_lingam(d, &o, NULL, o1, B1, NULL), LATENS_OK);
  o.threads = 2;
  ck_assert_int_eq(latens_causal_direct_lingam(d, &o, NULL, o2, B2, NULL), LATENS_OK);
  ck_assert_int_eq(memcmp(o1, o2, sizeof o1), 0);
  ck_assert_int_eq(memcmp(B1, B2, sizeof B1), 0);
  latens_causal_data_free(d);
  free(X), free(Bt);
}
END_TEST

/* Bad data: collinear columns -> ESING naming the column; n < p -> EDOM; discrete -> EINVAL;
 * bad options -> EDOM.  (NaN and constant columns are refused by latens_causal_data_alloc.) */
START_TEST(lingam_bad_data) {
  const size_t n = 200, p = 4;
  double X[800];
  uint64_t s = 5;
  for (size_t k = 0; k < n * p; k++) X[k] = test_unif(&s);
  for (size_t t = 0; t < n; t++) X[t + 3 * n] = X[t] - 2.0 * X[t + n];
  latens_causal_data *d = sg_data(X, n, p);
  ck_assert_int_eq(latens_causal_direct_lingam(d, NULL, NULL, NULL, NULL, NULL), LATENS_ESING);
  const char *msg;
  latens_last_error(&msg);
  ck_assert_ptr_nonnull(strstr(msg, "column 4"));
  latens_causal_data_free(d);
  d = sg_data(X, 3, 4); /* n = 3 < p = 4 */
  if (d) { /* the data set itself may refuse so few rows */
    ck_assert_int_eq(latens_causal_direct_lingam(d, NULL, NULL, NULL, NULL, NULL), LATENS_EDOM);
    latens_causal_data_free(d);
  }
  d = sg_data(X, n, 3);
  latens_causal_lingam_options o;
  latens_causal_lingam_options_default(&o);
  o.prune_alpha = 0;
  ck_assert_int_eq(latens_causal_direct_lingam(d, &o, NULL, NULL, NULL, NULL), LATENS_EDOM);
  latens_causal_data_free(d);
  double Y[40];
  for (int k = 0; k < 40; k++) Y[k] = k % 3;
  latens_mat m = latens_mat_view(Y, 20, 2, 20);
  ck_assert_int_eq(latens_causal_data_alloc(&m, NULL, 1, &d), LATENS_OK);
  ck_assert_int_eq(latens_causal_direct_lingam(d, NULL, NULL, NULL, NULL, NULL), LATENS_EINVAL);
  latens_causal_data_free(d);
}
END_TEST

/* Oracle: the known mixing.  Three unit-variance sources (uniform, centred exponential,
 * Laplace) mixed by a fixed A; W_hat A must be a signed permutation: per row one entry of
 * modulus 1 and the rest 0, within 0.05 (sampling error ~ 1/sqrt(n) = 0.01 at n = 10^4). */
START_TEST(fastica_known_mixing) {
  const size_t n = test_under_valgrind() ? 2000 : 10000, p = 3;
  const double A[9] = {1.0, 0.5, -0.3, 0.4, 1.2, 0.6, -0.7, 0.2, 0.9};
  double *X = malloc(n * p * sizeof *X);
  uint64_t s = 2718;
  for (size_t t = 0; t < n; t++) {
    double src[3];
    src[0] = sqrt(3.0) * test_unif(&s);
    src[1] = -log(0.5 * (test_unif(&s) + 1.0) + 1e-300) - 1.0;
    const double u = test_unif(&s);
    src[2] = (u < 0 ? 1 : -1) * log(fabs(u) + 1e-300) / sqrt(2.0);
    for (size_t i = 0; i < p; i++) {
      double v = 0;
      for (size_t k = 0; k < p; k++) v += A[i + k * p] * src[k];
      X[t + i * n] = v;
    }
  }
  for (int nl = 0; nl < 2; nl++) {
    latens_causal_lingam_options o;
    latens_causal_lingam_options_default(&o);
    o.ica_nonlinearity = nl ? LATENS_CAUSAL_ICA_EXP : LATENS_CAUSAL_ICA_LOGCOSH;
    latens_rng r;
    latens_rng_init(&r, 5, 0);
    double W[9], Ah[9];
    ck_assert_int_eq(latens_causal_fastica(X, n, p, n, &o, &r, W, Ah), LATENS_OK);
    size_t bad = 0;
    for (size_t i = 0; i < p; i++) {
      double mx = 0, rest = 0;
      for (size_t j = 0; j < p; j++) {
        double v = 0;
        for (size_t k = 0; k < p; k++) v += W[i + k * p] * A[k + j * p];
        if (fabs(v) > mx) rest += mx, mx = fabs(v);
        else rest += fabs(v);
      }
      bad += fabs(mx - 1.0) > 0.05 || rest > 0.1;
    }
    ck_assert_msg(bad == 0, "nonlinearity %d: W A is not a signed permutation", nl);
    /* A_hat = W_hat^{-1}: W_hat A_hat = I to rounding */
    double maxerr = 0;
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++) {
        double v = 0;
        for (size_t k = 0; k < p; k++) v += W[i + k * p] * Ah[k + j * p];
        maxerr = fmax(maxerr, fabs(v - (i == j)));
      }
    ck_assert_double_le(maxerr, 1e-10);
  }
  free(X);
}
END_TEST

/* Oracle: the generating DAG, p = 8, n = 5000, uniform noise; F1 >= 0.9 as DirectLiNGAM. */
START_TEST(ica_lingam_random_dag) {
  const size_t p = 8, n = test_under_valgrind() ? 1000 : 5000;
  uint64_t s = 555;
  size_t perm[8], order[8];
  double *Bt = sg_random_dag(p, 0.35, &s, perm);
  double *X = sg_sem_data(Bt, perm, p, n, &s);
  latens_causal_data *d = sg_data(X, n, p);
  double B[64];
  latens_rng r;
  latens_rng_init(&r, 1, 0);
  ck_assert_int_eq(latens_causal_ica_lingam(d, NULL, &r, order, B, NULL), LATENS_OK);
  const double f1 = sg_f1(Bt, B, p);
  if (!test_under_valgrind()) ck_assert_msg(f1 >= 0.9, "F1 %.3f", f1);
  latens_causal_data_free(d);
  free(X), free(Bt);
}
END_TEST

static int n_reports;
static void count_reports(const char *reason, const char *file, int line, int status) {
  (void)reason, (void)file, (void)line, (void)status;
  n_reports++;
}

/* Contract (causal_score.h): FastICA stopping at max_iter is LATENS_EMAXITER with one error
 * report, but ICA-LiNGAM then uses the last iterate and returns LATENS_OK with no report. */
START_TEST(ica_lingam_maxiter_quiet) {
  const size_t p = 4, n = 500;
  uint64_t s = 77;
  size_t perm[4];
  double *Bt = sg_random_dag(p, 0.5, &s, perm);
  double *X = sg_sem_data(Bt, perm, p, n, &s);
  latens_causal_data *d = sg_data(X, n, p);
  latens_causal_lingam_options o;
  latens_causal_lingam_options_default(&o);
  o.ica_max_iter = 1;
  latens_rng r;
  latens_rng_init(&r, 3, 0);
  latens_error_handler_t *old = latens_set_error_handler(count_reports);
  n_reports = 0;
  const int st_ica = latens_causal_ica_lingam(d, &o, &r, NULL, NULL, NULL);
  const int reports_ica = n_reports;
  n_reports = 0;
  latens_rng_init(&r, 3, 0);
  const int st_fast = latens_causal_fastica(X, n, p, n, &o, &r, NULL, NULL);
  const int reports_fast = n_reports;
  latens_set_error_handler(old);
  ck_assert_int_eq(st_ica, LATENS_OK);
  ck_assert_int_eq(reports_ica, 0);
  ck_assert_int_eq(st_fast, LATENS_EMAXITER);
  ck_assert_int_eq(reports_fast, 1);
  latens_causal_data_free(d);
  free(X), free(Bt);
}
END_TEST

/* Contract (causal_score.h): a NaN cell in FastICA's raw array is LATENS_ENOTFINITE naming
 * its 1-based row and column; FastICA is the one entry point that takes a raw array. */
START_TEST(fastica_nan) {
  double X[60];
  uint64_t s = 8;
  for (int k = 0; k < 60; k++) X[k] = test_unif(&s);
  X[7 + 20] = NAN; /* row 8, column 2 */
  latens_rng r;
  latens_rng_init(&r, 1, 0);
  double W[9];
  ck_assert_int_eq(latens_causal_fastica(X, 20, 3, 20, NULL, &r, W, NULL), LATENS_ENOTFINITE);
  const char *msg;
  latens_last_error(&msg);
  ck_assert_ptr_nonnull(strstr(msg, "row 8, column 2"));
}
END_TEST

Suite *score_lingam_suite(void) {
  Suite *s = suite_create("score_lingam");
  TCase *tc = tcase_create("direct");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, direct_lingam_random_dag);
  tcase_add_test(tc, direct_lingam_threads);
  tcase_add_test(tc, lingam_bad_data);
  tcase_add_test(tc, fastica_known_mixing);
  tcase_add_test(tc, ica_lingam_random_dag);
  tcase_add_test(tc, ica_lingam_maxiter_quiet);
  tcase_add_test(tc, fastica_nan);
  suite_add_tcase(s, tc);
  return s;
}
