/* tests/causal/test_citest.c: data sets and conditional-independence tests. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"

enum { T = LATENS_CAUSAL_TAIL, A = LATENS_CAUSAL_ARROW };

/* Dense reference: the partial correlation of columns x, y given S as the correlation of their
 * least-squares residuals on [1, S] (normal equations solved by Gaussian elimination). */
static double resid_corr(const latens_mat *X, size_t x, size_t y, const size_t *S, size_t k) {
  size_t n = X->nrow, m = k + 1;
  double *B = calloc(m * m, sizeof *B), *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
  for (int t = 0; t < 2; t++) {
    size_t v = t ? y : x;
    double *r = t ? ry : rx, *c = calloc(m, sizeof *c);
    /* design column 0 is the intercept */
    for (size_t a = 0; a < m; a++) {
      for (size_t b = 0; b < m; b++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
          s += (a ? LATENS_MAT(X, i, S[a - 1]) : 1) * (b ? LATENS_MAT(X, i, S[b - 1]) : 1);
        B[a + b * m] = s;
      }
      double s = 0;
      for (size_t i = 0; i < n; i++) s += (a ? LATENS_MAT(X, i, S[a - 1]) : 1) * LATENS_MAT(X, i, v);
      c[a] = s;
    }
    for (size_t a = 0; a < m; a++) /* elimination, SPD so no pivoting */
      for (size_t b = a + 1; b < m; b++) {
        double f = B[b + a * m] / B[a + a * m];
        for (size_t e = a; e < m; e++) B[b + e * m] -= f * B[a + e * m];
        c[b] -= f * c[a];
      }
    for (size_t a = m; a-- > 0;) {
      for (size_t e = a + 1; e < m; e++) c[a] -= B[a + e * m] * c[e];
      c[a] /= B[a + a * m];
    }
    for (size_t i = 0; i < n; i++) {
      double f = c[0];
      for (size_t a = 1; a < m; a++) f += c[a] * LATENS_MAT(X, i, S[a - 1]);
      r[i] = LATENS_MAT(X, i, v) - f;
    }
    free(c);
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++) sxy += rx[i] * ry[i], sxx += rx[i] * rx[i], syy += ry[i] * ry[i];
  free(B), free(rx), free(ry);
  return sxy / sqrt(sxx * syy);
}

START_TEST(test_fisherz_dense) {
  uint64_t s = 42;
  latens_causal_graph *dag = causal_random_dag(6, 2.0, &s);
  latens_mat *X = causal_simulate(dag, 300, &s);
  latens_causal_data *d = NULL;
  ck_assert_int_eq(latens_causal_data_alloc(X, NULL, 0, &d), LATENS_OK);
  latens_causal_citest *t = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_FISHERZ, 0);
  const size_t sets[4][3] = {{0}, {2}, {2, 5}, {1, 2, 5}};
  int bad = 0;
  for (size_t k = 0; k < 4; k++) {
    double p;
    ck_assert_int_eq(latens_causal_citest_pvalue(t, 0, 3, sets[k], k, &p), LATENS_OK);
    double r = resid_corr(X, 0, 3, sets[k], k);
    double pref = erfc(fabs(sqrt(300.0 - k - 3) * atanh(r)) / M_SQRT2);
    /* Both are the same quantity in exact arithmetic; 1e-9 relative covers the rounding of
     * two different O(n) summations feeding atanh near small |r|. */
    bad += fabs(p - pref) > 1e-9 * fmax(pref, 1e-3);
  }
  ck_assert_int_eq(bad, 0);
  double p1, p2;
  size_t S[2] = {5, 2}; /* order of S does not matter, nor the order of x and y */
  latens_causal_citest_pvalue(t, 0, 3, S, 2, &p1);
  latens_causal_citest_pvalue(t, 3, 0, sets[2], 2, &p2);
  ck_assert_double_eq(p1, p2);
  ck_assert_int_eq(latens_causal_citest_pvalue(t, 0, 0, NULL, 0, &p1), LATENS_EINVAL);
  size_t rep[2] = {2, 2};
  ck_assert_int_eq(latens_causal_citest_pvalue(t, 0, 3, rep, 2, &p1), LATENS_EINVAL);
  size_t bad_s[1] = {3};
  ck_assert_int_eq(latens_causal_citest_pvalue(t, 0, 3, bad_s, 1, &p1), LATENS_EINVAL);
  latens_causal_citest_free(t);
  latens_causal_data_free(d);
  latens_mat_free(X);
  latens_causal_graph_free(dag);
}
END_TEST

