/* pc/mlp.c: the kernel networks of integral circuits — one hidden tanh layer on random
 * Fourier features, forward and backward by hand (Tancik et al. 2020 features, as in the
 * reference code of Gala et al.) — and the Adam optimiser. */
#include "pic_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Phi (P x 2F) = [cos(2 pi Z B^T), sin(2 pi Z B^T)] for points Z (P x din) and the fixed
 * frequencies B (F x din), all column-major. */
void latens_pc_mlp_features(const double *Z, size_t P, size_t din, const double *B, size_t F,
                            double *Phi) {
  for (size_t f = 0; f < F; f++)
    for (size_t p = 0; p < P; p++) {
      double t = 0.0;
      for (size_t d = 0; d < din; d++) t += Z[p + d * P] * B[f + d * F];
      t *= 2.0 * M_PI;
      Phi[p + f * P] = cos(t), Phi[p + (F + f) * P] = sin(t);
    }
}

/* Hid (P x H) = tanh(Phi W^T + 1 b^T), W H x D (D = 2F).  tanh as 1 - 2 / (e^2x + 1): glibc's
 * tanh (through expm1) was a third of a training step; this costs one exp, saturates
 * correctly at both ends (e^2x = Inf or 0) and loses only absolute accuracy ~1e-16 near 0,
 * which the backward pass (1 - y^2) does not notice. */
void latens_pc_mlp_forward(const double *Phi, size_t P, size_t D, const double *W,
                           const double *b, size_t H, double *Hid) {
  latens_dense_mm(0, 1, P, H, D, 1.0, Phi, P, W, H, 0.0, Hid, P);
  for (size_t h = 0; h < H; h++) {
    double *y = Hid + h * P, bh = b[h];
    for (size_t p = 0; p < P; p++) y[p] = 1.0 - 2.0 / (exp(2.0 * (y[p] + bh)) + 1.0);
  }
}

/* Given dHid (P x H, overwritten with d pre-activation), ADD dW (H x D) and db (H). */
void latens_pc_mlp_backward(const double *Phi, size_t P, size_t D, const double *Hid, size_t H,
                            double *dHid, double *dW, double *db) {
  for (size_t h = 0; h < H; h++) {
    double s = 0.0;
    for (size_t p = 0; p < P; p++) {
      double y = Hid[p + h * P];
      s += (dHid[p + h * P] *= 1.0 - y * y);
    }
    db[h] += s;
  }
  latens_dense_mm(1, 0, H, D, P, 1.0, dHid, P, Phi, P, 1.0, dW, H);
}

latens_pc_adam *latens_pc_adam_alloc(size_t n) {
  if (n == 0) LATENS_ERROR_NULL("latens_pc_adam_alloc: n = 0", LATENS_EINVAL);
  latens_pc_adam *a = calloc(1, sizeof *a);
  if (a) a->m = calloc(n, sizeof *a->m), a->v = calloc(n, sizeof *a->v);
  if (!a || !a->m || !a->v) {
    latens_pc_adam_free(a);
    LATENS_ERROR_NULL("latens_pc_adam_alloc: no memory", LATENS_ENOMEM);
  }
  a->n = n, a->beta1 = 0.9, a->beta2 = 0.999, a->eps = 1e-8;
  return a;
}

void latens_pc_adam_free(latens_pc_adam *a) {
  if (!a) return;
  free(a->m), free(a->v), free(a);
}

int latens_pc_adam_step(latens_pc_adam *a, double *x, const double *g, double lr) {
  if (!a || !x || !g) LATENS_ERROR("latens_pc_adam_step: NULL argument", LATENS_EINVAL);
  if (!(lr > 0.0) || !isfinite(lr)) LATENS_ERRORF(LATENS_EDOM, "latens_pc_adam_step: lr = %g", lr);
  for (size_t i = 0; i < a->n; i++)
    if (!isfinite(g[i]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_pc_adam_step: gradient[%zu] = %g", i, g[i]);
  a->t++;
  double c1 = 1.0 - pow(a->beta1, (double)a->t), c2 = 1.0 - pow(a->beta2, (double)a->t);
  for (size_t i = 0; i < a->n; i++) {
    a->m[i] = a->beta1 * a->m[i] + (1.0 - a->beta1) * g[i];
    a->v[i] = a->beta2 * a->v[i] + (1.0 - a->beta2) * g[i] * g[i];
    x[i] += lr * (a->m[i] / c1) / (sqrt(a->v[i] / c2) + a->eps);
  }
  return LATENS_OK;
}
