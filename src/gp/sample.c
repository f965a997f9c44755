/* src/gp/sample.c: exact prior draws of f at arbitrary sorted times through the state-space
 * recursion x_i = A(Δ_i) x_{i−1} + w_i, w_i ~ N(0, Q(Δ_i)), x_0 ~ N(0, P∞). */
#include "gp_impl.h"

#include <math.h>
#include <string.h>

/* Cholesky of a positive semi-definite d x d matrix that tolerates (near-)zero pivots:
 * Q(Δ) is exactly 0 at Δ = 0 and rank-deficient to rounding for tiny Δ, where a pivot below
 * a relative 1e-14 of the diagonal's scale carries no variance worth sampling. */
static void psd_chol(size_t d, const double *A, double *L) {
  double scale = 0;
  for (size_t i = 0; i < d; i++) scale = fmax(scale, fabs(A[i + i * d]));
  memset(L, 0, d * d * sizeof(double));
  for (size_t j = 0; j < d; j++) {
    double s = A[j + j * d];
    for (size_t l = 0; l < j; l++) s -= L[j + l * d] * L[j + l * d];
    if (!(s > 1e-14 * scale)) continue;
    double ljj = sqrt(s);
    L[j + j * d] = ljj;
    for (size_t i = j + 1; i < d; i++) {
      double v = A[i + j * d];
      for (size_t l = 0; l < j; l++) v -= L[i + l * d] * L[j + l * d];
      L[i + j * d] = v / ljj;
    }
  }
}

int latens_gp_sample(const latens_gp_kernel *k, latens_rng *rng, const double *t, size_t n,
                     double *f) {
  if (!k || !rng || (n && (!t || !f)))
    LATENS_ERROR("latens_gp_sample: NULL argument", LATENS_EINVAL);
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(t[i]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_gp_sample: t[%zu] = %g is not finite", i, t[i]);
    if (i && t[i] < t[i - 1])
      LATENS_ERRORF(LATENS_EDOM, "latens_gp_sample: times not sorted: t[%zu] = %g < t[%zu] = %g",
                    i, t[i], i - 1, t[i - 1]);
  }
  size_t d = k->dim;
  double A[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM], Q[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  double L[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  double x[LATENS_GP_MAX_DIM], z[LATENS_GP_MAX_DIM], y[LATENS_GP_MAX_DIM];
  double last_dt = -1;
  for (size_t i = 0; i < n; i++) {
    if (i == 0) {
      gp_fill_pinf(k, Q);
      psd_chol(d, Q, L);
      memset(x, 0, sizeof x);
    } else {
      double dt = t[i] - t[i - 1];
      if (dt != last_dt) {
        gp_fill_transition(k, dt, A, Q);
        psd_chol(d, Q, L);
        last_dt = dt;
      }
      latens_dense_mm(0, 0, d, 1, d, 1.0, A, d, x, d, 0.0, y, d);
      memcpy(x, y, d * sizeof(double));
    }
    latens_rng_fill_normal(rng, z, d, 0.0, 1.0);
    latens_dense_mm(0, 0, d, 1, d, 1.0, L, d, z, d, 1.0, x, d);
    double s = 0;
    for (size_t a = 0; a < k->nterms; a++) s += x[k->off[a]];
    f[i] = s;
  }
  return LATENS_OK;
}
