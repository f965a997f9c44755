/* pc/lvd.c: latent variable distillation (Liu et al., ICML 2023): tables from supervised
 * latent assignments, and a built-in teacher that needs no neural network; binary or
 * categorical HCLTs. */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Count w of observed value x at node j, state k, of component m (binary or categorical). */
static void leaf_count(const latens_pc_hclt *h, latens_pc_hclt_counts *c, size_t m, size_t j,
                       size_t k, double x, double w) {
  const size_t K = h->K, node = m * h->n + j;
  if (h->ncat) {
    c->cat[(m * h->catoff[h->n] + h->catoff[j]) * K + k * h->ncat[j] + (size_t)x] += w;
    return;
  }
  c->leafn[node * K + k] += w, c->leaf1[node * K + k] += w * x;
}

/* State of Z column c in row i: -1 when unknown (NaN), -2 when not a state in [0, K). */
static long zstate(const latens_mat *Z, size_t i, size_t c, size_t K) {
  double v = LATENS_MAT(Z, i, c);
  if (isnan(v)) return -1;
  return v >= 0.0 && v < (double)K && v == floor(v) ? (long)v : -2;
}

int latens_pc_hclt_fit_latents(latens_pc_hclt *h, const latens_mat *X, const latens_mat *Z,
                               double pseudocount) {
  static const char fn[] = "latens_pc_hclt_fit_latents";
  if (!h) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL model", fn);
  int st = latens_pc_check_cat(fn, "X", X, h->n, h->ncat, 1);
  if (st) return st;
  const size_t n = h->n, K = h->K, M = h->M, N = X->nrow;
  if ((st = latens_check_mat(fn, "Z", Z, N, M * n))) return st;
  for (size_t c = 0; c < M * n; c++)
    for (size_t i = 0; i < N; i++)
      if (zstate(Z, i, c, K) == -2)
        LATENS_ERRORF(LATENS_EDOM, "%s: Z[%zu,%zu] = %g is not a state in 0..%zu (or NaN)", fn, i,
                      c, LATENS_MAT(Z, i, c), K - 1);
  latens_pc_hclt_counts *cnt = latens_pc_hclt_counts_alloc(h);
  if (!cnt) return LATENS_ENOMEM;
  /* Hard assignments make the complete-data likelihood factorise over the tables, so the
   * counts of (z_parent, z_j) and (z_j, x_j) are the sufficient statistics. */
  for (size_t m = 0; m < M; m++) {
    cnt->mix[m] = 1.0;
    for (size_t j = 0; j < n; j++) {
      long p = h->parent[m * n + j];
      size_t node = m * n + j;
      for (size_t i = 0; i < N; i++) {
        long z = zstate(Z, i, node, K);
        if (z < 0) continue;
        double x = LATENS_MAT(X, i, j);
        if (!isnan(x)) leaf_count(h, cnt, m, j, (size_t)z, x, 1.0);
        if (p < 0) { cnt->root[m * K + (size_t)z] += 1.0; continue; }
        long zp = zstate(Z, i, m * n + (size_t)p, K);
        if (zp >= 0) cnt->trans[node * K * K + (size_t)zp + (size_t)z * K] += 1.0;
      }
    }
  }
  st = latens_pc_hclt_mstep(h, cnt, pseudocount, 1.0);
  latens_pc_hclt_counts_free(cnt);
  return st;
}

int latens_pc_hclt_fit_soft(latens_pc_hclt *h, const latens_mat *X, const latens_mat *R,
                           double pseudocount) {
  static const char fn[] = "latens_pc_hclt_fit_soft";
  if (!h) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL model", fn);
  int st = latens_pc_check_cat(fn, "X", X, h->n, h->ncat, 1);
  if (st) return st;
  const size_t n = h->n, K = h->K, M = h->M, N = X->nrow;
  if ((st = latens_check_mat(fn, "R", R, N, M * n * K))) return st;
  for (size_t c = 0; c < M * n * K; c++)
    for (size_t i = 0; i < N; i++)
      if (!(LATENS_MAT(R, i, c) >= 0.0) || !isfinite(LATENS_MAT(R, i, c)))
        LATENS_ERRORF(LATENS_EDOM, "%s: R[%zu,%zu] = %g is not a probability", fn, i, c,
                      LATENS_MAT(R, i, c));
  latens_pc_hclt_counts *cnt = latens_pc_hclt_counts_alloc(h);
  if (!cnt) return LATENS_ENOMEM;
  /* Expected complete-data counts with the pair (z_parent, z_j) taken as independent given
   * the sample, q_p(i) q_j(k): exact for one-hot responsibilities. */
  for (size_t m = 0; m < M; m++) {
    cnt->mix[m] = 1.0;
    for (size_t j = 0; j < n; j++) {
      size_t node = m * n + j;
      long p = h->parent[node];
      for (size_t i = 0; i < N; i++) {
        double x = LATENS_MAT(X, i, j);
        for (size_t k = 0; k < K; k++) {
          double q = LATENS_MAT(R, i, node * K + k);
          if (!isnan(x)) leaf_count(h, cnt, m, j, k, x, q);
          if (p < 0) { cnt->root[m * K + k] += q; continue; }
          for (size_t a = 0; a < K; a++)
            cnt->trans[node * K * K + a + k * K] += q * LATENS_MAT(R, i, (m * n + (size_t)p) * K + a);
        }
      }
    }
  }
  st = latens_pc_hclt_mstep(h, cnt, pseudocount, 1.0);
  latens_pc_hclt_counts_free(cnt);
  return st;
}

