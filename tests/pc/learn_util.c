/* tests/pc/learn_util.c: reference generators and brute-force evaluation for the learning
 * tests, written independently of src/pc (plain loops, no shifts, no BLAS). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "learn_suites.h"

static size_t draw(const double *p, size_t K, size_t stride, uint64_t *s) {
  double u = u01(s), acc = 0.0;
  for (size_t k = 0; k < K; k++)
    if (u < (acc += p[k * stride])) return k;
  return K - 1;
}

void learn_sample_hclt(const latens_pc_hclt *h, size_t N, uint64_t *s, latens_mat *X,
                       latens_mat *Z) {
  const size_t n = h->n, K = h->K;
  size_t *z = malloc(n * sizeof *z);
  for (size_t i = 0; i < N; i++) {
    size_t m = draw(h->mix, h->M, 1, s);
    const size_t *ord = h->order + m * n;
    for (size_t t = 0; t < n; t++) {
      size_t j = ord[t];
      long p = h->parent[m * n + j];
      z[j] = p < 0 ? draw(h->root + m * K, K, 1, s)
                   : draw(h->trans + (m * n + j) * K * K + z[p], K, K, s);
      LATENS_MAT(X, i, j) = u01(s) < h->leaf[(m * n + j) * K + z[j]] ? 1.0 : 0.0;
    }
    if (Z)
      for (size_t c = 0; c < h->M * n; c++)
        LATENS_MAT(Z, i, c) = c / n == m ? (double)z[c % n] : NAN;
  }
  free(z);
}

static void random_rows(double *p, size_t rows, size_t K, size_t rs, size_t ks, double power,
                        uint64_t *s) {
  for (size_t i = 0; i < rows; i++) {
    double t = 0.0;
    for (size_t k = 0; k < K; k++) t += (p[i * rs + k * ks] = pow(u01(s) + 1e-3, power));
    for (size_t k = 0; k < K; k++) p[i * rs + k * ks] /= t;
  }
}

latens_pc_hclt *learn_random_hclt(size_t n, size_t K, size_t M, double power, uint64_t *s) {
  long *par = calloc(n * M, sizeof *par);
  for (size_t m = 0; m < M; m++)
    for (size_t j = 0; j < n; j++) /* random recursive tree: parent among earlier nodes */
      par[m * n + j] = j == 0 ? -1 : (long)(u01(s) * (double)j);
  latens_pc_hclt *h = latens_pc_hclt_alloc(n, K, M, par);
  free(par);
  random_rows(h->mix, 1, M, 0, 1, 1.0, s);
  for (size_t m = 0; m < M; m++) {
    random_rows(h->root + m * K, 1, K, 0, 1, power, s);
    for (size_t j = 0; j < n; j++) {
      if (h->parent[m * n + j] >= 0) random_rows(h->trans + (m * n + j) * K * K, K, K, 1, K, power, s);
      for (size_t k = 0; k < K; k++) h->leaf[(m * n + j) * K + k] = 0.05 + 0.9 * u01(s);
    }
  }
  return h;
}

void learn_brute_loglik(const latens_pc_hclt *h, double *ll) {
  const size_t n = h->n, K = h->K, S = (size_t)1 << n;
  size_t *z = calloc(n, sizeof *z);
  for (size_t x = 0; x < S; x++) {
    double p = 0.0;
    for (size_t m = 0; m < h->M; m++) {
      memset(z, 0, n * sizeof *z);
      for (;;) { /* every latent assignment, odometer order */
        double q = h->mix[m];
        for (size_t j = 0; j < n; j++) {
          long pa = h->parent[m * n + j];
          q *= pa < 0 ? h->root[m * K + z[j]]
                      : h->trans[(m * n + j) * K * K + z[pa] + z[j] * K];
          double l = h->leaf[(m * n + j) * K + z[j]];
          q *= (x >> j) & 1 ? l : 1.0 - l;
        }
        p += q;
        size_t j = 0;
        while (j < n && ++z[j] == K) z[j++] = 0;
        if (j == n) break;
      }
    }
    ll[x] = log(p);
  }
  free(z);
}

latens_mat *learn_read_debd(const char *name, const char *split) {
  char rel[512];
  snprintf(rel, sizeof rel, "data/%s.%s.data", name, split);
  latens_table_options o;
  latens_table_options_default(&o);
  o.header = LATENS_HEADER_NO, o.delim = ',';
  latens_table *t = NULL;
  if (latens_table_read_numeric(test_srcpath(rel), &o, &t)) return NULL;
  latens_mat *m = latens_table_release_data(t);
  latens_table_free(t);
  return m;
}
