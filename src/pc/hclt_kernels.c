/* pc/hclt_kernels.c: the upward and downward passes of a mixture of HCLTs over a chunk of
 * samples.  Each tree edge is a dense K x K sum block evaluated as max-shift, exp, GEMM, log
 * (the "log-einsum-exp" of Peharz et al. 2020); the downward pass computes the circuit's flows
 * (posteriors of the latents) with two more GEMMs per edge, so an EM step costs about three
 * forward passes. */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* libmvec's vector exp/log for the `omp simd` loops below, as in core/logspace_kernels.c
 * (GCC announces the variants only under -ffast-math, which latens refuses). */
#pragma omp declare simd notinbranch
extern double exp(double);
#pragma omp declare simd notinbranch
extern double log(double);

latens_pc_hclt_ws *latens_pc_hclt_ws_alloc(const latens_pc_hclt *h, size_t rows) {
  const size_t K = h->K, nodes = h->M * h->n;
  latens_pc_hclt_ws *w = calloc(1, sizeof *w);
  if (!w) LATENS_ERROR_NULL("latens_pc_hclt: no memory for a workspace", LATENS_ENOMEM);
  size_t blk = latens_mul_size(rows, K), all = latens_mul_size(nodes, blk);
  w->rows = rows;
  w->E = all ? malloc(all * sizeof(double)) : NULL;
  w->Mx = all ? malloc(all * sizeof(double)) : NULL;
  w->s = malloc(rows * sizeof(double));
  w->tmp = malloc((blk > K * K ? blk : K * K) * sizeof(double));
  w->llm = malloc(latens_mul_size(h->M, rows) * sizeof(double));
  w->sc = malloc(latens_mul_size(h->n, rows) * sizeof(double));
  w->logl1 = malloc(nodes * K * sizeof(double));
  w->logl0 = malloc(nodes * K * sizeof(double));
  w->logcat = h->ncat ? malloc(h->M * h->catoff[h->n] * K * sizeof(double)) : NULL;
  w->lf = malloc(nodes * K * sizeof(double));
  w->a1 = malloc(nodes * K * sizeof(double));
  w->a0 = malloc(nodes * K * sizeof(double));
  if (!w->E || !w->Mx || !w->s || !w->tmp || !w->llm || !w->sc || !w->logl1 || !w->logl0 ||
      (h->ncat && !w->logcat) || !w->lf || !w->a1 || !w->a0) {
    latens_pc_hclt_ws_free(w);
    LATENS_ERROR_NULL("latens_pc_hclt: no memory for a workspace", LATENS_ENOMEM);
  }
  latens_pc_hclt_ws_leaves(w, h, 1.0);
  return w;
}

void latens_pc_hclt_ws_free(latens_pc_hclt_ws *w) {
  if (!w) return;
  free(w->E), free(w->Mx), free(w->s), free(w->tmp), free(w->llm), free(w->sc), free(w->logl1), free(w->logl0);
  free(w->logcat), free(w->lf), free(w->a1), free(w->a0), free(w);
}

void latens_pc_hclt_ws_leaves(latens_pc_hclt_ws *w, const latens_pc_hclt *h, double beta) {
  const size_t len = h->M * h->n * h->K;
  w->beta = beta;
  for (size_t t = 0; t < len; t++) {
    double l = h->leaf[t], f = beta == 1.0 ? l : beta * l + (1.0 - beta) * (1.0 - l);
    w->lf[t] = f;
    /* posterior share of x = 1 behind an observed 1 (weight beta) and an observed 0 */
    w->a1[t] = f > 0.0 ? beta * l / f : 0.0;
    w->a0[t] = f < 1.0 ? (1.0 - beta) * l / (1.0 - f) : 0.0;
    w->logl1[t] = log(f), w->logl0[t] = log1p(-f);
  }
  const size_t clen = h->ncat ? h->M * h->catoff[h->n] * h->K : 0;
  for (size_t t = 0; t < clen; t++) w->logcat[t] = log(h->cat[t]);
}

