/* tests/causal/test_score_ges.c: local scores (BIC, BDeu) and GES. */
#include <string.h>
#include "score_suites.h"

static double *gauss_sem(size_t n, size_t p, const size_t (*E)[2], const double *w, size_t ne,
                         uint64_t seed) {
  double *X = malloc(n * p * sizeof *X);
  uint64_t s = seed;
  for (size_t t = 0; t < n; t++) {
    double x[8];
    for (size_t i = 0; i < p; i++) {
      double u1 = 0.5 * (test_unif(&s) + 1.0) + 1e-300, u2 = test_unif(&s);
      x[i] = sqrt(-2 * log(u1)) * cos(M_PI * u2);
    }
    for (size_t e = 0; e < ne; e++) x[E[e][1]] += w[e] * x[E[e][0]]; /* E topological */
    for (size_t i = 0; i < p; i++) X[t + i * n] = x[i];
  }
  return X;
}

/* Oracle: exhaustive enumeration of every DAG on p <= 4 nodes (3^(p(p-1)/2) edge patterns,
 * acyclic ones kept), scored as the sum of local scores.  GES must return that maximum, and
 * its CPDAG must be the true DAG's CPDAG (large n: the BIC optimum is the true class). */
static void enum_check(size_t p, const size_t (*E)[2], const double *w, size_t ne, uint64_t seed) {
  const size_t n = 20000, np = p * (p - 1) / 2;
  double *X = gauss_sem(n, p, E, w, ne, seed);
  latens_causal_data *d = sg_data(X, n, p);
  size_t pairs[6][2], k = 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++) pairs[k][0] = i, pairs[k][1] = j, k++;
  size_t total = 1;
  for (size_t a = 0; a < np; a++) total *= 3;
  double best = -INFINITY, local[4][16]; /* local[y][parent mask]: each computed once */
  for (size_t y = 0; y < p; y++)
    for (unsigned mask = 0; mask < (1u << p); mask++) {
      size_t pa[4], m = 0;
      for (size_t i = 0; i < p; i++)
        if (mask >> i & 1) pa[m++] = i;
      local[y][mask] = -INFINITY;
      if (!(mask >> y & 1))
        ck_assert_int_eq(latens_causal_local_score(d, NULL, y, pa, m, &local[y][mask]), LATENS_OK);
    }
  for (size_t code = 0; code < total; code++) {
    int A[4][4] = {{0}};
    size_t c = code;
    for (size_t a = 0; a < np; a++, c /= 3) {
      if (c % 3 == 1) A[pairs[a][0]][pairs[a][1]] = 1;
      if (c % 3 == 2) A[pairs[a][1]][pairs[a][0]] = 1;
    }
    int indeg[4] = {0}, done = 0, used[4] = {0}; /* Kahn: acyclic? */
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++) indeg[j] += A[i][j];
    for (int progress = 1; progress;) {
      progress = 0;
      for (size_t v = 0; v < p; v++)
        if (!used[v] && indeg[v] == 0) {
          used[v] = 1, done++, progress = 1;
          for (size_t j = 0; j < p; j++) indeg[j] -= A[v][j];
        }
    }
    if ((size_t)done < p) continue;
    double sc = 0.0;
    for (size_t y = 0; y < p; y++) {
      unsigned mask = 0;
      for (size_t i = 0; i < p; i++) mask |= (unsigned)A[i][y] << i;
      sc += local[y][mask];
    }
    if (sc > best) {
      best = sc;
      if (getenv("GDBG")) {
        fprintf(stderr, "best %.4f:", sc);
        for (size_t i = 0; i < p; i++)
          for (size_t j = 0; j < p; j++)
            if (A[i][j]) fprintf(stderr, " %zu->%zu", i, j);
        fprintf(stderr, "\n");
      }
    }
  }
  latens_causal_graph *g = NULL, *truth = latens_causal_graph_alloc(p, NULL), *cp = NULL;
  double gs;
  ck_assert_int_eq(latens_causal_ges(d, NULL, NULL, &g, &gs), LATENS_OK);
  if (getenv("GDBG")) latens_causal_graph_write_csv(stderr, g);
  ck_assert_double_eq_tol(gs, best, 1e-9 * fabs(best));
  for (size_t e = 0; e < ne; e++)
    latens_causal_graph_set_edge(truth, E[e][0], E[e][1], LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
  ck_assert_int_eq(latens_causal_graph_cpdag(truth, &cp), LATENS_OK);
  latens_causal_compare_result cr;
  ck_assert_int_eq(latens_causal_compare(cp, g, &cr), LATENS_OK);
  ck_assert_uint_eq(cr.shd, 0);
  latens_causal_graph_free(g), latens_causal_graph_free(truth), latens_causal_graph_free(cp);
  latens_causal_data_free(d);
  free(X);
}

