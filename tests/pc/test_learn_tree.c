/* tests/pc/test_learn_tree.c: mutual information, maximum spanning trees, Chow-Liu trees. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn_suites.h"

static latens_mat *random_binary(size_t N, size_t n, double p1, uint64_t *s) {
  latens_mat *X = latens_mat_alloc(N, n);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < N; i++)
      LATENS_MAT(X, i, j) = u01(s) < p1 ? 1.0 : (j > 0 && u01(s) < 0.5 ? LATENS_MAT(X, i, j - 1) : 0.0);
  return X;
}

/* Oracle: the definition, I(X;Y) = sum_ab p(a,b) log(p(a,b) / (p(a) p(b))), with each 2 x 2
 * table counted by a plain loop over the rows observing both variables and smoothed by alpha
 * per cell; once on complete data (the one-GEMM path), once with ~10% NaN. */
static void mi_check(int pass) {
  uint64_t s = 11;
  const size_t N = 300, n = 6;
  const double alpha = 0.5;
  latens_mat *X = random_binary(N, n, 0.3, &s), *MI = latens_mat_alloc(n, n);
  for (size_t k = 0; pass && k < N * n; k++)
    if (u01(&s) < 0.1) X->data[k] = NAN;
  ck_assert_int_eq(latens_pc_mutual_info(X, alpha, MI), LATENS_OK);
  double worst = 0.0;
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < n; b++) {
      if (a == b) continue;
      double c[2][2] = {{alpha, alpha}, {alpha, alpha}}, tot = 4 * alpha, ref = 0.0;
      for (size_t i = 0; i < N; i++) {
        double u = LATENS_MAT(X, i, a), v = LATENS_MAT(X, i, b);
        if (!isnan(u) && !isnan(v)) c[(int)u][(int)v] += 1.0, tot += 1.0;
      }
      for (int u = 0; u < 2; u++)
        for (int v = 0; v < 2; v++) {
          double pa = (c[u][0] + c[u][1]) / tot, pb = (c[0][v] + c[1][v]) / tot, p = c[u][v] / tot;
          ref += p * log(p / (pa * pb));
        }
      worst = fmax(worst, fabs(LATENS_MAT(MI, a, b) - ref));
    }
  /* a few hundred terms of size ~1 summed in a different order: 1e-12 is ~1e4 ulp */
  ck_assert_double_le(worst, 1e-12);
  latens_mat_free(X), latens_mat_free(MI);
}

START_TEST(test_mi_definition) {
  mi_check(0);
  mi_check(1);
}
END_TEST

START_TEST(test_mi_rejects) {
  latens_mat *X = latens_mat_alloc(3, 2), *MI = latens_mat_alloc(2, 2), *bad = latens_mat_alloc(3, 3);
  LATENS_MAT(X, 1, 1) = 2.0;
  ck_assert_int_eq(latens_pc_mutual_info(X, 0.1, MI), LATENS_EDOM);
  LATENS_MAT(X, 1, 1) = INFINITY;
  ck_assert_int_eq(latens_pc_mutual_info(X, 0.1, MI), LATENS_EDOM);
  LATENS_MAT(X, 1, 1) = 1.0;
  ck_assert_int_eq(latens_pc_mutual_info(X, 0.1, bad), LATENS_EBADLEN);
  ck_assert_int_eq(latens_pc_mutual_info(X, -1.0, MI), LATENS_EDOM);
  ck_assert_int_eq(latens_pc_mutual_info(NULL, 0.1, MI), LATENS_EINVAL);
  latens_mat_free(X), latens_mat_free(MI), latens_mat_free(bad);
}
END_TEST

/* Oracle: brute force over every labelled tree on n = 6 nodes (6^4 = 1296 Pruefer
 * sequences); with continuous random weights the maximum is unique. */
