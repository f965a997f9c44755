/* pc/mi.c: mutual information of binary columns and maximum spanning trees (Chow-Liu). */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <latens/pc_learn.h>

int latens_pc_check_binary(const char *fn, const char *name, const latens_mat *X, size_t ncol,
                           int allow_nan) {
  int st = latens_check_mat(fn, name, X, LATENS_ANY, ncol);
  if (st) return st;
  /* Anything but 0/1 would silently count as a third state of a Bernoulli leaf. */
  for (size_t j = 0; j < X->ncol; j++)
    for (size_t i = 0; i < X->nrow; i++) {
      double v = LATENS_MAT(X, i, j);
      if (v != 0.0 && v != 1.0 && !(allow_nan && isnan(v)))
        LATENS_ERRORF(LATENS_EDOM, "%s: %s[%zu,%zu] = %g is not 0 or 1%s", fn, name, i, j, v,
                      allow_nan ? " (or NaN for missing)" : "");
    }
  return LATENS_OK;
}

int latens_pc_check_cat(const char *fn, const char *name, const latens_mat *X, size_t ncol,
                        const size_t *ncat, int allow_nan) {
  if (!ncat) return latens_pc_check_binary(fn, name, X, ncol, allow_nan);
  int st = latens_check_mat(fn, name, X, LATENS_ANY, ncol);
  if (st) return st;
  /* A code out of range would index past its leaf table. */
  for (size_t j = 0; j < X->ncol; j++)
    for (size_t i = 0; i < X->nrow; i++) {
      double v = LATENS_MAT(X, i, j);
      if (isnan(v) ? allow_nan : v >= 0.0 && v < (double)ncat[j] && v == floor(v)) continue;
      LATENS_ERRORF(LATENS_EDOM, "%s: %s[%zu,%zu] = %g is not a category 0..%zu of column %zu%s",
                    fn, name, i, j, v, ncat[j] - 1, j, allow_nan ? " (or NaN for missing)" : "");
    }
  return LATENS_OK;
}

int latens_pc_hclt_check_data(const char *fn, const char *name, const latens_mat *X,
                              const latens_pc_hclt *h) {
  return latens_pc_check_cat(fn, name, X, h->n, h->ncat, 1);
}

static double xlogx_ratio(double p, double q) { return p > 0.0 ? p * log(p / q) : 0.0; }

/* MI of one pair from its 2 x 2 counts (n11, n1., n.1, total) smoothed by alpha per cell. */
static double pair_mi(double n11, double n1j, double n1k, double tot0, double alpha) {
  double n10 = n1j - n11, n01 = n1k - n11, n00 = tot0 - n11 - n10 - n01, tot = tot0 + 4.0 * alpha;
  if (!(tot > 0.0)) return 0.0;
  double p11 = (n11 + alpha) / tot, p10 = (n10 + alpha) / tot, p01 = (n01 + alpha) / tot,
         p00 = (n00 + alpha) / tot;
  double pj1 = p11 + p10, pk1 = p11 + p01, pj0 = 1.0 - pj1, pk0 = 1.0 - pk1;
  double mi = xlogx_ratio(p11, pj1 * pk1) + xlogx_ratio(p10, pj1 * pk0) +
              xlogx_ratio(p01, pj0 * pk1) + xlogx_ratio(p00, pj0 * pk0);
  return mi < 0.0 ? 0.0 : mi; /* rounding of an exactly independent pair */
}

