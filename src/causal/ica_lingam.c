/* causal/ica_lingam.c: ICA-LiNGAM (Shimizu, Hoyer, Hyvarinen & Kerminen, JMLR 2006) on
 * FastICA, with the permutation and causal-order steps of the lingam package. */
#include "score_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Minimum-cost assignment of rows to columns for the p x p cost C (column-major): the
 * Hungarian algorithm with potentials, O(p^3).  col_of_row[i] = the column given to row i. */
static int hungarian(const double *C, size_t p, size_t *col_of_row) {
  const size_t m = p + 1;
  double *u = calloc(m, sizeof *u), *v = calloc(m, sizeof *v), *minv = malloc(m * sizeof *minv);
  size_t *pr = calloc(m, sizeof *pr), *way = calloc(m, sizeof *way);
  unsigned char *used = malloc(m);
  if (!u || !v || !minv || !pr || !way || !used) {
    free(u), free(v), free(minv), free(pr), free(way), free(used);
    return LATENS_ENOMEM;
  }
  /* 1-based rows/columns; pr[j] = row matched to column j (0: none) */
  for (size_t i = 1; i <= p; i++) {
    pr[0] = i;
    size_t j0 = 0;
    for (size_t j = 0; j < m; j++) minv[j] = INFINITY, used[j] = 0;
    do {
      used[j0] = 1;
      const size_t i0 = pr[j0];
      double delta = INFINITY;
      size_t j1 = 0;
      for (size_t j = 1; j <= p; j++) {
        if (used[j]) continue;
        const double cur = C[(i0 - 1) + (j - 1) * p] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (size_t j = 0; j <= p; j++) {
        if (used[j]) u[pr[j]] += delta, v[j] -= delta;
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (pr[j0] != 0);
    do {
      const size_t j1 = way[j0];
      pr[j0] = pr[j1];
      j0 = j1;
    } while (j0);
  }
  for (size_t j = 1; j <= p; j++) col_of_row[pr[j] - 1] = j - 1;
  free(u), free(v), free(minv), free(pr), free(way), free(used);
  return LATENS_OK;
}

/* A causal order for which B (p x p, entries zeroed in place) is strictly lower triangular:
 * repeatedly take a node whose row has no non-zero among the remaining columns.  1 if found. */
static int order_from_B(const double *B, size_t p, size_t *order, unsigned char *gone) {
  memset(gone, 0, p);
  for (size_t pos = 0; pos < p; pos++) {
    size_t x = p;
    for (size_t i = 0; i < p && x == p; i++) {
      if (gone[i]) continue;
      int ok = 1;
      for (size_t j = 0; j < p && ok; j++)
        if (!gone[j] && j != i && B[i + j * p] != 0) ok = 0;
      if (ok) x = i;
    }
    if (x == p) return 0;
    order[pos] = x, gone[x] = 1;
  }
  return 1;
}

static int cmp_abs(const void *a, const void *b, void *ctx) {
  const double *B = ctx;
  const double x = fabs(B[*(const size_t *)a]), y = fabs(B[*(const size_t *)b]);
  if (x != y) return x < y ? -1 : 1;
  return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* lingam's _estimate_causal_order: zero the p(p+1)/2 smallest |B|, then one more at a time
 * until the remaining pattern is acyclic. */
static void order_by_zeroing(double *B, size_t p, size_t *order, size_t *idx, unsigned char *gone) {
  const size_t pp = p * p;
  for (size_t k = 0; k < pp; k++) idx[k] = k;
  qsort_r(idx, pp, sizeof *idx, cmp_abs, B);
  size_t k = 0;
  for (; k < p * (p + 1) / 2 && k < pp; k++) B[idx[k]] = 0.0;
  while (!order_from_B(B, p, order, gone) && k < pp) B[idx[k++]] = 0.0;
}

int latens_causal_ica_lingam(const latens_causal_data *d, const latens_causal_lingam_options *opt,
                             latens_rng *rng, size_t *order, double *B, latens_causal_graph **out) {
  static const char fn[] = "latens_causal_ica_lingam";
  latens_causal_lingam_options o;
  const double *X;
  size_t n, p, ldx;
  int status = cs_lingam_begin(fn, d, opt, &o, out, &X, &n, &p, &ldx);
  if (status != LATENS_OK) return status;
  const size_t pp = p * p;
  double *W = malloc(pp * sizeof *W), *C = malloc(pp * sizeof *C), *Bw = malloc(pp * sizeof *Bw);
  size_t *perm = malloc(p * sizeof *perm), *ord = malloc(p * sizeof *ord), *idx = malloc(pp * sizeof *idx);
  unsigned char *gone = malloc(p);
  if (!W || !C || !Bw || !perm || !ord || !idx || !gone) {
    status = LATENS_ENOMEM;
    latens_errorf(__FILE__, __LINE__, status, "%s: no memory for p = %zu", fn, p);
  }
  if (status == LATENS_OK) status = cs_fastica(X, n, p, ldx, &o, rng, W, NULL, 0);
  if (status == LATENS_EMAXITER) status = LATENS_OK; /* the last iterate is still usable */
  if (status == LATENS_OK) {
    /* row i of W goes to position perm[i] so that the diagonal is large: cost 1/|w| */
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++)
        C[i + j * p] = fabs(W[i + j * p]) > 1e-300 ? 1.0 / fabs(W[i + j * p]) : 1e300;
    status = hungarian(C, p, perm);
    if (status != LATENS_OK)
      latens_errorf(__FILE__, __LINE__, status, "%s: no memory for the assignment", fn);
  }
  if (status == LATENS_OK) {
    for (size_t i = 0; i < p; i++) /* C = P W with unit diagonal; B = I - C */
      for (size_t j = 0; j < p; j++) C[perm[i] + j * p] = W[i + j * p] / W[i + perm[i] * p];
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < p; i++) Bw[i + j * p] = (i == j ? 1.0 : 0.0) - C[i + j * p];
    order_by_zeroing(Bw, p, ord, idx, gone);
    status = cs_lingam_finish(fn, d, X, n, p, ldx, ord, o.prune_alpha, B, out);
  }
  if (status == LATENS_OK && order) memcpy(order, ord, p * sizeof *ord);
  free(W), free(C), free(Bw), free(perm), free(ord), free(idx), free(gone);
  return status;
}