static double prufer_tree(const size_t *seq, size_t n, const latens_mat *W, int *adj) {
  size_t deg[16], used[16] = {0};
  double w = 0.0;
  for (size_t j = 0; j < n; j++) deg[j] = 1;
  for (size_t t = 0; t < n - 2; t++) deg[seq[t]]++;
  memset(adj, 0, n * n * sizeof *adj);
  for (size_t t = 0; t < n - 2; t++) {
    size_t leaf = 0;
    while (deg[leaf] != 1 || used[leaf]) leaf++;
    adj[leaf * n + seq[t]] = adj[seq[t] * n + leaf] = 1, w += LATENS_MAT(W, leaf, seq[t]);
    used[leaf] = 1, deg[seq[t]]--;
  }
  size_t u = n, v = n;
  for (size_t j = 0; j < n; j++)
    if (!used[j] && deg[j] == 1) { if (u == n) u = j; else v = j; }
  adj[u * n + v] = adj[v * n + u] = 1, w += LATENS_MAT(W, u, v);
  return w;
}

START_TEST(test_mst_brute_force) {
  const size_t n = 6;
  uint64_t s = 5;
  latens_mat *W = latens_mat_alloc(n, n);
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < a; b++) LATENS_MAT(W, a, b) = LATENS_MAT(W, b, a) = u01(&s);
  long par[6];
  size_t ord[6], seq[4] = {0};
  ck_assert_int_eq(latens_pc_max_spanning_tree(W, 2, par, ord), LATENS_OK);
  int best_adj[36], adj[36];
  double best = -1.0;
  for (size_t code = 0; code < 1296; code++) {
    for (size_t t = 0, c = code; t < 4; t++, c /= 6) seq[t] = c % 6;
    double w = prufer_tree(seq, n, W, adj);
    if (w > best) best = w, memcpy(best_adj, adj, sizeof adj);
  }
  int mismatch = 0;
  ck_assert_int_eq(par[2], -1);
  ck_assert_uint_eq(ord[0], 2);
  for (size_t j = 0; j < n; j++) {
    if (par[j] < 0) continue;
    mismatch += !best_adj[j * n + (size_t)par[j]];
  }
  ck_assert_int_eq(mismatch, 0);
  size_t pos[6]; /* the order puts every node after its parent */
  for (size_t t = 0; t < n; t++) pos[ord[t]] = t;
  for (size_t j = 0; j < n; j++)
    if (par[j] >= 0) mismatch += pos[par[j]] > pos[j];
  ck_assert_int_eq(mismatch, 0);
  latens_mat_free(W);
}
END_TEST

/* Oracle: brute force again, now over mutual information: the Chow-Liu tree that
 * latens_pc_cltree_fit builds from data over 6 variables has exactly the edges of the
 * heaviest of all 1296 spanning trees weighted by the MI of the same data (alpha 0.01 as the
 * fit uses). */
START_TEST(test_cltree_is_max_mi_tree) {
  const size_t n = 6, N = 500;
  uint64_t s = 17;
  latens_mat *X = random_binary(N, n, 0.45, &s), *MI = latens_mat_alloc(n, n);
  ck_assert_int_eq(latens_pc_mutual_info(X, 0.01, MI), LATENS_OK);
  latens_pc_hclt *c = NULL;
  ck_assert_int_eq(latens_pc_cltree_fit(X, 0.1, &c), LATENS_OK);
  int best_adj[36], adj[36], mismatch = 0;
  size_t seq[4];
  double best = -1.0;
  for (size_t code = 0; code < 1296; code++) {
    for (size_t t = 0, k = code; t < 4; t++, k /= 6) seq[t] = k % 6;
    double w = prufer_tree(seq, n, MI, adj);
    if (w > best) best = w, memcpy(best_adj, adj, sizeof adj);
  }
  for (size_t j = 0; j < n; j++)
    if (c->parent[j] >= 0) mismatch += !best_adj[j * n + (size_t)c->parent[j]];
  ck_assert_int_eq(mismatch, 0);
  latens_pc_hclt_free(c), latens_mat_free(X), latens_mat_free(MI);
}
END_TEST