int latens_pc_hclt_fit_latents_file(latens_pc_hclt *h, const latens_mat *X, const char *path,
                                    double pseudocount) {
  if (!h || !path) LATENS_ERROR("latens_pc_hclt_fit_latents_file: NULL argument", LATENS_EINVAL);
  latens_table_options o;
  latens_table_options_default(&o);
  latens_table *t = NULL;
  int st = latens_table_read_numeric(path, &o, &t);
  if (st) return st;
  const latens_mat *Z = latens_table_data(t);
  size_t cols = Z->ncol, hard = h->M * h->n;
  if (X && Z->nrow != X->nrow) {
    latens_table_free(t);
    LATENS_ERRORF(LATENS_EBADLEN, "%s: %zu rows of assignments, %zu rows of data", path,
                  Z->nrow, X->nrow);
  }
  if (cols == hard) st = latens_pc_hclt_fit_latents(h, X, Z, pseudocount);
  else if (cols == hard * h->K) st = latens_pc_hclt_fit_soft(h, X, Z, pseudocount);
  else {
    latens_table_free(t);
    LATENS_ERRORF(LATENS_EBADLEN, "%s: %zu columns; need M n = %zu (states) or M n K = %zu "
                  "(responsibilities)", path, cols, hard, hard * h->K);
  }
  latens_table_free(t);
  return st;
}

/* k-means on the rows of F (N x d, column-major) into K clusters; labels out. */
static void kmeans(const double *F, size_t N, size_t d, size_t K, size_t iters, latens_rng *rng,
                   double *cent, double *dist, size_t *lab, double *cnt) {
  /* k-means++ seeding: each new centre drawn with probability proportional to D^2 */
  size_t first = (size_t)(latens_rng_uniform(rng) * (double)N);
  for (size_t t = 0; t < d; t++) cent[t * K] = F[(first < N ? first : N - 1) + t * N];
  for (size_t i = 0; i < N; i++) dist[i] = INFINITY;
  for (size_t c = 1; c <= K; c++) {
    double tot = 0.0;
    for (size_t i = 0; i < N; i++) {
      double e = 0.0;
      for (size_t t = 0; t < d; t++) e += (F[i + t * N] - cent[c - 1 + t * K]) * (F[i + t * N] - cent[c - 1 + t * K]);
      dist[i] = e < dist[i] ? e : dist[i], tot += dist[i];
    }
    if (c == K) break;
    double u = latens_rng_uniform(rng) * tot, acc = 0.0;
    size_t pick = N - 1;
    for (size_t i = 0; i < N; i++)
      if ((acc += dist[i]) >= u && dist[i] > 0.0) { pick = i; break; }
    for (size_t t = 0; t < d; t++) cent[c + t * K] = F[pick + t * N];
  }
  for (size_t it = 0; it <= iters; it++) {
    for (size_t i = 0; i < N; i++) { /* assign */
      double best = INFINITY;
      for (size_t c = 0; c < K; c++) {
        double e = 0.0;
        for (size_t t = 0; t < d; t++) e += (F[i + t * N] - cent[c + t * K]) * (F[i + t * N] - cent[c + t * K]);
        if (e < best) best = e, lab[i] = c;
      }
    }
    if (it == iters) break;
    memset(cnt, 0, K * sizeof *cnt);
    memset(cent, 0, K * d * sizeof *cent);
    for (size_t i = 0; i < N; i++) {
      cnt[lab[i]] += 1.0;
      for (size_t t = 0; t < d; t++) cent[lab[i] + t * K] += F[i + t * N];
    }
    for (size_t c = 0; c < K; c++)
      for (size_t t = 0; t < d; t++)
        cent[c + t * K] = cnt[c] > 0 ? cent[c + t * K] / cnt[c] : F[(c * 7919) % N + t * N];
  }
}