/* Node j of component m: its categorical leaf table (linear or log) and its category count. */
static const double *cat_table(const latens_pc_hclt *h, const double *tab, size_t m, size_t j) {
  return tab + (m * h->catoff[h->n] + h->catoff[j]) * h->K;
}

/* P[i, k] <- tab[k*nc + x_i] (or `miss` where x_i is NaN): categorical leaf factors. */
static void leaf_cat(const latens_mat *X, size_t r0, size_t nb, size_t j, size_t K, size_t nc,
                     const double *tab, double miss, double *P, size_t ld) {
  const double *x = X->data + r0 + j * X->ld;
  for (size_t k = 0; k < K; k++) {
    const double *t = tab + k * nc;
    double *p = P + k * ld;
    for (size_t i = 0; i < nb; i++) p[i] = isnan(x[i]) ? miss : t[(size_t)x[i]];
  }
}

/* prod_j <- leaf terms of node j (NaN: marginalised, log 1 = 0). */
static void leaf_terms(const latens_mat *X, size_t r0, size_t nb, size_t j, size_t K,
                       const double *l1, const double *l0, double *P, size_t ld) {
  const double *x = X->data + r0 + j * X->ld;
  for (size_t k = 0; k < K; k++) {
    double a = l1[k], b = l0[k];
    double *p = P + k * ld;
    for (size_t i = 0; i < nb; i++) p[i] = x[i] == 1.0 ? a : x[i] == 0.0 ? b : 0.0;
  }
}

/* E <- exp(P - s) with s the row max; a row that is entirely -Inf gets s = -Inf and E = 0
 * (it is shifted by 0 instead, so -Inf - -Inf never makes a NaN).  t: nb scratch. */
static void shift_exp(double *P, size_t nb, size_t K, size_t ld, double *s, double *t) {
  for (size_t i = 0; i < nb; i++) s[i] = -INFINITY;
  for (size_t k = 0; k < K; k++)
#pragma omp simd
    for (size_t i = 0; i < nb; i++) s[i] = P[i + k * ld] > s[i] ? P[i + k * ld] : s[i];
  for (size_t i = 0; i < nb; i++) t[i] = s[i] == -INFINITY ? 0.0 : s[i];
  for (size_t k = 0; k < K; k++) {
    double *p = P + k * ld;
#pragma omp simd
    for (size_t i = 0; i < nb; i++) p[i] = exp(p[i] - t[i]);
  }
}

/* Reference path in log space (max-shift, exp, GEMM, log per edge): used for a chunk whose
 * linear-space pass below lost a row to underflow. */
static void up_component_log(const latens_pc_hclt *h, const latens_mat *X, size_t r0, size_t nb,
                             latens_pc_hclt_ws *w, size_t m) {
  const size_t n = h->n, K = h->K, ld = w->rows, blk = ld * K;
  const size_t *ord = h->order + m * n;
  const long *par = h->parent + m * n;
  double *E = w->E + m * n * blk, *Mx = w->Mx + m * n * blk, *ll = w->llm + m * ld;
  for (size_t j = 0; j < n; j++)
    if (h->ncat)
      leaf_cat(X, r0, nb, j, K, h->ncat[j], cat_table(h, w->logcat, m, j), 0.0, E + j * blk, ld);
    else
      leaf_terms(X, r0, nb, j, K, w->logl1 + (m * n + j) * K, w->logl0 + (m * n + j) * K,
                 E + j * blk, ld);
  for (size_t t = n; t-- > 0;) { /* children before parents */
    size_t j = ord[t];
    double *Ej = E + j * blk;
    shift_exp(Ej, nb, K, ld, w->s, w->tmp);
    if (par[j] < 0) {
      const double *r = h->root + m * K;
      for (size_t i = 0; i < nb; i++) {
        double acc = 0.0;
        for (size_t k = 0; k < K; k++) acc += r[k] * Ej[i + k * ld];
        ll[i] = w->s[i] + log(acc);
      }
      continue;
    }
    const double *W = h->trans + (m * n + j) * K * K;
    double *Mj = Mx + j * blk, *Pp = E + (size_t)par[j] * blk;
    latens_dense_mm(0, 1, nb, K, K, 1.0, Ej, ld, W, K, 0.0, Mj, ld);
    for (size_t k = 0; k < K; k++) {
      double *pp = Pp + k * ld, *mj = Mj + k * ld, *sh = w->s;
#pragma omp simd
      for (size_t i = 0; i < nb; i++) pp[i] += sh[i] + log(mj[i]);
    }
  }
}

