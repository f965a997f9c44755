/* tests/causal/score_suites.h: suites of the causal_score runner and their shared data
 * generators (linear SEMs with non-Gaussian noise from splitmix64, independent of the
 * library's own generators). */
#ifndef LATENS_TESTS_CAUSAL_SCORE_SUITES_H
#define LATENS_TESTS_CAUSAL_SCORE_SUITES_H
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <latens/latens.h>
#include "../testutil.h"

Suite *score_lingam_suite(void);
Suite *score_cumulant_suite(void);
Suite *score_notears_suite(void);
Suite *score_ges_suite(void);
Suite *score_bootstrap_suite(void);

/* A random DAG on p nodes in the causal order perm (a random permutation): each pair
 * (earlier, later) is an edge with probability prob, weight +-U(0.5, 1.5).  B[i + j p] is
 * the effect of j on i (LiNGAM convention).  Caller frees. */
static inline double *sg_random_dag(size_t p, double prob, uint64_t *s, size_t *perm) {
  double *B = calloc(p * p, sizeof *B);
  for (size_t i = 0; i < p; i++) perm[i] = i;
  for (size_t i = p; i > 1; i--) { /* Fisher-Yates */
    size_t k = (size_t)((test_unif(s) + 1.0) * 0.5 * (double)i);
    if (k >= i) k = i - 1;
    size_t t = perm[i - 1];
    perm[i - 1] = perm[k], perm[k] = t;
  }
  for (size_t a = 0; a < p; a++)
    for (size_t b = a + 1; b < p; b++)
      if ((test_unif(s) + 1.0) * 0.5 < prob) {
        double w = 0.5 + (test_unif(s) + 1.0) * 0.5;
        B[perm[b] + perm[a] * p] = test_unif(s) < 0 ? -w : w;
      }
  return B;
}

/* n samples of x = B x + e (B in the causal order perm), e uniform with unit variance
 * (non-Gaussian), into X (n x p, column-major). */
static inline double *sg_sem_data(const double *B, const size_t *perm, size_t p, size_t n,
                                  uint64_t *s) {
  double *X = malloc(n * p * sizeof *X);
  for (size_t t = 0; t < n; t++)
    for (size_t a = 0; a < p; a++) {
      size_t i = perm[a];
      double v = sqrt(3.0) * test_unif(s);
      for (size_t b = 0; b < a; b++) v += B[i + perm[b] * p] * X[t + perm[b] * n];
      X[t + i * n] = v;
    }
  return X;
}

static inline latens_causal_data *sg_data(double *X, size_t n, size_t p) {
  latens_mat m = latens_mat_view(X, n, p, n);
  latens_causal_data *d = NULL;
  if (latens_causal_data_alloc(&m, NULL, 0, &d) != LATENS_OK) return NULL;
  return d;
}

/* F1 of the directed edges of est (B-like, nonzero = edge j --> i) against truth. */
static inline double sg_f1(const double *truth, const double *est, size_t p) {
  size_t tp = 0, fp = 0, fn = 0;
  for (size_t k = 0; k < p * p; k++) {
    int t = truth[k] != 0, e = est[k] != 0;
    tp += t && e, fp += !t && e, fn += t && !e;
  }
  return tp == 0 ? (fp + fn == 0 ? 1.0 : 0.0) : 2.0 * tp / (2.0 * tp + fp + fn);
}
#endif