/* Collinear columns and n < p: a documented result (pseudo-inverse), never a crash. */
START_TEST(test_fisherz_singular) {
  uint64_t s = 7;
  latens_mat *X = latens_mat_alloc(50, 4);
  for (size_t i = 0; i < 50; i++) {
    LATENS_MAT(X, i, 0) = test_unif(&s);
    LATENS_MAT(X, i, 1) = test_unif(&s);
    LATENS_MAT(X, i, 2) = LATENS_MAT(X, i, 0) + 2 * LATENS_MAT(X, i, 1); /* exactly collinear */
    LATENS_MAT(X, i, 3) = test_unif(&s);
  }
  latens_causal_data *d = NULL;
  ck_assert_int_eq(latens_causal_data_alloc(X, NULL, 0, &d), LATENS_OK);
  latens_causal_citest *t = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_FISHERZ, 0);
  double p;
  size_t S[2] = {0, 1};
  ck_assert_int_eq(latens_causal_citest_pvalue(t, 2, 3, S, 2, &p), LATENS_OK);
  ck_assert(p >= 0 && p <= 1);
  /* X3 is a function of S: no residual left, r = 0 by definition, so p = 1. */
  ck_assert_double_eq_tol(p, 1.0, 1e-6);
  latens_causal_graph *g = NULL;
  ck_assert_int_eq(latens_causal_pc(t, NULL, NULL, NULL, &g), LATENS_OK);
  latens_causal_graph_free(g);
  latens_causal_citest_free(t);
  latens_causal_data_free(d);
  /* n < p: 5 rows, 8 columns. */
  latens_mat *W = latens_mat_alloc(5, 8);
  for (size_t q = 0; q < 40; q++) W->data[q] = test_unif(&s);
  ck_assert_int_eq(latens_causal_data_alloc(W, NULL, 0, &d), LATENS_OK);
  t = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_FISHERZ, 0);
  ck_assert_int_eq(latens_causal_pc(t, NULL, NULL, NULL, &g), LATENS_OK);
  latens_causal_graph_free(g);
  latens_causal_citest_free(t);
  latens_causal_data_free(d);
  latens_mat_free(W);
  /* Constant column and NaN: clear errors. */
  for (size_t i = 0; i < 50; i++) LATENS_MAT(X, i, 3) = 2.5;
  ck_assert_int_eq(latens_causal_data_alloc(X, NULL, 0, &d), LATENS_EDOM);
  ck_assert_ptr_null(d);
  const char *msg;
  latens_last_error(&msg);
  ck_assert_ptr_nonnull(strstr(msg, "column 4"));
  LATENS_MAT(X, 3, 1) = NAN;
  ck_assert_int_eq(latens_causal_data_alloc(X, NULL, 0, &d), LATENS_ENOTFINITE);
  latens_mat_free(X);
}
END_TEST

/* Oracle: Pearson's X^2 of a 2 x 2 table in closed form, N (ad - bc)^2 / (r1 r2 c1 c2), its
 * df = 1 tail erfc(sqrt(X^2 / 2)); G^2 = 2 sum O log(O / E) summed by hand. */