/* Linear-space leaf factors: p(x_j | z_j = k), 1 where x_j is missing. */
static void leaf_lin(const latens_mat *X, size_t r0, size_t nb, size_t j, size_t K,
                     const double *leaf, double *P, size_t ld) {
  const double *x = X->data + r0 + j * X->ld;
  for (size_t k = 0; k < K; k++) {
    double a = leaf[k], b = 1.0 - leaf[k];
    double *p = P + k * ld;
#pragma omp simd
    for (size_t i = 0; i < nb; i++) p[i] = x[i] == 1.0 ? a : x[i] == 0.0 ? b : 1.0;
  }
}

/* Rows of P divided by their maximum, sc += log(max) (one log per row, not per entry: this is
 * what makes the linear pass cheaper than max-shift-exp-log).  A zero row stays zero with
 * sc = -Inf.  mx: nb scratch. */
static void rescale_rows(double *P, size_t nb, size_t K, size_t ld, double *sc, double *mx) {
  for (size_t i = 0; i < nb; i++) mx[i] = 0.0;
  for (size_t k = 0; k < K; k++) {
    const double *p = P + k * ld;
#pragma omp simd
    for (size_t i = 0; i < nb; i++) mx[i] = p[i] > mx[i] ? p[i] : mx[i];
  }
  for (size_t i = 0; i < nb; i++) {
    sc[i] += log(mx[i]); /* log 0 = -Inf: the row has probability 0 */
    mx[i] = mx[i] > 0.0 ? 1.0 / mx[i] : 1.0;
  }
  for (size_t k = 0; k < K; k++) {
    double *p = P + k * ld;
#pragma omp simd
    for (size_t i = 0; i < nb; i++) p[i] *= mx[i];
  }
}

/* A product row whose maximum falls below 2^-256 is rescaled at once; below 2^-960 (or at 0)
 * it may have lost digits, and the chunk is redone in log space. */
#define HCLT_RESCALE 0x1p-256
#define HCLT_LOST 0x1p-960

/* Pp .*= Mj with the parent's scales; returns non-zero when a row needs the log-space path. */
static int multiply_into(double *Pp, const double *Mj, size_t nb, size_t K, size_t ld,
                         double *scp, const double *scj, double *mx) {
  int lost = 0;
  for (size_t i = 0; i < nb; i++) mx[i] = 0.0, scp[i] += scj[i];
  for (size_t k = 0; k < K; k++) {
    double *p = Pp + k * ld;
    const double *q = Mj + k * ld;
#pragma omp simd
    for (size_t i = 0; i < nb; i++) {
      p[i] *= q[i];
      mx[i] = p[i] > mx[i] ? p[i] : mx[i];
    }
  }
  for (size_t i = 0; i < nb; i++) {
    if (mx[i] >= HCLT_RESCALE) continue;
    if (!(mx[i] >= HCLT_LOST) && scp[i] != -INFINITY) { lost = 1; continue; }
    if (mx[i] > 0.0) {
      double inv = 1.0 / mx[i];
      scp[i] += log(mx[i]);
      for (size_t k = 0; k < K; k++) Pp[i + k * ld] *= inv;
    }
  }
  return lost;
}

/* The upward pass in linear space: each node's product of its leaf factor and its children's
 * messages is kept as rows scaled to maximum 1 with a per-row log scale, so an edge costs a
 * GEMM and a few multiplies but no exp or log per entry.  E and Mx end as in the log path
 * (E: the scaled product fed to the GEMM, Mx: the message), which the downward pass needs.
 * Returns non-zero when some row underflowed (then nothing is valid). */