int latens_pc_mutual_info(const latens_mat *X, double alpha, latens_mat *MI) {
  static const char fn[] = "latens_pc_mutual_info";
  int st = latens_check_mat(fn, "X", X, LATENS_ANY, LATENS_ANY);
  if (st) return st;
  if (X->nrow == 0 || X->ncol == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: X is %zu x %zu, need at least one row and column", fn,
                  X->nrow, X->ncol);
  if ((st = latens_check_mat(fn, "MI", MI, X->ncol, X->ncol))) return st;
  if (!(alpha >= 0.0) || !isfinite(alpha))
    LATENS_ERRORF(LATENS_EDOM, "%s: alpha = %g must be finite and >= 0", fn, alpha);
  if ((st = latens_pc_check_binary(fn, "X", X, LATENS_ANY, 1))) return st;
  const size_t N = X->nrow, n = X->ncol;
  int missing = !latens_mat_all_finite(X);
  /* X0: NaN -> 0; O: observed mask.  Complete data needs only X^T X (the (1,1) counts of
   * every pair, one BLAS product) and column sums; with missing values each pair is counted
   * over the rows observing both (X0^T O and O^T O). */
  double *X0 = missing ? malloc(N * n * sizeof *X0) : NULL, *O = missing ? malloc(N * n * sizeof *O) : NULL;
  double *C1 = missing ? malloc(n * n * sizeof *C1) : NULL, *NO = missing ? malloc(n * n * sizeof *NO) : NULL;
  double *c1 = calloc(n, sizeof *c1);
  if (!c1 || (missing && (!X0 || !O || !C1 || !NO))) {
    free(X0), free(O), free(C1), free(NO), free(c1);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for n = %zu", fn, n);
  }
  const double *A = X->data;
  size_t lda = X->ld;
  if (missing) {
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < N; i++) {
        double v = LATENS_MAT(X, i, j);
        X0[i + j * N] = isnan(v) ? 0.0 : v, O[i + j * N] = !isnan(v);
      }
    A = X0, lda = N;
    latens_dense_mm(1, 0, n, n, N, 1.0, X0, N, O, N, 0.0, C1, n);
    latens_dense_mm(1, 0, n, n, N, 1.0, O, N, O, N, 0.0, NO, n);
  }
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < N; i++) c1[j] += A[i + j * lda];
  latens_dense_mm(1, 0, n, n, N, 1.0, A, lda, A, lda, 0.0, MI->data, MI->ld);
  for (size_t j = 0; j < n; j++)
    for (size_t k = j; k < n; k++) {
      double mi;
      if (j == k) { /* entropy of the column */
        double tot = (missing ? NO[j + j * n] : (double)N) + 2.0 * alpha;
        double p1 = tot > 0.0 ? (c1[j] + alpha) / tot : 0.5, p0 = 1.0 - p1;
        mi = -(p1 > 0 ? p1 * log(p1) : 0.0) - (p0 > 0 ? p0 * log(p0) : 0.0);
      } else if (missing) {
        mi = pair_mi(LATENS_MAT(MI, j, k), C1[j + k * n], C1[k + j * n], NO[j + k * n], alpha);
      } else {
        mi = pair_mi(LATENS_MAT(MI, j, k), c1[j], c1[k], (double)N, alpha);
      }
      LATENS_MAT(MI, j, k) = mi, LATENS_MAT(MI, k, j) = mi;
    }
  free(X0), free(O), free(C1), free(NO), free(c1);
  return LATENS_OK;
}

/* MI of columns j, k from their joint counts T (a x b, over rows observing both), smoothed
 * with alpha per cell. */
static double table_mi(const double *T, size_t a, size_t b, double alpha, double *ra, double *rb) {
  double tot = 0.0, mi = 0.0;
  for (size_t u = 0; u < a; u++) ra[u] = 0.0;
  for (size_t v = 0; v < b; v++) rb[v] = 0.0;
  for (size_t v = 0; v < b; v++)
    for (size_t u = 0; u < a; u++) {
      double c = T[u + v * a] + alpha;
      ra[u] += c, rb[v] += c, tot += c;
    }
  if (!(tot > 0.0)) return 0.0;
  for (size_t v = 0; v < b; v++)
    for (size_t u = 0; u < a; u++)
      mi += xlogx_ratio((T[u + v * a] + alpha) / tot, ra[u] * rb[v] / (tot * tot));
  return mi < 0.0 ? 0.0 : mi;
}

static double column_entropy(const latens_mat *X, size_t j, size_t nc, double alpha, double *cnt) {
  double tot = 0.0, h = 0.0;
  for (size_t v = 0; v < nc; v++) cnt[v] = alpha;
  for (size_t i = 0; i < X->nrow; i++) {
    double x = LATENS_MAT(X, i, j);
    if (!isnan(x)) cnt[(size_t)x] += 1.0;
  }
  for (size_t v = 0; v < nc; v++) tot += cnt[v];
  for (size_t v = 0; v < nc && tot > 0.0; v++) h -= cnt[v] > 0.0 ? cnt[v] / tot * log(cnt[v] / tot) : 0.0;
  return h;
}