START_TEST(test_chisq_closed_form) {
  const int cnt[2][2] = {{10, 20}, {30, 40}};
  latens_mat *X = latens_mat_alloc(100, 2);
  size_t r = 0;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++)
      for (int c = 0; c < cnt[a][b]; c++, r++) LATENS_MAT(X, r, 0) = 5 + 3 * a, LATENS_MAT(X, r, 1) = -b;
  latens_causal_data *d = NULL;
  ck_assert_int_eq(latens_causal_data_alloc(X, NULL, 1, &d), LATENS_OK);
  ck_assert_uint_eq(latens_causal_data_levels(d, 0), 2);
  latens_causal_citest *t = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_CHISQ, 0);
  double p, x2 = 100.0 * pow(10 * 40 - 20 * 30, 2) / (30.0 * 70 * 40 * 60);
  ck_assert_int_eq(latens_causal_citest_pvalue(t, 0, 1, NULL, 0, &p), LATENS_OK);
  ck_assert_double_eq_tol(p, erfc(sqrt(x2 / 2)), 1e-12);
  latens_causal_citest_free(t);
  t = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_GSQ, 0);
  double g2 = 0, E[2][2] = {{30 * 40 / 100.0, 30 * 60 / 100.0}, {70 * 40 / 100.0, 70 * 60 / 100.0}};
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) g2 += 2 * cnt[a][b] * log(cnt[a][b] / E[a][b]);
  ck_assert_int_eq(latens_causal_citest_pvalue(t, 0, 1, NULL, 0, &p), LATENS_OK);
  ck_assert_double_eq_tol(p, erfc(sqrt(g2 / 2)), 1e-12);
  latens_causal_citest_free(t);
  ck_assert_ptr_null(latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_FISHERZ, 0));
  latens_causal_data_free(d);
  /* A non-integer state is refused, naming row and column. */
  LATENS_MAT(X, 17, 1) = 0.5;
  ck_assert_int_eq(latens_causal_data_alloc(X, NULL, 1, &d), LATENS_EDOM);
  const char *msg;
  latens_last_error(&msg);
  ck_assert_ptr_nonnull(strstr(msg, "row 18, column 2"));
  latens_mat_free(X);
}
END_TEST

/* Oracle: causal-learn's degrees of freedom, worked by hand.  Z splits the data in two strata;
 * in stratum Z = 1, X takes a single value, so that stratum contributes (2-1-1)(2-1) = 0
 * and the whole test has df 1 (stratum Z = 0) and equals the 2 x 2 test on that stratum. */
START_TEST(test_chisq_df) {
  const int cnt[2][2] = {{15, 5}, {8, 22}};
  latens_mat *X = latens_mat_alloc(80, 3);
  size_t r = 0;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++)
      for (int c = 0; c < cnt[a][b]; c++, r++)
        LATENS_MAT(X, r, 0) = a, LATENS_MAT(X, r, 1) = b, LATENS_MAT(X, r, 2) = 0;
  for (; r < 80; r++) LATENS_MAT(X, r, 0) = 1, LATENS_MAT(X, r, 1) = r % 2, LATENS_MAT(X, r, 2) = 1;
  latens_causal_data *d = NULL;
  ck_assert_int_eq(latens_causal_data_alloc(X, NULL, 1, &d), LATENS_OK);
  latens_causal_citest *t = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_CHISQ, 0);
  double p, n = 50, x2 = n * pow(15.0 * 22 - 5 * 8, 2) / (20.0 * 30 * 23 * 27);
  size_t S[1] = {2};
  ck_assert_int_eq(latens_causal_citest_pvalue(t, 0, 1, S, 1, &p), LATENS_OK);
  ck_assert_double_eq_tol(p, erfc(sqrt(x2 / 2)), 1e-12);
  latens_causal_citest_free(t);
  latens_causal_data_free(d);
  latens_mat_free(X);
}
END_TEST