static int up_component(const latens_pc_hclt *h, const latens_mat *X, size_t r0, size_t nb,
                        latens_pc_hclt_ws *w, size_t m) {
  const size_t n = h->n, K = h->K, ld = w->rows, blk = ld * K;
  const size_t *ord = h->order + m * n;
  const long *par = h->parent + m * n;
  double *E = w->E + m * n * blk, *Mx = w->Mx + m * n * blk, *ll = w->llm + m * ld;
  double *sc = w->sc; /* [j*ld + i] */
  for (size_t j = 0; j < n; j++) {
    if (h->ncat) leaf_cat(X, r0, nb, j, K, h->ncat[j], cat_table(h, h->cat, m, j), 1.0, E + j * blk, ld);
    else leaf_lin(X, r0, nb, j, K, w->lf + (m * n + j) * K, E + j * blk, ld);
    memset(sc + j * ld, 0, nb * sizeof *sc);
  }
  for (size_t t = n; t-- > 0;) { /* children before parents */
    size_t j = ord[t];
    double *Ej = E + j * blk, *scj = sc + j * ld;
    rescale_rows(Ej, nb, K, ld, scj, w->s);
    if (par[j] < 0) {
      const double *r = h->root + m * K;
      for (size_t i = 0; i < nb; i++) w->s[i] = 0.0;
      for (size_t k = 0; k < K; k++) {
        const double *e = Ej + k * ld, rk = r[k];
#pragma omp simd
        for (size_t i = 0; i < nb; i++) w->s[i] += rk * e[i];
      }
      for (size_t i = 0; i < nb; i++) ll[i] = scj[i] + log(w->s[i]);
      continue;
    }
    const double *W = h->trans + (m * n + j) * K * K;
    double *Mj = Mx + j * blk, *Pp = E + (size_t)par[j] * blk;
    latens_dense_mm(0, 1, nb, K, K, 1.0, Ej, ld, W, K, 0.0, Mj, ld);
    if (multiply_into(Pp, Mj, nb, K, ld, sc + (size_t)par[j] * ld, scj, w->s)) return 1;
  }
  return 0;
}

void latens_pc_hclt_up(const latens_pc_hclt *h, const latens_mat *X, size_t r0, size_t nb,
                       latens_pc_hclt_ws *w, double *ll) {
  for (size_t m = 0; m < h->M; m++)
    if (up_component(h, X, r0, nb, w, m)) up_component_log(h, X, r0, nb, w, m);
  for (size_t i = 0; i < nb; i++) {
    double mx = -INFINITY, acc = 0.0;
    for (size_t m = 0; m < h->M; m++) {
      double v = log(h->mix[m]) + w->llm[m * w->rows + i];
      mx = v > mx ? v : mx;
    }
    if (mx == -INFINITY) { ll[i] = -INFINITY; continue; }
    for (size_t m = 0; m < h->M; m++) acc += h->mix[m] * exp(w->llm[m * w->rows + i] - mx);
    ll[i] = mx + log(acc);
  }
}

/* w1, w0 (softened data only, else NULL): the share of x = 1 behind an observed 1, 0. */
static void leaf_counts(const latens_mat *X, size_t r0, size_t nb, size_t j, size_t K,
                        const double *Q, size_t ld, const double *w1, const double *w0,
                        double *c1, double *cn) {
  const double *x = X->data + r0 + j * X->ld;
  for (size_t k = 0; k < K; k++) {
    double a1 = 0.0, an = 0.0, b0 = 0.0;
    for (size_t i = 0; i < nb; i++) {
      double q = Q[i + k * ld];
      a1 += x[i] == 1.0 ? q : 0.0;
      b0 += x[i] == 0.0 ? q : 0.0;
      an += isnan(x[i]) ? 0.0 : q;
    }
    c1[k] += w1 ? w1[k] * a1 + w0[k] * b0 : a1, cn[k] += an;
  }
}