START_TEST(ges_enumeration_collider) {
  const size_t E[][2] = {{0, 2}, {1, 2}, {2, 3}};
  const double w[] = {0.8, -0.7, 0.9};
  enum_check(4, E, w, 3, 11);
}
END_TEST

START_TEST(ges_enumeration_chain) {
  const size_t E[][2] = {{0, 1}, {1, 2}};
  const double w[] = {0.9, 0.6};
  enum_check(3, E, w, 2, 12);
}
END_TEST

START_TEST(ges_enumeration_dense) {
  const size_t E[][2] = {{0, 1}, {0, 2}, {1, 2}, {1, 3}, {2, 3}};
  const double w[] = {0.7, 0.5, 0.6, 0.8, 0.5}; /* no path cancellation (faithful) */
  enum_check(4, E, w, 5, 13);
}
END_TEST

/* BDeu by hand (closed form with libm lgamma): x = 000111, y = 001111, ess 1, r = q = 2 so
 * a_j = 1/2, a_jk = 1/4; stratum x = 0: N = 3, counts (2, 1); x = 1: N = 3, counts (0, 3). */
START_TEST(bdeu_hand) {
  double v[12] = {0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1};
  latens_mat m = latens_mat_view(v, 6, 2, 6);
  latens_causal_data *d = NULL;
  ck_assert_int_eq(latens_causal_data_alloc(&m, NULL, 1, &d), LATENS_OK);
  const size_t pa = 0;
  double s;
  ck_assert_int_eq(latens_causal_local_score(d, NULL, 1, &pa, 1, &s), LATENS_OK);
  const double want = 2 * (lgamma(0.5) - lgamma(3.5)) + lgamma(2.25) + lgamma(1.25) - 2 * lgamma(0.25) +
                      lgamma(3.25) - lgamma(0.25);
  ck_assert_double_eq_tol(s, want, 1e-12);
  /* no parents: one stratum of N = 6 with counts (2, 4), a_j = 1, a_jk = 1/2 */
  ck_assert_int_eq(latens_causal_local_score(d, NULL, 1, NULL, 0, &s), LATENS_OK);
  const double want0 = lgamma(1) - lgamma(7) + lgamma(2.5) + lgamma(4.5) - 2 * lgamma(0.5);
  ck_assert_double_eq_tol(s, want0, 1e-12);
  latens_causal_ges_options o;
  latens_causal_ges_options_default(&o);
  o.score = LATENS_CAUSAL_SCORE_BIC; /* wrong kind for discrete data */
  ck_assert_int_eq(latens_causal_local_score(d, &o, 1, NULL, 0, &s), LATENS_EINVAL);
  latens_causal_data_free(d);
}
END_TEST