/* Oracle: d-separation read off by hand (Pearl 1988) on a -> b -> c, b <- d, b -> e. */
START_TEST(test_dsep) {
  latens_causal_graph *g = latens_causal_graph_alloc(5, NULL); /* a b c d e = 0 1 2 3 4 */
  latens_causal_graph_set_edge(g, 0, 1, T, A);
  latens_causal_graph_set_edge(g, 1, 2, T, A);
  latens_causal_graph_set_edge(g, 3, 1, T, A);
  latens_causal_graph_set_edge(g, 1, 4, T, A);
  latens_causal_citest *t = latens_causal_citest_alloc_dsep(g);
  double p;
  size_t b[1] = {1}, e[1] = {4}, none[1] = {0};
  (void)none;
  latens_causal_citest_pvalue(t, 0, 2, NULL, 0, &p); ck_assert_double_eq(p, 0); /* chain open */
  latens_causal_citest_pvalue(t, 0, 2, b, 1, &p); ck_assert_double_eq(p, 1);    /* blocked */
  latens_causal_citest_pvalue(t, 0, 3, NULL, 0, &p); ck_assert_double_eq(p, 1); /* collider */
  latens_causal_citest_pvalue(t, 0, 3, b, 1, &p); ck_assert_double_eq(p, 0);    /* opened */
  latens_causal_citest_pvalue(t, 0, 3, e, 1, &p); ck_assert_double_eq(p, 0);    /* descendant */
  latens_causal_citest_free(t);
  /* A latent node is not a test variable: with b latent, a and c stay dependent given e. */
  latens_causal_graph_set_latent(g, 1, 1);
  t = latens_causal_citest_alloc_dsep(g);
  ck_assert_uint_eq(latens_causal_citest_p(t), 4);
  ck_assert_str_eq(latens_causal_citest_name(t, 1), "X3");
  size_t e2[1] = {3}; /* observed index of X5 */
  latens_causal_citest_pvalue(t, 0, 1, e2, 1, &p); ck_assert_double_eq(p, 0);
  latens_causal_citest_free(t);
  latens_causal_graph_set_edge(g, 2, 0, T, A); /* a cycle */
  ck_assert_ptr_null(latens_causal_citest_alloc_dsep(g));
  latens_causal_graph_free(g);
}
END_TEST

/* The cache returns the very numbers computed without it, and saves their recomputation. */
START_TEST(test_cache) {
  latens_table *tab = NULL;
  ck_assert_int_eq(latens_table_read_numeric(causal_data("earthquake.data.txt"), NULL, &tab), LATENS_OK);
  latens_causal_data *d = NULL;
  ck_assert_int_eq(latens_causal_data_from_table(tab, 1, &d), LATENS_OK);
  latens_causal_citest *a = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_CHISQ, 1),
                       *b = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_CHISQ, 0);
  int bad = 0;
  for (int rep = 0; rep < 2; rep++)
    for (size_t x = 0; x < 5; x++)
      for (size_t y = x + 1; y < 5; y++) {
        size_t S[1] = {(y + 1) % 5 == x ? (y + 2) % 5 : (y + 1) % 5};
        double p1, p2;
        latens_causal_citest_pvalue(a, x, y, S, 1, &p1);
        latens_causal_citest_pvalue(b, y, x, S, 1, &p2);
        bad += p1 != p2;
      }
  ck_assert_int_eq(bad, 0);
  ck_assert_uint_eq(latens_causal_citest_count(a), 10);
  ck_assert_uint_eq(latens_causal_citest_count(b), 20);
  latens_causal_citest_free(a), latens_causal_citest_free(b);
  latens_causal_data_free(d);
  latens_table_free(tab);
}
END_TEST

Suite *causal_citest_suite(void) {
  Suite *s = suite_create("causal_citest");
  TCase *tc = tcase_create("citest");
  tcase_add_test(tc, test_fisherz_dense);
  tcase_add_test(tc, test_fisherz_singular);
  tcase_add_test(tc, test_chisq_closed_form);
  tcase_add_test(tc, test_chisq_df);
  tcase_add_test(tc, test_dsep);
  tcase_add_test(tc, test_cache);
  suite_add_tcase(s, tc);
  return s;
}