/* Oracle: the generating tree.  Data from a tree-shaped Bayesian network over 8 binary
 * variables with strong edges (p(x_j = x_parent) = 0.85 or 0.15); Chow-Liu's theorem: with
 * 20,000 samples the MI of every true edge (>= 0.18 nats) is far above any non-edge's
 * (the data-processing inequality puts those at <= 0.06), so the tree is recovered exactly.
 * Its tables must then match the generating conditionals within 5 binomial sd. */
START_TEST(test_cltree_recovers_tree) {
  const size_t n = 8, N = 20000;
  const long truth[8] = {-1, 0, 0, 1, 1, 2, 5, 5};
  const double flip[8] = {0.4, 0.15, 0.85, 0.15, 0.85, 0.15, 0.15, 0.85}; /* root: p(x=1) */
  uint64_t s = 99;
  latens_mat *X = latens_mat_alloc(N, n);
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < n; j++) {
      double p = truth[j] < 0 ? flip[j] : (LATENS_MAT(X, i, truth[j]) == 1.0 ? 1.0 - flip[j] : flip[j]);
      LATENS_MAT(X, i, j) = u01(&s) < p ? 1.0 : 0.0;
    }
  latens_pc_hclt *c = NULL;
  ck_assert_int_eq(latens_pc_cltree_fit(X, 0.1, &c), LATENS_OK);
  int wrong = 0;
  double worst = 0.0;
  for (size_t j = 1; j < n; j++) { /* undirected edge set */
    long p = c->parent[j];
    int found = 0;
    for (size_t a = 1; a < n; a++)
      found |= (truth[a] == p && (long)a == (long)j) || (truth[a] == (long)j && (long)a == p);
    wrong += !found;
  }
  ck_assert_int_eq(wrong, 0);
  /* Rooted at 0 like the truth, so the parents agree and the conditionals are comparable:
   * p(x_j = 1 | x_p = 1) = 1 - flip, sd sqrt(pq / N_parent) with N_parent >= 0.3 N. */
  for (size_t j = 1; j < n; j++) {
    double est = c->trans[j * 4 + 1 + 2 * 1], want = 1.0 - flip[j];
    worst = fmax(worst, fabs(est - want) / sqrt(want * (1 - want) / (0.3 * N)));
  }
  ck_assert_double_le(worst, 5.0);
  ck_assert_int_eq(c->fixed_leaves, 1);
  latens_pc_hclt_free(c), latens_mat_free(X);
}
END_TEST

/* Oracle: the published anchor for a plain Chow-Liu tree on nltcs, -6.76 (see
 * /work/shared/notes/pc.md section 5; provenance "rough"), so a 1% band. */
START_TEST(test_cltree_nltcs) {
  latens_mat *tr = learn_read_debd("nltcs", "train"), *te = learn_read_debd("nltcs", "test");
  ck_assert_ptr_nonnull(tr);
  ck_assert_ptr_nonnull(te);
  latens_pc_hclt *c = NULL;
  double ll;
  ck_assert_int_eq(latens_pc_cltree_fit(tr, 0.1, &c), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_mean_loglik(c, te, &ll), LATENS_OK);
  ck_assert_double_le(fabs(ll - -6.76), 0.0676);
  latens_pc_hclt_free(c), latens_mat_free(tr), latens_mat_free(te);
}
END_TEST

Suite *learn_tree_suite(void) {
  Suite *s = suite_create("learn_tree");
  TCase *tc = tcase_create("tree");
  tcase_add_test(tc, test_mi_definition);
  tcase_add_test(tc, test_mi_rejects);
  tcase_add_test(tc, test_mst_brute_force);
  tcase_add_test(tc, test_cltree_is_max_mi_tree);
  tcase_add_test(tc, test_cltree_recovers_tree);
  tcase_add_test(tc, test_cltree_nltcs);
  suite_add_tcase(s, tc);
  return s;
}