int latens_pc_mutual_info_cat(const latens_mat *X, const size_t *ncat, double alpha,
                              latens_mat *MI) {
  static const char fn[] = "latens_pc_mutual_info_cat";
  if (!ncat) return latens_pc_mutual_info(X, alpha, MI);
  int st = latens_check_mat(fn, "X", X, LATENS_ANY, LATENS_ANY);
  if (st) return st;
  if (X->nrow == 0 || X->ncol == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: X is %zu x %zu, need at least one row and column", fn,
                  X->nrow, X->ncol);
  if ((st = latens_check_mat(fn, "MI", MI, X->ncol, X->ncol))) return st;
  if (!(alpha >= 0.0) || !isfinite(alpha))
    LATENS_ERRORF(LATENS_EDOM, "%s: alpha = %g must be finite and >= 0", fn, alpha);
  if ((st = latens_pc_check_cat(fn, "X", X, LATENS_ANY, ncat, 1))) return st;
  const size_t n = X->ncol, N = X->nrow;
  size_t mc = 2;
  for (size_t j = 0; j < n; j++) mc = ncat[j] > mc ? ncat[j] : mc;
  double *T = malloc(mc * mc * sizeof *T), *ra = malloc(mc * sizeof *ra), *rb = malloc(mc * sizeof *rb);
  if (!T || !ra || !rb) {
    free(T), free(ra), free(rb);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for %zu x %zu tables", fn, mc, mc);
  }
  /* One pass over the rows per pair: O(N n^2) plus the tables, fine for the category counts
   * of tabular data (the binary case keeps its one-GEMM path). */
  for (size_t j = 0; j < n; j++) {
    LATENS_MAT(MI, j, j) = column_entropy(X, j, ncat[j], alpha, ra);
    for (size_t k = j + 1; k < n; k++) {
      const size_t a = ncat[j], b = ncat[k];
      memset(T, 0, a * b * sizeof *T);
      const double *xj = X->data + j * X->ld, *xk = X->data + k * X->ld;
      for (size_t i = 0; i < N; i++)
        if (!isnan(xj[i]) && !isnan(xk[i])) T[(size_t)xj[i] + (size_t)xk[i] * a] += 1.0;
      double mi = table_mi(T, a, b, alpha, ra, rb);
      LATENS_MAT(MI, j, k) = mi, LATENS_MAT(MI, k, j) = mi;
    }
  }
  free(T), free(ra), free(rb);
  return LATENS_OK;
}

int latens_pc_max_spanning_tree(const latens_mat *W, size_t root, long *parent, size_t *order) {
  static const char fn[] = "latens_pc_max_spanning_tree";
  int st = latens_check_square(fn, "W", W);
  if (st) return st;
  const size_t n = W->nrow;
  if (n == 0 || !parent) LATENS_ERRORF(LATENS_EINVAL, "%s: empty W or NULL parent", fn);
  if (root >= n) LATENS_ERRORF(LATENS_EDOM, "%s: root %zu >= n = %zu", fn, root, n);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++)
      if (i != j && !isfinite(LATENS_MAT(W, i, j)))
        LATENS_ERRORF(LATENS_ENOTFINITE, "%s: W[%zu,%zu] = %g", fn, i, j, LATENS_MAT(W, i, j));
  double *best = malloc(n * sizeof *best);
  char *in = calloc(n, 1);
  if (!best || !in) {
    free(best), free(in);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for n = %zu", fn, n);
  }
  for (size_t j = 0; j < n; j++) best[j] = -INFINITY, parent[j] = -1;
  best[root] = INFINITY;
  for (size_t t = 0; t < n; t++) { /* Prim: add the outside node with the heaviest link */
    size_t u = n;
    for (size_t j = 0; j < n; j++)
      if (!in[j] && (u == n || best[j] > best[u])) u = j;
    in[u] = 1;
    for (size_t j = 0; j < n; j++)
      if (!in[j] && LATENS_MAT(W, u, j) > best[j]) best[j] = LATENS_MAT(W, u, j), parent[j] = (long)u;
  }
  /* A node that never beat -Inf (impossible with finite weights) would stay unattached. */
  if (order) {
    size_t head = 0, tail = 0;
    order[tail++] = root;
    while (head < tail) {
      size_t u = order[head++];
      for (size_t j = 0; j < n; j++)
        if (parent[j] == (long)u) order[tail++] = j;
    }
  }
  free(best), free(in);
  return LATENS_OK;
}