/* BIC by hand: y on x by least squares in closed form. */
START_TEST(bic_hand) {
  const size_t n = 50;
  double v[100];
  uint64_t s = 3;
  for (size_t t = 0; t < n; t++) v[t] = test_unif(&s), v[t + n] = 0.5 * v[t] + test_unif(&s);
  double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0;
  for (size_t t = 0; t < n; t++) mx += v[t] / n, my += v[t + n] / n;
  for (size_t t = 0; t < n; t++) {
    const double a = v[t] - mx, b = v[t + n] - my;
    sxx += a * a, sxy += a * b, syy += b * b;
  }
  const double rss = syy - sxy * sxy / sxx;
  const double want = -0.5 * n * log(rss / n) - 0.5 * 2 * log((double)n);
  latens_causal_data *d = sg_data(v, n, 2);
  const size_t pa = 0;
  double sc;
  ck_assert_int_eq(latens_causal_local_score(d, NULL, 1, &pa, 1, &sc), LATENS_OK);
  ck_assert_double_eq_tol(sc, want, 1e-10);
  ck_assert_int_eq(latens_causal_local_score(d, NULL, 1, &pa, 0, &sc), LATENS_OK);
  ck_assert_double_eq_tol(sc, -0.5 * n * log(syy / n) - 0.5 * log((double)n), 1e-10);
  const size_t bad = 1;
  ck_assert_int_eq(latens_causal_local_score(d, NULL, 1, &bad, 1, &sc), LATENS_EINVAL);
  latens_causal_data_free(d);
}
END_TEST

/* Sum of local scores of the DAG given by parent lists (pa[y], np[y]). */
static double dag_score(const latens_causal_data *d, const latens_causal_ges_options *o,
                        const size_t pa[3][2], const size_t np[3]) {
  double tot = 0.0, v;
  for (size_t y = 0; y < 3; y++) {
    ck_assert_int_eq(latens_causal_local_score(d, o, y, pa[y], np[y], &v), LATENS_OK);
    tot += v;
  }
  return tot;
}

/* Oracle: score equivalence (Chickering 1995; Heckerman, Geiger & Chickering 1995): BIC and
 * BDeu give Markov-equivalent DAGs the same score, so the chain 0->1->2, the reversed chain
 * 2->1->0 and the fork 0<-1->2 tie up to rounding (sums of ~10 terms of size ~n log n, so
 * 1e-9 relative is far above rounding and far below any real score difference). */
START_TEST(score_equivalence) {
  const size_t n = 300;
  double v[900];
  uint64_t s = 17;
  for (size_t t = 0; t < n; t++) {
    v[t] = test_unif(&s);
    v[t + n] = 0.8 * v[t] + test_unif(&s);
    v[t + 2 * n] = -0.6 * v[t + n] + test_unif(&s);
  }
  const size_t chain[3][2] = {{0, 0}, {0, 0}, {1, 0}}, nchain[3] = {0, 1, 1};
  const size_t rev[3][2] = {{1, 0}, {2, 0}, {0, 0}}, nrev[3] = {1, 1, 0};
  const size_t fork[3][2] = {{1, 0}, {0, 0}, {1, 0}}, nfork[3] = {1, 0, 1};
  for (int disc = 0; disc < 2; disc++) {
    if (disc) /* integer codes 0..2 by thresholds: a dependent discrete data set */
      for (size_t k = 0; k < 3 * n; k++) v[k] = v[k] < -0.5 ? 0 : v[k] < 0.5 ? 1 : 2;
    latens_mat m = latens_mat_view(v, n, 3, n);
    latens_causal_data *d = NULL;
    ck_assert_int_eq(latens_causal_data_alloc(&m, NULL, disc, &d), LATENS_OK);
    const double a = dag_score(d, NULL, chain, nchain), b = dag_score(d, NULL, rev, nrev);
    const double c = dag_score(d, NULL, fork, nfork);
    ck_assert_double_eq_tol(a, b, 1e-9 * fabs(a));
    ck_assert_double_eq_tol(a, c, 1e-9 * fabs(a));
    latens_causal_data_free(d);
  }
}
END_TEST

Suite *score_ges_suite(void) {
  Suite *s = suite_create("score_ges");
  TCase *tc = tcase_create("ges");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, bdeu_hand);
  tcase_add_test(tc, bic_hand);
  tcase_add_test(tc, score_equivalence);
  tcase_add_test(tc, ges_enumeration_chain);
  tcase_add_test(tc, ges_enumeration_collider);
  tcase_add_test(tc, ges_enumeration_dense);
  suite_add_tcase(s, tc);
  return s;
}
