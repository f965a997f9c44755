/* tests/gp/cvi_dense.c: dense references for the gp cvi tests (public API only). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cvi_suites.h"

double *cvi_dense_cov(const latens_gp_kernel *kern, const double *t, size_t n) {
  double *K = malloc(n * n * sizeof *K);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) latens_gp_kernel_eval(kern, t[i] - t[j], &K[i + j * n]);
  return K;
}

latens_gp_ssm *cvi_prior(const latens_gp_kernel *kern, const double *t, size_t n) {
  size_t d = latens_gp_kernel_dim(kern);
  latens_gp_ssm *s = latens_gp_ssm_alloc(1, &d, n, 0);
  if (s && latens_gp_ssm_set_kernel(s, 0, kern, t)) {
    latens_gp_ssm_free(s);
    return NULL;
  }
  return s;
}

void cvi_draw(const double *K, size_t n, latens_rng *r, double *f) {
  double *L = malloc(n * n * sizeof *L), *z = malloc(n * sizeof *z);
  memcpy(L, K, n * n * sizeof *L);
  latens_mat Lm = latens_mat_view(L, n, n, n);
  latens_chol_decomp(&Lm, NULL, NULL);
  for (size_t i = 0; i < n; i++) z[i] = latens_rng_normal(r);
  for (size_t i = 0; i < n; i++) {
    double acc = 0;
    for (size_t k = 0; k <= i; k++) acc += L[i + k * n] * z[k];
    f[i] = acc;
  }
  free(L), free(z);
}
