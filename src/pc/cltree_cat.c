/* pc/cltree_cat.c: the Chow-Liu tree of categorical data, as an HCLT whose latents copy the
 * observed variables (K = the largest category count, identity leaves). */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Row p[0..live) <- (c + alpha) / (sum c + live alpha), p[live..K) <- 0 (p with stride ps, c
 * with stride K); a row with no counts and alpha 0 becomes uniform over the live states. */
static void smoothed_row(double *p, size_t ps, const double *c, size_t live, size_t K,
                         double alpha) {
  double s = 0.0;
  for (size_t k = 0; k < live; k++) s += c[k * K] + alpha;
  for (size_t k = 0; k < K; k++)
    p[k * ps] = k >= live ? 0.0 : s > 0.0 ? (c[k * K] + alpha) / s : 1.0 / (double)live;
}

/* The smoothed conditional tables of the tree in h (M = 1) from the pair counts of X. */
static int clt_tables(latens_pc_hclt *h, const latens_mat *X, double alpha) {
  const size_t n = h->n, K = h->K, N = X->nrow;
  double *c = malloc(K * K * sizeof *c);
  if (!c) LATENS_ERROR("latens_pc_cltree_fit_cat: no memory", LATENS_ENOMEM);
  for (size_t j = 0; j < n; j++) {
    const long p = h->parent[j];
    const size_t nj = h->ncat[j], np = p < 0 ? 1 : h->ncat[p];
    memset(c, 0, K * K * sizeof *c);
    /* c[i + k K]: rows with x_parent = i and x_j = k (i = 0 at the root) */
    for (size_t r = 0; r < N; r++) {
      double x = LATENS_MAT(X, r, j), y = p < 0 ? 0.0 : LATENS_MAT(X, r, (size_t)p);
      if (!isnan(x) && !isnan(y)) c[(size_t)y + (size_t)x * K] += 1.0;
    }
    if (p < 0) smoothed_row(h->root, 1, c, nj, K, alpha);
    /* Parent states >= np are dead (zero probability); their rows only need to sum to 1. */
    for (size_t i = 0; p >= 0 && i < K; i++)
      smoothed_row(h->trans + j * K * K + i, K, c + i, nj, K, i < np ? alpha : 1.0);
    double *leaf = h->cat + h->catoff[j] * K;
    for (size_t k = 0; k < K; k++)
      for (size_t v = 0; v < nj; v++) leaf[k * nj + v] = v == (k < nj ? k : 0);
  }
  free(c);
  return LATENS_OK;
}

int latens_pc_cltree_fit_cat(const latens_mat *train, const size_t *ncat, double alpha,
                             latens_pc_hclt **out) {
  static const char fn[] = "latens_pc_cltree_fit_cat";
  if (!out) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL out", fn);
  *out = NULL;
  int st = latens_check_mat(fn, "train", train, LATENS_ANY, LATENS_ANY);
  if (st) return st;
  int binary = 1;
  for (size_t j = 0; ncat && j < train->ncol; j++) binary &= ncat[j] == 2;
  if (binary) return latens_pc_cltree_fit(train, alpha, out);
  if (train->nrow == 0 || train->ncol == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: empty train", fn);
  if (!(alpha >= 0.0) || !isfinite(alpha)) LATENS_ERRORF(LATENS_EDOM, "%s: alpha = %g", fn, alpha);
  const size_t n = train->ncol;
  size_t K = 2;
  for (size_t j = 0; j < n; j++) {
    if (ncat[j] < 2 || ncat[j] > ((size_t)1 << 12))
      LATENS_ERRORF(LATENS_EDOM, "%s: ncat[%zu] = %zu, need 2..4096 (the tree's tables are "
                    "max(ncat)^2 per edge)", fn, j, ncat[j]);
    K = ncat[j] > K ? ncat[j] : K;
  }
  if ((st = latens_pc_check_cat(fn, "train", train, n, ncat, 1))) return st;
  long *parent = malloc(n * sizeof *parent);
  latens_mat *MI = latens_mat_alloc(n, n);
  if (!parent || !MI) {
    free(parent), latens_mat_free(MI);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for n = %zu", fn, n);
  }
  /* The same light smoothing of the MI as the binary latens_pc_cltree_fit's tree. */
  st = latens_pc_mutual_info_cat(train, ncat, 0.01, MI);
  if (!st) st = latens_pc_max_spanning_tree(MI, 0, parent, NULL);
  latens_mat_free(MI);
  latens_pc_hclt *h = st ? NULL : latens_pc_hclt_alloc_cat(n, ncat, K, 1, parent);
  free(parent);
  if (st) return st;
  if (!h) return latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_ENOMEM;
  h->fixed_leaves = 1;
  if ((st = clt_tables(h, train, alpha))) return latens_pc_hclt_free(h), st;
  *out = h;
  return LATENS_OK;
}