/* cc[k*nc + v] += sum of Q[i, k] over the rows with x_i = v. */
static void cat_counts(const latens_mat *X, size_t r0, size_t nb, size_t j, size_t K, size_t nc,
                       const double *Q, size_t ld, double *cc) {
  const double *x = X->data + r0 + j * X->ld;
  for (size_t k = 0; k < K; k++)
    for (size_t i = 0; i < nb; i++)
      if (!isnan(x[i])) cc[k * nc + (size_t)x[i]] += Q[i + k * ld];
}

static void down_component(const latens_pc_hclt *h, const latens_mat *X, size_t r0, size_t nb,
                           latens_pc_hclt_ws *w, const double *ll, size_t m,
                           latens_pc_hclt_counts *c) {
  const size_t n = h->n, K = h->K, ld = w->rows, blk = ld * K;
  const size_t *ord = h->order + m * n;
  const long *par = h->parent + m * n;
  double *E = w->E + m * n * blk, *Mx = w->Mx + m * n * blk, *llm = w->llm + m * ld;
  const double *r = h->root + m * K;
  double *Q = E + ord[0] * blk, *s = w->s, rm = 0.0;
  for (size_t i = 0; i < nb; i++) { /* posterior of the component, then of the root state */
    double acc = 0.0;
    s[i] = ll[i] == -INFINITY ? 0.0 : exp(log(h->mix[m]) + llm[i] - ll[i]);
    rm += s[i];
    for (size_t k = 0; k < K; k++) acc += r[k] * Q[i + k * ld];
    s[i] = acc > 0.0 ? s[i] / acc : 0.0;
  }
  c->mix[m] += rm;
  for (size_t k = 0; k < K; k++) {
    double a = 0.0;
    for (size_t i = 0; i < nb; i++) a += (Q[i + k * ld] *= r[k] * s[i]);
    c->root[m * K + k] += a;
  }
  for (size_t t = 1; t < n; t++) { /* parents before children: Q_p is ready */
    size_t j = ord[t];
    const double *W = h->trans + (m * n + j) * K * K;
    double *Ej = E + j * blk, *R = Mx + j * blk, *Qp = E + (size_t)par[j] * blk, *T = w->tmp;
    for (size_t k = 0; k < K; k++) {
      double *r = R + k * ld;
      const double *qp = Qp + k * ld;
#pragma omp simd
      for (size_t i = 0; i < nb; i++) r[i] = r[i] > 0.0 ? qp[i] / r[i] : 0.0;
    }
    /* edge counts W .* (R^T E), then Q_j = E .* (R W) written over E */
    latens_dense_mm(1, 0, K, K, nb, 1.0, R, ld, Ej, ld, 0.0, T, K);
    double *ct = c->trans + (m * n + j) * K * K;
    for (size_t q = 0; q < K * K; q++) ct[q] += W[q] * T[q];
    latens_dense_mm(0, 0, nb, K, K, 1.0, R, ld, W, K, 0.0, T, ld);
    for (size_t k = 0; k < K; k++) {
      double *e = Ej + k * ld;
      const double *tk = T + k * ld;
#pragma omp simd
      for (size_t i = 0; i < nb; i++) e[i] *= tk[i];
    }
  }
  for (size_t j = 0; j < n; j++)
    if (h->ncat)
      cat_counts(X, r0, nb, j, K, h->ncat[j], E + j * blk, ld,
                 c->cat + (m * h->catoff[n] + h->catoff[j]) * K);
    else
      leaf_counts(X, r0, nb, j, K, E + j * blk, ld, w->beta == 1.0 ? NULL : w->a1 + (m * n + j) * K,
                  w->a0 + (m * n + j) * K, c->leaf1 + (m * n + j) * K, c->leafn + (m * n + j) * K);
}

void latens_pc_hclt_down(const latens_pc_hclt *h, const latens_mat *X, size_t r0, size_t nb,
                         latens_pc_hclt_ws *w, const double *ll, latens_pc_hclt_counts *c) {
  for (size_t m = 0; m < h->M; m++) down_component(h, X, r0, nb, w, ll, m, c);
  for (size_t i = 0; i < nb; i++) c->loglik += ll[i];
}