/* Features of the neighbourhood nb[0..d) of node j into F (N rows, column-major); returns the
 * number of columns.  x_j weighs double: the latent above it should explain it first.
 * Binary: the values (NaN counts as 0.5); categorical: one-hot codes (NaN: 1/ncat each), so
 * no order is imposed on the categories. */
static size_t features(const latens_pc_hclt *h, const latens_mat *X, size_t j, const size_t *nb,
                       size_t d, double *F) {
  const size_t N = X->nrow;
  size_t col = 0;
  for (size_t t = 0; t < d; t++) {
    const double w = nb[t] == j ? 2.0 : 1.0;
    const size_t nc = h->ncat ? h->ncat[nb[t]] : 0;
    for (size_t c = 0; c < (nc ? nc : 1); c++, col++)
      for (size_t i = 0; i < N; i++) {
        double x = LATENS_MAT(X, i, nb[t]);
        if (!nc) F[i + col * N] = (isnan(x) ? 0.5 : x) * w;
        else F[i + col * N] = (isnan(x) ? 1.0 / (double)nc : (double)(x == (double)c)) * w;
      }
  }
  return col;
}

/* The most feature columns of any node's neighbourhood (sizes the k-means buffers, which
 * would otherwise grow with every category of every variable). */
static size_t widest_neighbourhood(const latens_pc_hclt *h) {
  size_t best = 1;
  for (size_t m = 0; m < h->M; m++)
    for (size_t j = 0; j < h->n; j++) {
      const long *par = h->parent + m * h->n;
      size_t d = 0;
      for (size_t v = 0; v < h->n; v++)
        if (v == j || par[j] == (long)v || par[v] == (long)j) d += h->ncat ? h->ncat[v] : 1;
      best = d > best ? d : best;
    }
  return best;
}

int latens_pc_hclt_teacher_kmeans(const latens_pc_hclt *h, const latens_mat *X, size_t iters,
                                  latens_rng *rng, latens_mat *Z) {
  static const char fn[] = "latens_pc_hclt_teacher_kmeans";
  if (!h || !rng) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL model or rng", fn);
  int st = latens_pc_check_cat(fn, "X", X, h->n, h->ncat, 1);
  if (st) return st;
  const size_t n = h->n, K = h->K, N = X->nrow, dmax = widest_neighbourhood(h);
  if ((st = latens_check_mat(fn, "Z", Z, N, h->M * n))) return st;
  if (N == 0) return LATENS_OK;
  if (!latens_mul_size(latens_mul_size(N, dmax), sizeof(double)))
    LATENS_ERRORF(LATENS_ENOMEM, "%s: %zu rows x %zu features overflow", fn, N, dmax);
  double *F = malloc(N * dmax * sizeof *F), *cent = malloc(K * dmax * sizeof *cent);
  double *dist = malloc(N * sizeof *dist), *cnt = malloc(K * sizeof *cnt);
  size_t *lab = malloc(N * sizeof *lab), *nb = malloc(n * sizeof *nb);
  if (!F || !cent || !dist || !cnt || !lab || !nb) {
    free(F), free(cent), free(dist), free(cnt), free(lab), free(nb);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for %zu rows x %zu features", fn, N, dmax);
  }
  for (size_t m = 0; m < h->M; m++)
    for (size_t j = 0; j < n; j++) {
      /* The neighbourhood: j, its parent and its children in component m's tree. */
      size_t d = 0;
      const long *par = h->parent + m * n;
      for (size_t v = 0; v < n; v++)
        if (v == j || par[j] == (long)v || par[v] == (long)j) nb[d++] = v;
      size_t dims = features(h, X, j, nb, d, F);
      latens_rng sub;
      latens_rng_split(&sub, rng, m * n + j);
      kmeans(F, N, dims, K, iters, &sub, cent, dist, lab, cnt);
      for (size_t i = 0; i < N; i++) LATENS_MAT(Z, i, m * n + j) = (double)lab[i];
    }
  free(F), free(cent), free(dist), free(cnt), free(lab), free(nb);
  return LATENS_OK;
}
